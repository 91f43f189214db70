import type { NextFunction, Request, Response } from 'express';
import type { JWTPayload } from 'jose';
import type { Logger } from 'pino';
import { AppError } from '../domain/errors';
import type { Caller } from '../services/caller';
import type { TokenVerifier } from './token-verifiers';
import { KeysUnavailableError } from './token-verifiers';

export type { TokenVerifier } from './token-verifiers';
export { LOCAL_AUDIENCE, LOCAL_ISSUER, LocalIssuer, remoteJwksVerifier } from './token-verifiers';

/** How callers are authenticated and who counts as an admin. */
export interface AuthSettings {
  /** Key material or JWKS to verify tokens with, plus the expected issuer and audience. */
  verifier: TokenVerifier;
  /** Claim that names the user (`oid` for Entra ID, `sub` for most others). */
  userClaim: string;
  rolesClaim: string;
  adminRole: string;
  /** AUTH_ADMINS: admins by id, who need not be in the directory (break-glass accounts). */
  admins: readonly string[];
}

/** Seconds a caller should wait before retrying while the issuer's keys cannot be fetched. */
export const KEYS_RETRY_AFTER_S = 10;

const unauthorized = (message: string) => new AppError('auth.invalid_token', message);

/** Why jose refused a token, in words a caller can act on; never the token itself. */
function rejection(err: unknown): string {
  const { code, claim, reason } = err as { code?: string; claim?: string; reason?: string };
  if (code === 'ERR_JWT_EXPIRED') return 'the token has expired';
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') {
    if (claim === 'exp' && reason === 'missing') {
      return 'the token has no exp (expiration time) claim; exp is required';
    }
    if (claim === 'iat') return `the token's iat (issued at) claim is not a time in the past`;
    if (claim === 'nbf') return 'the token is not valid yet (nbf)';
  }
  return 'the token is not valid for this API';
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

/**
 * Middleware: requires `Authorization: Bearer <jwt>` and puts the caller in `res.locals.caller`. When
 * the issuer's keys cannot be fetched the answer is 503 (retry later), not 401: the token may be fine.
 */
export function authenticate(
  settings: AuthSettings,
  logger: Logger,
  /** The access token of a portal session (its sealed cookie), asked for only when there is no bearer token. */
  sessionToken?: (req: Request) => Promise<string | undefined>,
) {
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      const header = req.get('authorization');
      const match = header === undefined ? undefined : /^Bearer\s+(\S+)$/i.exec(header);
      const token = match?.[1] ?? (header === undefined ? await sessionToken?.(req) : undefined);
      if (!token) throw unauthorized('Missing bearer token (Authorization: Bearer <token>)');
      let payload: JWTPayload;
      try {
        payload = await settings.verifier.verify(token);
      } catch (err) {
        if (err instanceof KeysUnavailableError) {
          const log = (res.locals.log as Logger | undefined) ?? logger;
          log.error({ err: err.cause, jwksUrl: err.jwksUrl }, 'cannot fetch the token signing keys (JWKS)');
          res.setHeader('Retry-After', String(KEYS_RETRY_AFTER_S));
          throw new AppError(
            'auth.unavailable',
            "The token issuer's signing keys cannot be fetched right now, so the token cannot be checked; retry later",
          );
        }
        throw unauthorized(`Access denied: ${rejection(err)}`);
      }
      res.locals.caller = callerFromClaims(payload, settings);
      next();
    } catch (err) {
      next(err);
    }
  };
}

/**
 * Middleware after authenticate: a valid token for a user the directory does not know gets 403
 * auth.unknown_user (an issuer may serve more users than this tenant), except the AUTH_ADMINS.
 */
export function requireKnownUser(settings: AuthSettings, isKnownUser: (id: string) => Promise<boolean>) {
  return async (_req: Request, res: Response, next: NextFunction) => {
    try {
      const { userId } = res.locals.caller as Caller;
      if (!settings.admins.includes(userId) && !(await isKnownUser(userId))) {
        throw new AppError(
          'auth.unknown_user',
          `The token names user '${userId}', who is not in this directory; ask an administrator to add them`,
        );
      }
      next();
    } catch (err) {
      next(err);
    }
  };
}
