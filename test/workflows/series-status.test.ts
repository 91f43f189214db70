import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { definitionIdSearchAttribute, reviewStatusSearchAttribute } from '../../src/search-attributes';
import { endSeriesSignal, stopInstanceSignal } from '../../src/workflows';
import { stage } from '../helpers/guest-fixtures';
import { group, until, user } from '../helpers/review-harness';
import type { SeriesRun } from '../helpers/series-harness';
import { withSeries } from '../helpers/series-harness';
import { createDevServerEnv } from '../helpers/temporal';

// The series' StagecoachReviewStatus as the Web UI sees it: a dev server, because the time-skipping
// server neither registers search attributes nor answers visibility lists.
let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createDevServerEnv();
});
afterAll(async () => {
  await env?.teardown();
});

const tenant = { users: [user('ann'), user('bob')], groups: [group('team', ['ann', 'bob'])] };
const body = {
  displayName: 'Team review',
  scope: { query: '/groups/team/transitiveMembers', queryType: 'MicrosoftGraph' },
  stageSettings: [stage(1, [])],
  settings: { autoApplyDecisionsEnabled: true },
};
const indexed = { prepare: (input: SeriesRun['input']) => ({ ...input, searchAttributes: true }) };

async function statusOf(run: SeriesRun): Promise<string | undefined> {
  return (await run.handle.describe()).typedSearchAttributes.get(reviewStatusSearchAttribute);
}

/** Workflow ids the visibility list returns for a filter on this definition's series. */
async function listed(run: SeriesRun, status: string): Promise<string[]> {
  const query =
    `WorkflowType = 'reviewSeries' AND ${definitionIdSearchAttribute.name} = '${run.definitionId}' ` +
    `AND ${reviewStatusSearchAttribute.name} = '${status}'`;
  const ids: string[] = [];
  for await (const w of env.client.workflow.list({ query })) ids.push(w.workflowId);
  return ids;
}

async function runningInstance(run: SeriesRun): Promise<string> {
  const { instances } = await until(
    () => run.series(),
    (s) => s.instances.length === 1,
    'the instance',
  );
  const { workflowId } = instances[0]!;
  await until(
    () => run.instanceView(workflowId),
    (v) => v.status === 'InProgress',
    'the instance in progress',
  );
  return workflowId;
}

describe('the review status a series shows in the Web UI', () => {
  it('is InProgress while its instance runs and Completed once its last instance has finished', async () => {
    await withSeries(
      env,
      tenant,
      body,
      async (run) => {
        const instance = await runningInstance(run);
        await until(
          () => statusOf(run),
          (s) => s === 'InProgress',
          'InProgress on the series',
        );

        await run.instance(instance).signal(stopInstanceSignal, { by: 'admin' });
        await until(
          () => statusOf(run),
          (s) => s === 'Completed',
          'Completed on the series',
        );
        // Still open as the definition's record, but no longer listed among the reviews in progress.
        expect((await run.handle.describe()).status.name).toBe('RUNNING');
        await until(
          () => listed(run, 'Completed'),
          (ids) => ids.length === 1,
          'the series listed',
        );
        expect(await listed(run, 'InProgress')).toEqual([]);
        expect((await run.series()).definition.status).toBe('Completed');
      },
      indexed,
    );
  });

  it('is Completed once the definition is deleted, also while its stopped instance winds down', async () => {
    await withSeries(
      env,
      tenant,
      body,
      async (run) => {
        await runningInstance(run);
        await run.handle.signal(endSeriesSignal, { by: 'admin', stopInstances: true });
        await run.handle.result();
        expect(await statusOf(run)).toBe('Completed');
        await until(
          () => listed(run, 'Completed'),
          (ids) => ids.length === 1,
          'the series listed',
        );
      },
      indexed,
    );
  });
});
