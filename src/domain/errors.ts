import type { ErrorCode, ErrorStatus } from './error-codes';
import { ERROR_CODES } from './error-codes';

/** Graph's error detail: one problem of a request, and the field it concerns (`target`, a dotted path). */
export interface ErrorDetail {
  code: string;
  message: string;
  target: string;
}

/** The one application error: a catalogued code (which fixes the HTTP status) and a message safe to show. */
export class AppError extends Error {
  override readonly name = 'AppError';
  readonly status: ErrorStatus;
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Seconds a caller should wait before retrying (sent as Retry-After). */
    readonly retryAfterSeconds?: number,
    /** Each bad field of an invalid request, as Graph's `details`. */
    readonly details?: readonly ErrorDetail[],
  ) {
    super(message);
    this.status = ERROR_CODES[code].status;
  }
}

/** 503: the system cannot serve the request now (no worker answers, Temporal unreachable); retry later. */
export const unavailable = (message: string, retryAfterSeconds = 1) =>
  new AppError('service.unavailable', message, retryAfterSeconds);
