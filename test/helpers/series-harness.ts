import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { EmbeddedDirectory } from '../../src/directory/embedded';
import type { Definition } from '../../src/domain/definition-schema';
import { definitionInputSchema } from '../../src/domain/definition-schema';
import { seriesWorkflowId } from '../../src/domain/ids';
import { compileDefinition } from '../../src/domain/validate-definition';
import { InMemoryApplyLedger } from '../../src/store/apply-ledger';
import type { accessReviewInstance, ReviewSeriesInput } from '../../src/workflows';
import {
  applyDecisionsSignal,
  endSeriesSignal,
  instanceQuery,
  reviewSeries,
  seriesQuery,
  stopInstanceSignal,
} from '../../src/workflows';
import { terminateIfRunning } from './cleanup';
import type { withReview } from './review-harness';
import { group, TASK_QUEUE_PREFIX, until, user, workflowBundle } from './review-harness';
import { stage } from './guest-fixtures';

/** A running review series (one definition's schedule) with helpers to inspect it and its instances. */
/** ann and bob in `team`: the tenant of the series tests. */
export const seriesTenant = () => ({
  users: [user('ann'), user('bob')],
  groups: [group('team', ['ann', 'bob'])],
});

/** A weekly self-review of `team` (one 3-day stage) with the given recurrence range. */
export const weeklyTeamReview = (range: Record<string, unknown>) => ({
  displayName: 'Weekly team review',
  scope: { query: '/groups/team/transitiveMembers', queryType: 'MicrosoftGraph' },
  stageSettings: [stage(1, [])],
  settings: {
    autoApplyDecisionsEnabled: true,
    recurrence: { pattern: { type: 'weekly', interval: 1 }, range },
  },
});

export class SeriesRun {
  constructor(
    readonly env: TestWorkflowEnvironment,
    readonly handle: WorkflowHandle<typeof reviewSeries>,
    readonly input: ReviewSeriesInput,
    readonly taskQueue: string,
  ) {}

  get definitionId(): string {
    return this.input.definition.id;
  }

  series() {
    return this.handle.query(seriesQuery);
  }

  /** The instance workflow of a started occurrence, by its workflow id. */
  instance(workflowId: string): WorkflowHandle<typeof accessReviewInstance> {
    return this.env.client.workflow.getHandle(workflowId);
  }

  instanceView(workflowId: string) {
    return this.instance(workflowId).query(instanceQuery);
  }
}

/**
 * Ends a series and its instances the way the time-skipping server copes with: each running instance is
 * stopped and applied so the series sees it complete, then the series is ended by its signal. Terminating
 * an instance instead leaves the server's clock locked (it never tells the parent), and later sleeps hang.
 */
async function closeSeries(run: SeriesRun): Promise<void> {
  const seriesRunning = (await run.handle.describe()).status.name === 'RUNNING';
  for (const { workflowId } of (await run.series()).instances) {
    const instance = run.instance(workflowId);
    const status = await instance
      .describe()
      .then((d) => d.status.name)
      .catch(() => 'NOT_FOUND');
    if (status !== 'RUNNING') continue;
    // Without a parent to tell, a terminated instance leaves the clock alone.
    if (!seriesRunning) {
      await terminateIfRunning(instance);
      continue;
    }
    await instance.signal(stopInstanceSignal, { by: 'test' });
    const view = await until(
      () => instance.query(instanceQuery),
      (v) => v.status === 'Completed' || v.status === 'Applied',
      `instance ${workflowId} to stop`,
    );
    if (view.status === 'Completed') await instance.signal(applyDecisionsSignal, { by: 'test' });
  }
  if (!seriesRunning) return;
  await until(
    () => run.series(),
    (s) => s.instances.every((i) => i.completed),
    'the series to see its instances complete',
  );
  await run.handle.signal(endSeriesSignal, { by: 'test' });
  await until(
    () => run.handle.describe(),
    (d) => d.status.name === 'COMPLETED',
    'the series to end',
  );
}

/** A stored definition built the way the API builds one, created at the test server's current time. */
export async function definitionFor(
  env: TestWorkflowEnvironment,
  body: Record<string, unknown>,
): Promise<{ definition: Definition; plan: ReviewSeriesInput['plan'] }> {
  const input = definitionInputSchema.parse(body);
  const id = randomUUID();
  const now = new Date(await env.currentTimeMs()).toISOString();
  const definition: Definition = {
    ...input,
    id,
    status: 'NotStarted',
    createdBy: { id: 'admin', displayName: 'Admin', userPrincipalName: 'admin@contoso.test' },
    createdDateTime: now,
    lastModifiedDateTime: now,
  };
  return { definition, plan: compileDefinition(id, input) };
}

/**
 * Starts reviewSeries for `body` (its input adjusted by `prepare`, if given) with a worker over the tenant
 * and runs `fn`; afterwards closes the series and its instances (their timers would stall later sleeps,
 * see cleanup.ts).
 */
export async function withSeries(
  env: TestWorkflowEnvironment,
  tenant: Parameters<typeof withReview>[1],
  body: Record<string, unknown>,
  fn: (run: SeriesRun) => Promise<void>,
  options: { prepare?: (input: ReviewSeriesInput) => ReviewSeriesInput } = {},
): Promise<void> {
  const directory = EmbeddedDirectory.inMemory({
    users: tenant.users,
    groups: tenant.groups ?? [],
    applications: tenant.applications ?? [],
  });
  const taskQueue = `${TASK_QUEUE_PREFIX}-${randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: createActivities({ directory, applyLedger: new InMemoryApplyLedger() }),
  });
  const built: ReviewSeriesInput = { ...(await definitionFor(env, body)), searchAttributes: false };
  const input = options.prepare?.(built) ?? built;
  await worker.runUntil(async () => {
    const handle = await env.client.workflow.start(reviewSeries, {
      workflowId: seriesWorkflowId(input.definition.id),
      taskQueue,
      args: [input],
    });
    const run = new SeriesRun(env, handle, input, taskQueue);
    try {
      await fn(run);
    } finally {
      await closeSeries(run);
    }
  });
}
