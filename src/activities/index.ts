import { Context, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Directory } from '../directory/port';
import { DirectoryUnavailableError } from '../directory/port';
import type { DefinitionBatch, RecordBatch } from '../domain/review-records';
import type { Mailer } from '../notifications/port';
import { MailUnavailableError } from '../notifications/port';
import type { DelegationStore } from '../store/delegations';
import type { NotificationLedger } from '../store/notification-ledger';
import { InMemoryNotificationLedger } from '../store/notification-ledger';
import type { ApplyLedger } from '../store/apply-ledger';
import type { ApplyObservationStore } from '../store/apply-observations';
import { InMemoryApplyObservations } from '../store/apply-observations';
import type { ReviewRecordStore } from '../store/review-records';
import { InMemoryReviewRecords } from '../store/review-records';
import type { ApplyInput } from './apply';
import { applyDecisionItems, deleteGuestIfStillBlocked } from './apply';
import { recordReadBack } from './read-back';
import type { NotifyInput } from './notify';
import { sendNotifications } from './notify';
import type { ResolveEscalationInput, ResolveRevieweesInput, ResolveStageInput } from './resolve';
import { resolveEscalation, resolveReviewees, resolveStage } from './resolve';

/** What the activities need from the outside world. */
export interface ActivityDeps {
  directory: Directory;
  applyLedger: ApplyLedger;
  /** Where the review records go; in memory when the worker has no database (tests, demos). */
  records?: ReviewRecordStore;
  /** Where the directory state read back after apply goes; in memory when the worker has no database. */
  observations?: ApplyObservationStore;
  /** Where review notifications go; without one they are recorded as not sent (no mail server set). */
  mailer?: Mailer;
  /** Which messages went out (at most once each); in memory when the worker has no database. */
  notificationLedger?: NotificationLedger;
  /** Where links in messages point (PUBLIC_BASE_URL). */
  publicBaseUrl?: string;
  /** Out-of-office delegations, applied when a stage starts; none when absent. */
  delegations?: DelegationStore;
}

/** Directory outages become retryable failures with a stable type; everything else passes through. */
async function directoryCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof DirectoryUnavailableError) {
      throw ApplicationFailure.retryable(err.message, 'directory.unavailable');
    }
    throw err;
  }
}

/** Builds the activities with their dependencies injected (tests pass fakes of the ports). */
export function createActivities(deps: ActivityDeps) {
  const records = deps.records ?? new InMemoryReviewRecords();
  const observations = deps.observations ?? new InMemoryApplyObservations();
  const notifyDeps = {
    directory: deps.directory,
    ledger: deps.notificationLedger ?? new InMemoryNotificationLedger(),
    mailer: deps.mailer,
    publicBaseUrl: deps.publicBaseUrl,
  };
  return {
    /** Writes a batch of review records (idempotent: a retry or a replayed batch changes nothing). */
    async recordReview(batch: RecordBatch) {
      await records.write(batch);
    },
    /** Writes a definition's record (idempotent: only a later version replaces it). */
    async recordDefinition(batch: DefinitionBatch) {
      await records.writeDefinition(batch);
    },
    /** Snapshots the reviewees of an instance. */
    async resolveReviewees(input: ResolveRevieweesInput) {
      const result = await directoryCall(() => resolveReviewees(deps.directory, input));
      log.info('reviewees resolved', { count: result.principals.length, errors: result.errors.length });
      return result;
    },
    /** Snapshots the reviewers and recommendations of a stage. */
    async resolveStageReviewers(input: ResolveStageInput) {
      return directoryCall(() => resolveStage(deps.directory, input, deps.delegations));
    },
    /**
     * Applies a batch of final decisions, then reads the directory back and keeps what it holds now with
     * each item (the evidence that the change took effect); heartbeats progress so a retry after a crash
     * resumes quickly. A read-back the directory refuses for a reason other than an outage is logged, not
     * retried: the decisions are applied either way.
     */
    async applyDecisions(input: ApplyInput) {
      const ctx = Context.current();
      const output = await directoryCall(() =>
        applyDecisionItems(deps.directory, deps.applyLedger, input, (done) => ctx.heartbeat({ done })),
      );
      ctx.heartbeat({ done: output.results.length });
      await directoryCall(() =>
        recordReadBack(
          deps.directory,
          observations,
          input,
          () => new Date().toISOString(),
          (err) => {
            log.warn('directory read-back after apply failed', {
              instanceId: input.instanceId,
              error: err instanceof Error ? err.message : String(err),
            });
          },
        ),
      );
      return output;
    },
    /** The reviewers escalation adds to a stage's undecided items. */
    async resolveEscalation(input: ResolveEscalationInput) {
      return directoryCall(() => resolveEscalation(deps.directory, input));
    },
    /**
     * Sends one kind of review message to its recipients, each at most once (see sendNotifications); an
     * unreachable mail server is a retryable failure, so Temporal retries with backoff.
     */
    async sendNotifications(input: NotifyInput) {
      const ctx = Context.current();
      try {
        const outcome = await directoryCall(() =>
          sendNotifications(notifyDeps, input, ctx.info.attempt, (done) => ctx.heartbeat({ done })),
        );
        log.info('notifications sent', {
          key: input.key,
          sent: outcome.sent.length,
          failed: outcome.failed.length,
          skipped: outcome.skipped.length,
        });
        return outcome;
      } catch (err) {
        if (err instanceof MailUnavailableError) {
          log.warn('mail server unavailable; the send is retried', {
            key: input.key,
            attempt: ctx.info.attempt,
            error: err.message,
          });
          throw ApplicationFailure.retryable(err.message, 'mail.unavailable');
        }
        throw err;
      }
    },
    /** Deletes a blocked guest 30 days after denial unless restored. */
    async deleteGuestIfStillBlocked(input: { userId: string }) {
      const outcome = await directoryCall(() => deleteGuestIfStillBlocked(deps.directory, input.userId));
      log.info('guest deletion checked', { userId: input.userId, outcome });
      return outcome;
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
