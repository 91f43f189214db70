import { condition, defineQuery, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities';

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
  const restored = await condition(() => restoredBy !== null, `${GUEST_DELETION_DAYS} days`, {
    summary: 'guest deleted unless restored',
  });
  if (restored) return 'restored';
  return deleteGuestIfStillBlocked({ userId: input.userId });
}
