import { parseConfig } from './config';
import { openDirectory } from './directory/open';
import { createLogger } from './logger';
import { createPortal } from './portal/server';
import { createApi, createAuth, createClient, listen, openDatabase, postgresReads } from './runtime';
import { redactUrl } from './store/database';

/** API-only entry point (production): serves the Graph-shaped API against TEMPORAL_ADDRESS. */
async function main() {
  const config = parseConfig(process.env, 'api');
  const logger = createLogger(config.LOG_LEVEL);
  // Migrated here as well as by the worker, whichever starts first; review records will be read from it.
  const url = config.DATABASE_URL!;
  const db = await openDatabase(url, `DATABASE_URL=${redactUrl(url)}`, logger);
  const opened = await openDirectory(config);
  const { directory } = opened;
  logger.info({ directory: opened.description }, 'directory connected');
  const client = await createClient(config);
  const { auth, localIssuer } = await createAuth(config, logger);
  const portal = await createPortal(config, {
    auth,
    localIssuer,
    directory,
    baseUrl: config.PUBLIC_BASE_URL ?? `http://localhost:${config.PORT}`,
    logger,
  });
  const app = createApi(config, {
    client,
    directory,
    auth,
    localIssuer,
    logger,
    portal,
    ...postgresReads(db),
  });
  const server = await listen(app, config.PORT, config.HOST);
  logger.info({ port: config.PORT, authMode: config.AUTH_MODE }, 'API listening');
  const stop = () =>
    server.close(
      () => void Promise.allSettled([opened.close(), db.destroy()]).finally(() => process.exit(0)),
    );
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
