import type { Directory, DirectoryWriteResult } from '../directory/port';
import { DirectoryUnavailableError } from '../directory/port';
import type { ApplyResult } from '../domain/review-events';
import type { ReviewSettingsPlan, ScopeSpec } from '../domain/review-plan';
import type { ApplyLedger } from '../store/apply-ledger';

export interface ApplyItem {
  itemId: string;
  principalId: string;
  decision: 'Approve' | 'Deny';
}

export interface ApplyInput {
  instanceId: string;
  resource: ScopeSpec['resource'];
  denyAction: ReviewSettingsPlan['denyAction'];
  items: ApplyItem[];
}

export interface ApplyOutput {
  results: { itemId: string; result: ApplyResult }[];
}

const fromWrite = (w: DirectoryWriteResult): ApplyResult =>
  w === 'done' ? 'AppliedSuccessfully' : 'AppliedSuccessfullyButObjectNotFound';

async function applyOne(directory: Directory, input: ApplyInput, item: ApplyItem): Promise<ApplyResult> {
  if (item.decision === 'Approve') return 'AppliedSuccessfully';
  if (input.denyAction === 'disableAndDeleteUser') {
    return fromWrite(await directory.setAccountEnabled(item.principalId, false));
  }
  return fromWrite(
    input.resource.type === 'group'
      ? await directory.removeGroupMember(input.resource.id, item.principalId)
      : await directory.removeApplicationAssignment(input.resource.id, item.principalId),
  );
}

/**
 * R10/R11: applies final decisions to the directory, item by item. Results already in the ledger are
 * returned as recorded; transient directory failures throw (the activity is retried and resumes from
 * the ledger); other failures are reported per item as AppliedWithUnknownFailure.
 */
export async function applyDecisionItems(
  directory: Directory,
  ledger: ApplyLedger,
  input: ApplyInput,
  onProgress: (done: number) => void,
): Promise<ApplyOutput> {
  const results: ApplyOutput['results'] = [];
  for (const item of input.items) {
    const key = `${input.instanceId}/${item.itemId}`;
    const known = await ledger.get(key);
    let result: ApplyResult;
    if (known && known !== 'Pending') {
      result = known;
    } else {
      // Pending first: if the worker dies between the directory write and the result line, the retry
      // knows that a "not found" is most likely its own earlier write, not someone else's.
      if (!known) await ledger.put(key, 'Pending');
      try {
        result = await applyOne(directory, input, item);
        if (known === 'Pending' && result === 'AppliedSuccessfullyButObjectNotFound')
          result = 'AppliedSuccessfully';
      } catch (err) {
        if (err instanceof DirectoryUnavailableError) throw err;
        result = 'AppliedWithUnknownFailure';
      }
      await ledger.put(key, result);
    }
    results.push({ itemId: item.itemId, result });
    onProgress(results.length);
  }
  return { results };
}

/** R11, day 30: deletes a blocked guest unless an admin restored (re-enabled) the account meanwhile. */
export async function deleteGuestIfStillBlocked(
  directory: Directory,
  userId: string,
): Promise<'deleted' | 'restored' | 'notFound'> {
  const user = await directory.getUser(userId);
  if (!user) return 'notFound';
  if (user.accountEnabled) return 'restored';
  return (await directory.deleteUser(userId)) === 'done' ? 'deleted' : 'notFound';
}
