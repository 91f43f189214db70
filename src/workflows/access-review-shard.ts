import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  setHandler,
} from '@temporalio/workflow';
import type { ReviewPlan } from '../domain/review-plan';
import type { ReviewSnapshot } from '../domain/review-snapshot';
import { currentStage, pendingByReviewer } from '../domain/review-rules';
import { instanceView } from '../domain/review-views';
import { continueAsNewDue, createReviewEngine } from './review-engine';
import type { ShardCommand, ShardProgress, ShardStep } from './review-messages';
import { shardCommandSignal, shardProgressSignal } from './review-messages';

/** Input of one shard of a large review instance. */
export interface AccessReviewShardInput {
  instanceId: string;
  plan: ReviewPlan;
  /** Workflow id of the instance that runs the stage clock and sends the commands. */
  coordinatorId: string;
  shard: number;
  count: number;
  /** The instance's start: the reference time of inactivity scopes and recommendations. */
  startDateTime: string;
  /** See AccessReviewInstanceInput.continueAsNewAfterEvents and continueAsNewAfterUpdates. */
  continueAsNewAfterEvents?: number;
  continueAsNewAfterUpdates?: number;
  /** Carried over continue-as-new: the packed state, commands not yet run, the last one run. */
  resume?: { snapshot: ReviewSnapshot; commands: ShardCommand[]; done: number };
}

/**
 * One shard of a large review instance: the decision items of the reviewees whose item id falls in this
 * shard (see shardOf). Reviewers' decisions and the item-level queries come here directly; stage changes,
 * completion and apply come as commands from the instance, which hears back after each one. Commands
 * run strictly in `seq` order, once each, also across continue-as-new.
 */
export async function accessReviewShard(input: AccessReviewShardInput): Promise<ShardProgress> {
  const engine = createReviewEngine({
    instanceId: input.instanceId,
    plan: input.plan,
    resume: input.resume?.snapshot,
    partition: { shard: input.shard, count: input.count },
    records: { definitionId: input.plan.definitionId, ownsInstance: false, holder: input.shard + 1 },
  });
  const { state } = engine;
  const commands: ShardCommand[] = [...(input.resume?.commands ?? [])];
  let done = input.resume?.done ?? -1;
  setHandler(shardCommandSignal, (command) => {
    if (command.seq <= done || commands.some((c) => c.seq === command.seq)) return;
    commands.push(command);
    commands.sort((a, b) => a.seq - b.seq);
  });
  engine.registerItemHandlers();

  // What the instance adds up into one message per reviewer: set by the steps that tell reviewers something.
  let tally: Record<string, number> | undefined;
  const progress = (seq: number): ShardProgress => {
    const opened = state.stages.filter((s) => s.status !== 'NotStarted').at(-1);
    return {
      shard: input.shard,
      seq,
      counts: instanceView(state).counts,
      stageItems: opened?.itemIds.length ?? 0,
      noReviewer: opened?.noReviewerItemIds.length ?? 0,
      errors: input.shard === 0 ? state.errors : [],
      resource: state.resource,
      ...(tally ? { tally } : {}),
    };
  };
  const run = async (step: ShardStep): Promise<void> => {
    switch (step.kind) {
      case 'openStage':
        await engine.openStage(step.stageIndex);
        if (engine.notifying) tally = pendingByReviewer(state);
        break;
      case 'remind':
        tally = currentStage(state) ? engine.remind(step.by, step.scheduled ? step.point : undefined) : {};
        break;
      case 'escalate':
        tally =
          state.stages[step.stageIndex]?.status === 'InProgress'
            ? await engine.reachPoint(step.stageIndex, { key: 'escalation', kind: 'escalation' })
            : {};
        break;
      case 'closeStage':
        engine.closeStage(step.reason);
        break;
      case 'complete':
        engine.complete(step.reason, step.by);
        break;
      case 'apply':
        await engine.apply(step.by);
        break;
    }
  };
  const coordinator = getExternalWorkflowHandle(input.coordinatorId);
  const report = (seq: number) => coordinator.signal(shardProgressSignal, progress(seq));

  if (!input.resume) {
    await engine.resolveAllReviewees(input.startDateTime);
    done = 0;
    await report(done);
  }
  let mayContinue = true;
  for (;;) {
    await condition(
      () => commands[0]?.seq === done + 1 || (mayContinue && continueAsNewDue(input, engine.updates)),
    );
    const next = commands[0];
    if (next?.seq !== done + 1) {
      const snapshot = await engine.drainForContinue();
      if (!snapshot) {
        mayContinue = false;
        continue;
      }
      await continueAsNew<typeof accessReviewShard>({ ...input, resume: { snapshot, commands, done } });
      continue;
    }
    commands.shift();
    const steps: ShardStep[] = [next, ...(next.then ?? [])];
    tally = undefined;
    for (const step of steps) await run(step);
    done = next.seq;
    await report(done);
    if (steps.some((step) => step.kind === 'apply')) break;
  }
  await condition(allHandlersFinished);
  await engine.settled();
  return progress(done);
}
