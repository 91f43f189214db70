import http from 'node:http';
import { portOf } from './ports';

/** One request as the relay saw it. */
export interface RelayedRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  headers: http.IncomingHttpHeaders;
  /** The status the client got. */
  status: number;
}

/**
 * An HTTP relay in front of a real server (plain HTTP on loopback) that can answer the next requests
 * itself with a throttling status and Retry-After, run a hook before a request goes on, and keeps a log
 * of what the client sent. Everything else passes through unchanged.
 */
export class HttpFaultRelay {
  readonly log: RelayedRequest[] = [];
  private throttles: { status: number; retryAfter?: string }[] = [];
  private hook?: (req: RelayedRequest) => Promise<void>;

  private constructor(
    private readonly server: http.Server,
    private readonly target: URL,
  ) {}

  /** Starts the relay for `target` (an http:// origin). */
  static async start(target: string): Promise<HttpFaultRelay> {
    const server = http.createServer();
    const relay = new HttpFaultRelay(server, new URL(target));
    server.on(
      'request',
      (req: http.IncomingMessage, res: http.ServerResponse) => void relay.handle(req, res),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return relay;
  }

  /** The relay's origin, e.g. http://127.0.0.1:PORT. */
  get origin(): string {
    return `http://127.0.0.1:${portOf(this.server)}`;
  }

  /** The next `n` requests are answered with `status` (default 429) and `Retry-After: retryAfter`. */
  throttleNext(n: number, retryAfter: string | undefined, status = 429): void {
    for (let i = 0; i < n; i++) this.throttles.push({ status, ...(retryAfter ? { retryAfter } : {}) });
  }

  /** Runs `fn` before the next request that matches goes on to the server (once). */
  beforeNext(match: (req: RelayedRequest) => boolean, fn: () => Promise<void>): void {
    this.hook = async (req) => {
      if (!match(req)) return;
      this.hook = undefined;
      await fn();
    };
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const entry: RelayedRequest = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers: req.headers,
      status: 0,
    };
    this.log.push(entry);
    const throttle = this.throttles.shift();
    if (throttle) {
      entry.status = throttle.status;
      res.writeHead(throttle.status, {
        'content-type': 'application/scim+json',
        ...(throttle.retryAfter ? { 'retry-after': throttle.retryAfter } : {}),
      });
      res.end(
        JSON.stringify({
          schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
          status: String(throttle.status),
          detail: 'Too many requests',
        }),
      );
      return;
    }
    await this.hook?.(entry);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (typeof v === 'string' && !['host', 'connection', 'content-length'].includes(k)) headers[k] = v;
    }
    const upstream = await fetch(new URL(entry.url, this.target), {
      method: entry.method,
      headers,
      ...(chunks.length ? { body: Buffer.concat(chunks) } : {}),
    });
    entry.status = upstream.status;
    const body = Buffer.from(await upstream.arrayBuffer());
    const out: Record<string, string> = {};
    upstream.headers.forEach((v, k) => {
      if (!['content-length', 'transfer-encoding', 'connection', 'content-encoding'].includes(k)) out[k] = v;
    });
    res.writeHead(upstream.status, out);
    res.end(body);
  }
}
