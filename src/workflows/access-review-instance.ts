import {
  allHandlersFinished,
  condition,
  continueAsNew,
  proxyActivities,
  upsertMemo,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { StageCompletionReason } from '../domain/review-events';
import { currentStage } from '../domain/review-rules';
import type { ReviewState } from '../domain/review-state';
import type { InstanceView } from '../domain/review-views';
import { instanceView } from '../domain/review-views';
import {
  definitionIdSearchAttribute,
  reviewStatusSearchAttribute,
  stageSearchAttribute,
} from '../search-attributes';
import { runCoordinator } from './review-coordinator';
import {
  continueAsNewDue,
  createReviewEngine,
  handleAdminRequests,
  now,
  PAGE,
  stageOpened,
  stopRequestedFor,
} from './review-engine';

export * from './review-messages';
import type { AccessReviewInstanceInput } from './contract';
export type { AccessReviewInstanceInput, InstanceResume } from './contract';

/** Reviewees one workflow holds at most; larger instances are split into shards of about this size. */
export const DEFAULT_SHARD_SIZE = 500;

/** Search attributes of the instance: status and current stage, so the Web UI can filter by them. */
export function statusAttributes(enabled: boolean) {
  return (state: ReviewState): void => {
    if (!enabled) return;
    const stage = currentStage(state);
    upsertSearchAttributes([
      { key: reviewStatusSearchAttribute, value: state.status },
      { key: stageSearchAttribute, value: stage?.stageId ?? 'none' },
    ]);
  };
}

const { resolveReviewees } = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '2 seconds', maximumInterval: '5 minutes', backoffCoefficient: 2 },
});

/**
 * One access review instance (R3–R11): snapshots the reviewees, runs each stage for its duration
 * (or until an admin stops it), moves reviewees on by decisionsThatWillMoveToNextStage, settles final
 * decisions and applies them. An instance of up to `shardSize` reviewees holds them itself and continues
 * as new with its packed state when its history grows long; a larger one splits them into shard
 * workflows and only runs the stage clock (see review-coordinator.ts).
 */
export async function accessReviewInstance(input: AccessReviewInstanceInput): Promise<InstanceView> {
  const indexed = input.searchAttributes ?? true;
  const onStatus = statusAttributes(indexed);
  const engine = createReviewEngine({
    instanceId: input.instanceId,
    plan: input.plan,
    resume: input.resume?.snapshot,
    onStatus,
    records: { definitionId: input.plan.definitionId, ownsInstance: true, holder: 0 },
  });
  const { state } = engine;
  const plan = state.plan;
  // Queries are answered from the first moment; a sharded instance replaces the item-level ones.
  engine.registerItemHandlers();
  const admin = handleAdminRequests(state, input.resume, engine.updates);

  upsertMemo({ displayName: plan.displayName });
  if (indexed) upsertSearchAttributes([{ key: definitionIdSearchAttribute, value: plan.definitionId }]);
  if (!input.resume) {
    const startDateTime = now();
    const shardSize = Math.max(1, input.shardSize ?? DEFAULT_SHARD_SIZE);
    const first = await resolveReviewees({
      scope: plan.scope,
      instanceStartDateTime: startDateTime,
      skip: 0,
      top: Math.min(PAGE, shardSize + 1),
    });
    if (first.total > shardSize) {
      return runCoordinator({ input, engine, startDateTime, first, shardSize, onStatus, admin });
    }
    await engine.resolveAllReviewees(startDateTime, first);
  }

  // Once a snapshot turned out too large to carry, this run goes on to the end.
  let mayContinue = true;
  const continueNow = async () => {
    const snapshot = await engine.drainForContinue();
    if (!snapshot) {
      mayContinue = false;
      return;
    }
    await continueAsNew<typeof accessReviewInstance>({
      ...input,
      resume: { snapshot, ...admin },
    });
  };
  const due = () => mayContinue && continueAsNewDue(input, engine.updates);

  // A run continued from an earlier one picks up at the first stage not yet completed.
  const resumeAt = state.stages.findIndex((s) => s.status !== 'Completed');
  for (let i = resumeAt < 0 ? state.stages.length : resumeAt; i < state.stages.length; i++) {
    const stage = state.stages[i]!;
    if (admin.stopInstanceBy) break;
    const stagePlan = plan.stages[i]!;
    if (stage.status === 'NotStarted') {
      await engine.openStage(i);
      stageOpened(admin, stagePlan.stageId);
    }
    let reason: StageCompletionReason = 'noReviewees';
    while (stage.itemIds.length > 0) {
      const end = Date.parse(stage.endDateTime!);
      // A reminder or an escalation due before the end is waited for first (runs with notifications only).
      const point = engine.nextPoint(i);
      const left = (point ? Math.min(point.at, end) : end) - Date.now();
      const woke =
        left > 0 &&
        (await condition(
          () => stopRequestedFor(admin, stagePlan.stageId) || admin.stopInstanceBy !== undefined || due(),
          left,
          {
            summary: point
              ? `stage ${stagePlan.stageId} ${point.kind} (${point.key})`
              : `stage ${stagePlan.stageId} ends`,
          },
        ));
      if (admin.stopInstanceBy !== undefined) reason = 'instanceStopped';
      else if (stopRequestedFor(admin, stagePlan.stageId)) reason = 'stoppedByAdmin';
      else if (woke) {
        await continueNow();
        continue;
      } else if (point) {
        await engine.reachPoint(i, point);
        continue;
      } else reason = 'durationElapsed';
      break;
    }
    engine.closeStage(reason);
  }
  if (state.status === 'InProgress') {
    engine.complete(admin.stopInstanceBy ? 'stoppedByAdmin' : 'allStagesCompleted', admin.stopInstanceBy);
  }
  while (!plan.settings.autoApplyDecisionsEnabled && admin.applyBy === undefined) {
    await condition(() => admin.applyBy !== undefined || due());
    if (admin.applyBy === undefined) await continueNow();
  }
  if (state.status === 'Completed') await engine.apply(admin.applyBy ?? 'system');
  await condition(allHandlersFinished);
  await engine.settled();
  return instanceView(state);
}
