/** A failed API call: HTTP status and the Graph-style error code. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
  /** `404 review.not_a_reviewer` — how the bench counts errors. */
  get key(): string {
    return `${this.status} ${this.code}`;
  }
}

export const REVIEWS = '/v1.0/identityGovernance/accessReviews';

export interface HttpResult {
  status: number;
  body: unknown;
  /** Size of the response body in bytes. */
  bytes: number;
}

/** `GET /v1.0/…/definitions/{id}/instances/{id}/stages/{id}/decisions`: a path with its ids and query cut. */
export function routeOf(method: string, path: string): string {
  const clean = path
    .split('?')[0]!
    .split('/')
    .map((seg, i, all) =>
      i > 0 && /^(definitions|instances|stages|decisions)$/.test(all[i - 1]!) ? '{id}' : seg,
    )
    .join('/')
    .replace(REVIEWS, '…');
  return `${method} ${clean}`;
}

/** A small fetch-based client of the Stagecoach API. */
export class ApiClient {
  /** Largest response body per route (see routeOf), in bytes. */
  readonly largestResponses = new Map<string, number>();

  constructor(
    readonly baseUrl: string,
    private readonly timeoutMs = 120_000,
  ) {}

  async raw(method: string, path: string, token: string, body?: unknown): Promise<HttpResult> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await res.text();
    let parsed: unknown = text;
    if (text) {
      try {
        parsed = JSON.parse(text) as unknown;
      } catch {
        // not JSON: keep the text
      }
    }
    const bytes = Buffer.byteLength(text);
    const route = routeOf(method, path);
    if (bytes > (this.largestResponses.get(route) ?? -1)) this.largestResponses.set(route, bytes);
    return { status: res.status, body: parsed, bytes };
  }

  /** Like raw(), but a non-2xx status throws an ApiError. */
  async call<T>(method: string, path: string, token: string, body?: unknown): Promise<T> {
    return (await this.callSized<T>(method, path, token, body)).body;
  }

  /** call() that also says how many bytes the response had. */
  async callSized<T>(
    method: string,
    path: string,
    token: string,
    body?: unknown,
  ): Promise<{ body: T; bytes: number }> {
    const res = await this.raw(method, path, token, body);
    if (res.status >= 300) throw errorOf(res, `${method} ${path}`);
    return { body: res.body as T, bytes: res.bytes };
  }
}

/** The ApiError of a failed response (Graph's `{error:{code,message}}` when present). */
export function errorOf(res: HttpResult, what: string): ApiError {
  const err = (res.body as { error?: { code?: string; message?: string } } | undefined)?.error;
  const code = err?.code ?? 'unknown';
  const message = err?.message ?? (typeof res.body === 'string' ? res.body.slice(0, 300) : '');
  return new ApiError(res.status, code, `${what} → ${res.status} ${code}: ${message}`);
}
