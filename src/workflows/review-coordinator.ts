import type { ChildWorkflowHandle } from '@temporalio/workflow';
import {
  allHandlersFinished,
  condition,
  getExternalWorkflowHandle,
  patched,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { ResolveRevieweesResult } from '../activities/resolve';
import { shardWorkflowId } from '../domain/ids';
import type { StageCompletionReason } from '../domain/review-events';
import { DAY_MS } from '../domain/review-plan';
import { currentStage } from '../domain/review-rules';
import type { StagePoint } from '../domain/review-schedule';
import type { ReviewState } from '../domain/review-state';
import type { InstanceView } from '../domain/review-views';
import { instanceView } from '../domain/review-views';
import { definitionIdSearchAttribute } from '../search-attributes';
import type { AccessReviewInstanceInput } from './contract';
import { accessReviewShard } from './access-review-shard';
import type { AdminRequests, ReviewEngine } from './review-engine';
import { checkReviewersChange, now, stageOpened, stopRequestedFor } from './review-engine';
import type {
  AdminUpdateInput,
  Deadline,
  ShardCommand,
  ShardProgress,
  ShardStep,
  UpdateReviewersPayload,
} from './review-messages';
import {
  acceptRecommendationsSignal,
  instanceQuery,
  resetDecisionsSignal,
  resetDecisionsUpdate,
  sendReminderSignal,
  sendReminderUpdate,
  shardCommandSignal,
  shardProgressSignal,
  updateReviewersSignal,
  updateReviewersUpdate,
} from './review-messages';
import { recipientsOf } from './review-notifications';
import { requireStage } from './review-updates';

/**
 * At most this many shards: the instance records about 22 history events per shard for three stages (35 in
 * runs without combined steps), so 250 keep it well under Temporal's 10,240-event warning. Reviews beyond
 * 250 × shard size get proportionally larger shards.
 */
export const MAX_SHARDS = 250;

/** Marks instance runs that send a stage transition to the shards as one command (see `send`). */
const COMBINED_STEPS_PATCH = 'combined-shard-steps';

export interface CoordinatorContext {
  input: AccessReviewInstanceInput;
  /** The instance's engine: it holds no items here, only the statuses and stage times. */
  engine: ReviewEngine;
  startDateTime: string;
  first: ResolveRevieweesResult;
  shardSize: number;
  onStatus: (state: ReviewState) => void;
  /** The instance's stop-stage, stop-review and apply requests, registered before it knew it would shard. */
  admin: AdminRequests;
}

/**
 * A large review instance: its reviewees are split by decision item id into shard workflows
 * (`<instance id>/shard-<n>`), and the instance keeps only the stage clock and the admin signals. Each
 * step — open a stage, close it, complete, apply — is a numbered command to every shard; the instance
 * moves on when every shard has reported that step done, so all shards are always in the same stage.
 * Admin actions on items (reset, reminders, recommendations, reviewer changes) are passed on to every
 * shard; reviewers' decisions go to the shards directly.
 */
export async function runCoordinator(ctx: CoordinatorContext): Promise<InstanceView> {
  const { input, engine, startDateTime, first, onStatus, admin } = ctx;
  const { state, emit } = engine;
  const plan = state.plan;
  const indexed = input.searchAttributes ?? true;
  const count = Math.min(MAX_SHARDS, Math.ceil(first.total / ctx.shardSize));
  const selfId = workflowInfo().workflowId;
  const shardIds = Array.from({ length: count }, (_, k) => shardWorkflowId(selfId, k));
  const progress: (ShardProgress | undefined)[] = Array.from({ length: count }, () => undefined);
  const noReviewerByStage: number[] = [];
  let seq = 0;

  const sum = (pick: (p: ShardProgress) => number) => progress.reduce((n, p) => n + (p ? pick(p) : 0), 0);
  const view = (): InstanceView => {
    const base = instanceView(state);
    const counts = { ...base.counts };
    for (const key of Object.keys(counts) as (keyof typeof counts)[]) counts[key] = sum((p) => p.counts[key]);
    return {
      ...base,
      counts,
      stages: base.stages.map((s, i) => ({ ...s, noReviewerCount: noReviewerByStage[i] ?? 0 })),
      shards: count,
    };
  };
  engine.instanceViewFrom(view);

  const toShards = async <T>(send: (id: string) => Promise<T>) => {
    await Promise.all(shardIds.map(send));
  };
  // Admin actions accepted by an Update and being passed on to the shards: a command waits for them, so
  // every shard sees an action before the stage it was accepted for closes.
  let forwarding = 0;
  const forward = async (send: (id: string) => Promise<void>) => {
    forwarding++;
    try {
      await toShards(send);
    } finally {
      forwarding--;
    }
  };
  // What the shards reported for a command that tells reviewers something, added up: items per reviewer.
  const tallies = new Map<number, Record<string, number>>();
  /** Sends one command to every shard and waits until all did it; returns the shards' tallies added up. */
  const command = async (step: ShardStep, then?: ShardStep[]): Promise<Record<string, number>> => {
    if (forwarding > 0) await condition(() => forwarding === 0);
    const next: ShardCommand = { ...step, seq: ++seq, ...(then?.length ? { then } : {}) };
    await toShards((id) => getExternalWorkflowHandle(id).signal(shardCommandSignal, next));
    await condition(() => progress.every((p) => p !== undefined && p.seq >= next.seq));
    const tally = tallies.get(next.seq) ?? {};
    tallies.delete(next.seq);
    return tally;
  };
  // Steps that need no answer from the shards (close a stage, complete) ride along with the next step
  // that does: one command per stage transition instead of two, halving the signals between the instance
  // and its shards. Runs started before this was introduced send every step alone, as they did.
  const combine = patched(COMBINED_STEPS_PATCH);
  const queued: ShardStep[] = [];
  /** Sends the queued steps and `step` to every shard as one command and waits until all did them. */
  const send = async (step: ShardStep): Promise<Record<string, number>> => {
    if (!combine) return command(step);
    const [head, ...rest] = [...queued.splice(0), step];
    return command(head, rest);
  };
  /** A step the shards run with the next `send`. */
  const queue = async (step: ShardStep): Promise<void> => {
    if (!combine) {
      await command(step);
      return;
    }
    queued.push(step);
  };

  setHandler(instanceQuery, view);
  setHandler(shardProgressSignal, (p) => {
    if ((progress[p.shard]?.seq ?? -1) >= p.seq) return;
    progress[p.shard] = p;
    if (p.tally) {
      const sum = tallies.get(p.seq) ?? {};
      for (const [id, n] of Object.entries(p.tally)) sum[id] = (sum[id] ?? 0) + n;
      tallies.set(p.seq, sum);
    }
  });
  setHandler(resetDecisionsSignal, async (payload) => {
    if (currentStage(state))
      await toShards((id) => getExternalWorkflowHandle(id).signal(resetDecisionsSignal, payload));
  });
  setHandler(sendReminderSignal, async (payload) => {
    if (!currentStage(state)) return;
    // Each shard records whom it reminded; the instance keeps when and by whom.
    emit({ type: 'ReminderSent', at: now(), by: payload.by, reviewerIds: [] });
    await toShards((id) => getExternalWorkflowHandle(id).signal(sendReminderSignal, payload));
  });
  setHandler(acceptRecommendationsSignal, async (payload) => {
    if (currentStage(state))
      await toShards((id) => getExternalWorkflowHandle(id).signal(acceptRecommendationsSignal, payload));
  });
  /** The instance records a reviewers change (its shards resolve the reviewers of their items). */
  const reviewersChanged = (update: UpdateReviewersPayload) => {
    const { by, stageId, reviewers, fallbackReviewers, scopes } = update;
    const stageIndex = state.stages.findIndex((s) => s.stageId === stageId);
    emit({ type: 'StageReviewersChanged', at: now(), by, stageIndex, reviewers, fallbackReviewers, scopes });
  };
  setHandler(updateReviewersSignal, async (update) => {
    const stage = state.stages.find((s) => s.stageId === update.stageId);
    if (!stage || stage.status === 'Completed') return;
    reviewersChanged(update);
    await toShards((id) => getExternalWorkflowHandle(id).signal(updateReviewersSignal, update));
  });

  // Updates: accepted for the stage in progress here, then passed on to every shard naming that stage.
  const stageAction = (signal: typeof resetDecisionsSignal, record?: (by: string) => void) =>
    [
      async ({ by }: AdminUpdateInput) => {
        engine.updates.accepted++;
        const stageId = currentStage(state)!.stageId;
        record?.(by);
        await forward((id) => getExternalWorkflowHandle(id).signal(signal, { by, stageId }));
      },
      { validator: (input: AdminUpdateInput) => requireStage(state, input) },
    ] as const;
  setHandler(resetDecisionsUpdate, ...stageAction(resetDecisionsSignal));
  // Each shard records whom it reminded; the instance keeps when and by whom. With notifications, the
  // reminder is a command, so the instance hears back how many items each reviewer has and sends one
  // message per reviewer.
  const forwardedReminder = stageAction(sendReminderSignal, (by) =>
    emit({ type: 'ReminderSent', at: now(), by, reviewerIds: [] }),
  );
  setHandler(
    sendReminderUpdate,
    engine.notifying
      ? async ({ by }: AdminUpdateInput) => {
          engine.updates.accepted++;
          const stage = currentStage(state)!;
          const point = `manual-${state.reminders.length + 1}`;
          const tally = await command({ kind: 'remind', point, by, scheduled: false });
          emit({ type: 'ReminderSent', at: now(), by, reviewerIds: Object.keys(tally) });
          engine.notifier.notify({
            kind: 'reminder',
            stageIndex: stage.index,
            suffix: point,
            recipients: recipientsOf(tally),
          });
        }
      : forwardedReminder[0],
    forwardedReminder[1],
  );
  setHandler(
    updateReviewersUpdate,
    async (update) => {
      engine.updates.accepted++;
      const { notAfter: _notAfter, ...payload } = update;
      reviewersChanged(payload);
      await forward((id) => getExternalWorkflowHandle(id).signal(updateReviewersSignal, payload));
    },
    { validator: (update: UpdateReviewersPayload & Deadline) => checkReviewersChange(state, update) },
  );

  /** A scheduled reminder or escalation: the shards act on their items, the instance sends the messages. */
  const reachPoint = async (index: number, point: StagePoint): Promise<void> => {
    if (point.kind === 'reminder') {
      const tally = await command({ kind: 'remind', point: point.key, by: 'system', scheduled: true });
      emit({
        type: 'ReminderSent',
        at: now(),
        by: 'system',
        reviewerIds: Object.keys(tally),
        point: point.key,
      });
      engine.notifier.notify({
        kind: 'reminder',
        stageIndex: index,
        suffix: point.key,
        recipients: recipientsOf(tally),
      });
      return;
    }
    const tally = await command({ kind: 'escalate', stageIndex: index });
    const to = plan.stages[index]?.escalation?.to ?? 'managers';
    emit({ type: 'ReviewersEscalated', at: now(), stageIndex: index, added: {}, people: {}, to });
    engine.notifier.notify({ kind: 'escalation', stageIndex: index, recipients: recipientsOf(tally) });
  };

  emit({ type: 'InstanceStarted', at: startDateTime, instanceId: state.instanceId, plan });
  onStatus(state);
  const children: ChildWorkflowHandle<typeof accessReviewShard>[] = await Promise.all(
    shardIds.map((workflowId, shard) =>
      startChild(accessReviewShard, {
        workflowId,
        args: [
          {
            instanceId: state.instanceId,
            plan,
            coordinatorId: selfId,
            shard,
            count,
            startDateTime,
            continueAsNewAfterEvents: input.continueAsNewAfterEvents,
            continueAsNewAfterUpdates: input.continueAsNewAfterUpdates,
          },
        ],
        memo: { displayName: `${plan.displayName} — shard ${shard + 1} of ${count}` },
        typedSearchAttributes: indexed
          ? [{ key: definitionIdSearchAttribute, value: plan.definitionId }]
          : [],
      }),
    ),
  );
  await condition(() => progress.every((p) => p !== undefined));
  emit({
    type: 'RevieweesResolved',
    at: now(),
    resource: progress[0]?.resource ?? first.resource,
    principals: [],
    errors: progress[0]?.errors ?? first.errors,
  });
  onStatus(state);

  for (let i = 0; i < plan.stages.length && !admin.stopInstanceBy; i++) {
    const stagePlan = plan.stages[i]!;
    const opened = await send({ kind: 'openStage', stageIndex: i });
    noReviewerByStage[i] = sum((p) => p.noReviewer);
    emit({
      type: 'StageStarted',
      at: now(),
      stageIndex: i,
      itemIds: [],
      sharedReviewerIds: [],
      reviewersByItem: {},
      noReviewerItemIds: [],
      recommendations: {},
      people: {},
    });
    onStatus(state);
    stageOpened(admin, stagePlan.stageId);
    engine.notifier.notify({ kind: 'stageStarted', stageIndex: i, recipients: recipientsOf(opened) });
    let reason: StageCompletionReason = 'noReviewees';
    const stopNow = () => stopRequestedFor(admin, stagePlan.stageId) || admin.stopInstanceBy !== undefined;
    const stoppedReason = () => (admin.stopInstanceBy !== undefined ? 'instanceStopped' : 'stoppedByAdmin');
    if (sum((p) => p.stageItems) > 0 && !engine.notifying) {
      const stopped = await condition(stopNow, stagePlan.durationInDays * DAY_MS, {
        summary: `stage ${stagePlan.stageId} ends`,
      });
      reason = stopped ? stoppedReason() : 'durationElapsed';
    } else if (sum((p) => p.stageItems) > 0) {
      // Reminders and the escalation on the way to the end: each a command, one message per reviewer.
      const end = Date.parse(state.stages[i]!.endDateTime!);
      for (;;) {
        const point = engine.nextPoint(i);
        const left = (point ? point.at : end) - Date.now();
        const stopped =
          left > 0 &&
          (await condition(stopNow, left, {
            summary: point
              ? `stage ${stagePlan.stageId} ${point.kind} (${point.key})`
              : `stage ${stagePlan.stageId} ends`,
          }));
        if (stopped || stopNow()) {
          reason = stoppedReason();
          break;
        }
        if (!point) {
          reason = 'durationElapsed';
          break;
        }
        await reachPoint(i, point);
      }
    }
    // Sent with the next stage's opening (or the completion): nothing is awaited in between.
    await queue({ kind: 'closeStage', reason });
    emit({ type: 'StageCompleted', at: now(), reason });
    onStatus(state);
  }
  const reason = admin.stopInstanceBy ? 'stoppedByAdmin' : 'allStagesCompleted';
  const complete: ShardStep = { kind: 'complete', reason, by: admin.stopInstanceBy };
  // With automatic apply, completing and applying go to the shards together.
  await (plan.settings.autoApplyDecisionsEnabled ? queue(complete) : send(complete));
  emit({ type: 'InstanceCompleted', at: now(), reason, by: admin.stopInstanceBy });
  onStatus(state);
  if (engine.notifying) engine.notifyCompleted(view().counts);

  if (!plan.settings.autoApplyDecisionsEnabled) await condition(() => admin.applyBy !== undefined);
  const by = admin.applyBy ?? 'system';
  emit({ type: 'ApplyStarted', at: now(), by });
  onStatus(state);
  await send({ kind: 'apply', by });
  await Promise.all(children.map((c) => c.result()));
  emit({ type: 'ApplyCompleted', at: now() });
  onStatus(state);
  await condition(allHandlersFinished);
  await engine.settled();
  return view();
}
