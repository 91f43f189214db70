import { parseConfig } from './config';
import { EmbeddedDirectory } from './directory/embedded';
import { createLogger } from './logger';
import { createWorker } from './runtime';
import { FileApplyLedger } from './store/apply-ledger';

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
  logger.info({ address: config.TEMPORAL_ADDRESS, taskQueue: config.TASK_QUEUE }, 'worker started');
  const stop = () => worker.shutdown();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await worker.run();
  logger.info('worker stopped');
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
