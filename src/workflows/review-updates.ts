import { ApplicationFailure } from '@temporalio/workflow';
import type { DecisionsPlan, RuleViolation } from '../domain/review-rules';
import { targetStage } from '../domain/review-rules';
import type { ReviewState } from '../domain/review-state';
import type { AdminUpdateInput, Deadline, DecisionsOutcome } from './review-messages';

/**
 * Updates one run accepts before it continues as new: Temporal keeps at most 2,000 in one run's history
 * (each accepted Update adds two events), so a run hands over well before that.
 */
export const MAX_UPDATES_PER_RUN = 1000;

/**
 * Refuses an Update from its validator: nothing is written to the history, and the API maps the failure
 * back by its `type` (the rule's code), its first detail (the HTTP status) and, for a batch, its second
 * (every request's outcome).
 */
export function refuse(violation: RuleViolation, outcomes?: DecisionsOutcome[]): never {
  throw ApplicationFailure.create({
    type: violation.code,
    message: violation.message,
    details: [violation.status, outcomes ?? null],
    nonRetryable: true,
  });
}

/** Refuses an Update that reaches the workflow after the API stopped waiting for it (it answered 503). */
export function checkDeadline(input: Deadline): void {
  if (input.notAfter !== undefined && Date.now() > Date.parse(input.notAfter)) {
    refuse({
      code: 'service.request_expired',
      status: 503,
      message: 'The request reached the review after the API had stopped waiting for it; it was not applied',
    });
  }
}

/** The outcome the API sees for a planned request (the decisions themselves stay in the workflow). */
export const outcomeOf = (plan: DecisionsPlan): DecisionsOutcome =>
  plan.ok ? { ok: true, stageId: plan.stageId, recorded: plan.decisions.length } : plan;

/** Validator of an admin action on a stage: in time, and the stage it names (if any) is in progress. */
export function requireStage(
  state: ReviewState,
  input: Pick<AdminUpdateInput, 'stageId' | 'notAfter'>,
): void {
  checkDeadline(input);
  const target = targetStage(state, input.stageId);
  if (!target.ok) refuse(target.violation);
}
