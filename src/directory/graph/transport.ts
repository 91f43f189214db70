import https from 'node:https';
import tls from 'node:tls';
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';
import { ClientCertificateCredential, ClientSecretCredential } from '@azure/identity';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import type { Context, Middleware } from '@microsoft/microsoft-graph-client';
import { RetryHandlerOptions } from '@microsoft/microsoft-graph-client';
import { Agent, fetch as undiciFetch } from 'undici';
import type { GraphSettings } from './settings';
import { PUBLIC_AUTHORITY_HOST } from './settings';

/** Thrown by the transport when Graph or the authority could not be reached in time. */
export class GraphNetworkError extends Error {
  override readonly name = 'GraphNetworkError';
}

/**
 * Sends @azure/identity's token requests through an agent that also trusts GRAPH_CA_FILE (its Node HTTP
 * client takes `request.agent`); without an extra CA the pipeline keeps its own agent.
 */
function trustPolicy(ca: string): PipelinePolicy {
  // No keep-alive: tokens are fetched about once an hour, and no idle socket should outlive close().
  const agent = new https.Agent({ ca: [...tls.rootCertificates, ca], keepAlive: false });
  return {
    name: 'stagecoachGraphCa',
    sendRequest: (request, next) => {
      request.agent = agent;
      return next(request);
    },
  };
}

function makeCredential(settings: GraphSettings, trust: PipelinePolicy | undefined): TokenCredential {
  const options = {
    authorityHost: settings.authorityHost,
    // Instance discovery asks the public cloud about the authority; national clouds and custom hosts answer
    // for themselves.
    disableInstanceDiscovery: settings.authorityHost !== PUBLIC_AUTHORITY_HOST,
    additionalPolicies: trust ? [{ policy: trust, position: 'perCall' as const }] : [],
  };
  const c = settings.credential;
  if (c.kind === 'secret') {
    return new ClientSecretCredential(settings.tenantId, settings.clientId, c.secret, options);
  }
  return new ClientCertificateCredential(
    settings.tenantId,
    settings.clientId,
    { certificate: c.pem },
    { ...options, sendCertificateChain: false },
  );
}

/**
 * The application's credential, renewable: a token Graph no longer accepts (revoked, the secret rotated)
 * is dropped with its cache by `renew()`, so the next call signs in again.
 */
export class RenewableCredential implements TokenCredential {
  private inner: TokenCredential;
  private readonly trust: PipelinePolicy | undefined;
  /** The token being fetched; one scope only (Graph's .default) is ever asked for. */
  private pending: Promise<AccessToken | null> | undefined;

  constructor(private readonly settings: GraphSettings) {
    this.trust = settings.ca ? trustPolicy(settings.ca) : undefined;
    this.inner = makeCredential(settings, this.trust);
  }

  /**
   * A token from the cache or the authority; calls that ask while one is being fetched share it, and an
   * authority that does not answer in time fails them.
   */
  getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
    this.pending ??= this.fetchToken(scopes, options).finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async fetchToken(
    scopes: string | string[],
    options?: GetTokenOptions,
  ): Promise<AccessToken | null> {
    const ms = this.settings.timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new GraphNetworkError(`the authority did not issue a token within ${ms} ms`)),
        ms,
      );
    });
    try {
      return await Promise.race([this.inner.getToken(scopes, options), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** How many times the credential was renewed; a caller renews only the one its request used. */
  generation = 0;

  /** Drops the credential and its token cache, unless another caller already did since `generation`. */
  renew(generation: number): void {
    if (generation !== this.generation) return;
    this.generation++;
    this.inner = makeCredential(this.settings, this.trust);
  }
}

/**
 * The SDK's RetryHandler options: 429/503/504 are retried `retries` times, waiting Retry-After (or 1 s,
 * growing) but never longer than GRAPH_MAX_RETRY_AFTER_SECONDS; a longer Retry-After is not waited for.
 */
export class CappedRetryOptions extends RetryHandlerOptions {
  constructor(
    retries: number,
    private readonly maxSeconds: number,
  ) {
    super(1, retries, (_delay, _attempt, _request, _options, response) => {
      const after = Number(response.headers.get('Retry-After') ?? '0');
      return !(after > maxSeconds);
    });
  }

  override getMaxDelay(): number {
    return this.maxSeconds;
  }
}

const isAbort = (err: unknown) =>
  err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError');

/**
 * The last middleware: sends the request with undici's own fetch (Node's global fetch ignores agents)
 * through a dispatcher that trusts GRAPH_CA_FILE, with a per-request timeout that covers reading the
 * body. Network failures and timeouts become GraphNetworkError.
 */
export class UndiciHttpHandler implements Middleware {
  private readonly dispatcher: Agent;

  constructor(
    private readonly timeoutMs: number,
    ca: string | undefined,
  ) {
    this.dispatcher = new Agent({
      connect: ca ? { ca: [...tls.rootCertificates, ca] } : {},
      connections: 32,
    });
  }

  async execute(context: Context): Promise<void> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    // RequestInfo is a DOM type this project does not load; the SDK passes a URL string.
    const request: unknown = context.request;
    const url = typeof request === 'string' ? request : (request as { url: string }).url;
    const options = context.options ?? {};
    try {
      const res = await undiciFetch(url, {
        method: options.method ?? 'GET',
        headers: options.headers as Record<string, string> | undefined,
        body: options.body as string | undefined,
        dispatcher: this.dispatcher,
        signal,
      });
      const body = res.status === 204 || res.status === 304 ? null : await res.arrayBuffer();
      context.response = new Response(body, {
        status: res.status,
        statusText: res.statusText,
        headers: new Headers([...res.headers]),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = isAbort(err)
        ? `no answer within ${this.timeoutMs} ms`
        : (cause?.code ?? cause?.message ?? (err as Error).message);
      throw new GraphNetworkError(`${options.method ?? 'GET'} ${new URL(url).pathname}: ${why}`);
    }
  }

  setNext(): void {
    // the last middleware in the chain
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }
}
