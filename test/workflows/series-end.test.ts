import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { endSeriesSignal } from '../../src/workflows';
import { until } from '../helpers/review-harness';
import { seriesTenant, weeklyTeamReview, withSeries } from '../helpers/series-harness';
import { createTimeSkippingEnv } from '../helpers/temporal';

// Its own test server: an instance that completes after its series closed stops the time-skipping
// server's clock (see series-harness.ts), which would stall the sleeps of other series tests.
let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createTimeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

describe('ending a review series (DELETE of a definition)', () => {
  it('stops the running instances it started when asked to, and starts no further occurrence', async () => {
    const today = new Date(await env.currentTimeMs()).toISOString().slice(0, 10);
    const body = weeklyTeamReview({ type: 'numbered', numberOfOccurrences: 3, startDate: today });
    const tenant = seriesTenant();
    await withSeries(env, tenant, body, async (run) => {
      const [first] = (
        await until(
          () => run.series(),
          (s) => s.instances.length === 1,
          'the first instance',
        )
      ).instances;
      await until(
        () => run.instanceView(first!.workflowId),
        (v) => v.status === 'InProgress',
        'instance 1 in progress',
      );
      await run.handle.signal(endSeriesSignal, { by: 'admin', stopInstances: true });

      const series = await run.handle.result();
      expect(series.instances.map((i) => i.occurrence)).toEqual([1]);
      expect(series.nextOccurrenceDateTime).toBeNull();
      // Stopped, not run to its end: its 3-day stage ended at once and its decisions were applied.
      const view = await until(
        () => run.instanceView(first!.workflowId),
        (v) => v.status === 'Applied',
        'instance 1 applied',
      );
      const [stage1] = view.stages;
      expect(stage1?.status).toBe('Completed');
      expect(Date.parse(stage1!.endDateTime!) - Date.parse(stage1!.startDateTime!)).toBeLessThan(3_600_000);
    });
  });
});
