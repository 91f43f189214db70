import { randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import {
  definitionIdSearchAttribute,
  reviewStatusSearchAttribute,
  stageSearchAttribute,
  stagecoachSearchAttributes,
} from '../src/search-attributes';
import {
  provisionedCliPath,
  provisionedTestServerPath,
  resolveCliExecutable,
  resolveTestServerExecutable,
} from '../src/temporal-binaries';
import { echo, echoAfterDays } from './fixtures/echo-workflow';
import { createDevServerEnv, createTimeSkippingEnv } from './helpers/temporal';

const DAY_MS = 24 * 60 * 60 * 1000;

describe('resolving Temporal executables', () => {
  let root: string;

  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'stagecoach-bin-'));
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  function fakeBinary(file: string): string {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, '#!/bin/sh\n');
    chmodSync(file, 0o755);
    return file;
  }

  it('asks the SDK to download when nothing is provisioned and no override is set', () => {
    expect(resolveCliExecutable({ projectRoot: root })).toEqual({ type: 'cached-download' });
    expect(resolveTestServerExecutable({ projectRoot: root })).toEqual({ type: 'cached-download' });
  });

  it('uses the provisioned pinned binaries when they exist', () => {
    const cli = fakeBinary(provisionedCliPath(root));
    const testServer = fakeBinary(provisionedTestServerPath(root));
    expect(resolveCliExecutable({ projectRoot: root })).toEqual({ type: 'existing-path', path: cli });
    expect(resolveTestServerExecutable({ projectRoot: root })).toEqual({
      type: 'existing-path',
      path: testServer,
    });
  });

  it('prefers an override path over the provisioned binary', () => {
    fakeBinary(provisionedCliPath(root));
    const override = fakeBinary(path.join(root, 'elsewhere', 'temporal'));
    expect(resolveCliExecutable({ envPath: override, projectRoot: root })).toEqual({
      type: 'existing-path',
      path: override,
    });
  });

  it('ignores an override path that does not exist', () => {
    const testServer = fakeBinary(provisionedTestServerPath(root));
    expect(resolveTestServerExecutable({ envPath: path.join(root, 'missing'), projectRoot: root })).toEqual({
      type: 'existing-path',
      path: testServer,
    });
  });
});

let workflowBundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  workflowBundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('./fixtures/echo-workflow'),
    logger: {
      log: () => undefined,
      trace: () => undefined,
      debug: () => undefined,
      info: () => undefined,
      warn: () => undefined,
      error: () => undefined,
    },
  });
});

/** Starts a worker on its own task queue in the background; the returned function stops it. */
async function startWorker(
  env: TestWorkflowEnvironment,
): Promise<{ taskQueue: string; stop: () => Promise<void> }> {
  const taskQueue = `binaries-${randomUUID()}`;
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle });
  const running = worker.run();
  return {
    taskQueue,
    stop: async () => {
      worker.shutdown();
      await running;
    },
  };
}

describe('time-skipping environment on the pinned test server', () => {
  let env: TestWorkflowEnvironment;
  let worker: Awaited<ReturnType<typeof startWorker>>;

  beforeAll(async () => {
    env = await createTimeSkippingEnv();
    worker = await startWorker(env);
  });
  afterAll(async () => {
    await worker?.stop();
    await env?.teardown();
  });

  it('runs a workflow to completion', async () => {
    const result = await env.client.workflow.execute(echo, {
      taskQueue: worker.taskQueue,
      workflowId: `echo-${randomUUID()}`,
      args: ['hello'],
    });
    expect(result).toBe('hello');
  });

  it('crosses a 7-day workflow timer with env.sleep in well under a minute', async () => {
    const wallStart = Date.now();
    const serverStart = await env.currentTimeMs();
    const handle = await env.client.workflow.start(echoAfterDays, {
      taskQueue: worker.taskQueue,
      workflowId: `echo-after-${randomUUID()}`,
      args: ['later', 7],
    });
    await env.sleep('7 days');
    expect((await env.currentTimeMs()) - serverStart).toBeGreaterThanOrEqual(7 * DAY_MS);
    const result = await handle.result();
    expect(result.value).toBe('later');
    expect(result.elapsedMs).toBeGreaterThanOrEqual(7 * DAY_MS);
    expect(Date.now() - wallStart).toBeLessThan(60_000);
  });
});

describe('dev server environment on the pinned Temporal CLI', () => {
  let env: TestWorkflowEnvironment;
  let worker: Awaited<ReturnType<typeof startWorker>>;

  beforeAll(async () => {
    env = await createDevServerEnv();
    worker = await startWorker(env);
  });
  afterAll(async () => {
    await worker?.stop();
    await env?.teardown();
  });

  it('runs a workflow to completion', async () => {
    const result = await env.client.workflow.execute(echo, {
      taskQueue: worker.taskQueue,
      workflowId: `echo-${randomUUID()}`,
      args: ['hello'],
    });
    expect(result).toBe('hello');
  });

  it('registers every Stagecoach search attribute', async () => {
    const { customAttributes } = await env.connection.operatorService.listSearchAttributes({
      namespace: env.namespace ?? 'default',
    });
    expect(Object.keys(customAttributes ?? {})).toEqual(
      expect.arrayContaining(stagecoachSearchAttributes.map((a) => a.name)),
    );
  });

  it('stores and returns the Stagecoach search attributes as keywords on a workflow', async () => {
    const handle = await env.client.workflow.start(echo, {
      taskQueue: worker.taskQueue,
      workflowId: `echo-attrs-${randomUUID()}`,
      args: ['tagged'],
      typedSearchAttributes: [
        { key: definitionIdSearchAttribute, value: 'def-1' },
        { key: stageSearchAttribute, value: '2' },
        { key: reviewStatusSearchAttribute, value: 'InProgress' },
      ],
    });
    await handle.result();
    const { typedSearchAttributes } = await handle.describe();
    expect(typedSearchAttributes.get(definitionIdSearchAttribute)).toBe('def-1');
    expect(typedSearchAttributes.get(stageSearchAttribute)).toBe('2');
    expect(typedSearchAttributes.get(reviewStatusSearchAttribute)).toBe('InProgress');
  });
});
