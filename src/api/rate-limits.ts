import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { RateLimitInfo } from 'express-rate-limit';
import rateLimit, { MemoryStore } from 'express-rate-limit';
import { AppError } from '../domain/errors';
import type { Caller } from '../services/caller';

const WINDOW_MS = 60_000;
const INFO = 'unauthenticatedRateLimit';

const tooMany = (_req: Request, _res: Response, next: NextFunction) =>
  next(new AppError('request.rate_limited', 'Too many requests; retry after the time in Retry-After'));

/** After authentication: requests per user per minute (RATE_LIMIT_PER_MINUTE). */
export function callerRateLimit(perMinute: number): RequestHandler {
  return rateLimit({
    windowMs: WINDOW_MS,
    limit: perMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    identifier: 'caller',
    keyGenerator: (_req, res) => (res.locals.caller as Caller).userId,
    handler: tooMany,
  });
}

/**
 * Before authentication: requests per client IP per minute that do not authenticate
 * (RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE), so that no token, bad tokens and the local token endpoint
 * cannot be sent without bound. Every request counts when it arrives — a burst cannot overshoot the
 * limit while its tokens are being checked — and `forgive` takes the hit back once a token proved valid.
 * An address over the limit is refused before its token is looked at, valid or not.
 */
export function unauthenticatedRateLimit(perMinute: number): {
  limit: RequestHandler;
  forgive: RequestHandler;
} {
  const store = new MemoryStore();
  const limit = rateLimit({
    windowMs: WINDOW_MS,
    limit: perMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    identifier: 'unauthenticated',
    requestPropertyName: INFO,
    store,
    handler: tooMany,
  });
  const forgive: RequestHandler = (req, _res, next) => {
    const info = (req as Request & { [INFO]?: RateLimitInfo })[INFO];
    if (info) void store.decrement(info.key);
    next();
  };
  return { limit, forgive };
}
