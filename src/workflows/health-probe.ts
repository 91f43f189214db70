import { condition, defineQuery, setHandler } from '@temporalio/workflow';

/** Answered by any worker that polls the task queue: what the API's liveness probe asks. */
export const pingQuery = defineQuery<'pong'>('ping');

/**
 * Lets the API tell within a second whether a worker answers on the task queue (`/health`, and 503 instead
 * of a hang for review requests while none does). It records nothing and never ends; its history stays at
 * a handful of events, and a query needs nothing but a polling worker.
 */
export async function workerHealthProbe(): Promise<void> {
  setHandler(pingQuery, () => 'pong');
  await condition(() => false);
}
