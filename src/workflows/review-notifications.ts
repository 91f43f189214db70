import { condition, log, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { NotifyRecipient } from '../activities/notify';
import type { NotificationKind, ReviewEvent } from '../domain/review-events';
import type { ReviewState } from '../domain/review-state';

const { sendNotifications } = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '30 seconds',
  // An unreachable mail server is retried with backoff for about a day, then reported as failed.
  retry: {
    initialInterval: '10 seconds',
    backoffCoefficient: 2,
    maximumInterval: '30 minutes',
    maximumAttempts: 60,
  },
});

/** Recipients per activity call: keeps payloads small and a retry after a crash short. */
const RECIPIENTS_PER_SEND = 200;

/** Marks runs that send review notifications and act on a stage's scheduled points (reminders, escalation). */
export const NOTIFICATIONS_PATCH = 'review-notifications';

/** What a send is about: its kind, the stage (null: the whole review), and what makes its key unique. */
export interface SendSpec {
  kind: NotificationKind;
  stageIndex: number | null;
  /** Distinguishes sends of one kind in one stage (a reminder's point, a reassignment's number). */
  suffix?: string;
  recipients: NotifyRecipient[];
  additional?: NonNullable<ReviewState['plan']['settings']['additionalNotificationRecipients']>;
  summary?: { approved: number; denied: number; dontKnow: number; notReviewed: number };
}

/**
 * Sends review notifications in the background, so a stage opens and its timer runs whatever the mail
 * server does; every send ends in a NotificationsSent or NotificationsFailed event. `idle` resolves when
 * no send is in flight (before continue-as-new and before the workflow ends).
 */
export function createNotifier(state: ReviewState, emit: (event: ReviewEvent) => void, enabled: boolean) {
  let inFlight = 0;
  const idle = () => condition(() => inFlight === 0);

  function notify(spec: SendSpec): void {
    if (!enabled || !state.plan.settings.mailNotificationsEnabled) return;
    if (spec.recipients.length === 0 && !spec.additional?.length) return;
    const stage = spec.stageIndex === null ? undefined : state.stages[spec.stageIndex];
    const stageId = stage?.stageId ?? null;
    const key = `${state.instanceId}/${stageId ? `stage-${stageId}` : 'review'}/${spec.kind}${spec.suffix ? `/${spec.suffix}` : ''}`;
    const content = {
      reviewName: state.plan.displayName,
      resourceName: state.resource?.displayName ?? state.plan.scope.resource.id,
      stageId: stageId ?? undefined,
      stageCount: state.plan.stages.length,
      dueDateTime: stage?.endDateTime ?? state.endDateTime,
      descriptionForReviewers: state.plan.settings.descriptionForReviewers ?? null,
      summary: spec.summary,
    };
    const parts: NotifyRecipient[][] = [];
    for (let i = 0; i < spec.recipients.length; i += RECIPIENTS_PER_SEND) {
      parts.push(spec.recipients.slice(i, i + RECIPIENTS_PER_SEND));
    }
    if (parts.length === 0) parts.push([]);
    for (const [n, recipients] of parts.entries()) {
      inFlight++;
      void (async () => {
        try {
          const outcome = await sendNotifications({
            key,
            kind: spec.kind,
            definitionId: state.plan.definitionId,
            instanceId: state.instanceId,
            content,
            recipients,
            // The additional recipients ride with the first part only.
            additional: n === 0 ? spec.additional : undefined,
          });
          emit({
            type: 'NotificationsSent',
            at: new Date().toISOString(),
            kind: spec.kind,
            stageId,
            key,
            ...outcome,
          });
        } catch (err) {
          const error =
            err instanceof Error
              ? err.cause instanceof Error
                ? err.cause.message
                : err.message
              : String(err);
          log.warn('notifications not sent', { key, error });
          emit({
            type: 'NotificationsFailed',
            at: new Date().toISOString(),
            kind: spec.kind,
            stageId,
            key,
            recipients: recipients.map((r) => r.userId),
            error,
          });
        } finally {
          inFlight--;
        }
      })();
    }
  }

  return { notify, idle };
}

export type Notifier = ReturnType<typeof createNotifier>;

/** Recipients from a tally of items per user. */
export const recipientsOf = (
  tally: Record<string, number>,
  extra: Partial<NotifyRecipient> = {},
): NotifyRecipient[] =>
  Object.entries(tally)
    .filter(([, count]) => count > 0)
    .map(([userId, itemCount]) => ({ ...extra, userId, itemCount }));
