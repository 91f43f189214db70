import { createHash, randomBytes, randomUUID, X509Certificate } from 'node:crypto';
import { decodeProtectedHeader, importX509, jwtVerify } from 'jose';

/** The application registered in the reproduced tenant, with its credentials. */
export interface RegisteredApp {
  tenantId: string;
  clientId: string;
  secret: string;
  /** PEM of the certificate registered on the application (the public part). */
  certificatePem: string;
}

/** An answer of the token or metadata endpoints. */
export interface AuthResponse {
  status: number;
  body: unknown;
}

interface IssuedToken {
  audience: string;
  expires: number;
}

const TOKEN_LIFETIME_SECONDS = 3599;
const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Entra ID's error body: an OAuth error with AADSTS code and description. */
function entraError(status: number, error: string, code: number, description: string): AuthResponse {
  return {
    status,
    body: {
      error,
      error_description: `AADSTS${code}: ${description} Trace ID: ${randomUUID()} Correlation ID: ${randomUUID()} Timestamp: ${new Date().toISOString()}`,
      error_codes: [code],
      timestamp: new Date().toISOString(),
      trace_id: randomUUID(),
      correlation_id: randomUUID(),
      error_uri: `https://login.microsoftonline.com/error?code=${code}`,
    },
  };
}

const thumbprint = (pem: string, algorithm: 'sha1' | 'sha256') =>
  createHash(algorithm).update(new X509Certificate(pem).raw).digest('base64url');

/** The authority's side of the reproduction: metadata, the token endpoint, and the tokens it issued. */
export class Authority {
  private readonly tokens = new Map<string, IssuedToken>();

  constructor(readonly app: RegisteredApp) {}

  // https://learn.microsoft.com/en-us/entra/identity-platform/v2-protocols-oidc#find-your-apps-openid-configuration-document-uri
  openIdConfiguration(origin: string, tenant: string): AuthResponse {
    if (!this.knowsTenant(tenant)) {
      return entraError(400, 'invalid_tenant', 90002, `Tenant '${tenant}' not found.`);
    }
    const base = `${origin}/${this.app.tenantId}`;
    return {
      status: 200,
      body: {
        token_endpoint: `${base}/oauth2/v2.0/token`,
        token_endpoint_auth_methods_supported: [
          'client_secret_post',
          'private_key_jwt',
          'client_secret_basic',
        ],
        jwks_uri: `${origin}/${this.app.tenantId}/discovery/v2.0/keys`,
        response_modes_supported: ['query', 'fragment', 'form_post'],
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
        response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
        scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
        issuer: `${base}/v2.0`,
        request_uri_parameter_supported: false,
        authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
        device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
        end_session_endpoint: `${base}/oauth2/v2.0/logout`,
        tenant_region_scope: 'EU',
      },
    };
  }

  // https://learn.microsoft.com/en-us/entra/identity-platform/authentication-national-cloud (instance discovery)
  instanceDiscovery(origin: string): AuthResponse {
    const host = new URL(origin).host;
    return {
      status: 200,
      body: {
        tenant_discovery_endpoint: `${origin}/${this.app.tenantId}/v2.0/.well-known/openid-configuration`,
        'api-version': '1.1',
        metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
      },
    };
  }

  private knowsTenant(tenant: string) {
    return tenant.toLowerCase() === this.app.tenantId.toLowerCase() || tenant === 'organizations';
  }

  // https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow#get-a-token
  async token(origin: string, tenant: string, form: URLSearchParams): Promise<AuthResponse> {
    if (!this.knowsTenant(tenant)) {
      return entraError(400, 'invalid_request', 90002, `Tenant '${tenant}' not found.`);
    }
    if (form.get('grant_type') !== 'client_credentials') {
      return entraError(400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.');
    }
    if (form.get('client_id') !== this.app.clientId) {
      return entraError(
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${form.get('client_id')}' was not found in the directory.`,
      );
    }
    const scope = form.get('scope') ?? '';
    const resource = /^(https:\/\/[^/\s]+)\/\.default$/.exec(scope)?.[1];
    if (!resource) {
      return entraError(400, 'invalid_scope', 1002012, `The provided value for scope ${scope} is not valid.`);
    }
    const refused = await this.checkClient(`${origin}/${tenant}/oauth2/v2.0/token`, form);
    if (refused) return refused;
    const token = randomBytes(32).toString('base64url');
    this.tokens.set(token, { audience: resource, expires: Date.now() + TOKEN_LIFETIME_SECONDS * 1000 });
    return {
      status: 200,
      body: {
        token_type: 'Bearer',
        expires_in: TOKEN_LIFETIME_SECONDS,
        ext_expires_in: TOKEN_LIFETIME_SECONDS,
        access_token: token,
      },
    };
  }

  private async checkClient(endpoint: string, form: URLSearchParams): Promise<AuthResponse | undefined> {
    const secret = form.get('client_secret');
    if (secret !== null) {
      if (secret === this.app.secret) return undefined;
      return entraError(
        401,
        'invalid_client',
        7000215,
        "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '" +
          `${this.app.clientId}'.`,
      );
    }
    const assertion = form.get('client_assertion');
    if (assertion === null || form.get('client_assertion_type') !== CLIENT_ASSERTION_TYPE) {
      return entraError(
        401,
        'invalid_client',
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      );
    }
    const invalid = (why: string) =>
      entraError(401, 'invalid_client', 700027, `Client assertion failed signature validation. ${why}`);
    try {
      const header = decodeProtectedHeader(assertion);
      const sha1 = thumbprint(this.app.certificatePem, 'sha1');
      const sha256 = thumbprint(this.app.certificatePem, 'sha256');
      if (header.x5t !== sha1 && header['x5t#S256'] !== sha256) {
        return invalid('The key was not found (x5t / x5t#S256 names no registered certificate).');
      }
      if (header.alg !== 'RS256' && header.alg !== 'PS256') return invalid(`Unsupported alg ${header.alg}.`);
      const key = await importX509(this.app.certificatePem, header.alg);
      await jwtVerify(assertion, key, {
        issuer: this.app.clientId,
        subject: this.app.clientId,
        audience: [endpoint, endpoint.toLowerCase()],
        // Entra ID allows five minutes of clock skew on client assertions.
        clockTolerance: 300,
      });
      return undefined;
    } catch (err) {
      return invalid((err as Error).message);
    }
  }

  /** The audience of a token this authority issued and has not revoked, or undefined. */
  audienceOf(token: string): string | undefined {
    const t = this.tokens.get(token);
    return t && t.expires > Date.now() ? t.audience : undefined;
  }

  /** Revokes every issued token (as after the secret is rotated or a session is revoked). */
  revokeTokens(): void {
    this.tokens.clear();
  }
}
