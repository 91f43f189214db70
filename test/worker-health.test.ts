import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import net from 'node:net';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { EmbeddedDirectory } from '../src/directory/embedded';
import { createWorker, listen } from '../src/runtime';
import { InMemoryApplyLedger } from '../src/store/apply-ledger';
import { workerHealth } from '../src/worker-health';
import { pollUntil, portOf } from './helpers/process-stack';
import { createDevServerEnv } from './helpers/temporal';

/** A TCP relay to Temporal that can be cut (every connection dropped, new ones refused) and restored. */
async function startRelay(upstream: string) {
  const [host, port] = [upstream.slice(0, upstream.lastIndexOf(':')), Number(upstream.split(':').pop())];
  const sockets = new Set<net.Socket>();
  let cut = false;
  const server = net.createServer((client) => {
    if (cut) return void client.destroy();
    const remote = net.connect({ host, port });
    for (const s of [client, remote]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        remote.destroy();
      });
    }
    client.pipe(remote).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${portOf(server)}`,
    setCut(value: boolean) {
      cut = value;
      if (cut) for (const s of sockets) s.destroy();
    },
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(r));
    },
  };
}

let env: TestWorkflowEnvironment;
let relay: Awaited<ReturnType<typeof startRelay>>;
let worker: Worker;
let health: Server;
let url: string;

beforeAll(async () => {
  env = await createDevServerEnv();
  relay = await startRelay(env.address);
  worker = await createWorker(
    { TEMPORAL_ADDRESS: relay.address, TEMPORAL_NAMESPACE: 'default', TASK_QUEUE: `health-${randomUUID()}` },
    { directory: EmbeddedDirectory.inMemory({ users: [] }), applyLedger: new InMemoryApplyLedger() },
  );
  health = await listen(workerHealth(worker), 0, '127.0.0.1', 'WORKER_HEALTH_PORT');
  url = `http://127.0.0.1:${portOf(health)}/health`;
});

afterAll(async () => {
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  health?.closeAllConnections();
  await new Promise((r) => (health ? health.close(r) : r(undefined)));
  await relay?.close();
  await env?.teardown();
});

async function check(): Promise<{ status: number; body: Record<string, string> }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

const until = (status: number, what: string) =>
  pollUntil(check, (r) => r.status === status, what, { timeoutMs: 30_000, intervalMs: 200 });

describe("the worker's health endpoint (WORKER_HEALTH_PORT)", () => {
  it('is 503 before the worker runs, 200 while it runs and Temporal answers, 503 when either stops', async () => {
    expect(await check()).toEqual({
      status: 503,
      body: { status: 'unavailable', worker: 'INITIALIZED', temporal: 'reachable' },
    });

    const running = worker.run();
    expect((await until(200, 'healthy')).body).toEqual({
      status: 'ok',
      worker: 'RUNNING',
      temporal: 'reachable',
    });

    relay.setCut(true);
    expect((await until(503, 'Temporal unreachable')).body).toEqual({
      status: 'unavailable',
      worker: 'RUNNING',
      temporal: 'unreachable',
    });
    // Within the compose health check's timeout, although the SDK would retry for longer.
    const started = Date.now();
    expect((await check()).status).toBe(503);
    expect(Date.now() - started).toBeLessThan(4000);
    relay.setCut(false);
    await until(200, 'healthy again once Temporal answers');

    worker.shutdown();
    await running;
    expect((await check()).body).toMatchObject({ status: 'unavailable', worker: 'STOPPED' });
    expect((await check()).status).toBe(503);
  });

  it('answers 404 for anything but GET /health', async () => {
    expect((await fetch(url.replace('/health', '/'))).status).toBe(404);
    expect((await fetch(url, { method: 'POST' })).status).toBe(404);
  });
});
