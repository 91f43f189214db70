import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import type { ErrorDetail } from '../domain/errors';
import { AppError } from '../domain/errors';

/** Graph's innerError: which request failed and when, so a caller can quote it to an operator. */
export interface InnerError {
  'request-id': string;
  'client-request-id': string;
  /** When the error was answered: ISO 8601 UTC, whole seconds. */
  date: string;
}

/** Graph-style error body; `details` only when the error names fields. */
export const errorBody = (
  code: string,
  message: string,
  innerError: InnerError,
  details?: readonly ErrorDetail[],
) => ({
  error: { code, message, ...(details?.length ? { details: [...details] } : {}), innerError },
});

/** The innerError of this response: the request ids the app answers with as headers, and now. */
function innerErrorOf(res: Response): InnerError {
  const header = (name: string) => {
    const value = res.getHeader(name);
    return typeof value === 'string' ? value : undefined;
  };
  const requestId = header('request-id') ?? randomUUID();
  return {
    'request-id': requestId,
    'client-request-id': header('client-request-id') ?? requestId,
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  };
}

function sendError(
  res: Response,
  status: number,
  code: string,
  message: string,
  details?: readonly ErrorDetail[],
) {
  res.status(status).json(errorBody(code, message, innerErrorOf(res), details));
}

/** 404 for routes that do not exist, answered by the error middleware like every other error. */
export function unknownRoute(req: Request, _res: Response, next: NextFunction) {
  next(new AppError('request.unknown_route', `No route for ${req.method} ${req.path}`));
}

/**
 * The one error middleware: AppErrors keep their code and status (body-parser failures become AppErrors
 * in body.ts); anything else is logged and answered with a generic 500 that echoes nothing.
 */
export function errorHandler(logger: Logger) {
  return (err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) return;
    if (err instanceof AppError) {
      if (err.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(err.retryAfterSeconds));
      sendError(res, err.status, err.code, err.message, err.details);
      return;
    }
    // The directory cannot answer right now (busy, unreachable): the caller may retry; the cause is logged.
    if (err instanceof Error && err.name === 'DirectoryUnavailableError') {
      ((res.locals.log as Logger | undefined) ?? logger).warn({ err }, 'directory unavailable');
      res.setHeader('Retry-After', '5');
      sendError(
        res,
        503,
        'directory.unavailable',
        'The directory cannot be reached right now; retry shortly',
      );
      return;
    }
    // Express's router fails to decode a path segment such as `%zz` with a URIError marked 400.
    if (err instanceof Error && err.name === 'URIError' && (err as { status?: unknown }).status === 400) {
      sendError(res, 400, 'request.malformed_url', 'The request URL has malformed percent-encoding');
      return;
    }
    const log = (res.locals.log as Logger | undefined) ?? logger;
    log.error({ err }, 'unhandled error');
    sendError(res, 500, 'internal_error', 'An unexpected error occurred');
  };
}
