import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import pino from 'pino';
import { createActivities } from '../../src/activities';
import type { AuthSettings } from '../../src/api/auth';
import { LocalIssuer } from '../../src/api/auth';
import { EmbeddedDirectory } from '../../src/directory/embedded';
import type { Directory } from '../../src/directory/port';
import type { TenantFileInput } from '../../src/directory/tenant-file';
import { createApi, listen } from '../../src/runtime';
import type { Mailer } from '../../src/notifications/port';
import { PostgresNotificationLedger } from '../../src/store/postgres-notification-ledger';
import type { DelegationStore } from '../../src/store/delegations';
import { PostgresDelegations } from '../../src/store/postgres-delegations';
import { InMemoryApplyLedger } from '../../src/store/apply-ledger';
import { HistoryReportStore } from '../../src/store/history-reports';
import type { ApplyObservationStore } from '../../src/store/apply-observations';
import { InMemoryApplyObservations } from '../../src/store/apply-observations';
import { createDatabase } from '../../src/store/database';
import type { EvidenceSource } from '../../src/store/evidence';
import { PostgresEvidence } from '../../src/store/evidence';
import { migrateToLatest } from '../../src/store/migrations';
import { PostgresApplyObservations } from '../../src/store/postgres-apply-observations';
import { PostgresReviewRecords } from '../../src/store/postgres-review-records';
import type { ReviewRecordStore } from '../../src/store/review-records';
import { InMemoryReviewRecords } from '../../src/store/review-records';
import type { Database } from '../../src/store/schema';
import { createTestDatabase } from './postgres';
import { workflowBundle } from './review-harness';
import { portOf } from './process-stack';
import { createDevServerEnv } from './temporal';

export const ADMIN_ROLE = 'AccessReview.ReadWrite.All';

/** The whole system in one process for HTTP tests: dev server, worker, API on a random port. */
export interface Stack {
  env: TestWorkflowEnvironment;
  /** The embedded directory (unused by the worker and the API when StackOptions.directory is given). */
  directory: EmbeddedDirectory;
  /** The review records the worker writes and the API reads. */
  records: ReviewRecordStore;
  /** The database of the records, with `records: 'postgres'`. */
  /** The directory state the apply activity read back after each applied item. */
  observations: ApplyObservationStore;
  /** The stack's database, with `records: 'postgres'`. */
  db?: Kysely<Database>;
  issuer: LocalIssuer;
  baseUrl: string;
  /** Bearer token for a user; admins get the admin role claim. */
  token(userId: string, admin?: boolean): Promise<string>;
  /** Serves one more API over the same worker, directory and Temporal, with other settings; its base URL. */
  serveApi(options?: ApiOptions): Promise<string>;
  stop(): Promise<void>;
}

/** Settings of an API server of the stack; the defaults keep limits out of the tests' way. */
export interface ApiOptions {
  auth?: Partial<AuthSettings>;
  logger?: Logger;
  publicBaseUrl?: string;
  rateLimitPerMinute?: number;
  rateLimitUnauthenticatedPerMinute?: number;
}

/** Options of a test stack. */
export interface StackOptions {
  /** ES256 JWK file for the local issuer; a test that writes it holds the private key and can sign any token. */
  keyFile?: string;
  /** Reviewees above which an instance is split into shards (REVIEW_SHARD_SIZE). */
  shardSize?: number;
  /** Where the review records go: in memory (default) or a fresh database on the test PostgreSQL. */
  records?: 'memory' | 'postgres';
  /** The directory the worker and the API use instead of an embedded one (an LDAP server, say). */
  directory?: Directory;
  /** Where the worker sends review notifications (default: nowhere; they are recorded as not sent). */
  mailer?: Mailer;
}

/** Starts the stack over the given tenant (default: the demo tenant). */
export async function startStack(tenant?: TenantFileInput, options: StackOptions = {}): Promise<Stack> {
  const env = await createDevServerEnv();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'stagecoach-stack-'));
  const directory = tenant
    ? EmbeddedDirectory.inMemory(tenant)
    : await EmbeddedDirectory.open({
        stateFile: path.join(dir, 'directory.json'),
        seedFile: path.resolve(__dirname, '../../data/demo-tenant.json'),
      });
  const taskQueue = `api-test-${randomUUID()}`;
  let database: { db: Kysely<Database>; drop: () => Promise<void> } | undefined;
  let records: ReviewRecordStore = new InMemoryReviewRecords();
  let historyReports: HistoryReportStore | undefined;
  let observations: ApplyObservationStore = new InMemoryApplyObservations();
  let evidence: EvidenceSource | undefined;
  let delegations: DelegationStore | undefined;
  if (options.records === 'postgres') {
    const created = await createTestDatabase();
    const db = createDatabase(created.url);
    await migrateToLatest(db);
    database = { db, drop: created.drop };
    records = new PostgresReviewRecords(db);
    historyReports = new HistoryReportStore(db);
    observations = new PostgresApplyObservations(db);
    evidence = new PostgresEvidence(db);
    delegations = new PostgresDelegations(db);
  }
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: createActivities({
      directory: options.directory ?? directory,
      applyLedger: new InMemoryApplyLedger(),
      records,
      observations,
      mailer: options.mailer,
      notificationLedger: database && new PostgresNotificationLedger(database.db),
      delegations,
    }),
  });
  const running = worker.run();
  const issuer = await LocalIssuer.open(options.keyFile ?? path.join(dir, 'key.json'));
  const servers: Server[] = [];
  const serveApi = async (api: ApiOptions = {}) => {
    const app = createApi(
      {
        TASK_QUEUE: taskQueue,
        BODY_LIMIT: '1mb',
        RATE_LIMIT_PER_MINUTE: api.rateLimitPerMinute ?? 100_000,
        RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: api.rateLimitUnauthenticatedPerMinute ?? 100_000,
        PUBLIC_BASE_URL: api.publicBaseUrl,
        REVIEW_SHARD_SIZE: options.shardSize,
      },
      {
        client: env.client,
        directory: options.directory ?? directory,
        auth: {
          verifier: issuer,
          userClaim: 'oid',
          rolesClaim: 'roles',
          adminRole: ADMIN_ROLE,
          admins: [],
          ...api.auth,
        },
        localIssuer: issuer,
        logger: api.logger ?? pino({ level: 'silent' }),
        records,
        historyReports,
        evidence,
        delegations,
      },
    );
    const server = await listen(app, 0, '127.0.0.1');
    servers.push(server);
    return `http://127.0.0.1:${portOf(server)}`;
  };
  const baseUrl = await serveApi();
  return {
    env,
    directory,
    records,
    observations,
    db: database?.db,
    issuer,
    baseUrl,
    token: (userId, admin = false) => issuer.issue(userId, { roles: admin ? [ADMIN_ROLE] : [] }),
    serveApi,
    async stop() {
      await Promise.all(servers.map((server) => new Promise((r) => server.close(r))));
      worker.shutdown();
      await running;
      await env.teardown();
      if (database) {
        await database.db.destroy();
        await database.drop();
      }
    },
  };
}
