import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { DecisionValue } from '../../src/domain/review-events';
import {
  applyDecisionsSignal,
  resetDecisionsSignal,
  stopInstanceSignal,
  stopStageSignal,
} from '../../src/workflows';
import { stage } from '../helpers/guest-fixtures';
import { applied, enterStage, until, withReview } from '../helpers/review-harness';
import {
  decideAll,
  ids,
  managerOf,
  MANAGERS,
  OWNERS,
  review,
  SELF,
  seeDecisions,
  teamMembers,
  tenant,
} from '../helpers/team-review';
import { createTimeSkippingEnv } from '../helpers/temporal';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createTimeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

/** How many commands a shard received from its instance. */
const commandsReceived = async (shard: WorkflowHandle) =>
  (await shard.fetchHistory()).events!.filter(
    (e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'shardCommand',
  ).length;

describe('a review split into shards', () => {
  it('runs three stages across five shards with move-on filters, manual apply and the directory result', async () => {
    await withReview(
      env,
      tenant(),
      review(
        [
          stage(1, SELF, { decisionsThatWillMoveToNextStage: ['Approve'] }),
          stage(2, [MANAGERS], { decisionsThatWillMoveToNextStage: ['Approve', 'Deny'] }),
          stage(3, [OWNERS]),
        ],
        { autoApplyDecisionsEnabled: false },
      ),
      async (run) => {
        await enterStage(run, '1');
        const view = await run.instance();
        expect(view.shards).toBe(5);
        expect((await run.items()).map((i) => i.principal.id).sort()).toEqual(ids(0, 23));

        // Stage 1: u00–u19 approve themselves, u20 and u21 deny, u22 and u23 do nothing.
        await decideAll(run, (id) => id, ids(0, 19), 'Approve');
        await decideAll(run, (id) => id, ids(20, 21), 'Deny');
        await seeDecisions(run, '1', ids(0, 19), 'Approve');
        await run.handle.signal(stopStageSignal, { by: 'admin' });
        await enterStage(run, '2');
        expect(await run.stageMembers('2')).toEqual(ids(0, 19));

        // Stage 2: managers deny u00–u04, approve u05–u17, don't know u18 and u19; the timer ends it.
        await decideAll(run, managerOf, ids(0, 4), 'Deny');
        await decideAll(run, managerOf, ids(5, 17), 'Approve');
        await decideAll(run, managerOf, ids(18, 19), 'DontKnow');
        await seeDecisions(run, '2', ids(18, 19), 'DontKnow');
        await env.sleep('3 days');
        await enterStage(run, '3');
        expect(await run.stageMembers('3')).toEqual(ids(0, 17));

        // Stage 3: the owner overturns u00's denial; everybody else keeps the decision they have.
        await run.decide('o1', 'u00', 'Approve');
        await seeDecisions(run, '3', ['u00'], 'Approve');
        await run.handle.signal(stopStageSignal, { by: 'admin' });
        await until(
          () => run.instance(),
          (v) => v.status === 'Completed',
          'Completed',
        );
        expect(await teamMembers(run)).toEqual(ids(0, 23));
        await run.handle.signal(applyDecisionsSignal, { by: 'admin' });
        const done = await applied(run);

        const expected: Record<string, DecisionValue> = {};
        for (const id of ids(0, 23)) expected[id] = 'Approve';
        for (const id of [...ids(1, 4), ...ids(20, 21)]) expected[id] = 'Deny';
        for (const id of ids(18, 19)) expected[id] = 'DontKnow';
        for (const id of ids(22, 23)) expected[id] = 'NotReviewed';
        expect(await run.decisions()).toEqual(expected);
        expect(done.counts).toEqual({ Approve: 14, Deny: 6, DontKnow: 2, NotReviewed: 2, total: 24 });
        expect(await teamMembers(run)).toEqual(
          ids(0, 23).filter((id) => !['u01', 'u02', 'u03', 'u04', 'u20', 'u21'].includes(id)),
        );
        for (const holder of await run.holders()) {
          expect((await holder.describe()).status.name).toBe('COMPLETED');
          // One command per transition: open 1, close 1 + open 2, close 2 + open 3, close 3 + complete,
          // apply (manual, so on its own); and the halfway reminder of stage 2, whose timer ran out.
          expect(await commandsReceived(holder)).toBe(6);
        }
      },
      { input: { shardSize: 5 } },
    );
  });

  it('passes resetDecisions on to every shard and stops every shard with the review', async () => {
    await withReview(
      env,
      tenant(12),
      review([stage(1, SELF), stage(2, [OWNERS])]),
      async (run) => {
        await enterStage(run, '1');
        expect((await run.instance()).shards).toBe(3);
        await decideAll(run, (id) => id, ids(0, 11), 'Deny');
        await seeDecisions(run, '1', ids(0, 11), 'Deny');
        await run.handle.signal(resetDecisionsSignal, { by: 'admin' });
        await seeDecisions(run, '1', ids(0, 11), 'NotReviewed');
        await run.decide('u03', 'u03', 'Deny');
        await seeDecisions(run, '1', ['u03'], 'Deny');
        await run.handle.signal(stopInstanceSignal, { by: 'admin' });
        const done = await applied(run);
        expect(done.stages.map((s) => s.status)).toEqual(['Completed', 'NotStarted']);
        // Open stage 1, then close it, complete and apply (automatic) in one command.
        for (const holder of await run.holders()) {
          expect(await commandsReceived(holder)).toBe(2);
        }
        expect(done.counts).toMatchObject({ Deny: 1, NotReviewed: 11, total: 12 });
        expect(await teamMembers(run)).toEqual(ids(0, 11).filter((id) => id !== 'u03'));
      },
      { input: { shardSize: 4 } },
    );
  });
});
