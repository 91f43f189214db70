import type { Request, Response } from 'express';
import type { z } from 'zod';
import type { ErrorStatus } from '../domain/error-codes';
import type { Caller } from '../services/caller';
import type { ApiServices } from './services';
import type { QueryOptions } from './odata';

/** Who may call an operation: anyone (no token), any known user, or access review administrators. */
export type Role = 'public' | 'user' | 'admin';

/** What a guarded handler sees: parsed, typed inputs, the query options, the caller and the services. */
export interface OperationInput<P, B, Q = Record<string, never>> {
  params: P;
  body: B;
  /** The parsed query string of an operation that declares its own `query` schema (not OData options). */
  query: Q;
  options: QueryOptions;
  caller: Caller;
  services: ApiServices;
  req: Request;
  res: Response;
}

/** One navigation property `$expand` can add to each item: its item schema and how to load it. */
export interface Expansion<P, T> {
  schema: z.ZodType;
  load: (item: T, input: OperationInput<P, undefined>) => Promise<unknown[]>;
}

/** What an operation answers with when it succeeds, and what its handler returns for it. */
export type Success<P, T> =
  /** 204: done, no content. */
  | { kind: 'none' }
  /** One entity with @odata.context; 201 with Location for creations. */
  | {
      kind: 'entity';
      schema: z.ZodObject;
      status?: 200 | 201;
      context: (params: P) => string;
      location?: (params: P, entity: T) => string;
      expand?: Record<string, Expansion<P, T>>;
    }
  /**
   * A page of a collection. The handler returns every item (filtered, sorted and paged here), or with
   * `paged` one page and the total, having honoured $filter, $orderby, $skip and $top itself.
   */
  | {
      kind: 'collection';
      schema: z.ZodObject;
      context: (params: P) => string;
      paged?: true;
      expand?: Record<string, Expansion<P, T>>;
    }
  /** A `$count` segment: the number as text/plain. */
  | { kind: 'count'; schema: z.ZodObject }
  /** A plain JSON body (not a Graph entity). */
  | { kind: 'json'; schema: z.ZodType }
  /**
   * A file streamed as it is produced (an attachment): the handler returns its name and its text chunk by
   * chunk; `schema` documents a JSON file's shape.
   */
  | { kind: 'file'; mediaType: 'application/json' | 'text/csv'; description: string; schema?: z.ZodType }
  /** Served by the docs middleware; listed so the document describes it. */
  | { kind: 'document' | 'html' };

/** What a file operation's handler returns: the attachment's name and its text, chunk by chunk. */
export interface FileBody {
  filename: string;
  body: AsyncIterable<string>;
}

/** The handler's result for each kind of success. */
export type HandlerResult<S> = S extends { kind: 'none' }
  ? void
  : S extends { kind: 'entity' }
    ? object
    : S extends { kind: 'collection'; paged: true }
      ? { value: object[]; total: number } | { value: object[]; more: boolean }
      : S extends { kind: 'collection' }
        ? object[]
        : S extends { kind: 'count' }
          ? number
          : S extends { kind: 'json' }
            ? unknown
            : S extends { kind: 'file' }
              ? FileBody
              : never;

/** One API operation, declared once: the router and /openapi.json are both built from these. */
export interface Operation<
  P = unknown,
  B = unknown,
  S extends Success<P, never> = Success<P, never>,
  Q = Record<string, never>,
> {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** OpenAPI path; Graph's function-call segments are written as Graph writes them. */
  path: string;
  operationId: string;
  tag: string;
  summary: string;
  description?: string;
  role: Role;
  /** The 403 message for non-admins of an admin operation. */
  adminMessage?: string;
  params?: z.ZodObject;
  /** The query string, for an operation that takes parameters of its own instead of OData options. */
  query?: z.ZodObject;
  body?: { schema: z.ZodType; example: unknown };
  success: S;
  /** Statuses beyond the ones every operation of its kind has. */
  errors?: ErrorStatus[];
  /** Served only when this holds (e.g. the demo token endpoint with AUTH_MODE=local); absent: 404. */
  enabled?: (services: ApiServices) => boolean;
  handler?: (input: OperationInput<P, B, Q>) => Promise<HandlerResult<S>>;
}

/** Any operation of the table, its types erased once checked by `operation()`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyOperation = Operation<any, any, Success<any, any>, any>;

type Infer<S> = S extends z.ZodType ? z.infer<S> : undefined;

/**
 * Declares an operation with its handler typed by its schemas: params and body from their zod schemas,
 * and the handler's result from the kind of success.
 */
export function operation<
  S extends Success<Infer<PS>, never>,
  PS extends z.ZodObject | undefined = undefined,
  BS extends z.ZodType | undefined = undefined,
  QS extends z.ZodObject | undefined = undefined,
>(
  op: Omit<
    Operation<Infer<PS>, Infer<BS>, S, QS extends z.ZodObject ? z.infer<QS> : Record<string, never>>,
    'params' | 'body' | 'query'
  > & {
    params?: PS;
    query?: QS;
    body?: BS extends z.ZodType ? { schema: BS; example: unknown } : undefined;
  },
): AnyOperation {
  return op as AnyOperation;
}
