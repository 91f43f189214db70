import { rootCertificates } from 'node:tls';
import { Agent, request } from 'undici';
import { DirectoryUnavailableError } from '../port';
import type { ScimSettings } from './settings';

/** A SCIM error response (RFC 7644 §3.12) other than the transient ones, which become DirectoryUnavailableError. */
export class ScimError extends Error {
  override readonly name = 'ScimError';
  constructor(
    readonly status: number,
    readonly scimType: string | undefined,
    detail: string,
  ) {
    super(detail);
  }
}

/** One answer of the service provider: status, parsed JSON body (if any) and the ETag. */
export interface ScimResponse {
  status: number;
  body: unknown;
  etag?: string;
}

export interface ScimRequest {
  query?: Record<string, string | number>;
  body?: unknown;
  ifMatch?: string;
}

const SCIM_JSON = 'application/scim+json';
// Statuses worth waiting for: throttling and a provider that says it is briefly unavailable.
const RETRIED = new Set([429, 502, 503, 504]);
// Socket-level failures from undici and Node; anything else thrown by `request` is a programming error.
const NETWORK_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

const errorCode = (err: unknown): string | undefined => {
  for (let e = err, depth = 0; typeof e === 'object' && e !== null && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
};

/** Seconds a Retry-After header asks for (delta-seconds or an HTTP date); undefined when absent or unreadable. */
export function retryAfterSeconds(
  header: string | string[] | undefined,
  now = Date.now(),
): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const detailOf = (body: unknown, status: number) => {
  const b = (body ?? {}) as { detail?: unknown; scimType?: unknown };
  return {
    detail: typeof b.detail === 'string' ? b.detail : `HTTP ${status}`,
    scimType: typeof b.scimType === 'string' ? b.scimType : undefined,
  };
};

/**
 * HTTP to a SCIM 2.0 service provider: JSON in and out, the credential attached (an OAuth token fetched
 * and renewed as needed), throttling and 5xx waited out per Retry-After within the settings' bounds.
 * Network failures, timeouts, a refused credential and retries that run out are DirectoryUnavailableError.
 */
export class ScimClient {
  private readonly agent: Agent;
  private token?: { value: string; expiresAt: number };

  constructor(private readonly settings: ScimSettings) {
    this.agent = new Agent({
      connect: {
        timeout: settings.connectTimeoutMs,
        ...(settings.ca ? { ca: [...rootCertificates, settings.ca] } : {}),
      },
      headersTimeout: settings.timeoutMs,
      bodyTimeout: settings.timeoutMs,
      connections: settings.concurrency,
    });
  }

  /** Sends one request; 2xx, 404, 409 and 412 come back as responses, other failures throw. */
  async send(method: string, path: string, req: ScimRequest = {}): Promise<ScimResponse> {
    const url = new URL(this.settings.baseUrl + path);
    for (const [k, v] of Object.entries(req.query ?? {})) url.searchParams.set(k, String(v));
    let renewed = false;
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = {
        accept: `${SCIM_JSON}, application/json`,
        authorization: `Bearer ${await this.bearer()}`,
      };
      if (req.body !== undefined) headers['content-type'] = SCIM_JSON;
      if (req.ifMatch) headers['if-match'] = req.ifMatch;
      const res = await this.http(method, url, headers, req.body);
      if ((res.status === 401 || res.status === 403) && this.settings.auth.kind === 'oauth' && !renewed) {
        // An access token the provider no longer takes: fetch a new one, once.
        this.token = undefined;
        renewed = true;
        attempt--;
        continue;
      }
      if (res.status === 401 || res.status === 403) {
        const auth = this.settings.auth;
        const credential = auth.kind === 'bearer' ? 'SCIM_TOKEN' : `SCIM_OAUTH_CLIENT_ID=${auth.clientId}`;
        throw new DirectoryUnavailableError(
          `${credential}: ${this.settings.baseUrl} refused the credential (HTTP ${res.status} on ${method} ${url.pathname})`,
        );
      }
      if (RETRIED.has(res.status) || res.status >= 500) {
        const wait = retryAfterSeconds(res.retryAfter) ?? Math.min(2 ** attempt, 30);
        if (attempt < this.settings.retries && wait <= this.settings.maxRetryAfterSeconds) {
          await sleep(wait * 1000);
          continue;
        }
        throw new DirectoryUnavailableError(
          `SCIM ${method} ${url.pathname} at ${this.settings.baseUrl}: HTTP ${res.status} after ${attempt + 1} attempt(s)`,
        );
      }
      if ((res.status >= 200 && res.status < 300) || [404, 409, 412].includes(res.status)) return res;
      const { detail, scimType } = detailOf(res.body, res.status);
      throw new ScimError(res.status, scimType, `SCIM ${method} ${url.pathname}: ${detail}`);
    }
  }

  /** GET a resource or a list; the response body (404 → undefined). */
  async get<T>(path: string, query?: Record<string, string | number>): Promise<T | undefined> {
    const res = await this.send('GET', path, query ? { query } : {});
    if (res.status === 404) return undefined;
    if (res.status !== 200)
      throw new ScimError(res.status, undefined, `SCIM GET ${path}: HTTP ${res.status}`);
    return res.body as T;
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private async http(
    method: string,
    url: URL,
    headers: Record<string, string>,
    body: unknown,
    what = `SCIM ${method} ${url.pathname} at ${this.settings.baseUrl}`,
  ): Promise<ScimResponse & { retryAfter?: string | string[] }> {
    try {
      const res = await request(url, {
        method: method as 'GET',
        headers,
        dispatcher: this.agent,
        ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
      });
      const text = await res.body.text();
      let parsed: unknown;
      if (text.trim() !== '') {
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = undefined;
        }
      }
      const etag = res.headers.etag;
      return {
        status: res.statusCode,
        body: parsed,
        ...(typeof etag === 'string' ? { etag } : {}),
        ...(res.headers['retry-after'] !== undefined ? { retryAfter: res.headers['retry-after'] } : {}),
      };
    } catch (err) {
      const code = errorCode(err);
      if (code) throw new DirectoryUnavailableError(`${what} failed: ${code}`);
      throw err;
    }
  }

  /** The bearer token: the configured one, or an OAuth 2.0 client-credentials token (RFC 6749 §4.4), cached until shortly before it expires. */
  private async bearer(): Promise<string> {
    const auth = this.settings.auth;
    if (auth.kind === 'bearer') return auth.token;
    if (this.token && this.token.expiresAt > Date.now()) return this.token.value;
    const url = new URL(auth.tokenUrl);
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (auth.scope) form.set('scope', auth.scope);
    const basic = Buffer.from(
      `${encodeURIComponent(auth.clientId)}:${encodeURIComponent(auth.clientSecret)}`,
    ).toString('base64');
    const res = await this.http(
      'POST',
      url,
      {
        authorization: `Basic ${basic}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      form.toString(),
      `SCIM_OAUTH_TOKEN_URL=${auth.tokenUrl}: the token request`,
    );
    const body = (res.body ?? {}) as { access_token?: unknown; expires_in?: unknown; error?: unknown };
    if (res.status !== 200 || typeof body.access_token !== 'string') {
      const error = typeof body.error === 'string' ? body.error : `HTTP ${res.status}`;
      throw new DirectoryUnavailableError(
        `SCIM_OAUTH_CLIENT_ID=${auth.clientId}: the token request to ${auth.tokenUrl} failed (${error})`,
      );
    }
    const lifetime = typeof body.expires_in === 'number' ? body.expires_in : 3600;
    this.token = { value: body.access_token, expiresAt: Date.now() + Math.max(0, lifetime - 60) * 1000 };
    return this.token.value;
  }
}
