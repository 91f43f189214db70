import type { ContactedReviewerView, DecisionItemView } from './graph-resources';
import { GROUP_RESOURCE, SERVICE_PRINCIPAL_RESOURCE, USER_IDENTITY } from './graph-names';
import type { Filter, OrderKey } from './odata-filter';
import { comparator, matches } from './odata-filter';
import type { DecisionValue } from './review-events';
import type { RuleViolation, Viewer } from './review-rules';
import { currentStage, reviewersOf, stageHasItem } from './review-rules';
import type { ItemState, NotificationRecord, ReviewState, StageState } from './review-state';
import { lastRecordedDecision } from './review-state';

export type { ContactedReviewerView, DecisionItemView } from './graph-resources';
export { GROUP_RESOURCE, SERVICE_PRINCIPAL_RESOURCE } from './graph-names';

/** Graph's userIdentity as it appears in reviewedBy / appliedBy. */
export interface IdentityView {
  '@odata.type': typeof USER_IDENTITY;
  id: string;
  displayName: string | null;
  userPrincipalName: string | null;
}

/** accessReviewStage as Graph returns it (reviewer scopes are added by the API from the definition). */
export interface StageView {
  id: string;
  status: string;
  startDateTime: string | null;
  endDateTime: string | null;
  /** Items of this stage that nobody can review (R4): they stay NotReviewed. Not part of Graph's shape. */
  noReviewerCount: number;
  /** Reviewer scopes changed after the instance started; null: as in the definition. */
  reviewerScopes: StageState['reviewerScopes'] | null;
}

/** accessReviewReviewer: someone asked to review in this instance, and since when. */

/** What the instance query returns: the instance's own fields plus its stages and counts. */
export interface InstanceView {
  id: string;
  definitionId: string;
  displayName: string;
  status: string;
  startDateTime: string;
  endDateTime: string;
  currentStageId: string | null;
  stages: StageView[];
  errors: string[];
  counts: Record<DecisionValue, number> & { total: number };
  reviewerIds: string[];
  /** Reminders sent (R14), oldest first, each with the reviewers it went to. */
  reminders: { at: string; by: string; reviewerIds: string[] }[];
  /** Notification sends, oldest first: what each came to (sent, already sent, failed, not sent). */
  notifications: NotificationRecord[];
  appliedDateTime: string | null;
  /** Shard workflows holding the decision items; 0 when the instance holds them itself. */
  shards: number;
}

export interface DecisionQuery {
  viewer: Viewer;
  /** A stage's decisions; omitted: the instance's decision items. */
  stageId?: string;
  decision?: DecisionValue;
  principalId?: string;
  /** $filter over the item as the viewer sees it. */
  filter?: Filter;
  /** $orderby; the list is in review order without it. */
  orderBy?: OrderKey[];
  skip: number;
  top: number;
}

export interface DecisionPage {
  total: number;
  value: DecisionItemView[];
}

function identity(state: ReviewState, id: string | undefined): IdentityView | null {
  if (!id) return null;
  if (id === 'system')
    return { '@odata.type': USER_IDENTITY, id, displayName: 'Stagecoach', userPrincipalName: null };
  const person = state.people[id];
  return {
    '@odata.type': USER_IDENTITY,
    id,
    displayName: person?.displayName ?? null,
    userPrincipalName: person?.userPrincipalName ?? null,
  };
}

/**
 * The item as seen in one stage (stageIndex), or at instance level: its final decision once the review
 * completed, else its last recorded decision — or, for a reviewer who may not see earlier stages (R7),
 * only what was recorded in the current stage.
 */
export function decisionItemView(
  state: ReviewState,
  item: ItemState,
  stageIndex?: number,
  currentStageOnly = false,
): DecisionItemView {
  const recorded =
    stageIndex !== undefined
      ? item.stageDecisions[stageIndex]
      : currentStageOnly
        ? item.stageDecisions[item.lastStage]
        : lastRecordedDecision(item);
  const decision =
    stageIndex === undefined && item.final ? item.final.decision : (recorded?.decision ?? 'NotReviewed');
  const resource = state.resource ?? null;
  return {
    id: item.id,
    accessReviewId: state.instanceId,
    decision,
    justification: recorded?.justification ?? null,
    recommendation: item.recommendation ?? null,
    reviewedDateTime: recorded?.reviewedDateTime ?? null,
    reviewedBy: identity(state, recorded?.reviewerId),
    applyResult: item.apply?.result ?? 'New',
    appliedDateTime: item.apply?.appliedDateTime ?? null,
    appliedBy: identity(state, item.apply?.appliedBy),
    principalLink: `https://graph.microsoft.com/v1.0/users/${item.principal.id}`,
    resourceLink: resource
      ? `https://graph.microsoft.com/v1.0/${resource.type === 'group' ? 'groups' : 'servicePrincipals'}/${resource.id}`
      : null,
    principal: {
      '@odata.type': '#microsoft.graph.userIdentity',
      id: item.principal.id,
      displayName: item.principal.displayName,
      userPrincipalName: item.principal.userPrincipalName,
    },
    resource: resource && {
      '@odata.type': resource.type === 'group' ? GROUP_RESOURCE : SERVICE_PRINCIPAL_RESOURCE,
      ...resource,
    },
    ...(item.reassignments?.length
      ? {
          reassignments: item.reassignments.map((r) => ({
            stageId: r.stageId,
            reassignedDateTime: r.at,
            reassignedBy: identity(state, r.by),
            from: identity(state, r.fromReviewerId ?? undefined),
            to: identity(state, r.toReviewerId),
            justification: r.justification,
          })),
        }
      : {}),
  };
}

function visibleItemIds(
  state: ReviewState,
  q: DecisionQuery,
  stage: StageState | undefined,
): string[] | RuleViolation {
  const viewer = q.viewer;
  if (!stage) {
    if (viewer.kind === 'admin') return [...state.items.keys()];
    const current = currentStage(state);
    return current ? current.itemIds.filter((id) => reviewersOf(current, id).includes(viewer.userId)) : [];
  }
  if (viewer.kind === 'admin') return stage.itemIds;
  const own = stage.itemIds.filter((id) => reviewersOf(stage, id).includes(viewer.userId));
  const current = currentStage(state);
  // R7: reviewers of the current stage see earlier stages' decisions of their items only when enabled.
  if (current && stage.index < current.index && state.plan.settings.decisionHistoriesForReviewersEnabled) {
    const mine = new Set(own);
    for (const id of current.itemIds) {
      if (stageHasItem(stage, id) && reviewersOf(current, id).includes(viewer.userId)) mine.add(id);
    }
    return stage.itemIds.filter((id) => mine.has(id));
  }
  return own;
}

/** Lists decision items for a viewer with Graph's $filter (decision, principal id) and $skip/$top. */
export function listDecisions(state: ReviewState, q: DecisionQuery): DecisionPage | RuleViolation {
  let stage: StageState | undefined;
  if (q.stageId !== undefined) {
    stage = state.stages.find((s) => s.stageId === q.stageId);
    if (!stage)
      return {
        code: 'stage.not_found',
        status: 404,
        message: `No stage '${q.stageId}' in this review`,
      };
  }
  const ids = visibleItemIds(state, q, stage);
  if (!Array.isArray(ids)) return ids;
  const views: DecisionItemView[] = [];
  const sorted = Boolean(q.orderBy?.length) && q.top > 0;
  let total = 0;
  for (const id of ids) {
    const item = state.items.get(id);
    if (!item) continue;
    if (q.principalId !== undefined && item.principal.id !== q.principalId) continue;
    const hideHistory =
      q.viewer.kind === 'reviewer' && !state.plan.settings.decisionHistoriesForReviewersEnabled;
    const view = decisionItemView(state, item, stage?.index, hideHistory);
    if (q.decision !== undefined && view.decision !== q.decision) continue;
    if (q.filter && !matches(view, q.filter)) continue;
    if (sorted) views.push(view);
    else if (total >= q.skip && views.length < q.top) views.push(view);
    total++;
  }
  if (sorted) {
    return { total, value: views.sort(comparator(q.orderBy!)).slice(q.skip, q.skip + q.top) };
  }
  return { total, value: views };
}

/** One decision item for a viewer, or why they cannot see it. */
export function getDecision(
  state: ReviewState,
  viewer: Viewer,
  itemId: string,
  stageId?: string,
): DecisionItemView | RuleViolation {
  const notFound: RuleViolation = {
    code: 'review.decision_not_found',
    status: 404,
    message: `No decision item '${itemId}'`,
  };
  const item = state.items.get(itemId);
  if (!item) return notFound;
  const page = listDecisions(state, { viewer, stageId, principalId: item.principal.id, skip: 0, top: 1 });
  if ('code' in page) return page;
  const view = page.value[0];
  if (view) return view;
  return {
    code: 'review.not_a_reviewer',
    status: 403,
    message: 'You are not a reviewer of this decision item',
  };
}

/** The instance summary returned by the instance query. */
export function instanceView(state: ReviewState): InstanceView {
  const counts = { Approve: 0, Deny: 0, DontKnow: 0, NotReviewed: 0, total: 0 };
  for (const item of state.items.values()) {
    counts[decisionItemView(state, item).decision]++;
    counts.total++;
  }
  const current = currentStage(state);
  const reviewerIds = new Set<string>();
  if (current) {
    for (const r of current.sharedReviewerIds) reviewerIds.add(r);
    for (const list of Object.values(current.reviewersByItem)) for (const r of list) reviewerIds.add(r);
  }
  return {
    id: state.instanceId,
    definitionId: state.plan.definitionId,
    displayName: state.plan.displayName,
    status: state.status,
    startDateTime: state.startDateTime,
    endDateTime: state.endDateTime,
    currentStageId: current?.stageId ?? null,
    stages: state.stages.map((s) => ({
      id: s.stageId,
      status: s.status,
      startDateTime: s.startDateTime ?? null,
      endDateTime: s.endDateTime ?? null,
      noReviewerCount: s.noReviewerItemIds.length,
      reviewerScopes: s.reviewerScopes ?? null,
    })),
    errors: state.errors,
    counts,
    reviewerIds: [...reviewerIds],
    reminders: state.reminders.map((r) => ({ ...r, reviewerIds: [...r.reviewerIds] })),
    notifications: (state.notifications ?? []).map((n) => ({ ...n })),
    appliedDateTime: state.appliedDateTime ?? null,
    shards: 0,
  };
}

/** Everyone asked to review in this instance so far, with when they were first asked (contactedReviewers). */
export function contactedReviewers(state: ReviewState): ContactedReviewerView[] {
  return [...state.contacted].map(([id, createdDateTime]) => ({
    id,
    displayName: state.people[id]?.displayName ?? null,
    userPrincipalName: state.people[id]?.userPrincipalName ?? null,
    createdDateTime,
  }));
}
