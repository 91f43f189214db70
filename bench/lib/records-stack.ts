import { chmodSync, mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import type { Kysely } from 'kysely';
import type { LocalIssuer } from '../../src/api/auth';
import { parseConfig } from '../../src/config';
import { startDevServer } from '../../src/dev-server';
import { EmbeddedDirectory } from '../../src/directory/embedded';
import type { TenantFileInput } from '../../src/directory/tenant-file';
import { createApi, createAuth, createClient, createWorker, listen } from '../../src/runtime';
import { InMemoryApplyLedger } from '../../src/store/apply-ledger';
import { createDatabase } from '../../src/store/database';
import { startEmbeddedPostgres } from '../../src/store/embedded-postgres';
import { migrateToLatest } from '../../src/store/migrations';
import { PostgresReviewRecords } from '../../src/store/postgres-review-records';
import type { Database } from '../../src/store/schema';
import { freePort, portOf } from '../../test/helpers/process-stack';
import type { LogCollector } from './log-collector';
import type { Closer } from './stack';
import { benchCli, timed } from './stack';

const NAMESPACE = 'default';
const TASK_QUEUE = 'stagecoach-records-bench';

/** The records bench's system: PostgreSQL, the dev server, one worker and two APIs over them. */
export interface RecordsStack {
  tmpDir: string;
  /** PostgreSQL's server log (auto_explain writes its plans there). */
  pgLogFile: string;
  /** The bench's own pool on the records database, for the lag query and EXPLAIN. */
  db: Kysely<Database>;
  client: Client;
  worker: Worker;
  /** The API that reads the review records in PostgreSQL. */
  recordsUrl: string;
  /** The API that reads through workflow queries (no records store). */
  queryUrl: string;
  issuer: LocalIssuer;
  adminRole: string;
  /** Set when the worker's run() ends with an error before shutdown. */
  workerFailure: { error: string | null };
  timings: Record<string, number>;
}

/**
 * Starts, in a fresh temp dir: an embedded PostgreSQL (new cluster, migrated), the Temporal dev server,
 * one worker that writes review records to PostgreSQL, and two APIs on the same worker and Temporal:
 * one with the records store and one without. Everything started is registered with `closer` at once,
 * the temp dir last (so it is removed after everything in it has stopped).
 */
export async function startRecordsStack(
  projectRoot: string,
  tenant: TenantFileInput,
  closer: Closer,
  log: (line: string) => void,
  apiLog: LogCollector,
  removeTmpDir: (dir: string) => Promise<void>,
  pgSettings: Record<string, string> = {},
): Promise<RecordsStack> {
  const timings: Record<string, number> = {};
  const cli = benchCli(projectRoot);
  const tmpDir = mkdtempSync(path.join(os.tmpdir(), 'stagecoach-records-bench-'));
  // Run as root, PostgreSQL runs as the `postgres` user, which must be able to enter this folder.
  chmodSync(tmpDir, 0o711);
  closer.add('temp dir', () => removeTmpDir(tmpDir));

  log(`PostgreSQL: a new cluster in ${tmpDir}/postgres`);
  const pg = await timed(timings, 'postgresStartMs', () =>
    startEmbeddedPostgres({
      dir: path.join(tmpDir, 'postgres'),
      port: 0,
      settings: pgSettings,
      onNotice: log,
    }),
  );
  closer.add('PostgreSQL', () => pg.stop());
  // One pool per user of the database, as separate processes would have: worker, API, the bench itself.
  const pools: Kysely<Database>[] = [];
  const pool = () => {
    const db = createDatabase(pg.url);
    pools.push(db);
    return db;
  };
  closer.add('PostgreSQL pools', async () => {
    await Promise.all(pools.map((db) => db.destroy()));
  });
  const db = pool();
  await timed(timings, 'migrateMs', () => migrateToLatest(db));

  const [port, uiPort] = [await freePort(), await freePort()];
  log(`Temporal dev server on 127.0.0.1:${port}`);
  const devServer = await timed(timings, 'devServerStartMs', () =>
    startDevServer({
      cliPath: cli.path,
      port,
      uiPort,
      dbFile: path.join(tmpDir, 'temporal.sqlite'),
      namespace: NAMESPACE,
      logFile: path.join(tmpDir, 'temporal-dev-server.log'),
    }),
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
      TASK_QUEUE,
    },
    'all',
  );
  const directory = EmbeddedDirectory.inMemory();
  await timed(timings, 'seedMs', () => directory.seedBulk(tenant));

  const workerFailure: { error: string | null } = { error: null };
  const worker = await timed(timings, 'workerStartMs', () =>
    createWorker(config, {
      directory,
      applyLedger: new InMemoryApplyLedger(),
      records: new PostgresReviewRecords(pool()),
    }),
  );
  const running = worker.run().catch((err: unknown) => {
    workerFailure.error = `worker stopped: ${err instanceof Error ? err.message : String(err)}`;
  });
  closer.add('worker', async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running;
  });

  const client = await createClient(config);
  closer.add('client connection', () => client.connection.close());
  const logger = apiLog.logger(config.LOG_LEVEL);
  const { auth, localIssuer } = await createAuth(config, logger);
  const serve = async (name: string, records?: PostgresReviewRecords) => {
    const app = createApi(config, { client, directory, auth, localIssuer, logger, records });
    const server: Server = await listen(app, 0, '127.0.0.1');
    closer.add(
      `${name} API`,
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );
    return `http://127.0.0.1:${portOf(server)}`;
  };
  const recordsUrl = await serve('read-model', new PostgresReviewRecords(pool()));
  const queryUrl = await serve('query-based');
  return {
    tmpDir,
    pgLogFile: pg.logFile,
    db,
    client,
    worker,
    recordsUrl,
    queryUrl,
    issuer: localIssuer!,
    adminRole: config.AUTH_ADMIN_ROLE,
    workerFailure,
    timings,
  };
}
