import type { Directory, DirectoryUser } from '../directory/port';
import { decisionItemIdFor, shardOf } from '../domain/ids';
import { isInactive, recommend } from '../domain/recommendations';
import type { Person, Principal, ReviewedResource, StageAssignment } from '../domain/review-events';
import type { ReviewerSpec, ScopeSpec, StagePlan } from '../domain/review-plan';
import { separationApplies } from '../domain/review-plan';
import type { DelegationStore } from '../store/delegations';

export interface ResolveRevieweesInput {
  scope: ScopeSpec;
  instanceStartDateTime: string;
  /** Page of the reviewee list: activity payloads stay far below Temporal's 2 MB limit. */
  skip?: number;
  top?: number;
  /** Only the reviewees whose decision item belongs to this shard of a sharded instance. */
  partition?: { instanceId: string; shard: number; count: number };
}

export interface ResolveRevieweesResult {
  resource: ReviewedResource;
  principals: Principal[];
  /** Reviewees in the whole scope (not just this page). */
  total: number;
  errors: string[];
}

export interface ResolveStageInput {
  scope: ScopeSpec;
  stage: StagePlan;
  instanceStartDateTime: string;
  items: { itemId: string; principalId: string }[];
}

const person = (u: DirectoryUser): Person => ({
  displayName: u.displayName,
  userPrincipalName: u.userPrincipalName,
});
const principal = (u: DirectoryUser): Principal => ({
  id: u.id,
  displayName: u.displayName,
  userPrincipalName: u.userPrincipalName,
  userType: u.userType,
});

/**
 * Shard of a reviewee's decision item, remembered for the latest few sharded instances: every shard of an
 * instance lists the same scope, and hashing 100,000 ids once instead of once per shard saves seconds.
 */
const shardsByInstance = new Map<string, Map<string, number>>();
function shardOfUser(instanceId: string, count: number, userId: string): number {
  const key = `${instanceId}/${count}`;
  let known = shardsByInstance.get(key);
  if (!known) {
    if (shardsByInstance.size >= 4) shardsByInstance.delete(shardsByInstance.keys().next().value!);
    known = new Map();
    shardsByInstance.set(key, known);
  }
  let shard = known.get(userId);
  if (shard === undefined) {
    shard = shardOf(decisionItemIdFor(instanceId, userId), count);
    known.set(userId, shard);
  }
  return shard;
}

/** Snapshots who is under review (R12): members / assignees, guests only, inactive only. */
export async function resolveReviewees(
  directory: Directory,
  input: ResolveRevieweesInput,
): Promise<ResolveRevieweesResult> {
  const { resource: ref, principals: which, inactiveDays } = input.scope;
  const part = input.partition;
  const isGroup = ref.type === 'group';
  const owner = isGroup ? await directory.getGroup(ref.id) : await directory.getApplication(ref.id);
  if (!owner) {
    const kind = isGroup ? 'group' : 'application';
    return {
      resource: { id: ref.id, displayName: ref.id, type: ref.type },
      principals: [],
      total: 0,
      errors: [`The ${kind} '${ref.id}' under review does not exist in the directory`],
    };
  }
  const users =
    (isGroup
      ? await directory.listGroupTransitiveMembers(ref.id)
      : await directory.listApplicationAssignees(ref.id)) ?? [];
  const selected = users.filter(
    (u) =>
      (which === 'all' || u.userType === 'Guest') &&
      (inactiveDays === undefined || isInactive(u, input.instanceStartDateTime, inactiveDays)) &&
      (!part || shardOfUser(part.instanceId, part.count, u.id) === part.shard),
  );
  const skip = input.skip ?? 0;
  return {
    resource: { id: owner.id, displayName: owner.displayName, type: ref.type },
    principals: selected.slice(skip, skip + (input.top ?? selected.length)).map(principal),
    total: selected.length,
    errors: [],
  };
}

/** Reviewers named by a spec that do not depend on the reviewee. */
async function sharedReviewers(directory: Directory, spec: ReviewerSpec): Promise<DirectoryUser[]> {
  switch (spec.kind) {
    case 'user': {
      const u = await directory.getUser(spec.userId);
      return u ? [u] : [];
    }
    case 'groupOwners':
      return (await directory.listGroupOwners(spec.groupId)) ?? [];
    case 'applicationOwners':
      return (await directory.listApplicationOwners(spec.applicationId)) ?? [];
    case 'groupMembers':
      return (await directory.listGroupTransitiveMembers(spec.groupId)) ?? [];
    default:
      return [];
  }
}

async function resolveSpecs(
  directory: Directory,
  specs: ReviewerSpec[],
  items: ResolveStageInput['items'],
  byId: Map<string, DirectoryUser>,
  people: Record<string, Person>,
) {
  const shared = new Map<string, DirectoryUser>();
  const perItem: Record<string, string[]> = {};
  for (const spec of specs) {
    if (spec.kind === 'self' || spec.kind === 'manager') continue;
    for (const u of await sharedReviewers(directory, spec)) if (u.accountEnabled) shared.set(u.id, u);
  }
  const wantsSelf = specs.length === 0 || specs.some((s) => s.kind === 'self');
  const wantsManager = specs.some((s) => s.kind === 'manager');
  for (const { itemId, principalId } of items) {
    const own: string[] = [];
    const reviewee = byId.get(principalId);
    if (wantsSelf && reviewee) {
      own.push(reviewee.id);
      people[reviewee.id] = person(reviewee);
    }
    if (wantsManager && reviewee?.managerId) {
      const manager = byId.get(reviewee.managerId) ?? (await directory.getUser(reviewee.managerId));
      if (manager?.accountEnabled) {
        byId.set(manager.id, manager);
        own.push(manager.id);
        people[manager.id] = person(manager);
      }
    }
    if (own.length > 0) perItem[itemId] = own;
  }
  for (const u of shared.values()) people[u.id] = person(u);
  return { sharedIds: [...shared.keys()], perItem };
}

/**
 * R4 + R8: snapshots a stage's reviewers and recommendations when it starts. Primary reviewers first;
 * fallback reviewers for items that have none; items with no reviewer at all are reported.
 */
export async function resolveStage(
  directory: Directory,
  input: ResolveStageInput,
  delegations?: DelegationStore,
  now = () => new Date().toISOString(),
): Promise<StageAssignment> {
  const people: Record<string, Person> = {};
  const reviewees = await directory.getUsers(input.items.map((i) => i.principalId));
  const byId = new Map(reviewees.map((u) => [u.id, u]));
  const primary = await resolveSpecs(directory, input.stage.reviewers, input.items, byId, people);
  const reviewersByItem: Record<string, string[]> = { ...primary.perItem };
  const needFallback =
    primary.sharedIds.length > 0 ? [] : input.items.filter((i) => !primary.perItem[i.itemId]);
  if (needFallback.length > 0 && input.stage.fallbackReviewers.length > 0) {
    const fallback = await resolveSpecs(directory, input.stage.fallbackReviewers, needFallback, byId, people);
    for (const { itemId } of needFallback) {
      const ids = [...fallback.sharedIds, ...(fallback.perItem[itemId] ?? [])];
      if (ids.length > 0) reviewersByItem[itemId] = ids;
    }
  }
  const excludedByItem = separationApplies(input.stage)
    ? await separateDuties(directory, input, primary.sharedIds, reviewersByItem, byId, people)
    : {};
  const noReviewerItemIds = input.items.filter((i) => {
    const all = [...primary.sharedIds, ...(reviewersByItem[i.itemId] ?? [])];
    const out = excludedByItem[i.itemId] ?? [];
    return !all.some((id) => !out.includes(id));
  });
  const recommendations: StageAssignment['recommendations'] = {};
  if (input.stage.recommendationsEnabled) {
    for (const { itemId, principalId } of input.items) {
      recommendations[itemId] = recommend(
        byId.get(principalId)?.lastSignInDateTime,
        input.instanceStartDateTime,
        input.stage.recommendationLookBackDays,
      );
    }
  }
  return {
    sharedReviewerIds: primary.sharedIds,
    reviewersByItem,
    noReviewerItemIds: noReviewerItemIds.map((i) => i.itemId),
    recommendations,
    people,
    ...(Object.keys(excludedByItem).length > 0 ? { excludedByItem } : {}),
    ...(delegations
      ? await outOfOffice(
          directory,
          delegations,
          now(),
          [primary.sharedIds, ...Object.values(reviewersByItem)].flat(),
          people,
        )
      : {}),
  };
}

/** The stage's reviewers who are out of office now, and whom their items go to (enabled users only). */
async function outOfOffice(
  directory: Directory,
  store: DelegationStore,
  at: string,
  reviewerIds: string[],
  people: Record<string, Person>,
): Promise<Pick<StageAssignment, 'delegations'>> {
  const active = await store.activeFor([...new Set(reviewerIds)], at);
  const delegations: NonNullable<StageAssignment['delegations']> = {};
  for (const d of active) {
    const delegate = await directory.getUser(d.delegateId);
    if (!delegate?.accountEnabled) continue;
    people[delegate.id] = person(delegate);
    delegations[d.userId] = {
      delegateId: d.delegateId,
      endDateTime: d.endDateTime,
      justification: d.justification,
    };
  }
  return Object.keys(delegations).length > 0 ? { delegations } : {};
}

/**
 * Separation of duties: a reviewee among their own item's reviewers is taken off it. When nobody else
 * is left, the item goes to the stage's fallback reviewers (other than the reviewee), else to the
 * reviewee's manager; `reviewersByItem` gains them. Returns who was taken off which item.
 */
async function separateDuties(
  directory: Directory,
  input: ResolveStageInput,
  sharedIds: string[],
  reviewersByItem: Record<string, string[]>,
  byId: Map<string, DirectoryUser>,
  people: Record<string, Person>,
): Promise<Record<string, string[]>> {
  const excluded: Record<string, string[]> = {};
  const alone: ResolveStageInput['items'] = [];
  for (const item of input.items) {
    const reviewers = [...sharedIds, ...(reviewersByItem[item.itemId] ?? [])];
    if (!reviewers.includes(item.principalId)) continue;
    excluded[item.itemId] = [item.principalId];
    if (reviewers.every((id) => id === item.principalId)) alone.push(item);
  }
  if (alone.length === 0) return excluded;
  const fallback =
    input.stage.fallbackReviewers.length > 0
      ? await resolveSpecs(directory, input.stage.fallbackReviewers, alone, byId, people)
      : { sharedIds: [], perItem: {} as Record<string, string[]> };
  for (const { itemId, principalId } of alone) {
    const others = [...fallback.sharedIds, ...(fallback.perItem[itemId] ?? [])].filter(
      (id) => id !== principalId,
    );
    if (others.length === 0) {
      const managerId = byId.get(principalId)?.managerId;
      const manager = managerId ? (byId.get(managerId) ?? (await directory.getUser(managerId))) : undefined;
      if (manager?.accountEnabled && manager.id !== principalId) {
        byId.set(manager.id, manager);
        people[manager.id] = person(manager);
        others.push(manager.id);
      }
    }
    const own = reviewersByItem[itemId] ?? [];
    reviewersByItem[itemId] = [...own, ...others.filter((id) => !own.includes(id))];
  }
  return excluded;
}

/** Input of resolveEscalation: the undecided items of a stage and who reviews them now. */
export interface ResolveEscalationInput {
  stage: StagePlan;
  to: 'managers' | 'fallbackReviewers';
  items: { itemId: string; principalId: string; reviewerIds: string[] }[];
}

/**
 * Escalation: the reviewers to add to undecided items — their current reviewers' managers, or the stage's
 * fallback reviewers — leaving out the reviewee (separation of duties) and who already reviews them.
 */
export async function resolveEscalation(
  directory: Directory,
  input: ResolveEscalationInput,
): Promise<{ added: Record<string, string[]>; people: Record<string, Person> }> {
  const people: Record<string, Person> = {};
  const added: Record<string, string[]> = {};
  const byId = new Map<string, DirectoryUser>();
  const separate = separationApplies(input.stage);
  const keep = (item: ResolveEscalationInput['items'][number], ids: string[]) => {
    const fresh = [...new Set(ids)].filter(
      (id) => !item.reviewerIds.includes(id) && !(separate && id === item.principalId),
    );
    if (fresh.length > 0) added[item.itemId] = fresh;
  };
  if (input.to === 'fallbackReviewers') {
    const fallback = await resolveSpecs(directory, input.stage.fallbackReviewers, input.items, byId, people);
    for (const item of input.items)
      keep(item, [...fallback.sharedIds, ...(fallback.perItem[item.itemId] ?? [])]);
    return { added, people };
  }
  const managers = new Map<string, string | undefined>();
  for (const item of input.items) {
    const ids: string[] = [];
    for (const reviewerId of item.reviewerIds) {
      if (!managers.has(reviewerId)) {
        const manager = await directory.getManager(reviewerId);
        managers.set(reviewerId, manager?.accountEnabled ? manager.id : undefined);
        if (manager?.accountEnabled) people[manager.id] = person(manager);
      }
      const managerId = managers.get(reviewerId);
      if (managerId) ids.push(managerId);
    }
    keep(item, ids);
  }
  return { added, people };
}
