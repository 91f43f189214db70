import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { Router } from 'express';
import { once } from 'node:events';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { AppError } from '../domain/errors';
import type { Caller } from '../services/caller';
import { requireAdmin } from '../services/caller';
import { describeIssues, issueDetails } from './guard';
import type { AnyOperation, FileBody, OperationInput } from './operation';
import type { QueryOptions, ResourceShape } from './odata';
import {
  countQuerySchema,
  entityQuerySchema,
  listQuerySchema,
  nextLink,
  pageOf,
  publicBaseUrl,
  rejectUnknownOptions,
  requestBase,
  resolveOptions,
  resourceShape,
  selectProperties,
  sendCount,
} from './odata';
import { MINE } from './operations/paths';
import type { ApiServices } from './services';

const NO_OPTIONS: QueryOptions = { top: 100, skip: 0, count: false, orderBy: [], expand: [] };

/** The router's spelling of a documented path: `:id` parameters, the plain filterByCurrentUser segment. */
export const routePath = (path: string) =>
  path.replace(/\{(\w+)\}/g, ':$1').replace(MINE, 'filterByCurrentUser');

/** Literal segments before parameters, so `/definitions/$count` is not taken for a definition id. */
function bySpecificity(a: AnyOperation, b: AnyOperation): number {
  const x = routePath(a.path).split('/');
  const y = routePath(b.path).split('/');
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const px = x[i]!.startsWith(':');
    const py = y[i]!.startsWith(':');
    if (px !== py) return px ? 1 : -1;
  }
  return 0;
}

function parse(schema: z.ZodType, value: unknown, where: 'params' | 'query' | 'body'): unknown {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new AppError(
      `request.invalid_${where}` as const,
      describeIssues(where, result.error),
      undefined,
      issueDetails(where, result.error),
    );
  }
  return result.data;
}

const shapes = new WeakMap<AnyOperation, ResourceShape>();
function shapeOf(op: AnyOperation): ResourceShape {
  let shape = shapes.get(op);
  if (!shape) {
    const s = op.success;
    const schema = 'schema' in s ? (s.schema as z.ZodObject) : undefined;
    const expand = 'expand' in s && s.expand ? Object.keys(s.expand) : [];
    shape = schema?.shape
      ? resourceShape(schema, expand)
      : { scalars: new Set(), enums: new Map(), properties: new Set(), navigation: new Set() };
    shapes.set(op, shape);
  }
  return shape;
}

/** The query schema an operation documents and parses: collections, entities and counts take OData options. */
export function querySchemaOf(op: AnyOperation): z.ZodObject | undefined {
  if (op.query) return op.query;
  if (op.method !== 'get') return undefined;
  const kind = op.success.kind;
  return kind === 'collection'
    ? listQuerySchema
    : kind === 'entity'
      ? entityQuerySchema
      : kind === 'count'
        ? countQuerySchema
        : undefined;
}

function optionsOf(op: AnyOperation, query: Record<string, unknown>): QueryOptions {
  const schema = querySchemaOf(op);
  if (!schema || op.query) return NO_OPTIONS;
  rejectUnknownOptions(query, new Set(Object.keys(schema.shape)));
  return resolveOptions(parse(schema, query, 'query') as Record<string, never>, shapeOf(op));
}

/** The outgoing body checked against the documented schema: internal fields are stripped, a mismatch is a bug. */
function outgoing(op: AnyOperation, schema: z.ZodType, value: unknown): Record<string, unknown> {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new Error(
      `${op.operationId}: the response does not match its schema: ${describeIssues('response', result.error)}`,
    );
  }
  return result.data as Record<string, unknown>;
}

type Input = OperationInput<Record<string, string>, unknown, unknown>;

/**
 * Streams a file as it is produced, waiting for the client to drain. A failure after the first bytes
 * cannot become an error response any more: it is logged and the connection is cut, so the client sees
 * a truncated file (which fails verification), never one that looks complete.
 */
async function sendFile(op: AnyOperation, res: Response, mediaType: string, file: FileBody): Promise<void> {
  res.status(200);
  res.setHeader('Content-Type', `${mediaType}; charset=utf-8`);
  res.setHeader('Content-Disposition', `attachment; filename="${file.filename.replace(/[^\w.-]/g, '_')}"`);
  res.setHeader('Cache-Control', 'no-store');
  try {
    for await (const chunk of file.body) {
      if (res.destroyed) return;
      if (!res.write(chunk)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
    }
    res.end();
  } catch (err) {
    if (!res.headersSent) throw err;
    (res.locals.log as Logger | undefined)?.error({ err, operationId: op.operationId }, 'file stream failed');
    res.destroy();
  }
}

async function entityOut(op: AnyOperation, item: object, input: Input): Promise<Record<string, unknown>> {
  const s = op.success as {
    schema: z.ZodType;
    expand?: Record<string, { load: (i: object, x: Input) => Promise<unknown[]> }>;
  };
  const expanded: Record<string, unknown> = { ...item };
  for (const name of input.options.expand) expanded[name] = await s.expand![name]!.load(item, input);
  const checked = outgoing(op, s.schema, expanded);
  const select = input.options.select && [...input.options.select, ...input.options.expand];
  return selectProperties(checked, select);
}

async function send(op: AnyOperation, input: Input, result: unknown): Promise<void> {
  const { req, res, options, params } = input;
  const s = op.success;
  const metadata = `${requestBase(req)}/v1.0/$metadata#`;
  switch (s.kind) {
    case 'none':
      res.status(204).end();
      return;
    case 'count':
      sendCount(res, result as number);
      return;
    case 'json':
      res.json(outgoing(op, s.schema, result));
      return;
    case 'file':
      await sendFile(op, res, s.mediaType, result as FileBody);
      return;
    case 'entity': {
      const body = await entityOut(op, result as object, input);
      if (s.status === 201) {
        res.status(201);
        // Relative unless PUBLIC_BASE_URL says where clients reach the API (a proxy may add a path prefix).
        if (s.location) res.location(`${publicBaseUrl(req) ?? ''}${s.location(params, result)}`);
      }
      res.json({ '@odata.context': `${metadata}${s.context(params)}/$entity`, ...body });
      return;
    }
    case 'collection': {
      const page = s.paged
        ? (result as { value: object[]; total?: number; more?: boolean })
        : (pageOf(result as object[], options) as { value: object[]; total?: number; more?: boolean });
      const more = page.more ?? (page.total ?? 0) > options.skip + page.value.length;
      const value = [];
      for (const item of page.value) value.push(await entityOut(op, item, input));
      res.json({
        '@odata.context': `${metadata}${s.context(params)}`,
        ...(options.count && page.total !== undefined ? { '@odata.count': page.total } : {}),
        value,
        ...(more ? { '@odata.nextLink': nextLink(req, options) } : {}),
      });
      return;
    }
    default:
      throw new Error(`${op.operationId}: nothing serves '${s.kind}'`);
  }
}

function handlerOf(op: AnyOperation, services: ApiServices): RequestHandler {
  const handler = op.handler!;
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      const caller = res.locals.caller as Caller;
      if (op.role === 'admin') requireAdmin(caller, op.adminMessage);
      const input: Input = {
        params: (op.params ? parse(op.params, req.params, 'params') : {}) as Record<string, string>,
        options: optionsOf(op, req.query),
        query: op.query ? parse(op.query, req.query, 'query') : {},
        body: op.body ? parse(op.body.schema, req.body === undefined ? {} : req.body, 'body') : undefined,
        caller,
        services,
        req,
        res,
      };
      await send(op, input, await handler(input));
    } catch (err) {
      next(err);
    }
  };
}

/**
 * Routes for operations of the table (paths under `prefix`, which the router is mounted at): each parses
 * its inputs, checks the caller's role, runs its handler and answers in its documented shape.
 */
export function operationRouter(
  ops: readonly AnyOperation[],
  services: ApiServices,
  prefix: string,
  before: (op: AnyOperation) => RequestHandler[] = () => [],
): Router {
  const router = Router();
  const served = ops.filter((op) => op.handler && (op.enabled?.(services) ?? true));
  for (const op of [...served].sort(bySpecificity)) {
    const path = routePath(op.path);
    if (!path.startsWith(prefix)) throw new Error(`${op.operationId}: ${op.path} is not under ${prefix}`);
    router[op.method](path.slice(prefix.length) || '/', ...before(op), handlerOf(op, services));
  }
  return router;
}
