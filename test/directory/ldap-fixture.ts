import { LdapDirectory } from '../../src/directory/ldap/ldap-directory';
import type { LdapSettings, MembershipStrategy } from '../../src/directory/ldap/settings';
import { ldapEnvSchema, resolveLdapSettings } from '../../src/directory/ldap/settings';
import type { LdapTestServer } from '../helpers/ldap-test-server';
import { TcpFaultProxy } from '../helpers/tcp-fault-proxy';
import type { ContractFixture } from './contract';
import { throughFaultProxy } from './contract';

/** The application the contract tenant's `payroll` becomes on LDAP: its two groups. */
export const PAYROLL_APP_ID = 'payroll';

/** The LDAP_* environment that points Stagecoach at a test server (through `url` when given). */
export function ldapEnv(server: LdapTestServer, extra: Record<string, string> = {}, url = server.url) {
  return {
    LDAP_URL: url,
    LDAP_FLAVOUR: server.flavour,
    LDAP_BIND_DN: server.bindDN,
    LDAP_BIND_PASSWORD: server.bindPassword,
    LDAP_BASE_DN: server.baseDN,
    LDAP_USER_BASE_DN: server.usersDN,
    LDAP_GROUP_BASE_DN: server.groupsDN,
    LDAP_APPLICATIONS: JSON.stringify([
      {
        id: PAYROLL_APP_ID,
        displayName: 'Payroll',
        groups: [server.dnOf('payroll-users'), server.dnOf('payroll-admins')],
      },
    ]),
    ...extra,
  };
}

/**
 * Settings for a test server, as the entry points resolve them from the environment; a server that needs
 * settings of its own (389 DS: its id and sign-in attributes) brings them as `stagecoachEnv`, under `extra`.
 */
export async function ldapSettings(
  server: LdapTestServer & { stagecoachEnv?: Record<string, string> },
  extra: Record<string, string> = {},
  url?: string,
): Promise<LdapSettings> {
  const env = ldapEnv(server, { ...server.stagecoachEnv, ...extra }, url);
  return resolveLdapSettings(ldapEnvSchema.parse(env), {
    read: async () => {
      throw new Error('no files in tests');
    },
  });
}

/**
 * The contract fixture for an LDAP server: the adapter talks to it through a fault proxy, with the given
 * membership strategy and further LDAP_* settings; 1.5 s timeouts unless `timeoutMs` says (the fault tests
 * get a second adapter with 1.5 s, so a hung server fails fast either way).
 */
export async function ldapContractFixture(
  server: LdapTestServer,
  options: { membership?: MembershipStrategy; timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<ContractFixture & { directory: LdapDirectory }> {
  const port = Number(new URL(server.url).port);
  const proxy = await TcpFaultProxy.start('127.0.0.1', port);
  const timeout = String(options.timeoutMs ?? 1500);
  const extra: Record<string, string> = {
    LDAP_TIMEOUT_MS: timeout,
    LDAP_CONNECT_TIMEOUT_MS: timeout,
    ...options.env,
  };
  if (options.membership) extra.LDAP_MEMBERSHIP = options.membership;
  const directory = await LdapDirectory.connect(await ldapSettings(server, extra, proxy.url));
  const short = { ...extra, LDAP_TIMEOUT_MS: '1500', LDAP_CONNECT_TIMEOUT_MS: '1500' };
  const faultDirectory = await LdapDirectory.connect(await ldapSettings(server, short, proxy.url));
  return throughFaultProxy({
    directory,
    faultDirectory,
    proxy,
    server,
    idOf: (key) => (key === 'payroll' ? PAYROLL_APP_ID : server.idOf(key)),
    multipleOwners: server.flavour === 'openldap',
    signIn: (key) => server.signIn(key),
  });
}
