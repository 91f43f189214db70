import {
  condition,
  allHandlersFinished,
  defineQuery,
  defineSignal,
  log,
  ParentClosePolicy,
  proxyActivities,
  setHandler,
  startChild,
  upsertMemo,
  upsertSearchAttributes,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { guestDeletionWorkflowId } from '../domain/ids';
import type { ApplyResult, ReviewEvent, StageAssignment } from '../domain/review-events';
import type { GraphReviewerScope, ReviewerSpec, ReviewPlan } from '../domain/review-plan';
import { DAY_MS } from '../domain/review-plan';
import type { DecisionRequest, RuleViolation, Viewer } from '../domain/review-rules';
import {
  checkDecision,
  currentStage,
  itemsMovingOn,
  recommendationDecisions,
  reviewersOf,
  reviewersWithPendingItems,
} from '../domain/review-rules';
import type { ReviewState } from '../domain/review-state';
import { evolve, initialState } from '../domain/review-state';
import type {
  ContactedReviewerView,
  DecisionItemView,
  DecisionPage,
  DecisionQuery,
  InstanceView,
} from '../domain/review-views';
import { contactedReviewers, getDecision, instanceView, listDecisions } from '../domain/review-views';
import {
  definitionIdSearchAttribute,
  reviewStatusSearchAttribute,
  stageSearchAttribute,
} from '../search-attributes';
import { guestDeletion } from './guest-deletion';

/** Input of one review instance workflow. */
export interface AccessReviewInstanceInput {
  instanceId: string;
  plan: ReviewPlan;
  /**
   * Index Stagecoach's custom search attributes (definition, stage, status) for the Web UI. Off only
   * where the server has none registered (the time-skipping test server cannot register them).
   */
  searchAttributes?: boolean;
}

/** Decisions of one reviewer, single (PATCH) or batched (batchRecordDecisions) — one signal either way. */
export interface RecordDecisionsPayload {
  reviewerId: string;
  decisions: DecisionRequest[];
}

/**
 * What the recordDecisions signal carries: one reviewer's decisions, or the decisions of many
 * reviewers that the API gathered into one signal (fewer history events per decision).
 */
export type DecisionBatch = RecordDecisionsPayload | { batch: RecordDecisionsPayload[] };

/** The reviewers' payloads of a batch, in order. */
export const payloadsOf = (b: DecisionBatch): RecordDecisionsPayload[] => ('batch' in b ? b.batch : [b]);

/** An admin action; `by` is the admin's user id (for the audit trail). */
export interface AdminActionPayload {
  by: string;
}

export const recordDecisionsSignal = defineSignal<[DecisionBatch]>('recordDecisions');
export const stopStageSignal = defineSignal<[AdminActionPayload]>('stopStage');
export const stopInstanceSignal = defineSignal<[AdminActionPayload]>('stopReview');
export const applyDecisionsSignal = defineSignal<[AdminActionPayload]>('applyDecisions');
export const resetDecisionsSignal = defineSignal<[AdminActionPayload]>('resetDecisions');
export const sendReminderSignal = defineSignal<[AdminActionPayload]>('sendReminder');
/** PUT instance / PATCH stage reviewers: re-resolves a running stage's reviewers, or sets a later stage's. */
export interface UpdateReviewersPayload {
  by: string;
  stageId: string;
  reviewers: ReviewerSpec[];
  fallbackReviewers: ReviewerSpec[];
  scopes: { reviewers: GraphReviewerScope[]; fallbackReviewers: GraphReviewerScope[] };
}
export const updateReviewersSignal = defineSignal<[UpdateReviewersPayload]>('updateReviewers');
export const contactedReviewersQuery = defineQuery<ContactedReviewerView[]>('contactedReviewers');
export const acceptRecommendationsSignal = defineSignal<[{ viewer: Viewer }]>('acceptRecommendations');

export const instanceQuery = defineQuery<InstanceView>('instance');
export const decisionsQuery = defineQuery<DecisionPage | RuleViolation, [DecisionQuery]>('decisions');
export const decisionQuery = defineQuery<
  DecisionItemView | RuleViolation,
  [{ viewer: Viewer; itemId: string; stageId?: string }]
>('decision');
/** Dry run of recordDecisions: the violation of each decision (in batch order), or null when it would be recorded. */
export const checkDecisionsQuery = defineQuery<(RuleViolation | null)[], [DecisionBatch]>('checkDecisions');
/** Whether a user reviews anything in the current stage, and how many of their items are still open. */
export const reviewerQuery = defineQuery<{ isReviewer: boolean; pending: number }, [{ userId: string }]>(
  'reviewer',
);

const { resolveReviewees, resolveStageReviewers } = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '2 seconds', maximumInterval: '5 minutes', backoffCoefficient: 2 },
});

const { applyDecisions } = proxyActivities<Activities>({
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '2 seconds', maximumInterval: '5 minutes', backoffCoefficient: 2 },
});

const APPLY_BATCH = 500;
const APPLY_CONCURRENCY = 4;
/** Reviewees per activity call when resolving: keeps every payload well under 512 KB. */
const PAGE = 1000;

/** Resolves a stage's reviewers page by page and merges the pages into one assignment. */
async function resolveInPages(
  plan: ReviewPlan,
  stage: ReviewPlan['stages'][number],
  instanceStartDateTime: string,
  items: { itemId: string; principalId: string }[],
): Promise<StageAssignment> {
  const merged: StageAssignment = {
    sharedReviewerIds: [],
    reviewersByItem: {},
    noReviewerItemIds: [],
    recommendations: {},
    people: {},
  };
  const shared = new Set<string>();
  for (let start = 0; start < items.length; start += PAGE) {
    const part = await resolveStageReviewers({
      scope: plan.scope,
      stage,
      instanceStartDateTime,
      items: items.slice(start, start + PAGE),
    });
    part.sharedReviewerIds.forEach((id) => shared.add(id));
    Object.assign(merged.reviewersByItem, part.reviewersByItem);
    merged.noReviewerItemIds.push(...part.noReviewerItemIds);
    Object.assign(merged.recommendations, part.recommendations);
    Object.assign(merged.people, part.people);
  }
  merged.sharedReviewerIds = [...shared];
  return merged;
}
const now = () => new Date().toISOString();

let indexSearchAttributes = true;

function setStatusAttributes(state: ReviewState): void {
  if (!indexSearchAttributes) return;
  const stage = currentStage(state);
  upsertSearchAttributes([
    { key: reviewStatusSearchAttribute, value: state.status },
    { key: stageSearchAttribute, value: stage?.stageId ?? 'none' },
  ]);
}

/**
 * One access review instance (R3–R11): snapshots the reviewees, runs each stage for its duration
 * (or until an admin stops it), moves reviewees on by decisionsThatWillMoveToNextStage, settles final
 * decisions and applies them. The state is a fold of review events; signals and queries expose it.
 */
export async function accessReviewInstance(input: AccessReviewInstanceInput): Promise<InstanceView> {
  const { plan } = input;
  indexSearchAttributes = input.searchAttributes ?? true;
  const state = initialState(input.instanceId, plan, now());
  const emit = (event: ReviewEvent) => {
    evolve(state, event);
  };
  const record = (d: DecisionRequest, reviewerId: string, source: 'reviewer' | 'recommendation') =>
    emit({
      type: 'DecisionRecorded',
      at: now(),
      itemId: d.itemId,
      decision: d.decision,
      justification: d.justification ?? '',
      reviewerId,
      source,
    });
  let stopStageRequested = false;
  let stopInstanceBy: string | undefined;
  let applyBy: string | undefined;

  setHandler(recordDecisionsSignal, (signal) => {
    for (const { reviewerId, decisions } of payloadsOf(signal)) {
      for (const d of decisions) {
        const violation = checkDecision(state, reviewerId, d);
        if (violation) {
          log.warn('decision rejected', { reviewerId, itemId: d.itemId, code: violation.code });
          continue;
        }
        record(d, reviewerId, 'reviewer');
      }
    }
  });
  setHandler(stopStageSignal, () => {
    if (currentStage(state)) stopStageRequested = true;
  });
  setHandler(stopInstanceSignal, ({ by }) => {
    if (state.status === 'InProgress' || state.status === 'Initializing') stopInstanceBy ??= by;
  });
  setHandler(applyDecisionsSignal, ({ by }) => {
    if (state.status === 'Completed') applyBy ??= by;
  });
  setHandler(resetDecisionsSignal, ({ by }) => {
    if (currentStage(state)) emit({ type: 'DecisionsReset', at: now(), by });
  });
  setHandler(sendReminderSignal, ({ by }) => {
    if (currentStage(state))
      emit({ type: 'ReminderSent', at: now(), by, reviewerIds: reviewersWithPendingItems(state) });
  });
  setHandler(acceptRecommendationsSignal, ({ viewer }) => {
    for (const d of recommendationDecisions(state, viewer)) {
      record(d, viewer.userId, 'recommendation');
    }
  });
  setHandler(updateReviewersSignal, async (update) => {
    const index = state.stages.findIndex((s) => s.stageId === update.stageId);
    const stage = state.stages[index];
    if (!stage || stage.status === 'Completed') return;
    const { by, reviewers, fallbackReviewers, scopes } = update;
    const base = {
      type: 'StageReviewersChanged',
      by,
      stageIndex: index,
      reviewers,
      fallbackReviewers,
      scopes,
    } as const;
    if (stage.status === 'NotStarted') {
      emit({ ...base, at: now() });
      return;
    }
    const stagePlan = { ...plan.stages[index]!, reviewers, fallbackReviewers };
    const items = stage.itemIds.map((itemId) => ({
      itemId,
      principalId: state.items.get(itemId)!.principal.id,
    }));
    const assignment = await resolveInPages(plan, stagePlan, state.startDateTime, items);
    // The stage may have ended while reviewers were being resolved; then only later stages are affected.
    emit({ ...base, at: now(), assignment: stage.status === 'InProgress' ? assignment : undefined });
  });
  setHandler(contactedReviewersQuery, () => contactedReviewers(state));
  setHandler(instanceQuery, () => instanceView(state));
  setHandler(decisionsQuery, (q) => listDecisions(state, q));
  setHandler(decisionQuery, ({ viewer, itemId, stageId }) => getDecision(state, viewer, itemId, stageId));
  setHandler(checkDecisionsQuery, (signal) =>
    payloadsOf(signal).flatMap(({ reviewerId, decisions }) =>
      decisions.map((d) => checkDecision(state, reviewerId, d) ?? null),
    ),
  );
  setHandler(reviewerQuery, ({ userId }) => {
    const stage = currentStage(state);
    if (!stage) return { isReviewer: false, pending: 0 };
    let isReviewer = false;
    let pending = 0;
    for (const id of stage.itemIds) {
      if (!reviewersOf(stage, id).includes(userId)) continue;
      isReviewer = true;
      if (!state.items.get(id)?.stageDecisions[stage.index]) pending++;
    }
    return { isReviewer, pending };
  });

  upsertMemo({ displayName: plan.displayName });
  if (indexSearchAttributes)
    upsertSearchAttributes([{ key: definitionIdSearchAttribute, value: plan.definitionId }]);
  emit({ type: 'InstanceStarted', at: now(), instanceId: input.instanceId, plan });
  setStatusAttributes(state);

  for (let skip = 0; ; skip += PAGE) {
    const page = await resolveReviewees({
      scope: plan.scope,
      instanceStartDateTime: state.startDateTime,
      skip,
      top: PAGE,
    });
    const { resource, principals, errors } = page;
    emit({ type: 'RevieweesResolved', at: now(), resource, principals, errors });
    if (skip + PAGE >= page.total) break;
  }
  setStatusAttributes(state);

  for (let i = 0; i < plan.stages.length && !stopInstanceBy; i++) {
    const stagePlan = plan.stages[i]!;
    const itemIds = i === 0 ? [...state.items.keys()] : itemsMovingOn(state, i - 1);
    const items = itemIds.map((itemId) => ({ itemId, principalId: state.items.get(itemId)!.principal.id }));
    const assignment = await resolveInPages(plan, stagePlan, state.startDateTime, items);
    emit({ type: 'StageStarted', at: now(), stageIndex: i, itemIds, ...assignment });
    setStatusAttributes(state);
    if (assignment.noReviewerItemIds.length > 0) {
      log.warn('items without any reviewer stay NotReviewed', {
        stageId: stagePlan.stageId,
        count: assignment.noReviewerItemIds.length,
      });
    }
    stopStageRequested = false;
    let reason: 'durationElapsed' | 'stoppedByAdmin' | 'instanceStopped' | 'noReviewees' = 'noReviewees';
    if (items.length > 0) {
      const stopped = await condition(
        () => stopStageRequested || stopInstanceBy !== undefined,
        stagePlan.durationInDays * DAY_MS,
        { summary: `stage ${stagePlan.stageId} ends` },
      );
      reason = !stopped
        ? 'durationElapsed'
        : stopInstanceBy !== undefined
          ? 'instanceStopped'
          : 'stoppedByAdmin';
    }
    emit({ type: 'StageCompleted', at: now(), reason });
  }
  emit({
    type: 'InstanceCompleted',
    at: now(),
    reason: stopInstanceBy ? 'stoppedByAdmin' : 'allStagesCompleted',
    by: stopInstanceBy,
  });
  setStatusAttributes(state);

  if (!plan.settings.autoApplyDecisionsEnabled) await condition(() => applyBy !== undefined);
  await applyFinalDecisions(state, emit, applyBy ?? 'system');
  setStatusAttributes(state);
  await condition(allHandlersFinished);
  return instanceView(state);
}

async function applyFinalDecisions(state: ReviewState, emit: (e: ReviewEvent) => void, by: string) {
  emit({ type: 'ApplyStarted', at: now(), by });
  setStatusAttributes(state);
  const pending = [...state.items.values()].filter((item) => !item.apply);
  // Keeping access needs no directory change: approvals are applied here, without an activity.
  const approved = pending.filter((item) => item.final?.decision === 'Approve');
  if (approved.length > 0) {
    emit({
      type: 'ItemsApplied',
      at: now(),
      by,
      results: approved.map((i) => ({ itemId: i.id, result: 'AppliedSuccessfully' })),
    });
  }
  const denied = pending.filter((item) => item.final?.decision === 'Deny');
  const batches: (typeof denied)[] = [];
  for (let start = 0; start < denied.length; start += APPLY_BATCH)
    batches.push(denied.slice(start, start + APPLY_BATCH));
  const { plan } = state;
  // Bounded concurrency: a few batches at a time, so a large review neither crawls nor floods the directory.
  const applyNext = async (): Promise<void> => {
    const batch = batches.shift();
    if (!batch) return;
    const { results } = await applyDecisions({
      instanceId: state.instanceId,
      resource: plan.scope.resource,
      denyAction: plan.settings.denyAction,
      items: batch.map((item) => ({
        itemId: item.id,
        principalId: item.principal.id,
        decision: 'Deny' as const,
      })),
    });
    emit({ type: 'ItemsApplied', at: now(), by, results });
    if (plan.settings.denyAction === 'disableAndDeleteUser') await scheduleGuestDeletions(state, results);
    return applyNext();
  };
  await Promise.all(Array.from({ length: APPLY_CONCURRENCY }, applyNext));
  emit({ type: 'ApplyCompleted', at: now() });
}

async function scheduleGuestDeletions(
  state: ReviewState,
  results: { itemId: string; result: ApplyResult }[],
) {
  for (const { itemId, result } of results) {
    const item = state.items.get(itemId);
    if (!item || item.final?.decision !== 'Deny' || result !== 'AppliedSuccessfully') continue;
    try {
      await startChild(guestDeletion, {
        workflowId: guestDeletionWorkflowId(item.principal.id),
        args: [{ userId: item.principal.id, instanceId: state.instanceId, blockedDateTime: now() }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
        memo: { displayName: `Delete ${item.principal.userPrincipalName} unless restored` },
      });
    } catch (err) {
      // Already scheduled by another review: one deletion per guest is enough.
      if (!(err instanceof Error && err.name === 'WorkflowExecutionAlreadyStartedError')) throw err;
    }
  }
}
