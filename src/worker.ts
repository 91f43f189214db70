import { parseConfig } from './config';
import { openDirectory } from './directory/open';
import { createLogger } from './logger';
import { openMailer } from './notifications/smtp';
import { createWorker, listen, openDatabase } from './runtime';
import { redactUrl } from './store/database';
import { PostgresApplyLedger } from './store/postgres-apply-ledger';
import { startRecordRetention } from './services/record-retention';
import { PostgresApplyObservations } from './store/postgres-apply-observations';
import { PostgresDelegations } from './store/postgres-delegations';
import { PostgresNotificationLedger } from './store/postgres-notification-ledger';
import { PostgresReviewRecords } from './store/postgres-review-records';
import { workerHealth } from './worker-health';

/** Worker-only entry point (production): runs workflows and activities against TEMPORAL_ADDRESS. */
async function main() {
  const config = parseConfig(process.env, 'worker');
  const logger = createLogger(config.LOG_LEVEL);
  const url = config.DATABASE_URL!;
  const db = await openDatabase(url, `DATABASE_URL=${redactUrl(url)}`, logger);
  const opened = await openDirectory(config);
  const { directory } = opened;
  logger.info({ directory: opened.description }, 'directory connected');
  const mailer = await openMailer(config, (problem) =>
    logger.warn({ problem }, 'mail server not reachable now; notifications are retried until it answers'),
  );
  if (mailer) logger.info({ mail: mailer.description }, 'mail server checked');
  else logger.warn('SMTP_HOST is not set: review notifications are recorded as not sent');
  if (mailer && !config.PUBLIC_BASE_URL) {
    logger.warn('PUBLIC_BASE_URL is not set: links in review e-mails point to http://localhost:3000');
  }
  const records = new PostgresReviewRecords(db);
  const worker = await createWorker(config, {
    directory,
    applyLedger: new PostgresApplyLedger(db),
    records,
    observations: new PostgresApplyObservations(db),
    mailer,
    notificationLedger: new PostgresNotificationLedger(db),
    delegations: new PostgresDelegations(db),
    publicBaseUrl: config.PUBLIC_BASE_URL,
  });
  const stopRetention = startRecordRetention(records, config.RECORDS_RETENTION_DAYS, logger);
  const health =
    config.WORKER_HEALTH_PORT === undefined
      ? undefined
      : await listen(workerHealth(worker), config.WORKER_HEALTH_PORT, config.HOST, 'WORKER_HEALTH_PORT');
  logger.info(
    { address: config.TEMPORAL_ADDRESS, taskQueue: config.TASK_QUEUE, healthPort: config.WORKER_HEALTH_PORT },
    'worker started',
  );
  const stop = () => worker.shutdown();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await worker.run();
  stopRetention();
  if (health) {
    const closed = new Promise((r) => health.close(r));
    health.closeAllConnections();
    await closed;
  }
  // After the worker: its last activities may still have written to the ledger.
  await opened.close();
  await mailer?.close();
  await db.destroy();
  logger.info('worker stopped');
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
