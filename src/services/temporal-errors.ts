import type { DecisionsOutcome } from '../workflows/review-messages';
import { isErrorCode } from '../domain/error-codes';
import { AppError, unavailable } from '../domain/errors';

/** Whether a Temporal client error says the workflow does not exist (mapped by name, not instanceof). */
export function isWorkflowNotFound(err: unknown): boolean {
  return err instanceof Error && (err.name === 'WorkflowNotFoundError' || /not found/i.test(err.message));
}

/** Whether an Update failed because the workflow run had already closed. */
export function isWorkflowClosed(err: unknown): boolean {
  const text = (e: unknown): string =>
    e instanceof Error ? `${e.name} ${e.message} ${text((e as { cause?: unknown }).cause)}` : '';
  return /already completed|workflow.*(closed|completed)|closed workflow/i.test(text(err));
}

interface FailureLike {
  name: string;
  type?: string | null;
  message: string;
  details?: unknown[] | null;
}

const failureOf = (err: unknown): FailureLike | undefined => {
  if (!(err instanceof Error) || err.name !== 'WorkflowUpdateFailedError') return undefined;
  const cause = (err as { cause?: unknown }).cause;
  return cause instanceof Error && cause.name === 'ApplicationFailure' ? cause : undefined;
};

/**
 * An Update the workflow refused (see workflows/review-updates.ts `refuse`), as the API's error: the
 * failure's type is the code, its first detail the HTTP status. Undefined for any other error.
 */
export function refusalOf(err: unknown): AppError | undefined {
  const failure = failureOf(err);
  if (!failure?.type) return undefined;
  if (failure.type === 'service.request_expired') return unavailable(failure.message);
  // Refusals carry a catalogued code (its status is the catalogue's); any other type is not a refusal.
  if (!isErrorCode(failure.type)) return undefined;
  return new AppError(failure.type, failure.message);
}

/** The per-request outcomes a refused recordDecisions Update carries, if any. */
export function refusedOutcomes(err: unknown): DecisionsOutcome[] | undefined {
  const outcomes = failureOf(err)?.details?.[1];
  return Array.isArray(outcomes) ? (outcomes as DecisionsOutcome[]) : undefined;
}

/** The gRPC status code of a Temporal client error (its own, or its cause's). */
export function grpcCode(err: unknown): number | undefined {
  for (let e = err; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number') return code;
  }
  return undefined;
}

/** gRPC UNAVAILABLE: the Temporal frontend cannot be reached. */
export const isUnreachable = (err: unknown): boolean =>
  grpcCode(err) === 14 || (err instanceof Error && /14 UNAVAILABLE|failed to connect/i.test(err.message));

/** gRPC DEADLINE_EXCEEDED or CANCELLED: nobody answered in time. */
export const isDeadlineExceeded = (err: unknown): boolean => grpcCode(err) === 4 || grpcCode(err) === 1;
