/** The one application error: a stable dotted code, an HTTP status and a message safe to show a caller. */
export class AppError extends Error {
  override readonly name = 'AppError';
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    /** Seconds a caller should wait before retrying (sent as Retry-After). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

export const badRequest = (code: string, message: string) => new AppError(code, 400, message);
export const notFound = (code: string, message: string) => new AppError(code, 404, message);
export const conflict = (code: string, message: string) => new AppError(code, 409, message);
export const forbidden = (code: string, message: string) => new AppError(code, 403, message);
/** 503: the system cannot serve the request now (no worker answers, Temporal unreachable); retry later. */
export const unavailable = (message: string, retryAfterSeconds = 1) =>
  new AppError('service.unavailable', 503, message, retryAfterSeconds);
