import type { Directory, DirectoryWriteResult } from '../directory/port';
import { DirectoryUnavailableError } from '../directory/port';
import type { ApplyResult } from '../domain/review-events';
import type { ReviewSettingsPlan, ScopeSpec } from '../domain/review-plan';
import type { ApplyLedger, LedgerEntry } from '../store/apply-ledger';

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

/** Denied group members removed with one directory write, where the directory can (removeGroupMembers). */
const BATCH = 100;

/**
 * R10/R11: applies final decisions to the directory, item by item. Results already in the ledger are
 * returned as recorded; transient directory failures throw (the activity is retried and resumes from
 * the ledger); other failures are reported per item as AppliedWithUnknownFailure. Denied group members
 * go to the directory in batches where it removes several at once; each item still gets its own ledger
 * lines, Pending before the write and its result after.
 */
export async function applyDecisionItems(
  directory: Directory,
  ledger: ApplyLedger,
  input: ApplyInput,
  onProgress: (done: number) => void,
): Promise<ApplyOutput> {
  const results: ApplyOutput['results'] = [];
  const key = (item: ApplyItem) => `${input.instanceId}/${item.itemId}`;
  const batched =
    directory.removeGroupMembers !== undefined &&
    input.resource.type === 'group' &&
    input.denyAction !== 'disableAndDeleteUser';
  const finish = async (item: ApplyItem, known: LedgerEntry | undefined, outcome: ApplyResult) => {
    // Pending first: if the worker dies between the directory write and the result line, the retry
    // knows that a "not found" is most likely its own earlier write, not someone else's.
    const result =
      known === 'Pending' && outcome === 'AppliedSuccessfullyButObjectNotFound'
        ? 'AppliedSuccessfully'
        : outcome;
    await ledger.put(key(item), result);
    results.push({ itemId: item.itemId, result });
  };
  const single = async (item: ApplyItem, known: LedgerEntry | undefined) => {
    if (!known) await ledger.put(key(item), 'Pending');
    let outcome: ApplyResult;
    try {
      outcome = await applyOne(directory, input, item);
    } catch (err) {
      if (err instanceof DirectoryUnavailableError) throw err;
      outcome = 'AppliedWithUnknownFailure';
    }
    await finish(item, known, outcome);
  };
  let batch: { item: ApplyItem; known: LedgerEntry | undefined }[] = [];
  const flush = async () => {
    const todo = batch;
    batch = [];
    if (todo.length === 0) return;
    for (const t of todo) if (!t.known) await ledger.put(key(t.item), 'Pending');
    let outcomes: DirectoryWriteResult[] | undefined;
    try {
      outcomes = await directory.removeGroupMembers!(
        input.resource.id,
        todo.map((t) => t.item.principalId),
      );
    } catch (err) {
      if (err instanceof DirectoryUnavailableError) throw err;
      // One bad member must not fail the others: apply them one by one, each with its own result.
    }
    for (const [i, t] of todo.entries()) {
      if (outcomes) await finish(t.item, t.known, fromWrite(outcomes[i]!));
      else await single(t.item, t.known ?? 'Pending'); // its Pending line is written above
      onProgress(results.length);
    }
  };
  for (const item of input.items) {
    const known = await ledger.get(key(item));
    if (known && known !== 'Pending') {
      await flush();
      results.push({ itemId: item.itemId, result: known });
      onProgress(results.length);
    } else if (batched && item.decision === 'Deny') {
      batch.push({ item, known });
      if (batch.length >= BATCH) await flush();
    } else {
      await flush();
      await single(item, known);
      onProgress(results.length);
    }
  }
  await flush();
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
