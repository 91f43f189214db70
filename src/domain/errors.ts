import type { ErrorCode, ErrorStatus } from './error-codes';
import { ERROR_CODES } from './error-codes';

/** Graph's error detail: one problem of a request, and the field it concerns (`target`, a dotted path). */
export interface ErrorDetail {
  code: string;
  message: string;
  target: string;
}

/** A message that starts with the field it concerns, as the rules' 400s do: `stageSettings[1].dependsOn: …`. */
const FIELD_MESSAGE = /^([A-Za-z_$@][\w$@]*(?:\.[A-Za-z_$@][\w$@]*|\[\d+\])*): (.+)$/s;

/**
 * The detail of a rule's message that names its field first, in the dotted form request validation uses
 * (`stageSettings[1].dependsOn` → `stageSettings.1.dependsOn`); undefined when it names none.
 */
export function fieldDetail(code: string, message: string): ErrorDetail | undefined {
  const m = FIELD_MESSAGE.exec(message);
  return m ? { code, message: m[2]!, target: m[1]!.replace(/\[(\d+)\]/g, '.$1') } : undefined;
}

/** The one application error: a catalogued code (which fixes the HTTP status) and a message safe to show. */
export class AppError extends Error {
  override readonly name = 'AppError';
  readonly status: ErrorStatus;
  /** Each bad field, as Graph's `details`: given, or for a 400 the field its message starts with. */
  readonly details: readonly ErrorDetail[] | undefined;
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Seconds a caller should wait before retrying (sent as Retry-After). */
    readonly retryAfterSeconds?: number,
    details?: readonly ErrorDetail[],
  ) {
    super(message);
    this.status = ERROR_CODES[code].status;
    const named = !details && this.status === 400 ? fieldDetail(code, message) : undefined;
    this.details = details ?? (named ? [named] : undefined);
  }
}

/** 503: the system cannot serve the request now (no worker answers, Temporal unreachable); retry later. */
export const unavailable = (message: string, retryAfterSeconds = 1) =>
  new AppError('service.unavailable', message, retryAfterSeconds);
