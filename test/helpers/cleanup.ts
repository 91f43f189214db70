import type { WorkflowHandle } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { ReviewOptions, ReviewRun } from './review-harness';
import { withReview } from './review-harness';

/**
 * Terminates a workflow a test leaves running. The time-skipping server stops its clock while any
 * workflow task is scheduled but not completed; a running workflow whose worker is gone gets such a task
 * when one of its timers fires during a later test's env.sleep, and that sleep then hangs. Children are
 * different: one that completes after its parent closed, or one terminated while its parent runs (the
 * server never tells the parent), also stops the clock; series-harness.ts closes them another way.
 */
export async function terminateIfRunning(handle: WorkflowHandle): Promise<void> {
  try {
    const { status } = await handle.describe();
    if (status.name === 'RUNNING') await handle.terminate('test finished');
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
}

/** withReview that terminates the review afterwards if it is still running (see terminateIfRunning). */
export function withCleanReview(
  env: TestWorkflowEnvironment,
  tenant: Parameters<typeof withReview>[1],
  definition: Record<string, unknown>,
  fn: (run: ReviewRun) => Promise<void>,
  options?: ReviewOptions,
): Promise<void> {
  return withReview(
    env,
    tenant,
    definition,
    async (run) => {
      try {
        await fn(run);
      } finally {
        await terminateIfRunning(run.handle);
      }
    },
    options,
  );
}
