import type { Request, Response } from 'express';
import { z } from 'zod';
import { AppError } from '../domain/errors';
import type { Filter, OrderKey } from '../domain/odata-filter';
import { comparator, matches, ODataSyntaxError, parseFilter, parseOrderBy } from '../domain/odata-filter';

/** Graph's query options as they arrive: strings, checked against the resource by `resolveOptions`. */
export const odataQuerySchema = z.object({
  $top: z.coerce.number().int().min(1).max(1000).default(100),
  $skip: z.coerce.number().int().min(0).default(0),
  $select: z.string().max(1000).optional(),
  $filter: z.string().max(2000).optional(),
  $count: z.enum(['true', 'false']).optional(),
  $orderby: z.string().max(500).optional(),
  $expand: z.string().max(500).optional(),
});
type RawQuery = Partial<z.infer<typeof odataQuerySchema>>;

/** Query options of a collection. */
export const listQuerySchema = odataQuerySchema;
/** Query options of a single entity. */
export const entityQuerySchema = odataQuerySchema.pick({ $select: true, $expand: true });
/** Query options of a `$count` segment. */
export const countQuerySchema = odataQuerySchema.pick({ $filter: true });

/** The query options of one request, checked against the resource it reads. */
export interface QueryOptions {
  top: number;
  skip: number;
  count: boolean;
  filter?: Filter;
  orderBy: OrderKey[];
  select?: string[];
  expand: string[];
}

/** What a resource can be queried by: its scalar property paths, its properties, its navigation properties. */
export interface ResourceShape {
  /** `a/b` paths (type casts left out) of every string, number, boolean or enum property. */
  scalars: Set<string>;
  /** The values an enum (or literal) property can take, by path. */
  enums: Map<string, Set<string>>;
  properties: Set<string>;
  navigation: Set<string>;
}

type Def = { type: string } & Record<string, unknown>;
const defOf = (schema: unknown): Def => (schema as { _zod: { def: Def } })._zod.def;

interface Walk {
  scalars: Set<string>;
  enumValues: Map<string, Set<string>>;
  /** Paths that take any value in some variant (a string, number or boolean). */
  free: Set<string>;
}

/** The scalar property paths of a zod object, through optional, nullable, unions and nested objects. */
function scalarPaths(schema: unknown, prefix: string, out: Walk, depth = 0): void {
  const def = defOf(schema);
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'readonly':
      return scalarPaths(def.innerType, prefix, out, depth);
    case 'pipe':
      return scalarPaths(def.out, prefix, out, depth);
    case 'union':
      for (const option of def.options as unknown[]) scalarPaths(option, prefix, out, depth);
      return;
    case 'object':
      if (depth > 3) return;
      for (const [key, value] of Object.entries(def.shape as Record<string, unknown>)) {
        if (key.startsWith('@')) continue;
        scalarPaths(value, prefix ? `${prefix}/${key}` : key, out, depth + 1);
      }
      return;
    case 'enum':
    case 'literal': {
      if (!prefix) return;
      const values = def.type === 'enum' ? Object.values(def.entries as object) : (def.values as unknown[]);
      const known = out.enumValues.get(prefix) ?? new Set<string>();
      for (const v of values) known.add(String(v).toLowerCase());
      out.enumValues.set(prefix, known);
      out.scalars.add(prefix);
      return;
    }
    case 'string':
    case 'boolean':
    case 'number':
    case 'int':
      if (prefix) {
        out.scalars.add(prefix);
        out.free.add(prefix);
      }
      return;
    default:
      return;
  }
}

/** The shape of a resource for query options; `navigation` names what $expand may add. */
export function resourceShape(entity: z.ZodObject, navigation: string[] = []): ResourceShape {
  const walk: Walk = { scalars: new Set(), enumValues: new Map(), free: new Set() };
  scalarPaths(entity, '', walk);
  for (const nav of navigation) {
    for (const path of [...walk.scalars])
      if (path === nav || path.startsWith(`${nav}/`)) walk.scalars.delete(path);
  }
  const enums = new Map([...walk.enumValues].filter(([path]) => !walk.free.has(path)));
  const properties = new Set(Object.keys(entity.shape).filter((k) => !k.startsWith('@')));
  return { scalars: walk.scalars, enums, properties, navigation: new Set(navigation) };
}

const unsupported = (option: string, message: string) =>
  new AppError('request.unsupported_query_option', `${option}: ${message}`);

const TYPE_CAST = /^microsoft\.graph\.\w+$/;

function pathCheck(shape: ResourceShape, what: string) {
  return (path: string[]) => {
    const plain = path.filter((s) => !TYPE_CAST.test(s)).join('/');
    if (shape.scalars.has(plain)) return undefined;
    const examples = [...shape.scalars].slice(0, 12).join(', ');
    return `'${path.join('/')}' cannot be ${what}; properties that can: ${examples}${shape.scalars.size > 12 ? ', …' : ''}`;
  };
}

/** Parses $filter for a resource: 400 request.unsupported_filter when it cannot be honoured exactly. */
export function parseResourceFilter(text: string | undefined, shape: ResourceShape): Filter | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  try {
    const filter = parseFilter(text, pathCheck(shape, 'filtered on'));
    checkEnumValues(filter, shape);
    return filter;
  } catch (err) {
    if (err instanceof ODataSyntaxError)
      throw new AppError('request.unsupported_filter', `$filter: ${err.message}`);
    throw err;
  }
}

/** A comparison of an enum property with a value it never takes is a mistake, answered as Graph does: 400. */
function checkEnumValues(filter: Filter, shape: ResourceShape): void {
  if (filter.kind === 'and' || filter.kind === 'or') {
    checkEnumValues(filter.left, shape);
    checkEnumValues(filter.right, shape);
  } else if (filter.kind === 'not') {
    checkEnumValues(filter.operand, shape);
  } else if (filter.kind === 'compare' && typeof filter.value === 'string') {
    const path = filter.path.filter((s) => !TYPE_CAST.test(s)).join('/');
    const values = shape.enums.get(path);
    if (values && !values.has(filter.value.toLowerCase())) {
      throw new ODataSyntaxError(`'${filter.value}' is not a value of ${path}`);
    }
  }
}

function names(option: string, text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const list = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const name of list) {
    if (!/^[A-Za-z_][\w]*$/.test(name)) {
      throw unsupported(option, `'${name}' is not a property name (nested options are not supported)`);
    }
  }
  return list;
}

/**
 * The request's query options, checked against the resource: a property it does not have, an option it
 * cannot honour or a syntax error is a 400 naming the option, never silently ignored.
 */
export function resolveOptions(raw: RawQuery, shape: ResourceShape): QueryOptions {
  const select = names('$select', raw.$select);
  for (const name of select ?? []) {
    if (!shape.properties.has(name) && !shape.navigation.has(name)) {
      throw unsupported(
        '$select',
        `'${name}' is not a property; properties: ${[...shape.properties].join(', ')}`,
      );
    }
  }
  const expand = names('$expand', raw.$expand) ?? [];
  for (const name of expand) {
    if (!shape.navigation.has(name)) {
      const can = shape.navigation.size ? [...shape.navigation].join(', ') : 'nothing here';
      throw unsupported('$expand', `'${name}' cannot be expanded; can be expanded: ${can}`);
    }
  }
  let orderBy: OrderKey[] = [];
  if (raw.$orderby !== undefined && raw.$orderby.trim() !== '') {
    try {
      orderBy = parseOrderBy(raw.$orderby, pathCheck(shape, 'sorted on'));
    } catch (err) {
      if (err instanceof ODataSyntaxError) throw unsupported('$orderby', err.message);
      throw err;
    }
  }
  return {
    top: raw.$top ?? 100,
    skip: raw.$skip ?? 0,
    count: raw.$count === 'true',
    filter: parseResourceFilter(raw.$filter, shape),
    orderBy,
    select,
    expand,
  };
}

/** The system query options this API knows; any other `$option` is a 400, not ignored. */
export function rejectUnknownOptions(query: Record<string, unknown>, allowed: Set<string>): void {
  for (const key of Object.keys(query)) {
    if (key.startsWith('$') && !allowed.has(key)) {
      const can = allowed.size ? [...allowed].sort().join(', ') : 'none';
      throw unsupported(key, `this query option is not supported here (supported: ${can})`);
    }
  }
}

/** One page of a list: $filter, $orderby, then $skip/$top, and the total that matched. */
export function pageOf<T>(items: T[], options: QueryOptions): { total: number; value: T[] } {
  const { filter } = options;
  const matched = filter ? items.filter((item) => matches(item, filter)) : items;
  const sorted = options.orderBy.length ? [...matched].sort(comparator(options.orderBy)) : matched;
  return { total: sorted.length, value: sorted.slice(options.skip, options.skip + options.top) };
}

/** Keeps only the `$select`ed properties, plus id and annotations, as Graph does. */
export function selectProperties<T extends object>(item: T, select: string[] | undefined): Partial<T> {
  if (!select) return item;
  const keep = new Set(['id', ...select]);
  return Object.fromEntries(
    Object.entries(item).filter(([k]) => keep.has(k) || k.startsWith('@')),
  ) as Partial<T>;
}

/** The app setting (`app.locals`) that holds PUBLIC_BASE_URL, without a trailing slash. */
export const PUBLIC_BASE_URL = 'publicBaseUrl';

/**
 * Base URL for @odata.context, @odata.nextLink and Location: PUBLIC_BASE_URL when set (behind a proxy
 * the Host header names the proxy's upstream, not what clients call), else this request's scheme and host.
 */
export function requestBase(req: Request): string {
  return publicBaseUrl(req) ?? `${req.protocol}://${req.get('host') ?? 'localhost'}`;
}

/** PUBLIC_BASE_URL as the app was given it, if it was. */
export function publicBaseUrl(req: Request): string | undefined {
  const configured = (req.app.locals as Record<string, unknown>)[PUBLIC_BASE_URL];
  return typeof configured === 'string' ? configured : undefined;
}

/** Answers a `$count` path segment as Graph does: the number as plain text. */
export function sendCount(res: Response, count: number): void {
  res.type('text/plain').send(String(count));
}

/** The link to the page after this one: this request's URL with $skip moved on. */
export function nextLink(req: Request, options: QueryOptions): string {
  // Appended, not resolved: a PUBLIC_BASE_URL may carry a path prefix that an absolute path would drop.
  const url = new URL(`${requestBase(req)}${req.originalUrl}`);
  url.searchParams.set('$skip', String(options.skip + options.top));
  url.searchParams.set('$top', String(options.top));
  return url.toString();
}
