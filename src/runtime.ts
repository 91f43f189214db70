import type { RequestListener, Server } from 'node:http';
import { createServer } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { ActivityDeps } from './activities';
import { createActivities } from './activities';
import type { AuthSettings } from './api/auth';
import { LocalIssuer, remoteJwksVerifier } from './api/auth';
import type { PortalSetup } from './portal/server';
import { createApp } from './api/app';
import { answerClientError, MAX_HEADER_BYTES } from './api/client-errors';
import type { Config, TemporalConnectionSettings } from './config';
import { DEFAULT_UNAUTHENTICATED_PER_MINUTE, localIssuerHost } from './config';
import type { Directory } from './directory/port';
import { DefinitionService } from './services/definitions';
import { DelegationService } from './services/delegations';
import type { DelegationStore } from './store/delegations';
import { PostgresDelegations } from './store/postgres-delegations';
import { DirectoryService } from './services/directory';
import { DirectoryAccess } from './services/directory-access';
import { DirectoryReferences } from './services/directory-references';
import { HistoryReportService } from './services/history-reports';
import { InstanceService } from './services/instances';
import { TemporalGateway } from './services/temporal-gateway';
import { HistoryReportStore } from './store/history-reports';
import { EvidenceService } from './services/evidence';
import { createDatabase } from './store/database';
import type { EvidenceSource } from './store/evidence';
import { PostgresEvidence } from './store/evidence';
import { migrateToLatest } from './store/migrations';
import { PostgresReviewRecords } from './store/postgres-review-records';
import type { ReviewRecordStore } from './store/review-records';
import type { Database } from './store/schema';
import { connectNamingAddress, temporalTarget } from './temporal-connection';

/** Builds the Temporal worker that runs every Stagecoach workflow and activity. */
export async function createWorker(
  config: TemporalConnectionSettings & Pick<Config, 'TEMPORAL_NAMESPACE' | 'TASK_QUEUE'>,
  deps: ActivityDeps,
): Promise<Worker> {
  // The SDK logs every bundling step and state change at INFO; an operator needs warnings and errors.
  // Entry points own shutdown (no SDK signal handlers), so the API and dev server stop in order. A process
  // that installed its Runtime already (tests, several workers) keeps it.
  if (Runtime._instance === undefined) {
    Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  }
  const target = await temporalTarget(config);
  const connection = await connectNamingAddress(target, () =>
    NativeConnection.connect({ address: target.address, tls: target.tls, apiKey: target.apiKey }),
  );
  return Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TASK_QUEUE,
    workflowsPath: require.resolve('./workflows'),
    activities: createActivities(deps),
  });
}

/** A Temporal client for the API; `connectTimeoutMs` bounds the first connection (SDK default 10 s). */
export async function createClient(
  config: TemporalConnectionSettings & Pick<Config, 'TEMPORAL_NAMESPACE'>,
  { connectTimeoutMs }: { connectTimeoutMs?: number } = {},
) {
  const target = await temporalTarget(config);
  const connection = await connectNamingAddress(target, () =>
    Connection.connect({
      address: target.address,
      tls: target.tls,
      apiKey: target.apiKey,
      connectTimeout: connectTimeoutMs,
    }),
  );
  return new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
}

/** Wires services and the Express app around a Temporal client and a directory. */
export function createApi(
  config: Pick<Config, 'TASK_QUEUE' | 'BODY_LIMIT' | 'RATE_LIMIT_PER_MINUTE'> &
    Partial<Pick<Config, 'REVIEW_SHARD_SIZE' | 'RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE' | 'PUBLIC_BASE_URL'>>,
  deps: {
    client: Client;
    directory: Directory;
    auth: AuthSettings;
    localIssuer?: LocalIssuer;
    logger: Logger;
    /** The review records, which answer the reads (also while no worker runs, and after retention). */
    records?: ReviewRecordStore;
    /** Review history reports, read from the review records in PostgreSQL. */
    historyReports?: HistoryReportStore;
    /** Where audit evidence is read from (the records in PostgreSQL); without it, no evidence routes. */
    evidence?: EvidenceSource;
    /** Out-of-office delegations (in PostgreSQL); without them, no delegation routes. */
    delegations?: DelegationStore;
    /** The web portal (createPortal); without it, no /portal. */
    portal?: PortalSetup;
  },
) {
  const gw = new TemporalGateway(deps.client, config.TASK_QUEUE);
  const lookup = async (id: string) => deps.directory.getUser(id);
  const references = new DirectoryReferences(deps.directory);
  const definitions = new DefinitionService(
    gw,
    lookup,
    references,
    { shardSize: config.REVIEW_SHARD_SIZE },
    deps.records,
  );
  const instances = new InstanceService(gw, definitions, lookup, deps.records);
  const directory = new DirectoryService(deps.directory, gw);
  // A first probe now starts the probe workflow if it does not exist, so the first request finds it.
  gw.liveness.answering().catch((err: unknown) => {
    deps.logger.warn({ err }, 'could not probe the workers yet; /health probes again');
  });
  return createApp({
    definitions,
    instances,
    directory,
    health: () => gw.liveness.health(),
    access: new DirectoryAccess(definitions, instances),
    evidence: deps.evidence && new EvidenceService(deps.evidence),
    auth: deps.auth,
    localIssuer: deps.localIssuer,
    history: deps.historyReports && new HistoryReportService(deps.historyReports, lookup),
    delegations: deps.delegations && new DelegationService(deps.delegations, lookup, definitions, instances),
    logger: deps.logger,
    bodyLimit: config.BODY_LIMIT,
    rateLimitPerMinute: config.RATE_LIMIT_PER_MINUTE,
    rateLimitUnauthenticatedPerMinute:
      config.RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE ?? DEFAULT_UNAUTHENTICATED_PER_MINUTE,
    publicBaseUrl: config.PUBLIC_BASE_URL,
    portal: deps.portal,
  });
}

/**
 * Listens and resolves once the port is bound; rejects with a message naming HOST and the port's setting
 * when it cannot (port taken, no permission), so a second start fails instead of printing that it runs.
 */
export function listen(
  handler: RequestListener,
  port: number,
  host: string,
  portSetting = 'PORT',
): Promise<Server> {
  // Not app.listen: Express 5 hands listen errors to its callback, which then looks like success.
  const server = createServer({ maxHeaderSize: MAX_HEADER_BYTES }, handler);
  server.on('clientError', answerClientError);
  return new Promise((resolve, reject) => {
    const failed = (err: Error) =>
      reject(new Error(`Cannot listen on HOST=${host} ${portSetting}=${port}: ${err.message}`));
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve(server);
    });
  });
}

/**
 * Auth settings from the configuration: a remote JWKS (jwt) or the demo tenant's local issuer (local).
 * Checks the local issuer's loopback rule again (a Config need not come from parseConfig) and warns on
 * every start that AUTH_LOCAL_ALLOW_REMOTE=true serves it beyond this machine.
 */
export async function createAuth(
  config: Config,
  logger: Logger,
): Promise<{ auth: AuthSettings; localIssuer?: LocalIssuer }> {
  const common = {
    userClaim: config.AUTH_USER_CLAIM,
    rolesClaim: config.AUTH_ROLES_CLAIM,
    adminRole: config.AUTH_ADMIN_ROLE,
    admins: config.AUTH_ADMINS,
  };
  if (config.AUTH_MODE === 'local') {
    if (localIssuerHost(config) === 'remote') {
      logger.warn(
        { HOST: config.HOST, AUTH_MODE: config.AUTH_MODE, AUTH_LOCAL_ALLOW_REMOTE: true },
        `SECURITY WARNING: AUTH_MODE=local on HOST=${config.HOST}, beyond loopback (AUTH_LOCAL_ALLOW_REMOTE=true): ` +
          'anyone who can reach this API can get an administrator token from POST /auth/local/token',
      );
    }
    const localIssuer = await LocalIssuer.open(config.AUTH_LOCAL_KEY_FILE);
    return { auth: { ...common, verifier: localIssuer }, localIssuer };
  }
  const verifier = remoteJwksVerifier({
    jwksUrl: config.AUTH_JWKS_URL!,
    issuer: config.AUTH_ISSUER!,
    audience: config.AUTH_AUDIENCE!,
  });
  return { auth: { ...common, verifier } };
}

/**
 * Connects to PostgreSQL and brings its schema to the latest migration (every entry point does, at
 * start; concurrent starts are safe). Rejects with one line that names `where` (the setting, with the
 * password masked) and the reason, so a wrong URL or password stops the process with a message.
 */
export async function openDatabase(url: string, where: string, logger: Logger): Promise<Kysely<Database>> {
  const db = createDatabase(url, {
    onIdleError: (err) => logger.warn({ err: err.message }, 'a pooled PostgreSQL connection broke'),
  });
  try {
    await sql`select 1`.execute(db);
  } catch (err) {
    await db.destroy();
    throw new Error(`Cannot connect to PostgreSQL at ${where}: ${reason(err)}`);
  }
  try {
    const applied = await migrateToLatest(db);
    if (applied.length) logger.info({ migrations: applied }, 'database migrated');
  } catch (err) {
    await db.destroy();
    throw new Error(`Cannot migrate the database at ${where}: ${reason(err)}`);
  }
  return db;
}

function reason(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length) return reason(err.errors[0]);
  return err instanceof Error ? err.message : String(err);
}

/** What the API reads from PostgreSQL: the review records, the history reports and the audit evidence. */
export function postgresReads(db: Kysely<Database>) {
  return {
    records: new PostgresReviewRecords(db),
    historyReports: new HistoryReportStore(db),
    evidence: new PostgresEvidence(db),
    delegations: new PostgresDelegations(db),
  };
}
