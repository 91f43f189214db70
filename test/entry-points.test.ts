import type { ChildProcess } from 'node:child_process';
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { parse } from 'yaml';
import { freePort, pollUntil } from './helpers/process-stack';
import { createDevServerEnv } from './helpers/temporal';

// The production entry points as the processes an operator starts (`npm run start:api`, `start:worker`,
// `npm start`), against a real dev server: failed starts exit 1 with one line naming the setting, and
// the compose health checks, run as written in docker-compose.yml, see the running API and worker.

const projectRoot = path.resolve(__dirname, '..');
const compose = parse(
  fs.readFileSync(path.join(projectRoot, 'temporal-docker', 'docker-compose.yml'), 'utf8'),
  {
    merge: true,
  },
) as { services: Record<string, { healthcheck?: { test?: string[] } }> };

interface Started {
  child: ChildProcess;
  output: { stdout: string; stderr: string };
  exit: Promise<number | null>;
}
const started: Started[] = [];

/** Starts `tsx src/<script>` in its own process group (tsx runs the script in a child node process). */
function start(script: string, env: Record<string, string>): Started {
  const child = spawn(process.execPath, [require.resolve('tsx/cli'), `src/${script}`], {
    cwd: projectRoot,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? os.tmpdir(), LOG_LEVEL: 'warn', ...env },
  });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (d: Buffer) => (output.stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output.stderr += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const run = { child, output, exit };
  started.push(run);
  return run;
}

function signalGroup(run: Started, signal: NodeJS.Signals): void {
  try {
    process.kill(-run.child.pid!, signal);
  } catch {
    // already gone
  }
}

/** Runs a service's compose health check command (`CMD node -e …`) with the given container env. */
function healthcheck(service: string, env: Record<string, string>): number | null {
  const test = compose.services[service]?.healthcheck?.test ?? [];
  expect(test.slice(0, 2)).toEqual(['CMD', 'node']);
  return spawnSync(process.execPath, test.slice(2), { env: { ...env }, timeout: 10_000 }).status;
}

let env: TestWorkflowEnvironment;
let dir: string;
let state: Record<string, string>;
const taskQueue = `entry-points-${randomUUID()}`;

beforeAll(async () => {
  env = await createDevServerEnv();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stagecoach-entry-'));
  state = {
    TEMPORAL_ADDRESS: env.address,
    TASK_QUEUE: taskQueue,
    HOST: '127.0.0.1',
    DIRECTORY_FILE: path.join(dir, 'directory.json'),
    APPLY_LEDGER_FILE: path.join(dir, 'apply-ledger.jsonl'),
    AUTH_MODE: 'local',
    AUTH_LOCAL_KEY_FILE: path.join(dir, 'key.json'),
  };
});

afterAll(async () => {
  for (const run of started) signalGroup(run, 'SIGKILL');
  await Promise.all(started.map((r) => r.exit));
  await env?.teardown();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('the worker and API processes', () => {
  let apiPort: number;
  let workerHealthPort: number;
  let worker: Started;

  it('pass the compose health checks once they run', async () => {
    workerHealthPort = await freePort();
    apiPort = await freePort();
    worker = start('worker.ts', { ...state, WORKER_HEALTH_PORT: String(workerHealthPort) });
    const check = { WORKER_HEALTH_PORT: String(workerHealthPort) };
    await pollUntil(
      async () => healthcheck('stagecoach-worker', check),
      (status) => status === 0,
      'the worker health check',
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    start('server.ts', { ...state, PORT: String(apiPort) });
    await pollUntil(
      async () => healthcheck('stagecoach-api', { PORT: String(apiPort) }),
      (status) => status === 0,
      'the API health check',
      { timeoutMs: 60_000, intervalMs: 500 },
    );
  });

  it('a second API on the same PORT exits 1 with one line naming HOST and PORT', async () => {
    const second = start('server.ts', { ...state, PORT: String(apiPort) });
    expect(await second.exit).toBe(1);
    expect(second.output.stderr).toBe(
      `Cannot listen on HOST=127.0.0.1 PORT=${apiPort}: listen EADDRINUSE: address already in use 127.0.0.1:${apiPort}\n`,
    );
  });

  it('npm start on a busy PORT exits 1 without saying that Stagecoach is running', async () => {
    const all = start('main.ts', {
      ...state,
      START_DEV_SERVER: 'false',
      TASK_QUEUE: `${taskQueue}-all`,
      PORT: String(apiPort),
    });
    expect(await all.exit).toBe(1);
    expect(all.output.stdout).not.toContain('Stagecoach is running');
    expect(all.output.stderr).toContain(`Cannot listen on HOST=127.0.0.1 PORT=${apiPort}: listen EADDRINUSE`);
  });

  it('a stopped worker exits 0 and then fails its health check', async () => {
    // To tsx only, which passes it on: a second SIGTERM to the worker itself would end its shutdown.
    worker.child.kill('SIGTERM');
    expect(await worker.exit).toBe(0);
    expect(healthcheck('stagecoach-worker', { WORKER_HEALTH_PORT: String(workerHealthPort) })).toBe(1);
  });
});

describe('an unreachable TEMPORAL_ADDRESS', () => {
  it.each(['worker.ts', 'server.ts'])(
    'stops %s with exit code 1 and one line naming TEMPORAL_ADDRESS',
    async (script) => {
      const port = await freePort();
      const run = start(script, {
        ...state,
        TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
        PORT: String(await freePort()),
      });
      expect(await run.exit).toBe(1);
      expect(run.output.stderr).toBe(
        `Cannot connect to Temporal at TEMPORAL_ADDRESS=127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}\n`,
      );
    },
  );
});
