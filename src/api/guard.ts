import type { NextFunction, Request, Response } from 'express';
import type { z } from 'zod';
import type { ErrorDetail } from '../domain/errors';
import { AppError } from '../domain/errors';
import type { Caller } from '../services/caller';

type Schema = z.ZodType;
interface Schemas {
  params?: Schema;
  query?: Schema;
  body?: Schema;
}
type Out<S extends Schema | undefined> = S extends Schema ? z.infer<S> : undefined;

/** What a guarded handler sees: parsed, typed inputs and the authenticated caller. */
export interface Input<S extends Schemas> {
  params: Out<S['params']>;
  query: Out<S['query']>;
  body: Out<S['body']>;
  caller: Caller;
}

/** Formats zod issues as one message naming each field. */
export function describeIssues(where: string, error: z.ZodError): string {
  return error.issues
    .slice(0, 10)
    .map((i) => {
      const path = i.path.length ? i.path.join('.') : where;
      return `${path}: ${i.message}`;
    })
    .join('; ');
}

/** Each zod issue as Graph's error detail: its code, message and the dotted path of its field. */
export function issueDetails(where: string, error: z.ZodError): ErrorDetail[] {
  return error.issues.slice(0, 50).map((i) => ({
    code: i.code,
    message: i.message,
    target: i.path.length ? i.path.join('.') : where,
  }));
}

function parse<S extends Schema>(
  schema: S | undefined,
  value: unknown,
  where: 'params' | 'query' | 'body',
): unknown {
  if (!schema) return undefined;
  const result = schema.safeParse(value);
  if (!result.success)
    throw new AppError(
      `request.invalid_${where}` as const,
      describeIssues(where, result.error),
      undefined,
      issueDetails(where, result.error),
    );
  return result.data;
}

/**
 * A route handler whose params, query and body are parsed by zod first; handlers only see typed data.
 * Bad input becomes a 400 with a message naming each bad field.
 */
export function guard<S extends Schemas>(
  schemas: S,
  handler: (input: Input<S>, req: Request, res: Response) => Promise<unknown>,
) {
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      const body: unknown = schemas.body && req.body === undefined ? {} : req.body;
      const input = {
        params: parse(schemas.params, req.params, 'params'),
        query: parse(schemas.query, req.query, 'query'),
        body: parse(schemas.body, body, 'body'),
        caller: res.locals.caller as Caller,
      } as Input<S>;
      await handler(input, req, res);
    } catch (err) {
      next(err);
    }
  };
}
