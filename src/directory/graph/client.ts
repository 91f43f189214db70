import { AuthenticationHandler, Client, GraphError, RetryHandler } from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials';
import { chunks, mapLimit } from '../batching';
import { DirectoryUnavailableError } from '../port';
import type { GraphSettings } from './settings';
import { CappedRetryOptions, RenewableCredential, UndiciHttpHandler } from './transport';

/** One request of a JSON batch, relative to the version root (`/users/{id}?$select=…`). */
export interface BatchRequest {
  method: 'GET' | 'DELETE' | 'PATCH';
  url: string;
  body?: unknown;
}

/** One response of a JSON batch. */
export interface BatchResponse {
  status: number;
  body?: { error?: { code?: string; message?: string } } & Record<string, unknown>;
}

/** Graph's limit of requests in one JSON batch. */
export const BATCH_LIMIT = 20;

/** An answer of Graph that is neither success nor "not found", nor transient: a bug or a setting to fix. */
export class GraphRequestError extends Error {
  override readonly name = 'GraphRequestError';
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

const TRANSIENT_STATUS = new Set([408, 429, 500, 502, 503, 504]);

const errorText = (err: GraphError): string => {
  if (err.message) return err.message;
  return typeof err.body === 'string' ? err.body : String(err.code ?? 'no details');
};

/**
 * The error for a Graph answer that is not success. Transient (DirectoryUnavailableError, the activity
 * retries): throttling and 5xx that outlasted the retries, a 401 (the credential, after one renewal), and a
 * 403 on a read (the application lacks a permission: every read fails alike until it is granted). A 403 on
 * a write concerns that object (a role-assignable group, say) and stays a GraphRequestError, as does
 * everything else, so only that item fails.
 */
export function graphFailure(
  what: string,
  method: string,
  status: number,
  code: string | undefined,
  message: string,
  retryAfter?: string | null,
): Error {
  const text = `${what}: ${status} ${code ?? ''}${retryAfter ? ` (Retry-After ${retryAfter} s)` : ''}: ${message}`;
  if (TRANSIENT_STATUS.has(status) || status === 401 || (status === 403 && method === 'GET')) {
    return new DirectoryUnavailableError(text);
  }
  return new GraphRequestError(status, code, text);
}

/** The error for one failed response inside a JSON batch (see graphFailure). */
export function batchItemFailure(request: BatchRequest, r: BatchResponse): Error {
  const e = r.body?.error;
  const what = `Microsoft Graph ${request.method} ${request.url.split('?')[0]} (in $batch)`;
  return graphFailure(what, request.method, r.status, e?.code, e?.message ?? '');
}

/** Whether Graph answered 404 Request_ResourceNotFound (the object is not there). */
export const isNotFound = (err: unknown) => err instanceof GraphRequestError && err.status === 404;

/**
 * The Graph SDK client as the adapter uses it: the SDK's authentication and RetryHandler middleware in
 * front of an undici transport; errors classified into not found (404), DirectoryUnavailableError
 * (network, timeouts, throttling beyond the retries, a credential Graph or the authority refuses) and
 * GraphRequestError (everything else).
 */
export class GraphApi {
  private readonly client: Client;
  private readonly credential: RenewableCredential;
  private readonly transport: UndiciHttpHandler;

  constructor(readonly settings: GraphSettings) {
    this.credential = new RenewableCredential(settings);
    const auth = new TokenCredentialAuthenticationProvider(this.credential, {
      scopes: [`${settings.baseUrl}/.default`],
    });
    this.transport = new UndiciHttpHandler(settings.timeoutMs, settings.ca);
    const chain = [
      new AuthenticationHandler(auth),
      new RetryHandler(new CappedRetryOptions(settings.retries, settings.maxRetryAfterSeconds)),
      this.transport,
    ];
    chain.reduce((a, b) => {
      a.setNext(b);
      return b;
    });
    this.client = Client.initWithMiddleware({
      baseUrl: `${settings.baseUrl}/`,
      defaultVersion: 'v1.0',
      middleware: chain[0],
      // The SDK only attaches the token to hosts it knows: graph.microsoft.com and these.
      customHosts: new Set([new URL(settings.baseUrl).hostname]),
    });
  }

  private async send(
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    path: string,
    options: { body?: unknown; headers?: Record<string, string> },
  ): Promise<unknown> {
    const request = this.client.api(path).headers(options.headers ?? {});
    switch (method) {
      case 'GET':
        return request.get();
      case 'POST':
        return request.post(options.body);
      case 'PATCH':
        return request.patch(options.body);
      case 'DELETE':
        return request.delete();
    }
  }

  /**
   * Sends one request. A token Graph refuses (401) is dropped and the call made once more with a new one;
   * a second 401 is DirectoryUnavailableError, like every transient failure (see graphFailure).
   */
  async request<T>(
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    path: string,
    options: { body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const generation = this.credential.generation;
      try {
        return (await this.send(method, path, options)) as T;
      } catch (err) {
        if (!(err instanceof GraphError)) throw err;
        const what = `Microsoft Graph ${method} ${path.split('?')[0]}`;
        if (err.statusCode === -1 || err.statusCode === undefined) {
          // No answer from Graph: the network, a timeout, or the authority refused or could not issue a token.
          throw new DirectoryUnavailableError(`${what}: ${err.code ?? 'failed'}: ${errorText(err)}`);
        }
        if (err.statusCode === 401 && attempt === 0) {
          // Parallel calls refused together renew the credential once.
          this.credential.renew(generation);
          continue;
        }
        const retryAfter = err.headers?.get('Retry-After');
        throw graphFailure(what, method, err.statusCode, err.code ?? undefined, errorText(err), retryAfter);
      }
    }
  }

  /** GET of one object; undefined when Graph answers 404. */
  async get<T>(path: string): Promise<T | undefined> {
    try {
      return await this.request<T>('GET', path);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Every item of a collection, following @odata.nextLink; undefined when Graph answers 404. */
  async list<T>(path: string, headers?: Record<string, string>): Promise<T[] | undefined> {
    const items: T[] = [];
    let next: string | undefined = path;
    while (next) {
      let page: { value: T[]; '@odata.nextLink'?: string };
      try {
        page = await this.request('GET', next, headers ? { headers } : {});
      } catch (err) {
        if (isNotFound(err) && items.length === 0) return undefined;
        throw err;
      }
      items.push(...page.value);
      next = page['@odata.nextLink'];
    }
    return items;
  }

  /**
   * Sends up to BATCH_LIMIT requests in one JSON batch; responses come back in the order of `requests`.
   * Responses throttled inside the batch (429, 503, 504) are sent again after their Retry-After, up to
   * GRAPH_RETRIES times; after that the batch fails as DirectoryUnavailableError.
   */
  async batch(requests: readonly BatchRequest[]): Promise<BatchResponse[]> {
    if (requests.length > BATCH_LIMIT) throw new Error(`a JSON batch holds at most ${BATCH_LIMIT} requests`);
    const results: (BatchResponse | undefined)[] = requests.map(() => undefined);
    let pending = requests.map((_, i) => i);
    for (let attempt = 0; pending.length; attempt++) {
      const body = {
        requests: pending.map((i) => {
          const r = requests[i]!;
          return {
            id: String(i),
            method: r.method,
            url: r.url,
            ...(r.body === undefined
              ? {}
              : { body: r.body, headers: { 'Content-Type': 'application/json' } }),
          };
        }),
      };
      const answer = await this.request<{
        responses: {
          id: string;
          status: number;
          headers?: Record<string, string>;
          body?: BatchResponse['body'];
        }[];
      }>('POST', '/$batch', { body });
      let wait = 0;
      const again: number[] = [];
      for (const r of answer.responses) {
        const i = Number(r.id);
        if (TRANSIENT_STATUS.has(r.status) && r.status !== 500) {
          const header = Object.entries(r.headers ?? {}).find(([k]) => k.toLowerCase() === 'retry-after');
          wait = Math.max(wait, Number(header?.[1] ?? 1) || 1);
          again.push(i);
        } else {
          results[i] = { status: r.status, ...(r.body === undefined ? {} : { body: r.body }) };
        }
      }
      if (again.length && (attempt >= this.settings.retries || wait > this.settings.maxRetryAfterSeconds)) {
        throw new DirectoryUnavailableError(
          `Microsoft Graph POST /$batch: ${again.length} requests still throttled after ${attempt} retries (Retry-After ${wait} s)`,
        );
      }
      if (again.length) await new Promise((r) => setTimeout(r, wait * 1000));
      pending = again;
    }
    return results.map((r) => r!);
  }

  /** Any number of requests in batches of BATCH_LIMIT, GRAPH_CONCURRENCY batches at a time; responses in order. */
  async batchAll(requests: readonly BatchRequest[]): Promise<BatchResponse[]> {
    const parts = await mapLimit(chunks(requests, BATCH_LIMIT), this.settings.concurrency, (part) =>
      this.batch(part),
    );
    return parts.flat();
  }

  /** Acquires a token now (the start check), so a refused credential is told apart from Graph's answers. */
  async signIn(): Promise<void> {
    await this.credential.getToken(`${this.settings.baseUrl}/.default`);
  }

  async close(): Promise<void> {
    await this.transport.close();
  }
}
