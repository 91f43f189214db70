import type { NextFunction, Request, RequestHandler, Response } from 'express';
import express from 'express';
import { AppError } from '../domain/errors';

/**
 * Deepest nesting of arrays and objects a body may have. Graph bodies nest about six levels; a deeper
 * one is never a valid request, and one thousands of levels deep overflows the stack of every recursive
 * walk after the parser (zod, structuredClone, JSON.stringify when Temporal encodes a payload).
 */
export const MAX_BODY_DEPTH = 32;

/** Whether a parsed JSON value nests deeper than `max`, found without recursion. */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const pending: [unknown, number][] = [[value, 0]];
  while (pending.length > 0) {
    const [node, depth] = pending.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    if (depth + 1 > max) return true;
    for (const child of Object.values(node)) pending.push([child, depth + 1]);
  }
  return false;
}

/** What reading the body failed with (express.json, or zlib under it), as a stable 4xx AppError. */
function bodyError(err: unknown): unknown {
  const { type, status } = err as { type?: string; status?: unknown };
  if (type === 'entity.parse.failed')
    return new AppError('request.malformed_json', 'The request body is not valid JSON');
  if (type === 'entity.too.large') return new AppError('request.too_large', 'The request body is too large');
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
    return new AppError('request.unsupported_encoding', 'Unsupported body encoding');
  }
  // Whatever else the parser marks as the client's fault: gzip that does not inflate, a body cut short.
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new AppError(
      'request.invalid_body',
      'The request body could not be read: it does not decode as its Content-Encoding says (gzip, deflate or br), or it ended early',
    );
  }
  return err;
}

/** JSON bodies up to `limit`: read errors become AppErrors, and bodies may nest MAX_BODY_DEPTH levels. */
export function jsonBody(limit: string): RequestHandler {
  const parse = express.json({ limit, type: ['application/json', 'application/*+json'] });
  return (req: Request, res: Response, next: NextFunction) => {
    parse(req, res, (err?: unknown) => {
      if (err) return next(bodyError(err));
      if (nestsDeeperThan(req.body, MAX_BODY_DEPTH)) {
        return next(
          new AppError('request.invalid_body', `The request body nests deeper than ${MAX_BODY_DEPTH} levels`),
        );
      }
      next();
    });
  };
}
