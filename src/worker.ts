import { parseConfig } from './config';
import { EmbeddedDirectory } from './directory/embedded';
import { createLogger } from './logger';
import { createWorker, listen } from './runtime';
import { FileApplyLedger } from './store/apply-ledger';
import { workerHealth } from './worker-health';

/** Worker-only entry point (production): runs workflows and activities against TEMPORAL_ADDRESS. */
async function main() {
  const config = parseConfig(process.env, 'worker');
  const logger = createLogger(config.LOG_LEVEL);
  const directory = await EmbeddedDirectory.open({
    stateFile: config.DIRECTORY_FILE,
    seedFile: config.DIRECTORY_SEED,
  });
  const applyLedger = await FileApplyLedger.open(config.APPLY_LEDGER_FILE);
  const worker = await createWorker(config, { directory, applyLedger });
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
  if (health) {
    const closed = new Promise((r) => health.close(r));
    health.closeAllConnections();
    await closed;
  }
  logger.info('worker stopped');
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
