import { defineQuery, setHandler } from '@temporalio/workflow';

/** Answered by any worker that polls the task queue: what the API's liveness probe asks. */
export const pingQuery = defineQuery<'pong'>('ping');

/**
 * Lets the API tell within a second whether a worker answers on the task queue (`/health`, and 503 instead
 * of a hang for review requests while none does). It completes at once: a query to a closed workflow goes
 * to the task queue itself, where any polling worker answers it, never to the cache of one worker (a
 * running workflow's queries go first to the worker that last ran it, which may be the one that died).
 */
export async function workerHealthProbe(): Promise<'pong'> {
  setHandler(pingQuery, () => 'pong');
  return Promise.resolve('pong');
}
