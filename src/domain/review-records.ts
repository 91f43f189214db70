import type { Definition } from './definition-schema';
import type { DecisionItemView } from './graph-resources';
import type { Filter, OrderKey } from './odata-filter';
import { comparator, matches } from './odata-filter';
import type { RuleViolation, Viewer } from './review-rules';
import type { ReviewEvent } from './review-events';
import { currentStage, reviewersOf, stageHasItem } from './review-rules';
import type { ReviewState } from './review-state';
import type { DecisionPage, DecisionQuery, InstanceView } from './review-views';
import { decisionItemView, instanceView } from './review-views';

// The review records: what a review workflow hands to the record store (PostgreSQL) as it goes, so that
// what was decided, by whom and what was done about it outlives the workflow. Plain data computed from
// the review state, deterministic (workflow code builds it).

/** A decision item as the records keep it: every view the API answers with, and who reviews it now. */
export interface ItemRecord {
  itemId: string;
  /** Where the item is listed: its holder (the instance 0, shard k k+1) and its place there. */
  order: [number, number];
  principalId: string;
  /** The instance-level item as an administrator sees it. */
  view: DecisionItemView;
  /** The instance-level item as a reviewer sees it when decision histories are hidden from reviewers. */
  reviewerView: DecisionItemView;
  /** The item in each stage it took part in, and that stage's reviewers of it. */
  stages: { stageId: string; view: DecisionItemView; reviewerIds: string[] }[];
  /** Reviewers of the item in the stage in progress; empty when no stage is. */
  currentReviewerIds: string[];
}

/** One batch of records, idempotent: `version` orders the writes of a stream (a later one wins). */
export interface RecordBatch {
  /** The workflow that holds these items: the instance, or one of its shards. */
  streamId: string;
  definitionId: string;
  instanceId: string;
  /** The review's event count after the events of this batch. */
  version: number;
  /** R7: whether reviewers see the decisions of earlier stages. */
  decisionHistoriesForReviewersEnabled: boolean;
  /** The instance as a whole, when this stream owns it (not for a shard). */
  instance?: InstanceView;
  /** The events since the previous batch, numbered from `firstSeq`. */
  events: { seq: number; event: ReviewEvent | GuestEvent }[];
  items: ItemRecord[];
  /** Everyone asked to review so far, with when they were first asked (this stream's share). */
  contacted: {
    id: string;
    displayName: string | null;
    userPrincipalName: string | null;
    createdDateTime: string;
  }[];
}

/**
 * What became of a denied guest after the review (R11), recorded by the guest's deletion workflow in a
 * stream of its own: blocked and due for deletion, then deleted, restored by an administrator, or gone.
 */
export type GuestEvent =
  | { type: 'GuestDeletionScheduled'; at: string; userId: string; deleteAfter: string }
  | { type: 'GuestDeleted' | 'GuestNotFound'; at: string; userId: string }
  /** `by`: the administrator who restored the account, or null when it was re-enabled in the directory. */
  | { type: 'GuestRestored'; at: string; userId: string; by: string | null };

/** Which items an event changes the records of: some, or all of them. */
export function itemsTouchedBy(state: ReviewState, event: ReviewEvent): string[] | 'all' {
  switch (event.type) {
    case 'DecisionRecorded':
      return [event.itemId];
    case 'ItemsApplied':
      return event.results.map((r) => r.itemId);
    case 'StageStarted':
      return event.itemIds;
    case 'StageReviewersChanged':
      return event.assignment ? (state.stages[event.stageIndex]?.itemIds ?? 'all') : [];
    case 'ReviewersEscalated':
      return Object.keys(event.added);
    case 'ItemsReassigned':
      return event.itemIds;
    case 'NotificationsSent':
    case 'NotificationsFailed':
    case 'ReminderSent':
    case 'ApplyStarted':
    case 'ApplyCompleted':
    case 'InstanceStarted':
      return [];
    default:
      return 'all';
  }
}

/** The record of one item, from the review state. */
export function itemRecord(
  state: ReviewState,
  itemId: string,
  place: { holder: number; position: number },
): ItemRecord | undefined {
  const item = state.items.get(itemId);
  if (!item) return undefined;
  const current = currentStage(state);
  return {
    itemId,
    order: [place.holder, place.position],
    principalId: item.principal.id,
    view: decisionItemView(state, item),
    reviewerView: decisionItemView(state, item, undefined, true),
    stages: state.stages
      .filter((s) => s.status !== 'NotStarted' && stageHasItem(s, itemId))
      .map((s) => ({
        stageId: s.stageId,
        view: decisionItemView(state, item, s.index),
        reviewerIds: reviewersOf(s, itemId),
      })),
    currentReviewerIds: current && stageHasItem(current, itemId) ? reviewersOf(current, itemId) : [],
  };
}

/** The instance record: the instance view the API's instance and stage reads are built from. */
export const instanceRecord = (state: ReviewState): InstanceView => instanceView(state);

/** An instance as the records hold it. */
export interface InstanceRecord {
  definitionId: string;
  view: InstanceView;
  decisionHistoriesForReviewersEnabled: boolean;
}

/** The item as the viewer may see it, or undefined when they may not (the records' twin of listDecisions). */
function visibleView(
  instance: InstanceRecord,
  item: ItemRecord,
  viewer: Viewer,
  stageId: string | undefined,
): DecisionItemView | undefined {
  const histories = instance.decisionHistoriesForReviewersEnabled;
  const reviewsNow = item.currentReviewerIds.includes(viewer.userId);
  if (stageId === undefined) {
    if (viewer.kind === 'admin') return item.view;
    return reviewsNow ? (histories ? item.view : item.reviewerView) : undefined;
  }
  const inStage = item.stages.find((s) => s.stageId === stageId);
  if (!inStage) return undefined;
  if (viewer.kind === 'admin' || inStage.reviewerIds.includes(viewer.userId)) return inStage.view;
  // R7: the current stage's reviewers see earlier stages' decisions of their items when enabled.
  const order = instance.view.stages.map((s) => s.id);
  const current = instance.view.currentStageId;
  const earlier = current !== null && order.indexOf(stageId) < order.indexOf(current);
  return histories && earlier && reviewsNow ? inStage.view : undefined;
}

/** Lists recorded decision items for a viewer, as listDecisions does over a running review's state. */
export function listRecordedDecisions(
  instance: InstanceRecord,
  items: Iterable<ItemRecord>,
  q: Omit<DecisionQuery, 'filter' | 'orderBy'> & { filter?: Filter; orderBy?: OrderKey[] },
): DecisionPage | RuleViolation {
  if (q.stageId !== undefined && !instance.view.stages.some((s) => s.id === q.stageId)) {
    return { code: 'stage.not_found', status: 404, message: `No stage '${q.stageId}' in this review` };
  }
  const views: DecisionItemView[] = [];
  const ordered = [...items].sort((a, b) => a.order[0] - b.order[0] || a.order[1] - b.order[1]);
  for (const item of ordered) {
    if (q.principalId !== undefined && item.principalId !== q.principalId) continue;
    const view = visibleView(instance, item, q.viewer, q.stageId);
    if (!view) continue;
    if (q.decision !== undefined && view.decision !== q.decision) continue;
    if (q.filter && !matches(view, q.filter)) continue;
    views.push(view);
  }
  if (q.orderBy?.length) views.sort(comparator(q.orderBy));
  return { total: views.length, value: views.slice(q.skip, q.skip + q.top) };
}

/** One recorded item for a viewer, or why they cannot see it. */
export function getRecordedDecision(
  instance: InstanceRecord,
  item: ItemRecord | undefined,
  viewer: Viewer,
  stageId?: string,
): DecisionItemView | RuleViolation {
  if (!item) return { code: 'review.decision_not_found', status: 404, message: 'No such decision item' };
  if (stageId !== undefined && !instance.view.stages.some((s) => s.id === stageId)) {
    return { code: 'stage.not_found', status: 404, message: `No stage '${stageId}' in this review` };
  }
  return (
    visibleView(instance, item, viewer, stageId) ?? {
      code: 'review.not_a_reviewer',
      status: 403,
      message: 'You are not a reviewer of this decision item',
    }
  );
}

/** One started occurrence of a definition. */
export interface SeriesInstance {
  occurrence: number;
  instanceId: string;
  workflowId: string;
  startDateTime: string;
  completed: boolean;
}

/** A definition as the records hold it: what its series answers, and whether it was deleted. */
export interface DefinitionRecord {
  /** The definition with the status its series computes. */
  definition: Definition;
  /** The occurrences started so far (after continue-as-new, the latest ones the series kept). */
  instances: SeriesInstance[];
  nextOccurrenceDateTime: string | null;
  /** DELETE ended the series: the definition is gone from the API, its record stays. */
  ended: boolean;
}

/** A definition record to write, idempotent: `version` orders the writes of a series (a later one wins). */
export interface DefinitionBatch {
  definitionId: string;
  version: number;
  record: DefinitionRecord;
}
