import { randomUUID } from 'node:crypto';
import type { GraphRequest, GraphResponse } from './odata';
import { errorBody, GraphFault, lowerCase } from './odata';

/** One request the reproduction answered (no tokens or secrets: only whether they were there). */
export interface LoggedRequest {
  method: string;
  /** Path and query as sent, decoded; batch items carry their relative URL under /v1.0. */
  path: string;
  host: string;
  status: number;
  /** Inside a $batch. */
  inBatch: boolean;
  consistencyLevel?: string;
  bearer: boolean;
  /** $batch: how many requests it held. */
  batchSize?: number;
  /** Token requests: which client credential was presented. */
  clientCredential?: 'secret' | 'assertion';
  scope?: string;
}

/** Graph's limit of requests in one JSON batch. */
const BATCH_LIMIT = 20;

interface BatchItem {
  id?: string;
  method?: string;
  url?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/** What a batch needs from the server: the routes, its planned faults for batch items, and its request log. */
export interface BatchDeps {
  run(req: GraphRequest): GraphResponse;
  planned(): GraphFault | undefined;
  record(entry: LoggedRequest): void;
}

// https://learn.microsoft.com/en-us/graph/json-batching
/** POST /$batch: each request run as if sent alone, its status, headers and body in `responses`. */
export function runBatch(req: GraphRequest, deps: BatchDeps): GraphResponse {
  const requests = (req.body as { requests?: unknown } | undefined)?.requests;
  if (!Array.isArray(requests)) throw new GraphFault(400, 'BadRequest', 'Invalid batch payload format.');
  if (requests.length > BATCH_LIMIT) {
    throw new GraphFault(
      400,
      'BadRequest',
      `The number of requests in a batch is limited to ${BATCH_LIMIT}.`,
    );
  }
  const responses = (requests as BatchItem[]).map((item) => {
    const requestId = randomUUID();
    const url = new URL((item.url ?? '').replace(/^\/?/, '/'), req.origin);
    const headers = lowerCase(item.headers ?? {});
    const entry: LoggedRequest = {
      method: item.method ?? 'GET',
      path: `/v1.0${decodeURIComponent(url.pathname + url.search)}`,
      host: new URL(req.origin).host,
      status: 0,
      inBatch: true,
      bearer: true,
      ...(headers.consistencylevel ? { consistencyLevel: headers.consistencylevel } : {}),
    };
    deps.record(entry);
    let r: GraphResponse;
    try {
      const planned = deps.planned();
      if (planned) throw planned;
      r = deps.run({
        method: item.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers: { ...req.headers, ...headers },
        body: item.body,
        origin: req.origin,
      });
    } catch (err) {
      const f = err instanceof GraphFault ? err : new GraphFault(500, 'InternalServerError', String(err));
      r = { status: f.status, headers: f.headers, body: errorBody(f, requestId, requestId) };
    }
    entry.status = r.status;
    return {
      id: item.id,
      status: r.status,
      headers: { ...(r.body === undefined ? {} : { 'Content-Type': 'application/json' }), ...r.headers },
      ...(r.body === undefined ? {} : { body: r.body }),
    };
  });
  return { status: 200, body: { responses } };
}
