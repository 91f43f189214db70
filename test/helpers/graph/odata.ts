/** A request as the Graph routes see it, whether it came over HTTP or inside a JSON batch. */
export interface GraphRequest {
  method: string;
  /** Path below the version, e.g. /users/{id}/manager. */
  path: string;
  query: URLSearchParams;
  /** Lower-case header names. */
  headers: Record<string, string>;
  body: unknown;
  /** Origin the caller used (scheme and host header), for @odata.nextLink and @odata.context. */
  origin: string;
}

export interface GraphResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/** A Graph error, answered as `{ "error": { "code", "message", "innerError" } }`. */
export class GraphFault extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const notFound = (id: string) =>
  new GraphFault(
    404,
    'Request_ResourceNotFound',
    `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
  );

export const unsupported = (message: string) => new GraphFault(400, 'Request_UnsupportedQuery', message);

export const badRequest = (message: string) => new GraphFault(400, 'Request_BadRequest', message);

/** The body of an error response, with the ids Graph puts in innerError. */
export function errorBody(fault: GraphFault, requestId: string, clientRequestId: string | undefined) {
  return {
    error: {
      code: fault.code,
      message: fault.message,
      innerError: {
        date: new Date().toISOString().replace(/\.\d{3}Z$/, ''),
        'request-id': requestId,
        'client-request-id': clientRequestId ?? requestId,
      },
    },
  };
}

const eventual = (req: GraphRequest) => req.headers.consistencylevel?.toLowerCase() === 'eventual';

/** The $select list, or undefined for the default properties. */
export function selectOf(req: GraphRequest): string[] | undefined {
  const s = req.query.get('$select');
  return s ? s.split(',').map((p) => p.trim()) : undefined;
}

/** Only the selected properties (and `id`, which Graph always returns); the @odata.type stays. */
export function project(entity: Record<string, unknown>, select: string[] | undefined, defaults: string[]) {
  const keep = select ?? defaults;
  const out: Record<string, unknown> = {};
  if (entity['@odata.type']) out['@odata.type'] = entity['@odata.type'];
  for (const k of new Set(['id', ...keep])) if (k in entity) out[k] = entity[k];
  return out;
}

/**
 * Checks the query options a collection accepts: $top 1–999, $count only with ConsistencyLevel eventual,
 * no $filter/$search/$orderby/$expand unless the route handles them.
 */
export function checkCollectionQuery(req: GraphRequest, allowed: { filter?: boolean } = {}): void {
  for (const key of req.query.keys()) {
    if (key === '$filter' && allowed.filter) continue;
    if (['$filter', '$search', '$orderby', '$expand', '$skip'].includes(key)) {
      throw unsupported(`The query option ${key} is not supported on this collection by the reproduction.`);
    }
  }
  const top = req.query.get('$top');
  if (top !== null && !(/^\d+$/.test(top) && Number(top) >= 1 && Number(top) <= 999)) {
    throw badRequest(`Invalid page size specified: '${top}'. Must be between 1 and 999 inclusive.`);
  }
  if (req.query.get('$count') === 'true' && !eventual(req)) {
    throw badRequest('$count is not currently supported.');
  }
}

/** An OData cast on a directory object collection needs ConsistencyLevel: eventual and $count=true. */
export function checkCast(req: GraphRequest, cast: string | undefined): void {
  if (cast && !(eventual(req) && req.query.get('$count') === 'true')) {
    throw unsupported(
      `The OData cast ${cast} on this collection requires the ConsistencyLevel header set to eventual and $count=true.`,
    );
  }
}

/** sign-in activity is returned by GET /users and GET /users/{id} only. */
export function refuseSignInActivity(req: GraphRequest): void {
  if (selectOf(req)?.some((p) => p.toLowerCase() === 'signinactivity')) {
    throw unsupported(
      "Property 'signInActivity' is not supported on this collection. Use GET /users or GET /users/{id}.",
    );
  }
}

/**
 * One page of a collection: $top items (default 100) from $skiptoken on, with @odata.nextLink carrying
 * the same query and the next $skiptoken, and @odata.count when $count=true.
 */
export function page(req: GraphRequest, items: Record<string, unknown>[], context: string): GraphResponse {
  const top = Number(req.query.get('$top') ?? '100');
  const token = req.query.get('$skiptoken');
  let offset = 0;
  if (token !== null) {
    const decoded = /^X'([0-9A-F]+)'$/.exec(Buffer.from(token, 'base64url').toString('latin1'));
    if (!decoded) throw badRequest(`Invalid skip token '${token}'.`);
    offset = parseInt(decoded[1]!, 16);
  }
  const value = items.slice(offset, offset + top);
  const body: Record<string, unknown> = { '@odata.context': `${req.origin}/v1.0/$metadata#${context}` };
  if (req.query.get('$count') === 'true') body['@odata.count'] = items.length;
  if (offset + top < items.length) {
    const next = new URLSearchParams(req.query);
    next.set(
      '$skiptoken',
      Buffer.from(`X'${(offset + top).toString(16).toUpperCase()}'`).toString('base64url'),
    );
    // Graph writes the option names as they are ($top, not %24top).
    const query = [...next].map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
    body['@odata.nextLink'] = `${req.origin}/v1.0${req.path}?${query}`;
  }
  body.value = value;
  return { status: 200, body };
}

/** Header names in lower case, repeated values joined. */
export function lowerCase(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v.join(', ') : String(v)]),
  );
}
