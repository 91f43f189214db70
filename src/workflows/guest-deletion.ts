import {
  condition,
  defineQuery,
  defineSignal,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { GuestEvent } from '../domain/review-records';

export interface GuestDeletionInput {
  userId: string;
  instanceId: string;
  blockedDateTime: string;
}

export type GuestDeletionOutcome = 'deleted' | 'restored' | 'notFound';

/** An admin restored (unblocked) the guest: the deletion is cancelled. */
export const restoreGuestSignal = defineSignal<[{ by: string }]>('restoreAccess');
export const guestDeletionQuery = defineQuery<{
  userId: string;
  blockedDateTime: string;
  deleteAfter: string;
  restoredBy: string | null;
}>('guestDeletion');

const { deleteGuestIfStillBlocked } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', maximumInterval: '10 minutes', backoffCoefficient: 2 },
});

export const GUEST_DELETION_DAYS = 30;

/** Guest deletions started before this version record what became of the guest once they wake up. */
export const GUEST_RECORDS_PATCH = 'guest-deletion-records';

const { recordReview } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  // Later attempts wait on a workflow timer, not in the workflow task: while the store is down, the
  // workflow's Updates and signals go on.
  localRetryThreshold: '1 second',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', backoffCoefficient: 2 },
});

/** Writes one event of this guest's stream (idempotent by its number) into the review records. */
async function record(instanceId: string, seq: number, event: GuestEvent): Promise<void> {
  await recordReview({
    streamId: `${workflowInfo().workflowId}/${instanceId}`,
    definitionId: '',
    instanceId,
    version: seq,
    decisionHistoriesForReviewersEnabled: false,
    events: [{ seq, event }],
    items: [],
    contacted: [],
  });
}

/**
 * R11: a denied guest, already blocked from signing in, is deleted from the directory 30 days later
 * unless an admin restores the account meanwhile. Outlives the review instance that started it.
 */
export async function guestDeletion(input: GuestDeletionInput): Promise<GuestDeletionOutcome> {
  let restoredBy: string | null = null;
  const deleteAfter = new Date(
    Date.parse(input.blockedDateTime) + GUEST_DELETION_DAYS * 86_400_000,
  ).toISOString();
  setHandler(restoreGuestSignal, ({ by }) => {
    restoredBy ??= by;
  });
  setHandler(guestDeletionQuery, () => ({ ...input, deleteAfter, restoredBy }));
  const { userId, instanceId } = input;
  const recorded = patched(GUEST_RECORDS_PATCH);
  if (recorded) {
    await record(instanceId, 1, {
      type: 'GuestDeletionScheduled',
      at: input.blockedDateTime,
      userId,
      deleteAfter,
    });
  }
  const restored = await condition(() => restoredBy !== null, `${GUEST_DELETION_DAYS} days`, {
    summary: 'guest deleted unless restored',
  });
  const outcome = restored ? 'restored' : await deleteGuestIfStillBlocked({ userId });
  // A deletion that started before this version records its outcome only (it kept no first event).
  if (recorded || patched(GUEST_RECORDS_PATCH)) {
    const at = new Date().toISOString();
    await record(
      instanceId,
      2,
      outcome === 'restored'
        ? { type: 'GuestRestored', at, userId, by: restoredBy }
        : { type: outcome === 'deleted' ? 'GuestDeleted' : 'GuestNotFound', at, userId },
    );
  }
  return outcome;
}
