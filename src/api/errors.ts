import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { AppError } from '../domain/errors';

/** Graph-style error body. */
export const errorBody = (code: string, message: string) => ({ error: { code, message } });

/** 404 for routes that do not exist. */
export function unknownRoute(req: Request, res: Response) {
  res.status(404).json(errorBody('request.unknown_route', `No route for ${req.method} ${req.path}`));
}

/**
 * The one error middleware: AppErrors keep their code and status (body-parser failures become AppErrors
 * in body.ts); anything else is logged and answered with a generic 500 that echoes nothing.
 */
export function errorHandler(logger: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) return;
    if (err instanceof AppError) {
      if (err.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(err.retryAfterSeconds));
      res.status(err.status).json(errorBody(err.code, err.message));
      return;
    }
    // Express's router fails to decode a path segment such as `%zz` with a URIError marked 400.
    if (err instanceof Error && err.name === 'URIError' && (err as { status?: unknown }).status === 400) {
      res
        .status(400)
        .json(errorBody('request.malformed_url', 'The request URL has malformed percent-encoding'));
      return;
    }
    const log = (res.locals.log as Logger | undefined) ?? logger;
    log.error({ err }, 'unhandled error');
    res.status(500).json(errorBody('internal_error', 'An unexpected error occurred'));
  };
}
