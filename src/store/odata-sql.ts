import type { RawBuilder } from 'kysely';
import { sql } from 'kysely';
import type { Filter, FilterLiteral, OrderKey } from '../domain/odata-filter';

// Graph's $filter and $orderby over jsonb columns, in SQL, with the semantics of the in-memory evaluator
// (domain/odata-filter.ts `matches` and `comparator`): strings compare case-insensitively, date-times by
// instant, a missing property is null, a type-cast segment matches only objects of that type, and
// `not`/`ne` are two-valued (a comparison with null is false, never SQL's unknown). Every literal is a
// bound parameter; property names are bound too.

type Json = RawBuilder<unknown>;
type Bool = RawBuilder<boolean>;

const TYPE_CAST = /^microsoft\.graph\.\w+$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?/;
/** How the records write every date-time (toISOString): compared as text, its order is the instant's. */
const STORED_DATE_TIME = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$';

/** The jsonb value at a property path of `doc` (SQL NULL when absent or behind a non-matching type cast). */
export function jsonAt(doc: Json, path: string[]): Json {
  let current = doc;
  for (const segment of path) {
    current = TYPE_CAST.test(segment)
      ? sql`(case when ${current} ->> '@odata.type' = ${`#${segment}`}::text then ${current} end)`
      : sql`(${current} -> ${segment}::text)`;
  }
  return current;
}

const isNull = (v: Json): Bool => sql<boolean>`(${v} is null or jsonb_typeof(${v}) = 'null')`;
const typeIs = (v: Json, type: string): Bool => sql<boolean>`(jsonb_typeof(${v}) = ${type}::text)`;
const text = (v: Json) => sql<string>`(${v} #>> '{}')`;
/** A string operand, lower-cased, in code point order (as JavaScript compares lower-cased strings). */
const folded = (s: RawBuilder<string>) => sql<string>`(lower(${s}) collate "C")`;

type Op = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';
const SQL_OP: Record<Exclude<Op, 'ne'>, RawBuilder<unknown>> = {
  eq: sql.raw('='),
  gt: sql.raw('>'),
  ge: sql.raw('>='),
  lt: sql.raw('<'),
  le: sql.raw('<='),
};

/** Strings: a stored date-time against a date-time literal by instant, otherwise case-insensitively. */
function compareString(v: Json, op: Exclude<Op, 'ne'>, literal: string): Bool {
  const o = SQL_OP[op];
  const t = text(v);
  const asText =
    op === 'eq'
      ? sql<boolean>`(${folded(t)} = ${folded(sql`${literal}::text`)})`
      : // Equal when folded: the case-sensitive order decides, as the in-memory comparator does.
        sql<boolean>`(${folded(t)} ${o} ${folded(sql`${literal}::text`)} and ${folded(t)} <> ${folded(
          sql`${literal}::text`,
        )} or ${folded(t)} = ${folded(sql`${literal}::text`)} and (${t} collate "C") ${o} (${literal}::text collate "C"))`;
  const instant = DATE_TIME.test(literal) ? Date.parse(literal) : Number.NaN;
  if (Number.isNaN(instant)) return sql<boolean>`(${typeIs(v, 'string')} and ${asText})`;
  const normalised = new Date(instant).toISOString();
  return sql<boolean>`(${typeIs(v, 'string')} and case when ${t} ~ ${STORED_DATE_TIME}::text then (${t} collate "C") ${o} (${normalised}::text collate "C") else ${asText} end)`;
}

function compare(v: Json, op: Op, literal: FilterLiteral): Bool {
  if (op === 'ne') return sql<boolean>`(not coalesce(${compare(v, 'eq', literal)}, false))`;
  if (literal === null) return op === 'eq' ? isNull(v) : sql<boolean>`false`;
  const o = SQL_OP[op];
  if (typeof literal === 'string') return compareString(v, op, literal);
  if (typeof literal === 'number') {
    return sql<boolean>`(${typeIs(v, 'number')} and (${text(v)})::numeric ${o} ${String(literal)}::numeric)`;
  }
  return sql<boolean>`(${typeIs(v, 'boolean')} and (${text(v)})::boolean ${o} ${literal}::boolean)`;
}

/** LIKE's wildcards and escape taken literally. */
const likeLiteral = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** A $filter as a SQL condition over the jsonb document `doc`; never unknown (false instead). */
export function filterSql(doc: Json, filter: Filter): Bool {
  switch (filter.kind) {
    case 'and':
      return sql<boolean>`(${filterSql(doc, filter.left)} and ${filterSql(doc, filter.right)})`;
    case 'or':
      return sql<boolean>`(${filterSql(doc, filter.left)} or ${filterSql(doc, filter.right)})`;
    case 'not':
      return sql<boolean>`(not ${filterSql(doc, filter.operand)})`;
    case 'call': {
      const v = jsonAt(doc, filter.path);
      const needle = likeLiteral(filter.value.toLowerCase());
      const pattern =
        filter.fn === 'contains' ? `%${needle}%` : filter.fn === 'startswith' ? `${needle}%` : `%${needle}`;
      return sql<boolean>`coalesce(${typeIs(v, 'string')} and lower(${text(v)}) like ${pattern}::text escape '\\', false)`;
    }
    case 'compare':
      return sql<boolean>`coalesce(${compare(jsonAt(doc, filter.path), filter.op, filter.value)}, false)`;
  }
}

/** A sort key: an expression and its direction. */
export type SortKey = [RawBuilder<unknown>, 'asc' | 'desc'];

/**
 * $orderby keys as SQL sort keys over `doc`, in the comparator's order: nulls first, then numbers and
 * booleans by value, strings case-insensitively with the case-sensitive order breaking ties.
 */
export function orderSql(doc: Json, keys: OrderKey[]): SortKey[] {
  const out: SortKey[] = [];
  for (const key of keys) {
    const v = jsonAt(doc, key.path);
    const dir = key.desc ? 'desc' : 'asc';
    const str = sql`case when ${typeIs(v, 'string')} then ${text(v)} end`;
    out.push(
      [sql`(not ${isNull(v)})`, dir],
      [sql`case when ${typeIs(v, 'number')} then (${text(v)})::numeric end`, dir],
      [sql`case when ${typeIs(v, 'boolean')} then (${text(v)})::boolean end`, dir],
      [sql`(lower(${str}) collate "C")`, dir],
      [sql`(${str} collate "C")`, dir],
    );
  }
  return out;
}
