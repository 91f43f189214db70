import { createHash, randomBytes } from 'node:crypto';
import type { JWTPayload, JWTVerifyGetKey } from 'jose';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { z } from 'zod';

/** The relying party's registration at the OpenID provider. */
export interface OidcClientSettings {
  issuer: string;
  clientId: string;
  /** Confidential clients only; sent with client_secret_basic. */
  clientSecret?: string;
  scopes: string;
  resource?: string;
  redirectUri: string;
  postLogoutRedirectUri: string;
  /** How long one request to the provider may take. */
  timeoutMs?: number;
}

/** The provider cannot be reached or answered something that is not OpenID Connect. */
export class OidcProviderError extends Error {
  override readonly name = 'OidcProviderError';
}

const metadataSchema = z.object({
  issuer: z.string(),
  authorization_endpoint: z.url(),
  token_endpoint: z.url(),
  jwks_uri: z.url(),
  end_session_endpoint: z.url().optional(),
  code_challenge_methods_supported: z.array(z.string()).optional(),
});
type Metadata = z.infer<typeof metadataSchema>;

const tokenResponseSchema = z.object({
  access_token: z.string().min(1),
  id_token: z.string().min(1),
  token_type: z.string(),
  expires_in: z.coerce.number().optional(),
});

/** What a sign-in in progress must remember until the provider sends the browser back. */
export interface AuthorizationRequest {
  url: string;
  state: string;
  nonce: string;
  codeVerifier: string;
}

export interface SignedIn {
  accessToken: string;
  idToken: string;
  /** Seconds the access token is valid for, as the provider says. */
  expiresIn?: number;
  idClaims: JWTPayload;
}

const random = () => randomBytes(32).toString('base64url');
const challengeOf = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

/**
 * OpenID Connect authorization code flow with PKCE (S256), as a relying party: discovery, the request,
 * the code exchange and the ID token's checks (signature from the provider's JWKS, issuer, audience,
 * expiry, nonce). The tokens stay on the server side of the portal.
 */
export class OidcClient {
  private metadata?: Promise<{ meta: Metadata; keys: JWTVerifyGetKey }>;

  constructor(private readonly settings: OidcClientSettings) {}

  private discover() {
    this.metadata ??= (async () => {
      const issuer = this.settings.issuer.replace(/\/+$/, '');
      const url = `${issuer}/.well-known/openid-configuration`;
      const body = await this.fetchJson(url, {}, 'discovery document');
      const parsed = metadataSchema.safeParse(body);
      if (!parsed.success) throw new OidcProviderError(`${url} is not an OpenID provider configuration`);
      const meta = parsed.data;
      if (meta.issuer.replace(/\/+$/, '') !== issuer) {
        throw new OidcProviderError(`${url} names the issuer ${meta.issuer}, not ${this.settings.issuer}`);
      }
      if (meta.code_challenge_methods_supported && !meta.code_challenge_methods_supported.includes('S256')) {
        throw new OidcProviderError(`${meta.issuer} does not support PKCE with S256`);
      }
      return { meta, keys: createRemoteJWKSet(new URL(meta.jwks_uri)) };
    })();
    // A failed discovery is tried again by the next sign-in instead of being remembered.
    this.metadata.catch(() => (this.metadata = undefined));
    return this.metadata;
  }

  private async fetchJson(url: string, init: RequestInit, what: string): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(url, { ...init, signal: AbortSignal.timeout(this.settings.timeoutMs ?? 10_000) });
    } catch (err) {
      throw new OidcProviderError(
        `The OpenID provider's ${what} (${url}) cannot be reached: ${(err as Error).message}`,
      );
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new OidcProviderError(
        `The OpenID provider's ${what} (${url}) answered ${res.status} without JSON`,
      );
    }
    if (!res.ok) {
      const { error, error_description: description } = (body ?? {}) as {
        error?: string;
        error_description?: string;
      };
      throw new OidcProviderError(
        `The OpenID provider refused the ${what}: ${res.status} ${error ?? ''}${description ? ` (${description})` : ''}`.trim(),
      );
    }
    return body;
  }

  async authorizationRequest(): Promise<AuthorizationRequest> {
    const { meta } = await this.discover();
    const state = random();
    const nonce = random();
    const codeVerifier = random();
    const url = new URL(meta.authorization_endpoint);
    const params: Record<string, string> = {
      response_type: 'code',
      client_id: this.settings.clientId,
      redirect_uri: this.settings.redirectUri,
      scope: this.settings.scopes,
      state,
      nonce,
      code_challenge: challengeOf(codeVerifier),
      code_challenge_method: 'S256',
      ...(this.settings.resource ? { resource: this.settings.resource } : {}),
    };
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    return { url: url.toString(), state, nonce, codeVerifier };
  }

  /** Redeems the code the provider sent back and checks the ID token against the nonce of the request. */
  async redeem(code: string, request: { codeVerifier: string; nonce: string }): Promise<SignedIn> {
    const { meta, keys } = await this.discover();
    const form = new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: this.settings.redirectUri,
      code_verifier: request.codeVerifier,
      ...(this.settings.resource ? { resource: this.settings.resource } : {}),
    });
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    };
    if (this.settings.clientSecret) {
      const enc = (s: string) => encodeURIComponent(s);
      headers.authorization = `Basic ${Buffer.from(`${enc(this.settings.clientId)}:${enc(this.settings.clientSecret)}`).toString('base64')}`;
    } else {
      form.set('client_id', this.settings.clientId);
    }
    const body = await this.fetchJson(
      meta.token_endpoint,
      { method: 'POST', headers, body: form },
      'token endpoint',
    );
    const tokens = tokenResponseSchema.safeParse(body);
    if (!tokens.success)
      throw new OidcProviderError('The token endpoint answered without an access token and an ID token');
    if (tokens.data.token_type.toLowerCase() !== 'bearer') {
      throw new OidcProviderError(
        `The token endpoint issued a ${tokens.data.token_type} token, not a Bearer token`,
      );
    }
    let idClaims: JWTPayload;
    try {
      ({ payload: idClaims } = await jwtVerify(tokens.data.id_token, keys, {
        issuer: meta.issuer,
        audience: this.settings.clientId,
        clockTolerance: 60,
      }));
    } catch (err) {
      throw new OidcProviderError(`The ID token is not valid: ${(err as Error).message}`);
    }
    if (idClaims.nonce !== request.nonce)
      throw new OidcProviderError('The ID token does not carry the nonce of this sign-in');
    return {
      accessToken: tokens.data.access_token,
      idToken: tokens.data.id_token,
      expiresIn: tokens.data.expires_in,
      idClaims,
    };
  }

  /** Where to send the browser to sign out at the provider too, or undefined when it has no such endpoint. */
  async endSessionUrl(idToken: string | undefined): Promise<string | undefined> {
    let meta: Metadata;
    try {
      ({ meta } = await this.discover());
    } catch {
      return undefined;
    }
    if (!meta.end_session_endpoint) return undefined;
    const url = new URL(meta.end_session_endpoint);
    url.searchParams.set('client_id', this.settings.clientId);
    url.searchParams.set('post_logout_redirect_uri', this.settings.postLogoutRedirectUri);
    if (idToken) url.searchParams.set('id_token_hint', idToken);
    return url.toString();
  }
}
