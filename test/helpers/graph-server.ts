import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { ContractTenant } from '../directory/contract-tenant';
import { Authority } from './graph/auth';
import { route } from './graph/directory-routes';
import type { GraphRequest, GraphResponse } from './graph/odata';
import { errorBody, GraphFault, lowerCase } from './graph/odata';
import type { LoggedRequest } from './graph/batch';
import { runBatch } from './graph/batch';

export type { LoggedRequest } from './graph/batch';
import type { TenantOptions } from './graph/state';
import { TenantState } from './graph/state';
import type { TestPki } from './tls-certs';
import { createTestPki } from './tls-certs';

/** A fault the reproduction answers the next `remaining` requests with (top-level ones, or $batch items). */
interface PlannedFault {
  remaining: number;
  fault: () => GraphFault;
  where: 'request' | 'batchItem';
}

/**
 * A local reproduction of Microsoft Graph v1.0 and the Entra ID authority, for exactly the calls the
 * Graph adapter makes, written from the reference pages cited above each handler. HTTPS on 127.0.0.1
 * with a throwaway CA (`caFile`); the certificate names 127.0.0.1 and localhost.
 */
export class GraphServer {
  readonly log: LoggedRequest[] = [];
  private planned: PlannedFault[] = [];
  private server!: https.Server;
  port = 0;

  private constructor(
    readonly state: TenantState,
    readonly authority: Authority,
    private readonly pki: TestPki,
    /** PEM file with the application's private key and certificate (GRAPH_CLIENT_CERTIFICATE_FILE). */
    readonly certificateFile: string,
  ) {}

  /** Starts the reproduction loaded with a tenant. */
  static async start(tenant: ContractTenant, options: TenantOptions = {}): Promise<GraphServer> {
    const pki = createTestPki({ serverAltNames: 'IP:127.0.0.1,DNS:localhost' });
    const certificateFile = path.join(pki.dir, 'graph-client.pem');
    // MSAL signs client assertions with RS256/PS256: the application's certificate is RSA.
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        'graph-client.key',
        '-out',
        'graph-client.crt',
        '-days',
        '1',
        '-subj',
        '/CN=stagecoach-graph-client',
      ],
      { cwd: pki.dir, stdio: 'ignore' },
    );
    const key = fs.readFileSync(path.join(pki.dir, 'graph-client.key'), 'utf8');
    const cert = fs.readFileSync(path.join(pki.dir, 'graph-client.crt'), 'utf8');
    fs.writeFileSync(certificateFile, key + cert, { mode: 0o600 });
    const state = TenantState.load(tenant, options);
    const authority = new Authority({
      tenantId: state.tenantId,
      clientId: randomUUID(),
      secret: randomBytes(24).toString('base64url'),
      certificatePem: cert,
    });
    const server = new GraphServer(state, authority, pki, certificateFile);
    await server.listen();
    return server;
  }

  private async listen(): Promise<void> {
    this.server = https.createServer(
      {
        key: fs.readFileSync(this.pki.serverKey),
        cert: fs.readFileSync(this.pki.serverCert),
        keepAliveTimeout: 30_000,
      },
      (req, res) => void this.handle(req, res),
    );
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** https://127.0.0.1:port: both the authority host and the Graph base URL. */
  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  /** The throwaway CA that signed the server certificate (GRAPH_CA_FILE). */
  get caFile(): string {
    return this.pki.caCert;
  }

  get tenantId(): string {
    return this.state.tenantId;
  }

  get clientId(): string {
    return this.authority.app.clientId;
  }

  get clientSecret(): string {
    return this.authority.app.secret;
  }

  idOf(key: string): string {
    return this.state.idOf(key);
  }

  /** Direct member ids of a group, read from the reproduction's own state. */
  readGroupMemberIds(groupKeyOrId: string): string[] {
    const id = this.state.groups.has(groupKeyOrId) ? groupKeyOrId : this.state.idOf(groupKeyOrId);
    return [...(this.state.groups.get(id)?.members ?? [])];
  }

  /**
   * The next `n` Graph requests (top-level ones, or items inside $batch with `where: 'batchItem'`) are
   * answered `status` with Retry-After, as Graph throttles.
   */
  throttleNext(
    n: number,
    retryAfterSeconds: number,
    status = 429,
    where: PlannedFault['where'] = 'request',
  ): void {
    const headers = { 'Retry-After': String(retryAfterSeconds) };
    // https://learn.microsoft.com/en-us/graph/throttling#best-practices-to-handle-throttling
    const fault = () =>
      status === 429
        ? new GraphFault(429, 'TooManyRequests', 'Too many requests.', headers)
        : new GraphFault(status, 'serviceNotAvailable', 'Service unavailable, try again later.', headers);
    this.planned.push({ remaining: n, fault, where });
  }

  /**
   * The next `n` Graph requests are refused 403 Authorization_RequestDenied, as Graph answers an
   * application without the permission (or a write to a role-assignable group without its role).
   */
  denyNext(n: number, where: PlannedFault['where'] = 'request'): void {
    // https://learn.microsoft.com/en-us/graph/errors#http-status-codes
    const fault = () =>
      new GraphFault(
        403,
        'Authorization_RequestDenied',
        'Insufficient privileges to complete the operation.',
      );
    this.planned.push({ remaining: n, fault, where });
  }

  /** Replaces the application's client secret (the old one is refused from now on); returns the new one. */
  rotateSecret(): string {
    this.authority.app.secret = randomBytes(24).toString('base64url');
    return this.authority.app.secret;
  }

  /** Revokes every token issued so far: the next Graph call with one is answered 401. */
  revokeTokens(): void {
    this.authority.revokeTokens();
  }

  private plannedFault(where: PlannedFault['where']): GraphFault | undefined {
    const t = this.planned.find((x) => x.where === where && x.remaining > 0);
    if (!t) return undefined;
    t.remaining--;
    this.planned = this.planned.filter((x) => x.remaining > 0);
    return t.fault();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const origin = `https://${req.headers.host ?? `127.0.0.1:${this.port}`}`;
    const url = new URL(req.url ?? '/', origin);
    const requestId = randomUUID();
    const clientRequestId = (req.headers['client-request-id'] as string | undefined) ?? requestId;
    const send = (r: GraphResponse) => {
      res.writeHead(r.status, {
        'request-id': requestId,
        'client-request-id': clientRequestId,
        ...(r.body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...r.headers,
      });
      res.end(r.body === undefined ? undefined : JSON.stringify(r.body));
    };
    const entry: LoggedRequest = {
      method: req.method ?? 'GET',
      path: decodeURIComponent(url.pathname + url.search),
      host: req.headers.host ?? '',
      status: 0,
      inBatch: false,
      bearer: /^Bearer /i.test(req.headers.authorization ?? ''),
      ...(req.headers.consistencylevel ? { consistencyLevel: String(req.headers.consistencylevel) } : {}),
    };
    this.log.push(entry);
    const answer = (r: GraphResponse) => {
      entry.status = r.status;
      send(r);
    };
    const auth =
      /^\/([^/]+)\/(oauth2\/v2\.0\/token|v2\.0\/\.well-known\/openid-configuration|discovery\/instance)$/.exec(
        url.pathname,
      );
    if (auth) {
      const [, tenant, what] = auth;
      if (what === 'oauth2/v2.0/token' && req.method === 'POST') {
        const form = new URLSearchParams(raw);
        entry.clientCredential = form.has('client_assertion') ? 'assertion' : 'secret';
        entry.scope = form.get('scope') ?? '';
        answer(await this.authority.token(origin, tenant!, form));
      } else if (what === 'discovery/instance') {
        answer(this.authority.instanceDiscovery(origin));
      } else {
        answer(this.authority.openIdConfiguration(origin, tenant!));
      }
      return;
    }
    const fault = (f: GraphFault): GraphResponse => ({
      status: f.status,
      headers: f.headers,
      body: errorBody(f, requestId, clientRequestId),
    });
    try {
      this.authorize(req.headers.authorization, origin);
      const planned = this.plannedFault('request');
      if (planned) throw planned;
      if (!url.pathname.startsWith('/v1.0/')) throw new GraphFault(400, 'BadRequest', 'Invalid version.');
      const body = raw ? (JSON.parse(raw) as unknown) : undefined;
      const graphReq: GraphRequest = {
        method: req.method ?? 'GET',
        path: url.pathname.slice('/v1.0'.length),
        query: url.searchParams,
        headers: lowerCase(req.headers),
        body,
        origin,
      };
      if (graphReq.path === '/$batch' && graphReq.method === 'POST') {
        const items = (body as { requests?: unknown } | undefined)?.requests;
        if (Array.isArray(items)) entry.batchSize = items.length;
        answer(
          runBatch(graphReq, {
            run: (r) => this.run(r),
            planned: () => this.plannedFault('batchItem'),
            record: (e) => this.log.push(e),
          }),
        );
      } else {
        answer(this.run(graphReq));
      }
    } catch (err) {
      answer(
        fault(err instanceof GraphFault ? err : new GraphFault(500, 'InternalServerError', String(err))),
      );
    }
  }

  // https://learn.microsoft.com/en-us/graph/auth-v2-service#use-the-access-token-to-call-microsoft-graph
  private authorize(header: string | undefined, origin: string): void {
    const token = /^Bearer (.+)$/i.exec(header ?? '')?.[1];
    if (!token) throw new GraphFault(401, 'InvalidAuthenticationToken', 'Access token is empty.');
    const audience = this.authority.audienceOf(token);
    if (!audience) {
      throw new GraphFault(
        401,
        'InvalidAuthenticationToken',
        'Lifetime validation failed, the token is expired.',
      );
    }
    if (audience.toLowerCase() !== origin.toLowerCase()) {
      throw new GraphFault(
        401,
        'InvalidAuthenticationToken',
        'Access token validation failure. Invalid audience.',
      );
    }
  }

  private run(req: GraphRequest): GraphResponse {
    return route(req, this.state);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
    this.pki.remove();
  }
}
