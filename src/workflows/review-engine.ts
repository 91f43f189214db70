import {
  allHandlersFinished,
  condition,
  log,
  ParentClosePolicy,
  proxyActivities,
  setHandler,
  startChild,
  workflowInfo,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ResolveRevieweesResult } from '../activities/resolve';
import { guestDeletionWorkflowId } from '../domain/ids';
import type {
  ApplyResult,
  ReviewEvent,
  StageAssignment,
  StageCompletionReason,
} from '../domain/review-events';
import type { ReviewPlan } from '../domain/review-plan';
import type { DecisionRequest } from '../domain/review-rules';
import {
  checkDecision,
  currentStage,
  itemsMovingOn,
  recommendationDecisions,
  reviewersOf,
  reviewersWithPendingItems,
} from '../domain/review-rules';
import type { ReviewSnapshot } from '../domain/review-snapshot';
import { restoreState, snapshotState } from '../domain/review-snapshot';
import type { ReviewState } from '../domain/review-state';
import { evolve, initialState } from '../domain/review-state';
import { contactedReviewers, getDecision, instanceView, listDecisions } from '../domain/review-views';
import { guestDeletion } from './guest-deletion';
import {
  acceptRecommendationsSignal,
  applyDecisionsSignal,
  checkDecisionsQuery,
  contactedReviewersQuery,
  decisionQuery,
  decisionsQuery,
  instanceQuery,
  payloadsOf,
  recordDecisionsSignal,
  resetDecisionsSignal,
  reviewerQuery,
  sendReminderSignal,
  stopInstanceSignal,
  stopStageSignal,
  updateReviewersSignal,
} from './review-messages';

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
export const PAGE = 1000;
/** A snapshot larger than this is not carried over continue-as-new (Temporal's payload limit is 2 MB). */
const MAX_SNAPSHOT_BYTES = 1_500_000;

export const now = () => new Date().toISOString();

/** Where an engine starts: fresh, or from the snapshot a previous run carried over continue-as-new. */
export interface EngineOptions {
  instanceId: string;
  plan: ReviewPlan;
  resume?: ReviewSnapshot;
  /** A shard of a sharded instance: only its part of the reviewees. */
  partition?: { shard: number; count: number };
  /** Called after every change of status or stage (search attributes of the instance). */
  onStatus?: (state: ReviewState) => void;
}

/**
 * The decision items of a review and everything that acts on them, shared by an instance that holds
 * its items itself and by the shards of a large instance: state as a fold of review events, the
 * item-level signal and query handlers, and the steps a stage goes through. Who decides *when* a step
 * happens (stage timers, admin signals, the sharded instance's commands) is the caller's business.
 */
export function createReviewEngine(opts: EngineOptions) {
  const state: ReviewState = opts.resume
    ? restoreState(opts.resume)
    : initialState(opts.instanceId, opts.plan, now());
  const emit = (event: ReviewEvent) => {
    evolve(state, event);
  };
  const status = () => opts.onStatus?.(state);
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

  /** Resolves a stage's reviewers page by page and merges the pages into one assignment. */
  async function resolveInPages(
    stage: ReviewPlan['stages'][number],
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
        scope: state.plan.scope,
        stage,
        instanceStartDateTime: state.startDateTime,
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

  const withPrincipals = (itemIds: string[]) =>
    itemIds.map((itemId) => ({ itemId, principalId: state.items.get(itemId)!.principal.id }));

  /** Item-level signals and queries: decisions, their dry run, views, and the per-item admin actions. */
  function registerItemHandlers(): void {
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
    setHandler(resetDecisionsSignal, ({ by }) => {
      if (currentStage(state)) emit({ type: 'DecisionsReset', at: now(), by });
    });
    setHandler(sendReminderSignal, ({ by }) => {
      if (currentStage(state))
        emit({ type: 'ReminderSent', at: now(), by, reviewerIds: reviewersWithPendingItems(state) });
    });
    setHandler(acceptRecommendationsSignal, ({ viewer }) => {
      for (const d of recommendationDecisions(state, viewer)) record(d, viewer.userId, 'recommendation');
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
      const stagePlan = { ...state.plan.stages[index]!, reviewers, fallbackReviewers };
      const assignment = await resolveInPages(stagePlan, withPrincipals(stage.itemIds));
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
  }

  /**
   * Snapshots the reviewees (R12), page by page; a shard keeps only its part. `first` is a first page
   * the caller already fetched (from `startDateTime` on) to decide whether to shard.
   */
  async function resolveAllReviewees(startDateTime: string, first?: ResolveRevieweesResult): Promise<void> {
    emit({ type: 'InstanceStarted', at: startDateTime, instanceId: state.instanceId, plan: state.plan });
    status();
    const partition = opts.partition && { instanceId: state.instanceId, ...opts.partition };
    let page = first;
    for (let skip = 0; ;) {
      page ??= await resolveReviewees({
        scope: state.plan.scope,
        instanceStartDateTime: state.startDateTime,
        skip,
        top: PAGE,
        partition,
      });
      const { resource, principals, errors } = page;
      emit({ type: 'RevieweesResolved', at: now(), resource, principals, errors });
      skip += principals.length;
      if (principals.length === 0 || skip >= page.total) break;
      page = undefined;
    }
    status();
  }

  /** Starts stage `index` with the reviewees that moved on to it; returns how many it holds. */
  async function openStage(index: number): Promise<number> {
    const stagePlan = state.plan.stages[index]!;
    const itemIds = index === 0 ? [...state.items.keys()] : itemsMovingOn(state, index - 1);
    const assignment = await resolveInPages(stagePlan, withPrincipals(itemIds));
    emit({ type: 'StageStarted', at: now(), stageIndex: index, itemIds, ...assignment });
    status();
    if (assignment.noReviewerItemIds.length > 0) {
      log.warn('items without any reviewer stay NotReviewed', {
        stageId: stagePlan.stageId,
        count: assignment.noReviewerItemIds.length,
      });
    }
    return itemIds.length;
  }

  function closeStage(reason: StageCompletionReason): void {
    emit({ type: 'StageCompleted', at: now(), reason });
    status();
  }

  /** R9: settles every item's final decision. */
  function complete(reason: 'allStagesCompleted' | 'stoppedByAdmin', by?: string): void {
    emit({ type: 'InstanceCompleted', at: now(), reason, by });
    status();
  }

  /** R10/R11: applies the final decisions not applied yet, in bounded concurrent batches. */
  async function apply(by: string): Promise<void> {
    emit({ type: 'ApplyStarted', at: now(), by });
    status();
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
    status();
  }

  /**
   * The state packed for continue-as-new once in-flight handlers have finished, or undefined when it is
   * too large to carry (the run then goes on; its history has room far beyond the suggestion).
   */
  async function drainForContinue(): Promise<ReviewSnapshot | undefined> {
    await condition(allHandlersFinished);
    const snapshot = snapshotState(state);
    const bytes = JSON.stringify(snapshot).length;
    if (bytes > MAX_SNAPSHOT_BYTES) {
      log.warn('state too large to continue as new; this run goes on', { bytes });
      return undefined;
    }
    return snapshot;
  }

  return {
    state,
    emit,
    registerItemHandlers,
    resolveAllReviewees,
    openStage,
    closeStage,
    complete,
    apply,
    drainForContinue,
  };
}

export type ReviewEngine = ReturnType<typeof createReviewEngine>;

/** An admin's stop-stage, stop-review and apply requests, as the main loop of an instance reads them. */
export interface AdminRequests {
  stopStageRequested: boolean;
  stopInstanceBy?: string;
  applyBy?: string;
}

/** Registers the stop-stage, stop-review and apply signals of an instance; `carried` comes over continue-as-new. */
export function handleAdminRequests(state: ReviewState, carried?: AdminRequests): AdminRequests {
  const requests: AdminRequests = {
    stopStageRequested: carried?.stopStageRequested ?? false,
    stopInstanceBy: carried?.stopInstanceBy,
    applyBy: carried?.applyBy,
  };
  setHandler(stopStageSignal, () => {
    if (currentStage(state)) requests.stopStageRequested = true;
  });
  setHandler(stopInstanceSignal, ({ by }) => {
    // Also before the reviewees are resolved (NotStarted): the API accepts a stop then, and the instance
    // ends without opening a stage.
    const running =
      state.status === 'NotStarted' || state.status === 'Initializing' || state.status === 'InProgress';
    if (running) requests.stopInstanceBy ??= by;
  });
  setHandler(applyDecisionsSignal, ({ by }) => {
    if (state.status === 'Completed') requests.applyBy ??= by;
  });
  return requests;
}

/**
 * Whether this run should hand over to a new one: Temporal suggests it (4,096 events / 4 MB), or the
 * run passed `limit` events (a lower threshold that tests set to exercise continue-as-new).
 */
export function continueAsNewDue(limit?: number): boolean {
  const info = workflowInfo();
  return info.continueAsNewSuggested || (limit !== undefined && info.historyLength >= limit);
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
