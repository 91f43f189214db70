import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { JWK, JWTPayload, JWTVerifyGetKey, KeyLike } from 'jose';
import { createRemoteJWKSet, errors, exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT } from 'jose';

/** Checks a bearer token and returns its claims; throws jose's errors (or KeysUnavailableError). */
export interface TokenVerifier {
  verify(token: string): Promise<JWTPayload>;
}

/** Clock skew allowed between the issuer and this API, for exp, nbf and iat. */
export const CLOCK_SKEW_S = 60;

/** The token's issuer could not be asked for its signing keys: the token may be fine, we cannot tell. */
export class KeysUnavailableError extends Error {
  override readonly name = 'KeysUnavailableError';
  constructor(
    readonly jwksUrl: string,
    override readonly cause: unknown,
  ) {
    super(`The JWKS at ${jwksUrl} could not be fetched`);
  }
}

/**
 * jwtVerify plus the rules every token must meet here: an `exp` (a token without one would be valid
 * forever) and no `iat` further in the future than the clock skew (jose checks that only with
 * maxTokenAge, which would also make `iat` mandatory).
 */
async function verifyJwt(
  token: string,
  key: KeyLike | Uint8Array | JWTVerifyGetKey,
  expected: { issuer: string | string[]; audience: string },
): Promise<JWTPayload> {
  const options = { ...expected, requiredClaims: ['exp'], clockTolerance: CLOCK_SKEW_S };
  const { payload } =
    typeof key === 'function' ? await jwtVerify(token, key, options) : await jwtVerify(token, key, options);
  if (typeof payload.iat === 'number' && payload.iat > Date.now() / 1000 + CLOCK_SKEW_S) {
    throw new errors.JWTClaimValidationFailed('"iat" lies in the future', payload, 'iat', 'check_failed');
  }
  return payload;
}

/** Failures of fetching or reading the JWKS itself, as opposed to a token naming a key it does not have. */
function isKeySourceFailure(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (!(err instanceof errors.JOSEError)) return true; // the HTTP request failed: refused, reset, DNS …
  return code === 'ERR_JWKS_TIMEOUT' || code === 'ERR_JWKS_INVALID' || code === 'ERR_JOSE_GENERIC';
}

/** Verifies tokens against a remote JWKS (Entra ID, Okta, Keycloak …). */
export function remoteJwksVerifier(opts: {
  jwksUrl: string;
  issuer: string;
  audience: string;
  /** How long one JWKS request may take (jose's default: 5 s). */
  timeoutMs?: number;
}): TokenVerifier {
  const remote = createRemoteJWKSet(new URL(opts.jwksUrl), { timeoutDuration: opts.timeoutMs ?? 5_000 });
  const keys: JWTVerifyGetKey = async (header, token) => {
    try {
      return await remote(header, token);
    } catch (err) {
      if (isKeySourceFailure(err)) throw new KeysUnavailableError(opts.jwksUrl, err);
      throw err;
    }
  };
  return { verify: (token) => verifyJwt(token, keys, opts) };
}

export const LOCAL_ISSUER = 'urn:stagecoach:local';
export const LOCAL_AUDIENCE = 'api://stagecoach';

/**
 * The demo tenant's own token issuer: an ES256 key kept in a local file (mode 0600, git-ignored),
 * used only when AUTH_MODE=local is chosen explicitly (the all-in-one start does).
 */
export class LocalIssuer implements TokenVerifier {
  /** Issuers besides LOCAL_ISSUER that sign with this key: the embedded OpenID provider of the portal. */
  private readonly issuers = [LOCAL_ISSUER];

  private constructor(
    private readonly privateKey: KeyLike | Uint8Array,
    private readonly publicKey: KeyLike | Uint8Array,
    private readonly jwk: JWK,
  ) {}

  static async open(keyFile: string): Promise<LocalIssuer> {
    let jwk: JWK;
    try {
      jwk = JSON.parse(await readFile(keyFile, 'utf8')) as JWK;
    } catch {
      const pair = await generateKeyPair('ES256', { extractable: true });
      jwk = await exportJWK(pair.privateKey);
      await mkdir(dirname(keyFile), { recursive: true });
      await writeFile(keyFile, JSON.stringify(jwk), { mode: 0o600 });
      await chmod(keyFile, 0o600);
    }
    const { d: _d, ...publicJwk } = jwk;
    return new LocalIssuer(await importJWK(jwk, 'ES256'), await importJWK(publicJwk, 'ES256'), jwk);
  }

  /** A token for a user; admins get the admin role claim. */
  async issue(userId: string, opts: { roles?: string[]; expiresIn?: string } = {}): Promise<string> {
    return new SignJWT({ oid: userId, roles: opts.roles ?? [] })
      .setProtectedHeader({ alg: 'ES256' })
      .setSubject(userId)
      .setIssuer(LOCAL_ISSUER)
      .setAudience(LOCAL_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(opts.expiresIn ?? '8h')
      .sign(this.privateKey);
  }

  async verify(token: string): Promise<JWTPayload> {
    return verifyJwt(token, this.publicKey, { issuer: this.issuers, audience: LOCAL_AUDIENCE });
  }

  /** The signing key as a private JWK, for the embedded OpenID provider, which then issues tokens too. */
  signingKey(): JWK {
    return { ...this.jwk, alg: 'ES256', use: 'sig', kid: 'stagecoach-local' };
  }

  /** Accepts tokens the embedded OpenID provider at `issuer` signs with this key. */
  trustIssuer(issuer: string): void {
    if (!this.issuers.includes(issuer)) this.issuers.push(issuer);
  }
}
