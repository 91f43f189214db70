import type { Directory } from '../directory/port';
import { DirectoryUnavailableError } from '../directory/port';
import type { ApplyObservation } from '../domain/apply-observations';
import type { ApplyObservationStore, ItemObservation } from '../store/apply-observations';
import type { ApplyInput, ApplyItem } from './apply';

/**
 * Reads the directory once for a batch of applied items and says, per item, what it now holds: group
 * membership (direct and transitive), application assignment, or — when denied users are blocked — the
 * account. One read of the resource per batch, not per item.
 */
export async function readBack(
  directory: Directory,
  input: Pick<ApplyInput, 'resource' | 'denyAction'>,
  items: readonly ApplyItem[],
  observedDateTime: string,
): Promise<ItemObservation[]> {
  const principals = items.map((i) => i.principalId);
  let observe: (principalId: string) => ApplyObservation;
  if (input.denyAction === 'disableAndDeleteUser') {
    const users = new Map((await directory.getUsers(principals)).map((u) => [u.id, u]));
    observe = (userId) => {
      const user = users.get(userId);
      return {
        check: 'account',
        userId,
        userFound: user !== undefined,
        accountEnabled: user?.accountEnabled ?? null,
        observedDateTime,
      };
    };
  } else if (input.resource.type === 'group') {
    const groupId = input.resource.id;
    const group = await directory.getGroup(groupId);
    const direct = new Set(group?.memberIds ?? []);
    const transitive = new Set(
      group ? ((await directory.listGroupTransitiveMembers(groupId)) ?? []).map((u) => u.id) : [],
    );
    observe = (userId) => ({
      check: 'groupMembership',
      groupId,
      groupFound: group !== undefined,
      directMember: direct.has(userId),
      transitiveMember: transitive.has(userId),
      observedDateTime,
    });
  } else {
    const applicationId = input.resource.id;
    const app = await directory.getApplication(applicationId);
    const assigned = new Set(app?.assignedUserIds ?? []);
    observe = (userId) => ({
      check: 'applicationAssignment',
      applicationId,
      applicationFound: app !== undefined,
      assigned: assigned.has(userId),
      observedDateTime,
    });
  }
  return items.map((item) => ({ itemId: item.itemId, observation: observe(item.principalId) }));
}

/**
 * Keeps the read-back of every item of an applied batch that has none yet: a retried activity reads the
 * directory again only for the items it did not get to, and never replaces an observation. Store failures
 * and directory outages throw (the activity is retried; its writes are in the apply ledger already); a
 * read the directory refuses otherwise goes to `unreadable` and the batch keeps no observation.
 */
export async function recordReadBack(
  directory: Directory,
  store: ApplyObservationStore,
  input: ApplyInput,
  now: () => string,
  unreadable: (err: unknown) => void,
): Promise<number> {
  const missing = new Set(
    await store.missing(
      input.instanceId,
      input.items.map((i) => i.itemId),
    ),
  );
  if (missing.size === 0) return 0;
  const items = input.items.filter((i) => missing.has(i.itemId));
  let observations: ItemObservation[];
  try {
    observations = await readBack(directory, input, items, now());
  } catch (err) {
    if (err instanceof DirectoryUnavailableError) throw err;
    unreadable(err);
    return 0;
  }
  await store.add(input.instanceId, observations);
  return observations.length;
}
