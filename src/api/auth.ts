import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { NextFunction, Request, Response } from 'express';
import type { JWK, JWTPayload, KeyLike } from 'jose';
import { createRemoteJWKSet, exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT } from 'jose';
import { AppError } from '../domain/errors';
import type { Caller } from '../services/caller';

/** How callers are authenticated and who counts as an admin. */
export interface AuthSettings {
  /** Key material or JWKS to verify tokens with, plus the expected issuer and audience. */
  verifier: TokenVerifier;
  /** Claim that names the user (`oid` for Entra ID, `sub` for most others). */
  userClaim: string;
  rolesClaim: string;
  adminRole: string;
  admins: readonly string[];
}

export interface TokenVerifier {
  verify(token: string): Promise<JWTPayload>;
}

const unauthorized = (message: string) => new AppError('auth.invalid_token', 401, message);

/** Verifies tokens against a remote JWKS (Entra ID, Okta, Keycloak …). */
export function remoteJwksVerifier(opts: {
  jwksUrl: string;
  issuer: string;
  audience: string;
}): TokenVerifier {
  const keys = createRemoteJWKSet(new URL(opts.jwksUrl));
  return {
    async verify(token) {
      const { payload } = await jwtVerify(token, keys, { issuer: opts.issuer, audience: opts.audience });
      return payload;
    },
  };
}

export const LOCAL_ISSUER = 'urn:stagecoach:local';
export const LOCAL_AUDIENCE = 'api://stagecoach';

/**
 * The demo tenant's own token issuer: an ES256 key kept in a local file (mode 0600, git-ignored),
 * used only when AUTH_MODE=local is chosen explicitly (the all-in-one start does).
 */
export class LocalIssuer implements TokenVerifier {
  private constructor(
    private readonly privateKey: KeyLike | Uint8Array,
    private readonly publicKey: KeyLike | Uint8Array,
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
    return new LocalIssuer(await importJWK(jwk, 'ES256'), await importJWK(publicJwk, 'ES256'));
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
    const { payload } = await jwtVerify(token, this.publicKey, {
      issuer: LOCAL_ISSUER,
      audience: LOCAL_AUDIENCE,
    });
    return payload;
  }
}

/** Turns a verified token into the caller: the user claim and whether they are an admin. */
export function callerFromClaims(payload: JWTPayload, settings: AuthSettings): Caller {
  const userId = payload[settings.userClaim];
  if (typeof userId !== 'string' || !userId) {
    throw unauthorized(`The token has no '${settings.userClaim}' claim naming the user`);
  }
  const roles = payload[settings.rolesClaim];
  const hasRole = Array.isArray(roles) && roles.includes(settings.adminRole);
  return { userId, isAdmin: hasRole || settings.admins.includes(userId) };
}

/** Middleware: requires `Authorization: Bearer <jwt>` and puts the caller in `res.locals.caller`. */
export function authenticate(settings: AuthSettings) {
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      const header = req.get('authorization') ?? '';
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      if (!match?.[1]) throw unauthorized('Missing bearer token (Authorization: Bearer <token>)');
      let payload: JWTPayload;
      try {
        payload = await settings.verifier.verify(match[1]);
      } catch (err) {
        const code = (err as { code?: string }).code;
        const why =
          code === 'ERR_JWT_EXPIRED' ? 'the token has expired' : 'the token is not valid for this API';
        throw unauthorized(`Access denied: ${why}`);
      }
      res.locals.caller = callerFromClaims(payload, settings);
      next();
    } catch (err) {
      next(err);
    }
  };
}
