import path from 'node:path';
import type { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { stagecoachSearchAttributes } from '../../src/search-attributes';
import { resolveCliExecutable, resolveTestServerExecutable } from '../../src/temporal-binaries';
import { until } from './review-harness';

const projectRoot = path.resolve(__dirname, '..', '..');

// The SDK logs every worker state change at INFO; tests only need warnings and errors.
// A test file that installed its own Runtime first keeps it.
function quietSdkLogs(): void {
  if (Runtime._instance === undefined) Runtime.install({ logger: new DefaultLogger('WARN') });
}

/** Time-skipping test environment on the provisioned (or TEMPORAL_TEST_SERVER_PATH) test server. */
export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  quietSdkLogs();
  return TestWorkflowEnvironment.createTimeSkipping({
    server: {
      executable: resolveTestServerExecutable({
        envPath: process.env.TEMPORAL_TEST_SERVER_PATH,
        projectRoot,
      }),
    },
  });
}

/** In-memory dev server environment (provisioned CLI or TEMPORAL_CLI_PATH) with Stagecoach's search attributes. */
export async function createDevServerEnv(): Promise<TestWorkflowEnvironment> {
  quietSdkLogs();
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: resolveCliExecutable({ envPath: process.env.TEMPORAL_CLI_PATH, projectRoot }),
      searchAttributes: [...stagecoachSearchAttributes],
    },
  });
}

/**
 * Deletes workflows as Temporal does after its retention, and waits until they are gone (the dev server
 * carries out a deletion about 30 s after it was asked for).
 */
export async function deleteWorkflows(client: Client, ids: string[]): Promise<void> {
  for (const id of ids) {
    await client.workflowService.deleteWorkflowExecution({
      namespace: client.options.namespace,
      workflowExecution: { workflowId: id },
    });
  }
  for (const id of ids) {
    await until(
      () =>
        client.workflow
          .getHandle(id)
          .describe()
          .then(
            () => 'exists',
            () => 'deleted',
          ),
      (s) => s === 'deleted',
      `${id} deleted`,
      90_000,
    );
  }
}
