import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { stopInstanceSignal, stopStageSignal } from '../../src/workflows';
import { stage } from '../helpers/guest-fixtures';
import type { ReviewRun } from '../helpers/review-harness';
import { applied, enterStage, withReview } from '../helpers/review-harness';
import {
  decideAll,
  ids,
  OWNERS,
  review,
  SELF,
  seeDecisions,
  teamMembers,
  tenant,
} from '../helpers/team-review';
import { createDevServerEnv } from '../helpers/temporal';

// Continue-as-new runs on the dev server: the time-skipping test server can stall a query or a sleep
// that meets a run handing over to the next one, which the real server answers at once.
let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createDevServerEnv();
});
afterAll(async () => {
  await env?.teardown();
});

/** Whether the workflow's current run was started by continue-as-new. */
async function continued(run: ReviewRun, workflowId: string): Promise<boolean> {
  const history = await run.handle.client.getHandle(workflowId).fetchHistory();
  return Boolean(history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId);
}

describe('continue-as-new', () => {
  /** Every reviewee flips their decision `rounds` times, in concurrent waves; the last wave denies. */
  async function flip(run: ReviewRun, who: string[], rounds: number) {
    for (let r = 0; r < rounds; r++) {
      const outcomes = await decideAll(
        run,
        (id) => id,
        who,
        r === rounds - 1 ? 'Deny' : r % 2 ? 'DontKnow' : 'Approve',
      );
      // Updates that met a run handing over were retried on the next one: every one was accepted.
      expect(outcomes.filter((o) => !o.ok)).toEqual([]);
    }
  }

  it('hands an instance over to new runs without losing or repeating a decision', async () => {
    await withReview(
      env,
      tenant(8),
      review([stage(1, SELF)]),
      async (run) => {
        await enterStage(run, '1');
        await flip(run, ids(0, 6), 9);
        await seeDecisions(run, '1', ids(0, 6), 'Deny');
        expect(await continued(run, run.handle.workflowId)).toBe(true);
        await run.handle.signal(stopInstanceSignal, { by: 'admin' });
        const done = await applied(run);
        expect(done.counts).toMatchObject({ Deny: 7, NotReviewed: 1, total: 8 });
        expect(await teamMembers(run)).toEqual(['u07']);
        const items = await run.items();
        expect(items.filter((i) => i.applyResult === 'AppliedSuccessfully')).toHaveLength(7);
      },
      { input: { continueAsNewAfterEvents: 40 } },
    );
  });

  it('hands over after a number of accepted Updates, well before Temporal allows no more in a run', async () => {
    await withReview(
      env,
      tenant(4),
      review([stage(1, SELF)]),
      async (run) => {
        await enterStage(run, '1');
        for (let r = 0; r < 6; r++) {
          const outcomes = await decideAll(run, (id) => id, ids(0, 3), r % 2 ? 'Deny' : 'Approve');
          expect(outcomes.every((o) => o.ok && o.stageId === '1' && o.recorded === 1)).toBe(true);
        }
        await seeDecisions(run, '1', ids(0, 3), 'Deny');
        expect(await continued(run, run.handle.workflowId)).toBe(true);
        await run.stop();
        const done = await applied(run);
        expect(done.counts).toMatchObject({ Deny: 4, total: 4 });
      },
      { input: { continueAsNewAfterUpdates: 10 } },
    );
  });

  it('hands shards over to new runs in the middle of a stage and keeps them in step', async () => {
    await withReview(
      env,
      tenant(12),
      review([stage(1, SELF), stage(2, [OWNERS])]),
      async (run) => {
        await enterStage(run, '1');
        await flip(run, ids(0, 11), 8);
        await seeDecisions(run, '1', ids(0, 11), 'Deny');
        const holders = await run.holders();
        expect(holders).toHaveLength(3);
        const runs = await Promise.all(holders.map((h) => continued(run, h.workflowId)));
        expect(runs).toContain(true);
        await run.handle.signal(stopStageSignal, { by: 'admin' });
        await enterStage(run, '2');
        await run.decide('o1', 'u05', 'Approve');
        await seeDecisions(run, '2', ['u05'], 'Approve');
        await run.handle.signal(stopStageSignal, { by: 'admin' });
        const done = await applied(run);
        expect(done.counts).toMatchObject({ Approve: 1, Deny: 11, total: 12 });
        expect(await teamMembers(run)).toEqual(['u05']);
      },
      { input: { shardSize: 4, continueAsNewAfterEvents: 40 } },
    );
  });
});
