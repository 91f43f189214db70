import type { RequestListener } from 'node:http';
import type { Worker } from '@temporalio/worker';

/** How long the health check waits for Temporal to answer before it calls it unreachable. */
const TEMPORAL_CHECK_MS = 2000;

/**
 * `GET /health` of a worker (WORKER_HEALTH_PORT), for container health checks: 200 while the worker runs
 * and Temporal answers it, otherwise 503; the body says which (`{"status","worker","temporal"}`).
 * A worker keeps running while Temporal is unreachable (it retries its polls), so both are checked.
 */
export function workerHealth(worker: Pick<Worker, 'getState' | 'connection'>): RequestListener {
  return (req, res) => {
    if (req.method !== 'GET' || req.url !== '/health') {
      res.writeHead(404).end();
      return;
    }
    void temporalAnswers(worker).then((temporal) => {
      const state = worker.getState();
      const ok = state === 'RUNNING' && temporal;
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(
        JSON.stringify({
          status: ok ? 'ok' : 'unavailable',
          worker: state,
          temporal: temporal ? 'reachable' : 'unreachable',
        }),
      );
    });
  };
}

async function temporalAnswers(worker: Pick<Worker, 'connection'>): Promise<boolean> {
  const connection = worker.connection;
  if (!connection) return false;
  // The SDK retries a failing call for several seconds regardless of its deadline: stop waiting on time
  // (the signal also cancels the call).
  const signal = AbortSignal.timeout(TEMPORAL_CHECK_MS);
  const timedOut = new Promise<false>((resolve) => signal.addEventListener('abort', () => resolve(false)));
  const answered = connection
    .withAbortSignal(signal, () => connection.workflowService.getSystemInfo({}))
    .then(
      () => true,
      () => false,
    );
  return Promise.race([answered, timedOut]);
}
