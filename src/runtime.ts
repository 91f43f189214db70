import type { Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createActivities } from './activities';
import type { AuthSettings } from './api/auth';
import { LocalIssuer, remoteJwksVerifier } from './api/auth';
import { createApp } from './api/app';
import type { Config } from './config';
import { DEFAULT_UNAUTHENTICATED_PER_MINUTE, localIssuerHost } from './config';
import type { Directory } from './directory/port';
import { DefinitionService } from './services/definitions';
import { DirectoryService } from './services/directory';
import { DirectoryAccess } from './services/directory-access';
import { DirectoryReferences } from './services/directory-references';
import { InstanceService } from './services/instances';
import { TemporalGateway } from './services/temporal-gateway';
import type { ApplyLedger } from './store/apply-ledger';

/** Builds the Temporal worker that runs every Stagecoach workflow and activity. */
export async function createWorker(
  config: Pick<Config, 'TEMPORAL_ADDRESS' | 'TEMPORAL_NAMESPACE' | 'TASK_QUEUE'>,
  deps: { directory: Directory; applyLedger: ApplyLedger },
): Promise<Worker> {
  // The SDK logs every bundling step and state change at INFO; an operator needs warnings and errors.
  // Entry points own shutdown (no SDK signal handlers), so the API and dev server stop in order.
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  return Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TASK_QUEUE,
    workflowsPath: require.resolve('./workflows'),
    activities: createActivities(deps),
  });
}

/** A Temporal client for the API. */
export async function createClient(config: Pick<Config, 'TEMPORAL_ADDRESS' | 'TEMPORAL_NAMESPACE'>) {
  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
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
  },
) {
  const gw = new TemporalGateway(deps.client, config.TASK_QUEUE);
  const lookup = async (id: string) => deps.directory.getUser(id);
  const references = new DirectoryReferences(deps.directory);
  const definitions = new DefinitionService(gw, lookup, references, { shardSize: config.REVIEW_SHARD_SIZE });
  const instances = new InstanceService(gw, definitions);
  const directory = new DirectoryService(deps.directory, gw);
  return createApp({
    definitions,
    instances,
    directory,
    access: new DirectoryAccess(definitions, instances),
    auth: deps.auth,
    localIssuer: deps.localIssuer,
    logger: deps.logger,
    bodyLimit: config.BODY_LIMIT,
    rateLimitPerMinute: config.RATE_LIMIT_PER_MINUTE,
    rateLimitUnauthenticatedPerMinute:
      config.RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE ?? DEFAULT_UNAUTHENTICATED_PER_MINUTE,
    publicBaseUrl: config.PUBLIC_BASE_URL,
  });
}

/** Listens and resolves once the port is bound. */
export function listen(app: ReturnType<typeof createApi>, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, () => resolve(server));
    server.on('error', reject);
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
