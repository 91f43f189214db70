import {
  allHandlersFinished,
  condition,
  log,
  ParentClosePolicy,
  patched,
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
  Person,
  ReviewEvent,
  StageAssignment,
  StageCompletionReason,
} from '../domain/review-events';
import type { ReviewPlan } from '../domain/review-plan';
import type { DecisionRequest, Viewer } from '../domain/review-rules';
import {
  checkDecision,
  currentStage,
  itemsMovingOn,
  pendingByReviewer,
  planDecisions,
  planReassign,
  planRecommendations,
  recommendationDecisions,
  reviewersOf,
} from '../domain/review-rules';
import type { StagePoint } from '../domain/review-schedule';
import { nextStagePoint } from '../domain/review-schedule';
import type { ReviewSnapshot } from '../domain/review-snapshot';
import { restoreState, snapshotState } from '../domain/review-snapshot';
import type { ReviewState } from '../domain/review-state';
import { evolve, initialState } from '../domain/review-state';
import { contactedReviewers, getDecision, instanceView, listDecisions } from '../domain/review-views';
import { guestDeletion } from './guest-deletion';
import type {
  AdminUpdateInput,
  Deadline,
  ForwardedActionPayload,
  ReassignInput,
  RecordDecisionsInput,
  UpdateReviewersPayload,
} from './review-messages';
import {
  acceptRecommendationsSignal,
  acceptRecommendationsUpdate,
  applyDecisionsSignal,
  applyDecisionsUpdate,
  checkDecisionsQuery,
  contactedReviewersQuery,
  decisionQuery,
  decisionsQuery,
  instanceQuery,
  payloadsOf,
  reassignDecisionsUpdate,
  recordDecisionsSignal,
  recordDecisionsUpdate,
  resetDecisionsSignal,
  resetDecisionsUpdate,
  reviewerQuery,
  sendReminderSignal,
  sendReminderUpdate,
  stopInstanceSignal,
  stopReviewUpdate,
  stopStageSignal,
  stopStageUpdate,
  updateReviewersSignal,
  recordsQuery,
  republishRecordsSignal,
  updateReviewersUpdate,
} from './review-messages';
import type { RecordsOptions } from './review-records';
import { backfillPublisherFor, recordPublisherFor } from './review-records';
import { createNotifier, NOTIFICATIONS_PATCH, recipientsOf } from './review-notifications';
import { checkDeadline, MAX_UPDATES_PER_RUN, outcomeOf, refuse, requireStage } from './review-updates';

const { resolveReviewees, resolveStageReviewers, resolveEscalation } = proxyActivities<Activities>({
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
  /** Where this workflow's records go (see review-records.ts); kept only by runs that have the patch. */
  records?: RecordsOptions;
}

/**
 * The decision items of a review and everything that acts on them, shared by an instance that holds
 * its items itself and by the shards of a large instance: state as a fold of review events, the
 * item-level signal and query handlers, and the steps a stage goes through. Who decides *when* a step
 * happens (stage timers, admin signals, the sharded instance's commands) is the caller's business.
 */
export function createReviewEngine(opts: EngineOptions) {
  /** Updates this run accepted (see MAX_UPDATES_PER_RUN). */
  const updates = { accepted: 0 };
  const state: ReviewState = opts.resume
    ? restoreState(opts.resume)
    : initialState(opts.instanceId, opts.plan, now());
  let records = recordPublisherFor(state, opts.records);
  if (records) void records.run();
  let viewOfInstance: Parameters<NonNullable<typeof records>['instanceViewFrom']>[0] | undefined;
  setHandler(republishRecordsSignal, () => {
    if (!records) {
      records = backfillPublisherFor(state, opts.records);
      if (!records) return;
      if (viewOfInstance) records.instanceViewFrom(viewOfInstance);
      void records.run();
    }
    records.republish();
  });
  setHandler(recordsQuery, () => ({ eventCount: state.eventCount, recorded: records?.published() ?? null }));
  const emit = (event: ReviewEvent) => {
    evolve(state, event);
    records?.touched(event);
  };
  // Runs from before notifications existed send none and keep their stage timers as they were.
  const notifying = patched(NOTIFICATIONS_PATCH);
  const notifier = createNotifier(state, emit, notifying);
  /** The instance tells reviewers of stages, reminders and escalations; a shard leaves that to its instance. */
  const tellsReviewers = notifying && !opts.partition;
  /** An Update's decisions are in the records before it answers (bounded), so a read after a 2xx shows them. */
  const recorded = async () => {
    await records?.recorded();
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
      if (part.excludedByItem) merged.excludedByItem = { ...merged.excludedByItem, ...part.excludedByItem };
      if (part.delegations) merged.delegations = { ...merged.delegations, ...part.delegations };
    }
    merged.sharedReviewerIds = [...shared];
    return merged;
  }

  const withPrincipals = (itemIds: string[]) =>
    itemIds.map((itemId) => ({ itemId, principalId: state.items.get(itemId)!.principal.id }));

  /** A stage's reviewers changed (PUT instance / PATCH stage): a running stage's are resolved again. */
  async function changeReviewers(update: UpdateReviewersPayload): Promise<void> {
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
  }

  /** Whether a forwarded admin action still applies: its stage (when named) is the one in progress. */
  const forStage = (payload: ForwardedActionPayload) => {
    const stage = currentStage(state);
    return stage !== undefined && (payload.stageId === undefined || payload.stageId === stage.stageId);
  };
  const reset = (by: string) => emit({ type: 'DecisionsReset', at: now(), by });
  /** Reminds the reviewers with undecided items (`point`: a scheduled reminder); returns their items per reviewer. */
  const remind = (by: string, point?: string): Record<string, number> => {
    const tally = pendingByReviewer(state);
    const stage = currentStage(state);
    emit({
      type: 'ReminderSent',
      at: now(),
      by,
      reviewerIds: Object.keys(tally),
      ...(point ? { point } : {}),
    });
    if (tellsReviewers && stage) {
      notifier.notify({
        kind: 'reminder',
        stageIndex: stage.index,
        suffix: point ?? `manual-${state.reminders.length}`,
        recipients: recipientsOf(tally),
      });
    }
    return tally;
  };

  /**
   * Escalation of stage `index`: its undecided items get their reviewers' managers (or the fallback
   * reviewers) as reviewers too; returns the items each added reviewer got.
   */
  async function escalate(index: number): Promise<Record<string, number>> {
    const stage = state.stages[index]!;
    const stagePlan = state.plan.stages[index]!;
    const to = stagePlan.escalation?.to ?? 'managers';
    const undecided = stage.itemIds
      .filter((id) => !state.items.get(id)?.stageDecisions[index])
      .map((itemId) => ({
        itemId,
        principalId: state.items.get(itemId)!.principal.id,
        reviewerIds: reviewersOf(stage, itemId),
      }));
    const added: Record<string, string[]> = {};
    const people: Record<string, Person> = {};
    for (let start = 0; start < undecided.length && stagePlan.escalation; start += PAGE) {
      const part = await resolveEscalation({
        stage: stagePlan,
        to,
        items: undecided.slice(start, start + PAGE),
      });
      Object.assign(added, part.added);
      Object.assign(people, part.people);
    }
    // The stage may have ended while the new reviewers were being resolved.
    if (stage.status !== 'InProgress') return {};
    emit({ type: 'ReviewersEscalated', at: now(), stageIndex: index, added, people, to });
    const tally: Record<string, number> = {};
    for (const ids of Object.values(added)) for (const id of ids) tally[id] = (tally[id] ?? 0) + 1;
    if (tellsReviewers) {
      const from = [...new Set(undecided.flatMap((u) => u.reviewerIds))]
        .slice(0, 3)
        .map((id) => state.people[id]?.displayName ?? id);
      notifier.notify({
        kind: 'escalation',
        stageIndex: index,
        recipients: recipientsOf(tally, { fromName: from.join(', ') || undefined }),
      });
    }
    return tally;
  }

  /** Acts on a stage's scheduled point (a reminder, or the escalation); returns the tally for the instance. */
  async function reachPoint(
    index: number,
    point: Pick<StagePoint, 'key' | 'kind'>,
  ): Promise<Record<string, number>> {
    if (point.kind === 'escalation') return escalate(index);
    return remind('system', point.key);
  }

  /** The next scheduled point of stage `index` (none in runs from before notifications). */
  const nextPoint = (index: number): StagePoint | undefined => {
    const stage = state.stages[index];
    if (!notifying || !stage?.startDateTime || stage.status !== 'InProgress') return undefined;
    return nextStagePoint(state.plan, index, stage.startDateTime, stage.pointsDone ?? []);
  };

  /** Item-level Updates, signals and queries: decisions, views, and the per-item admin actions. */
  function registerItemHandlers(): void {
    setHandler(
      recordDecisionsUpdate,
      async ({ requests }) => {
        updates.accepted++;
        const outcomes = requests.map((request) => {
          const plan = planDecisions(state, request);
          if (plan.ok) for (const d of plan.decisions) record(d, request.reviewerId, 'reviewer');
          return outcomeOf(plan);
        });
        await recorded();
        return outcomes;
      },
      {
        validator: (input: RecordDecisionsInput) => {
          checkDeadline(input);
          const outcomes = input.requests.map((r) => outcomeOf(planDecisions(state, r)));
          const first = outcomes.find((o) => !o.ok);
          // Refused whole (no history event) only when nothing in it would be recorded.
          if (first && outcomes.every((o) => !o.ok)) refuse(first.violation, outcomes);
        },
      },
    );
    setHandler(
      acceptRecommendationsUpdate,
      async ({ viewer, stageId }) => {
        updates.accepted++;
        const plan = planRecommendations(state, viewer, stageId);
        if (plan.ok) for (const d of plan.decisions) record(d, viewer.userId, 'recommendation');
        await recorded();
        return outcomeOf(plan);
      },
      {
        validator: (input: { viewer: Viewer; stageId?: string } & Deadline) => {
          checkDeadline(input);
          const plan = planRecommendations(state, input.viewer, input.stageId);
          if (!plan.ok) refuse(plan.violation);
        },
      },
    );
    const stageAction = (act: (by: string) => void) =>
      [
        async ({ by }: { by: string }) => {
          updates.accepted++;
          act(by);
          await recorded();
        },
        { validator: (input: AdminUpdateInput) => requireStage(state, input) },
      ] as const;
    setHandler(resetDecisionsUpdate, ...stageAction(reset));
    setHandler(sendReminderUpdate, ...stageAction(remind));
    setHandler(
      updateReviewersUpdate,
      async (update) => {
        updates.accepted++;
        await changeReviewers(update);
        await recorded();
      },
      { validator: (update: UpdateReviewersPayload & Deadline) => checkReviewersChange(state, update) },
    );
    setHandler(
      reassignDecisionsUpdate,
      async (input) => {
        updates.accepted++;
        const plan = planReassign(state, input);
        if (!plan.ok) refuse(plan.violation);
        const by = input.viewer.userId;
        emit({
          type: 'ItemsReassigned',
          at: now(),
          by,
          stageIndex: plan.stageIndex,
          itemIds: plan.itemIds,
          fromReviewerId: input.fromReviewerId,
          toReviewerId: input.toReviewerId,
          justification: input.justification,
          people: input.people,
        });
        notifier.notify({
          kind: 'reassigned',
          stageIndex: plan.stageIndex,
          suffix: `${opts.partition?.shard ?? 0}-${state.eventCount}`,
          recipients: [
            {
              userId: input.toReviewerId,
              itemCount: plan.itemIds.length,
              fromName: state.people[by]?.displayName ?? by,
              reason: input.justification,
              principalNames: plan.itemIds
                .slice(0, 25)
                .map((id) => state.items.get(id)!.principal.displayName),
            },
          ],
        });
        await recorded();
        return { ok: true as const, stageId: plan.stageId, reassigned: plan.itemIds.length };
      },
      {
        validator: (input: ReassignInput) => {
          checkDeadline(input);
          const plan = planReassign(state, input);
          if (!plan.ok) refuse(plan.violation);
        },
      },
    );
    // Signals: what reviews received before Updates were used, and what a sharded instance forwards.
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
    setHandler(resetDecisionsSignal, (payload) => {
      if (forStage(payload)) reset(payload.by);
    });
    setHandler(sendReminderSignal, (payload) => {
      if (forStage(payload)) remind(payload.by);
    });
    setHandler(acceptRecommendationsSignal, ({ viewer }) => {
      for (const d of recommendationDecisions(state, viewer)) record(d, viewer.userId, 'recommendation');
    });
    setHandler(updateReviewersSignal, changeReviewers);
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
    handOverDelegated(index, assignment);
    status();
    if (tellsReviewers) {
      notifier.notify({
        kind: 'stageStarted',
        stageIndex: index,
        recipients: recipientsOf(pendingByReviewer(state)),
      });
    }
    if (assignment.noReviewerItemIds.length > 0) {
      log.warn('items without any reviewer stay NotReviewed', {
        stageId: stagePlan.stageId,
        count: assignment.noReviewerItemIds.length,
      });
    }
    return itemIds.length;
  }

  /**
   * Out of office: the items of a reviewer who delegated go to the delegate for this stage, kept in each
   * item's reassignments; an item of the delegate's own access stays with the reviewer.
   */
  function handOverDelegated(index: number, assignment: StageAssignment): void {
    const stage = state.stages[index]!;
    for (const [userId, d] of Object.entries(assignment.delegations ?? {})) {
      const itemIds = stage.itemIds.filter(
        (id) => reviewersOf(stage, id).includes(userId) && state.items.get(id)?.principal.id !== d.delegateId,
      );
      if (itemIds.length === 0) continue;
      emit({
        type: 'ItemsReassigned',
        at: now(),
        by: userId,
        stageIndex: index,
        itemIds,
        fromReviewerId: userId,
        toReviewerId: d.delegateId,
        justification: `Out of office until ${d.endDateTime}${d.justification ? `: ${d.justification}` : ''}`,
        people: {},
      });
    }
  }

  function closeStage(reason: StageCompletionReason): void {
    emit({ type: 'StageCompleted', at: now(), reason });
    status();
  }

  /** R9: settles every item's final decision. */
  function complete(reason: 'allStagesCompleted' | 'stoppedByAdmin', by?: string): void {
    emit({ type: 'InstanceCompleted', at: now(), reason, by });
    status();
    if (tellsReviewers) notifyCompleted(instanceView(state).counts);
  }

  /** The end-of-review notice to the additional recipients, with the final decisions by value. */
  function notifyCompleted(counts: ReturnType<typeof instanceView>['counts']): void {
    const additional = state.plan.settings.additionalNotificationRecipients;
    if (!additional?.length) return;
    notifier.notify({
      kind: 'reviewCompleted',
      stageIndex: null,
      recipients: [],
      additional,
      summary: {
        approved: counts.Approve,
        denied: counts.Deny,
        dontKnow: counts.DontKnow,
        notReviewed: counts.NotReviewed,
      },
    });
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
    await notifier.idle();
    await settled();
    const snapshot = snapshotState(state);
    const bytes = JSON.stringify(snapshot).length;
    if (bytes > MAX_SNAPSHOT_BYTES) {
      log.warn('state too large to continue as new; this run goes on', { bytes });
      return undefined;
    }
    return snapshot;
  }

  /** Everything emitted is in the records (before the workflow ends or continues as new). */
  async function settled(): Promise<void> {
    await notifier.idle();
    await records?.settled();
  }

  return {
    state,
    updates,
    emit,
    settled,
    /** A sharded instance's view (its counts come from the shards) is what its records show. */
    instanceViewFrom(view: NonNullable<typeof viewOfInstance>): void {
      viewOfInstance = view;
      records?.instanceViewFrom(view);
    },
    notifier,
    /** Whether this run sends notifications and keeps stage points (the NOTIFICATIONS_PATCH marker). */
    notifying,
    notifyCompleted,
    remind,
    reachPoint,
    nextPoint,
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
  /** The stage a stop-stage Update named (stop-stage signals name none: they stop the current stage). */
  stopStageId?: string;
  stopInstanceBy?: string;
  applyBy?: string;
}

/** Whether a stop of stage `stageId` was requested. */
export const stopRequestedFor = (requests: AdminRequests, stageId: string): boolean =>
  requests.stopStageRequested && (requests.stopStageId ?? stageId) === stageId;

/** A stage has just opened: stop requests for earlier stages are done with, one for this stage stays. */
export function stageOpened(requests: AdminRequests, stageId: string): void {
  if (requests.stopStageId !== stageId) requests.stopStageRequested = false;
}

const running = (state: ReviewState) =>
  state.status === 'NotStarted' || state.status === 'Initializing' || state.status === 'InProgress';

/**
 * Registers the stop-stage, stop-review and apply Updates and signals of an instance; `carried` comes over
 * continue-as-new, `updates` counts the Updates the run accepted.
 */
export function handleAdminRequests(
  state: ReviewState,
  carried: AdminRequests | undefined,
  updates: { accepted: number },
): AdminRequests {
  const requests: AdminRequests = {
    stopStageRequested: carried?.stopStageRequested ?? false,
    stopStageId: carried?.stopStageId,
    stopInstanceBy: carried?.stopInstanceBy,
    applyBy: carried?.applyBy,
  };
  setHandler(
    stopStageUpdate,
    ({ stageId }) => {
      updates.accepted++;
      requests.stopStageRequested = true;
      requests.stopStageId = stageId;
    },
    { validator: (input: AdminUpdateInput) => requireStage(state, input) },
  );
  setHandler(
    stopReviewUpdate,
    ({ by }) => {
      updates.accepted++;
      requests.stopInstanceBy ??= by;
    },
    {
      validator: (input: AdminUpdateInput) => {
        checkDeadline(input);
        if (!running(state)) {
          refuse({
            code: 'review.instance_not_in_progress',
            status: 409,
            message: `The review is already ${state.status}`,
          });
        }
      },
    },
  );
  setHandler(
    applyDecisionsUpdate,
    ({ by }) => {
      updates.accepted++;
      requests.applyBy ??= by;
    },
    {
      validator: (input: AdminUpdateInput) => {
        checkDeadline(input);
        if (state.status !== 'Completed' || requests.applyBy !== undefined) {
          const status = state.status === 'Completed' ? 'Applying' : state.status;
          refuse({
            code: 'review.instance_not_completed',
            status: 409,
            message: `Decisions can only be applied to a Completed review; it is ${status}`,
          });
        }
      },
    },
  );
  setHandler(stopStageSignal, () => {
    if (currentStage(state)) requests.stopStageRequested = true;
  });
  setHandler(stopInstanceSignal, ({ by }) => {
    // Also before the reviewees are resolved (NotStarted): the API accepts a stop then, and the instance
    // ends without opening a stage.
    if (running(state)) requests.stopInstanceBy ??= by;
  });
  setHandler(applyDecisionsSignal, ({ by }) => {
    if (state.status === 'Completed') requests.applyBy ??= by;
  });
  return requests;
}

/** Validator of a reviewers change: the review runs and the stage is not over (404/409 otherwise). */
export function checkReviewersChange(
  state: ReviewState,
  update: UpdateReviewersPayload & { notAfter?: string },
) {
  checkDeadline(update);
  if (state.status !== 'InProgress') {
    refuse({
      code: 'review.instance_not_in_progress',
      status: 409,
      message: `Reviewers can only change while the review is InProgress; it is ${state.status}`,
    });
  }
  const stage = state.stages.find((s) => s.stageId === update.stageId);
  if (!stage)
    refuse({ code: 'stage.not_found', status: 404, message: `Stage '${update.stageId}' not found` });
  if (stage.status === 'Completed') {
    refuse({
      code: 'review.stage_completed',
      status: 409,
      message: `Stage '${stage.stageId}' is Completed; its reviewers can no longer change`,
    });
  }
}

/**
 * Whether this run should hand over to a new one: Temporal suggests it (4,096 events / 4 MB), the run
 * accepted MAX_UPDATES_PER_RUN Updates, or it passed the lower limits tests set to exercise continue-as-new.
 */
export function continueAsNewDue(
  limits: { continueAsNewAfterEvents?: number; continueAsNewAfterUpdates?: number },
  updates: { accepted: number },
): boolean {
  const info = workflowInfo();
  const events = limits.continueAsNewAfterEvents;
  return (
    info.continueAsNewSuggested ||
    updates.accepted >= (limits.continueAsNewAfterUpdates ?? MAX_UPDATES_PER_RUN) ||
    (events !== undefined && info.historyLength >= events)
  );
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
