import { readFile } from 'node:fs/promises';
import { GraphDirectory } from '../../src/directory/graph/graph-directory';
import type { GraphSettings } from '../../src/directory/graph/settings';
import { graphEnvSchema, resolveGraphSettings } from '../../src/directory/graph/settings';
import { GraphServer } from '../helpers/graph-server';
import { TcpFaultProxy } from '../helpers/tcp-fault-proxy';
import type { ContractFixture } from './contract';
import { throughFaultProxy } from './contract';
import type { ContractTenant } from './contract-tenant';
import type { ReviewTarget } from './directory-review';

/** The GRAPH_* environment that points Stagecoach at the reproduction (through `url` when given). */
export function graphEnv(server: GraphServer, extra: Record<string, string> = {}, url = server.url) {
  return {
    GRAPH_TENANT_ID: server.tenantId,
    GRAPH_CLIENT_ID: server.clientId,
    GRAPH_CLIENT_SECRET: server.clientSecret,
    GRAPH_AUTHORITY_HOST: url,
    GRAPH_BASE_URL: url,
    GRAPH_CA_FILE: server.caFile,
    ...extra,
  };
}

/** Settings for the reproduction, resolved as the entry points resolve them from the environment. */
export function graphSettings(
  server: GraphServer,
  extra: Record<string, string> = {},
  url?: string,
): Promise<GraphSettings> {
  const env = Object.fromEntries(Object.entries(graphEnv(server, extra, url)).filter(([, v]) => v !== ''));
  return resolveGraphSettings(graphEnvSchema.parse(env), { read: (p) => readFile(p, 'utf8') });
}

/**
 * The contract fixture for the Graph reproduction: the adapter talks to it through a fault proxy (TLS
 * passes through untouched); the fault tests get a second adapter with 1.5 s timeouts, no retries and no
 * read cache.
 */
export async function graphContractFixture(
  tenant: ContractTenant,
): Promise<ContractFixture & { directory: GraphDirectory; server: GraphServer }> {
  const server = await GraphServer.start(tenant);
  const proxy = await TcpFaultProxy.start('127.0.0.1', server.port);
  const url = `https://127.0.0.1:${proxy.port}`;
  const directory = await GraphDirectory.connect(
    await graphSettings(server, { GRAPH_SIGN_IN_ACTIVITY: 'true' }, url),
  );
  const faultDirectory = await GraphDirectory.connect(
    // No read cache: every fault test call must reach the wire.
    await graphSettings(
      server,
      { GRAPH_TIMEOUT_MS: '1500', GRAPH_RETRIES: '0', GRAPH_CACHE_SECONDS: '0' },
      url,
    ),
  );
  return {
    ...throughFaultProxy({
      directory,
      faultDirectory,
      proxy,
      server,
      idOf: (key) => server.idOf(key),
      multipleOwners: true,
    }),
    server,
  };
}

/** The end-to-end review's target: the adapter straight to the reproduction, read back from its own state. */
export async function graphReviewTarget(tenant: ContractTenant): Promise<ReviewTarget> {
  const server = await GraphServer.start(tenant);
  const directory = await GraphDirectory.connect(await graphSettings(server));
  return {
    directory,
    idOf: (key) => server.idOf(key),
    serverMemberIds: async (key) => server.readGroupMemberIds(key),
    stop: async () => {
      await directory.close();
      await server.stop();
    },
  };
}
