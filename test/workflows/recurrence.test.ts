import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { instanceIdFor, instanceWorkflowId, seriesWorkflowId } from '../../src/domain/ids';
import { accessReviewInstance, endSeriesSignal, reviewSeries, stopInstanceSignal } from '../../src/workflows';
import type { ReviewSeriesInput, SeriesView } from '../../src/workflows';
import { until } from '../helpers/review-harness';
import type { SeriesRun } from '../helpers/series-harness';
import { seriesTenant, weeklyTeamReview, withSeries } from '../helpers/series-harness';
import { createTimeSkippingEnv } from '../helpers/temporal';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createTimeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;

const tenant = seriesTenant;

/** A weekly self-review of team, 3 days long (fits one weekly period), starting today on the server's clock. */
async function weekly(range: Record<string, unknown>) {
  const today = new Date(await env.currentTimeMs()).toISOString().slice(0, 10);
  return weeklyTeamReview({ startDate: today, ...range });
}

const instancesCount = (run: SeriesRun, n: number) =>
  until(
    () => run.series(),
    (s) => s.instances.length === n,
    `${n} instances`,
  );

/** Crosses `weeks` recurrence periods, one week at a time (each sleep ends an hour past an occurrence). */
async function crossWeeks(weeks: number) {
  for (let i = 0; i < weeks; i++) await env.sleep(WEEK + HOUR);
}

const occurrences = (s: SeriesView) => s.instances.map((i) => i.occurrence);

describe('a recurring review series (R13)', () => {
  it('starts exactly one instance per occurrence of a numbered weekly range, with deterministic ids', async () => {
    await withSeries(
      env,
      tenant(),
      await weekly({ type: 'numbered', numberOfOccurrences: 3 }),
      async (run) => {
        await instancesCount(run, 1);
        await env.sleep(WEEK + HOUR);
        await instancesCount(run, 2);
        await env.sleep(WEEK + HOUR);
        await instancesCount(run, 3);
        await crossWeeks(2);
        const series = await until(
          () => run.series(),
          (s) => s.instances.every((i) => i.completed),
          'all instances completed',
        );

        expect(occurrences(series)).toEqual([1, 2, 3]);
        expect(series.nextOccurrenceDateTime).toBeNull();
        expect(series.definition.status).toBe('Completed');
        const id = run.definitionId;
        series.instances.forEach((instance, n) => {
          expect(instance.instanceId).toBe(instanceIdFor(id, n + 1));
          expect(instance.workflowId).toBe(instanceWorkflowId(id, instance.instanceId));
          expect(instance.workflowId).toBe(`access-review/${id}/${instance.instanceId}`);
        });
        expect(new Set(series.instances.map((i) => i.instanceId)).size).toBe(3);
        // Occurrences are anchored at the definition's creation (later than midnight of the start date).
        const created = Date.parse(run.input.definition.createdDateTime);
        const weeksAfterCreation = series.instances.map(
          (i) => (Date.parse(i.startDateTime) - created) / WEEK,
        );
        expect(weeksAfterCreation.map((w) => Math.round(w * 1000) / 1000)).toEqual([0, 1, 2]);
        for (const instance of series.instances) {
          const view = await run.instanceView(instance.workflowId);
          expect(view).toMatchObject({ id: instance.instanceId, definitionId: id, status: 'Applied' });
        }
      },
    );
  });

  it('starts no occurrence after the end date of an endDate range', async () => {
    const start = new Date(await env.currentTimeMs());
    const endDate = new Date(start.getTime() + 10 * DAY).toISOString().slice(0, 10);
    await withSeries(env, tenant(), await weekly({ type: 'endDate', endDate }), async (run) => {
      await instancesCount(run, 1);
      await env.sleep(WEEK + HOUR);
      await instancesCount(run, 2);
      await crossWeeks(3);
      const series = await run.series();
      expect(occurrences(series)).toEqual([1, 2]);
      expect(series.nextOccurrenceDateTime).toBeNull();
    });
  });

  it('cannot start the same series or the same occurrence twice', async () => {
    await withSeries(
      env,
      tenant(),
      await weekly({ type: 'numbered', numberOfOccurrences: 2 }),
      async (run) => {
        const [first] = (await instancesCount(run, 1)).instances;
        await expect(
          env.client.workflow.start(reviewSeries, {
            workflowId: seriesWorkflowId(run.definitionId),
            taskQueue: run.taskQueue,
            args: [run.input],
          }),
        ).rejects.toBeInstanceOf(WorkflowExecutionAlreadyStartedError);
        await expect(
          env.client.workflow.start(accessReviewInstance, {
            workflowId: instanceWorkflowId(run.definitionId, instanceIdFor(run.definitionId, 1)),
            taskQueue: run.taskQueue,
            args: [{ instanceId: first!.instanceId, plan: run.input.plan, searchAttributes: false }],
          }),
        ).rejects.toBeInstanceOf(WorkflowExecutionAlreadyStartedError);
        expect(occurrences(await run.series())).toEqual([1]);
      },
    );
  });

  it('keeps the series going when one instance is stopped', async () => {
    await withSeries(
      env,
      tenant(),
      await weekly({ type: 'numbered', numberOfOccurrences: 2 }),
      async (run) => {
        const [first] = (await instancesCount(run, 1)).instances;
        await run.instance(first!.workflowId).signal(stopInstanceSignal, { by: 'admin' });
        await until(
          () => run.instanceView(first!.workflowId),
          (v) => v.status === 'Applied',
          'instance 1 applied',
        );
        const afterStop = await until(
          () => run.series(),
          (s) => s.instances[0]?.completed === true,
          'instance 1 recorded as completed',
        );
        expect(afterStop.nextOccurrenceDateTime).not.toBeNull();

        await env.sleep(WEEK + HOUR);
        const series = await instancesCount(run, 2);
        expect(await run.instanceView(series.instances[1]!.workflowId)).toMatchObject({
          status: 'InProgress',
          currentStageId: '1',
        });
      },
    );
  });

  it('starts no further occurrences once the series is ended, and leaves the running instance running', async () => {
    await withSeries(env, tenant(), await weekly({ type: 'noEnd' }), async (run) => {
      const [first] = (await instancesCount(run, 1)).instances;
      await run.handle.signal(endSeriesSignal, { by: 'admin' });
      await until(
        () => run.handle.describe(),
        (d) => d.status.name === 'COMPLETED',
        'series completed',
      );
      const series = await run.series();
      expect(occurrences(series)).toEqual([1]);
      expect(series.nextOccurrenceDateTime).toBeNull();
      expect(await run.instanceView(first!.workflowId)).toMatchObject({ status: 'InProgress' });
      // An abandoned child that completes after its parent closed stops the time-skipping server's
      // clock, so the instance is terminated before crossing the weeks in which occurrences 2-4 would start.
      await run.instance(first!.workflowId).terminate('test finished');
      await crossWeeks(3);
      expect(occurrences(await run.series())).toEqual([1]);
    });
  });

  it('resumes after the last occurrence it carried over continue-as-new, even with a truncated instance list', async () => {
    // A series 1,500 weeks old whose continued run kept only its latest record (occurrence 1500).
    const created = (await env.currentTimeMs()) - 1500 * WEEK;
    const startDate = new Date(created).toISOString().slice(0, 10);
    const body = await weekly({ type: 'noEnd' });
    const prepare = (input: ReviewSeriesInput): ReviewSeriesInput => {
      const createdDateTime = new Date(created).toISOString();
      const recurrence = { ...input.definition.settings.recurrence! };
      recurrence.range = { ...recurrence.range, startDate };
      const instanceId = instanceIdFor(input.definition.id, 1500);
      return {
        ...input,
        definition: {
          ...input.definition,
          createdDateTime,
          settings: { ...input.definition.settings, recurrence },
        },
        instances: [
          {
            occurrence: 1500,
            instanceId,
            workflowId: instanceWorkflowId(input.definition.id, instanceId),
            startDateTime: new Date(created + 1499 * WEEK).toISOString(),
            completed: true,
          },
        ],
      };
    };
    await withSeries(
      env,
      tenant(),
      body,
      async (run) => {
        const series = await instancesCount(run, 2);
        expect(occurrences(series)).toEqual([1500, 1501]);
        expect(series.instances[1]?.instanceId).toBe(instanceIdFor(run.definitionId, 1501));
      },
      { prepare },
    );
  });
});
