import { ScimDirectory } from '../../src/directory/scim/scim-directory';
import type { ScimSettings } from '../../src/directory/scim/settings';
import { resolveScimSettings, scimEnvSchema } from '../../src/directory/scim/settings';
import type { ScimTestServer } from '../helpers/scim-server';
import { SCIM_GROUP_DESCRIPTION_SCHEMA, SCIM_SIGN_IN_SCHEMA } from '../helpers/scim-server';
import { TcpFaultProxy } from '../helpers/tcp-fault-proxy';
import type { ContractFixture } from './contract';
import { throughFaultProxy } from './contract';
import type { ReviewTarget } from './directory-review';

/** The application the contract tenant's `payroll` becomes on SCIM: the group named Payroll. */
export const PAYROLL_APP_ID = 'payroll';

/** The SCIM_* environment that points Stagecoach at a test server (through `baseUrl` when given). */
export function scimEnv(
  server: ScimTestServer,
  extra: Record<string, string> = {},
  baseUrl = server.baseUrl,
) {
  return {
    SCIM_BASE_URL: baseUrl,
    SCIM_TOKEN: server.token,
    SCIM_LAST_SIGN_IN_ATTRIBUTE: `${SCIM_SIGN_IN_SCHEMA}:lastSignInDateTime`,
    SCIM_GROUP_DESCRIPTION_ATTRIBUTE: `${SCIM_GROUP_DESCRIPTION_SCHEMA}:description`,
    SCIM_APPLICATIONS: JSON.stringify([{ id: PAYROLL_APP_ID, displayName: 'Payroll', groups: ['Payroll'] }]),
    ...extra,
  };
}

/** Settings for a test server, as the entry points resolve them from the environment. */
export function scimSettings(
  server: ScimTestServer,
  extra: Record<string, string> = {},
  baseUrl?: string,
): Promise<ScimSettings> {
  return resolveScimSettings(scimEnvSchema.parse(scimEnv(server, extra, baseUrl)), {
    read: async () => {
      throw new Error('no files in tests');
    },
  });
}

/** `server`'s base URL with the host and port of `proxyUrl` (ldap://127.0.0.1:PORT from TcpFaultProxy). */
const through = (server: ScimTestServer, proxyUrl: string) => {
  const url = new URL(server.baseUrl);
  url.port = new URL(proxyUrl).port;
  return url.toString().replace(/\/$/, '');
};

/**
 * The contract fixture for a SCIM server: the adapter talks to it through a fault proxy. The server is
 * slow on large groups (a PATCH of the 10,050-member group takes seconds), so the main adapter waits up
 * to 60 s; the fault tests get a second one that waits 10 s and does not retry, so a hung server fails
 * within the test's time.
 */
export async function scimContractFixture(
  server: ScimTestServer,
): Promise<ContractFixture & { directory: ScimDirectory }> {
  const proxy = await TcpFaultProxy.start('127.0.0.1', Number(new URL(server.baseUrl).port));
  const base = through(server, proxy.url);
  const directory = await ScimDirectory.connect(
    await scimSettings(server, { SCIM_TIMEOUT_MS: '60000' }, base),
  );
  const faultDirectory = await ScimDirectory.connect(
    await scimSettings(
      server,
      { SCIM_TIMEOUT_MS: '10000', SCIM_CONNECT_TIMEOUT_MS: '1500', SCIM_RETRIES: '0' },
      base,
    ),
  );
  return throughFaultProxy({
    directory,
    faultDirectory,
    proxy,
    server,
    idOf: (key) => (key === 'payroll' ? PAYROLL_APP_ID : server.idOf(key)),
    multipleOwners: true,
  });
}

/** The end-to-end review's target on a SCIM server, read back with plain GETs. */
export async function scimReviewTarget(server: ScimTestServer): Promise<ReviewTarget> {
  const directory = await ScimDirectory.connect(await scimSettings(server));
  return {
    directory,
    idOf: (key) => server.idOf(key),
    serverMemberIds: async (key) => (await server.readGroup(key)).memberIds,
    stop: async () => {
      await directory.close();
      await server.stop();
    },
  };
}
