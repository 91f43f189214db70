import { decisionItemIdFor } from './ids';
import type { RecommendationValue } from './recommendations';
import type {
  ApplyResult,
  DecisionValue,
  InstanceStatus,
  NotificationKind,
  Person,
  Principal,
  ReviewedResource,
  ReviewEvent,
  ReviewerDecision,
  StageCompletionReason,
  StageStatus,
} from './review-events';
import type { GraphReviewerScope, ReviewPlan } from './review-plan';
import { DAY_MS } from './review-plan';

export interface RecordedDecision {
  decision: ReviewerDecision;
  justification: string;
  reviewerId: string;
  reviewedDateTime: string;
  source: 'reviewer' | 'recommendation';
}

/** One reviewee's decision item across the stages of an instance. */
export interface ItemState {
  id: string;
  principal: Principal;
  /** Index of the latest stage this item took part in; -1 before the first. */
  lastStage: number;
  /** Decision recorded in each stage, by stage index. */
  stageDecisions: Record<number, RecordedDecision>;
  recommendation?: RecommendationValue;
  final?: { decision: DecisionValue; source: 'reviewer' | 'recommendation' | 'defaultDecision' | 'none' };
  apply?: { result: ApplyResult; appliedDateTime: string; appliedBy: string };
  /** Every reassignment of this item, in order (who, from whom, to whom, when, why). */
  reassignments?: Reassignment[];
}

/** One hand-over of an item to another reviewer, for the stage it happened in. */
export interface Reassignment {
  stageId: string;
  at: string;
  by: string;
  /** null: every reviewer the item had then. */
  fromReviewerId: string | null;
  toReviewerId: string;
  justification: string;
}

/** One notification send as the review keeps it (counts, not addresses). */
export interface NotificationRecord {
  at: string;
  kind: NotificationKind;
  stageId: string | null;
  key: string;
  sent: number;
  alreadySent: number;
  unconfirmed: number;
  failed: number;
  skipped: number;
  attempts: number;
  error?: string;
}

export interface StageState {
  stageId: string;
  index: number;
  status: StageStatus;
  startDateTime?: string;
  /** Scheduled end while running; actual end once completed. */
  endDateTime?: string;
  itemIds: string[];
  sharedReviewerIds: string[];
  reviewersByItem: Record<string, string[]>;
  noReviewerItemIds: string[];
  completionReason?: StageCompletionReason;
  /** Reviewers who may not decide an item (separation of duties, reassignment), by item id. */
  excludedByItem?: Record<string, string[]>;
  /** The scheduled points of this stage already acted on (`halfway`, `due-3`, `escalation`). */
  pointsDone?: string[];
  /** Reviewer scopes set on this stage after the instance started (PUT instance / PATCH stage). */
  reviewerScopes?: { reviewers: GraphReviewerScope[]; fallbackReviewers: GraphReviewerScope[] };
}

export interface ReviewState {
  instanceId: string;
  plan: ReviewPlan;
  status: InstanceStatus;
  startDateTime: string;
  endDateTime: string;
  items: Map<string, ItemState>;
  stages: StageState[];
  currentStage: number | null;
  people: Record<string, Person>;
  /** Everyone ever asked to review in this instance, with when they were first asked. */
  contacted: Map<string, string>;
  reminders: { at: string; by: string; reviewerIds: string[] }[];
  /** Notification sends, in order (absent in states from before notifications). */
  notifications?: NotificationRecord[];
  errors: string[];
  resource?: ReviewedResource;
  appliedBy?: string;
  appliedDateTime?: string;
  eventCount: number;
}

const addDays = (iso: string, days: number) => new Date(Date.parse(iso) + days * DAY_MS).toISOString();

function noteContacted(
  state: ReviewState,
  assignment: { sharedReviewerIds: string[]; reviewersByItem: Record<string, string[]> },
  at: string,
): void {
  const add = (id: string) => {
    if (!state.contacted.has(id)) state.contacted.set(id, at);
  };
  assignment.sharedReviewerIds.forEach(add);
  for (const ids of Object.values(assignment.reviewersByItem)) ids.forEach(add);
}

/** The state of an instance before anything happened. */
export function initialState(instanceId: string, plan: ReviewPlan, at: string): ReviewState {
  const total = plan.stages.reduce((sum, s) => sum + s.durationInDays, 0);
  return {
    instanceId,
    plan,
    status: 'NotStarted',
    startDateTime: at,
    endDateTime: addDays(at, total),
    items: new Map(),
    stages: plan.stages.map((s, index) => ({
      stageId: s.stageId,
      index,
      status: 'NotStarted',
      itemIds: [],
      sharedReviewerIds: [],
      reviewersByItem: {},
      noReviewerItemIds: [],
    })),
    currentStage: null,
    people: {},
    contacted: new Map(),
    reminders: [],
    errors: [],
    eventCount: 0,
  };
}

/** The last decision recorded for an item in any stage it took part in (a later stage overwrites an earlier one). */
export function lastRecordedDecision(item: ItemState): RecordedDecision | undefined {
  for (let stage = item.lastStage; stage >= 0; stage--) {
    const recorded = item.stageDecisions[stage];
    if (recorded) return recorded;
  }
  return undefined;
}

/**
 * R9: an item's final decision is its last recorded decision, whichever stage recorded it; an item
 * nobody decided in any stage gets the default decision when one is enabled.
 */
export function finalDecisionOf(item: ItemState, plan: ReviewPlan): NonNullable<ItemState['final']> {
  const recorded = lastRecordedDecision(item);
  if (recorded) return { decision: recorded.decision, source: recorded.source };
  const s = plan.settings;
  if (s.defaultDecisionEnabled) {
    if (s.defaultDecision === 'Approve' || s.defaultDecision === 'Deny') {
      return { decision: s.defaultDecision, source: 'defaultDecision' };
    }
    if (
      s.defaultDecision === 'Recommendation' &&
      (item.recommendation === 'Approve' || item.recommendation === 'Deny')
    ) {
      return { decision: item.recommendation, source: 'defaultDecision' };
    }
  }
  return { decision: 'NotReviewed', source: 'none' };
}

/**
 * Applies one event to the state. It mutates `state` in place (a review may hold 100,000 items) and
 * returns it; it depends on nothing but its arguments, so replaying the same events gives the same state.
 */
export function evolve(state: ReviewState, event: ReviewEvent): ReviewState {
  state.eventCount++;
  switch (event.type) {
    case 'InstanceStarted':
      state.status = 'Initializing';
      state.startDateTime = event.at;
      state.endDateTime = addDays(
        event.at,
        state.plan.stages.reduce((sum, s) => sum + s.durationInDays, 0),
      );
      break;
    case 'RevieweesResolved':
      for (const p of event.principals) {
        const id = decisionItemIdFor(state.instanceId, p.id);
        if (!state.items.has(id))
          state.items.set(id, { id, principal: p, lastStage: -1, stageDecisions: {} });
      }
      state.errors.push(...event.errors);
      state.resource = event.resource;
      state.status = 'InProgress';
      break;
    case 'StageStarted': {
      const stage = state.stages[event.stageIndex];
      if (!stage) break;
      const plan = state.plan.stages[event.stageIndex];
      stage.status = 'InProgress';
      stage.startDateTime = event.at;
      stage.endDateTime = addDays(event.at, plan?.durationInDays ?? 0);
      stage.itemIds = event.itemIds;
      stage.sharedReviewerIds = event.sharedReviewerIds;
      stage.reviewersByItem = event.reviewersByItem;
      stage.noReviewerItemIds = event.noReviewerItemIds;
      if (event.excludedByItem && Object.keys(event.excludedByItem).length > 0) {
        stage.excludedByItem = event.excludedByItem;
      }
      Object.assign(state.people, event.people);
      noteContacted(state, event, event.at);
      for (const id of event.itemIds) {
        const item = state.items.get(id);
        if (!item) continue;
        item.lastStage = event.stageIndex;
        item.recommendation = event.recommendations[id];
      }
      state.currentStage = event.stageIndex;
      break;
    }
    case 'DecisionRecorded': {
      const item = state.items.get(event.itemId);
      if (!item || state.currentStage === null) break;
      item.stageDecisions[state.currentStage] = {
        decision: event.decision,
        justification: event.justification,
        reviewerId: event.reviewerId,
        reviewedDateTime: event.at,
        source: event.source,
      };
      break;
    }
    case 'StageReviewersChanged': {
      const stage = state.stages[event.stageIndex];
      const plan = state.plan.stages[event.stageIndex];
      if (!stage || !plan) break;
      plan.reviewers = event.reviewers;
      plan.fallbackReviewers = event.fallbackReviewers;
      stage.reviewerScopes = event.scopes;
      if (event.assignment) {
        stage.sharedReviewerIds = event.assignment.sharedReviewerIds;
        stage.reviewersByItem = event.assignment.reviewersByItem;
        stage.noReviewerItemIds = event.assignment.noReviewerItemIds;
        if (event.assignment.excludedByItem || stage.excludedByItem) {
          stage.excludedByItem = event.assignment.excludedByItem ?? {};
        }
        Object.assign(state.people, event.assignment.people);
        noteContacted(state, event.assignment, event.at);
      }
      break;
    }
    case 'DecisionsReset': {
      const stage = state.currentStage === null ? undefined : state.stages[state.currentStage];
      if (!stage) break;
      for (const id of stage.itemIds) delete state.items.get(id)?.stageDecisions[stage.index];
      break;
    }
    case 'ReminderSent': {
      state.reminders.push({ at: event.at, by: event.by, reviewerIds: event.reviewerIds });
      const stage = state.currentStage === null ? undefined : state.stages[state.currentStage];
      if (event.point && stage) stage.pointsDone = [...(stage.pointsDone ?? []), event.point];
      break;
    }
    case 'ReviewersEscalated': {
      const stage = state.stages[event.stageIndex];
      if (!stage) break;
      for (const [itemId, ids] of Object.entries(event.added)) {
        const own = stage.reviewersByItem[itemId] ?? [];
        stage.reviewersByItem[itemId] = [...own, ...ids.filter((id) => !own.includes(id))];
      }
      stage.noReviewerItemIds = stage.noReviewerItemIds.filter((id) => !event.added[id]?.length);
      stage.pointsDone = [...(stage.pointsDone ?? []), 'escalation'];
      Object.assign(state.people, event.people);
      noteContacted(state, { sharedReviewerIds: [], reviewersByItem: event.added }, event.at);
      break;
    }
    case 'ItemsReassigned': {
      const stage = state.stages[event.stageIndex];
      if (!stage) break;
      const excluded = (stage.excludedByItem ??= {});
      for (const itemId of event.itemIds) {
        const item = state.items.get(itemId);
        if (!item) continue;
        const before = [...stage.sharedReviewerIds, ...(stage.reviewersByItem[itemId] ?? [])];
        const leaving = event.fromReviewerId === null ? before : [event.fromReviewerId];
        const out = new Set([...(excluded[itemId] ?? []), ...leaving]);
        out.delete(event.toReviewerId);
        excluded[itemId] = [...out];
        const own = stage.reviewersByItem[itemId] ?? [];
        if (!own.includes(event.toReviewerId)) stage.reviewersByItem[itemId] = [...own, event.toReviewerId];
        item.reassignments = [
          ...(item.reassignments ?? []),
          {
            stageId: stage.stageId,
            at: event.at,
            by: event.by,
            fromReviewerId: event.fromReviewerId,
            toReviewerId: event.toReviewerId,
            justification: event.justification,
          },
        ];
      }
      const handed = new Set(event.itemIds);
      stage.noReviewerItemIds = stage.noReviewerItemIds.filter((id) => !handed.has(id));
      Object.assign(state.people, event.people);
      noteContacted(state, { sharedReviewerIds: [event.toReviewerId], reviewersByItem: {} }, event.at);
      break;
    }
    case 'NotificationsSent':
      (state.notifications ??= []).push({
        at: event.at,
        kind: event.kind,
        stageId: event.stageId,
        key: event.key,
        sent: event.sent.length,
        alreadySent: event.alreadySent.length,
        unconfirmed: event.unconfirmed.length,
        failed: event.failed.length,
        skipped: event.skipped.length,
        attempts: event.attempts,
      });
      break;
    case 'NotificationsFailed':
      (state.notifications ??= []).push({
        at: event.at,
        kind: event.kind,
        stageId: event.stageId,
        key: event.key,
        sent: 0,
        alreadySent: 0,
        unconfirmed: 0,
        failed: event.recipients.length,
        skipped: 0,
        attempts: 0,
        error: event.error,
      });
      break;
    case 'StageCompleted': {
      const stage = state.currentStage === null ? undefined : state.stages[state.currentStage];
      if (!stage) break;
      stage.status = 'Completed';
      stage.endDateTime = event.at;
      stage.completionReason = event.reason;
      state.currentStage = null;
      break;
    }
    case 'InstanceCompleted':
      for (const item of state.items.values()) item.final = finalDecisionOf(item, state.plan);
      state.status = 'Completed';
      state.endDateTime = event.at;
      state.currentStage = null;
      break;
    case 'ApplyStarted':
      state.status = 'Applying';
      state.appliedBy = event.by;
      break;
    case 'ItemsApplied':
      for (const r of event.results) {
        const item = state.items.get(r.itemId);
        if (item) item.apply = { result: r.result, appliedDateTime: event.at, appliedBy: event.by };
      }
      break;
    case 'ApplyCompleted':
      state.status = 'Applied';
      state.appliedDateTime = event.at;
      break;
  }
  return state;
}

/** Rebuilds an instance's state from its events: the same function the workflow runs, without Temporal. */
export function replay(instanceId: string, plan: ReviewPlan, events: readonly ReviewEvent[]): ReviewState {
  const first = events[0];
  const state = initialState(instanceId, plan, first?.at ?? new Date(0).toISOString());
  for (const e of events) evolve(state, e);
  return state;
}
