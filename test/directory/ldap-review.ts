import { readFile } from 'node:fs/promises';
import { LdapDirectory } from '../../src/directory/ldap/ldap-directory';
import type { LdapTestServer } from '../helpers/ldap-test-server';
import { contractTenant } from './contract-tenant';
import { describeDirectoryReview } from './directory-review';
import { ldapSettings } from './ldap-fixture';

/**
 * The end-to-end review (describeDirectoryReview) on a real LDAP server, read back with ldapsearch; with
 * `tls`, over LDAPS and verified against the server's CA file.
 */
export function describeLdapReview(
  name: string,
  start: () => Promise<LdapTestServer>,
  options: { tls?: boolean } = {},
) {
  describeDirectoryReview(name, async () => {
    const server = await start();
    const settings = options.tls
      ? { ...(await ldapSettings(server, {}, server.ldapsUrl)), ca: await readFile(server.caFile!, 'utf8') }
      : await ldapSettings(server);
    const directory = await LdapDirectory.connect(settings);
    const t = contractTenant({ bulk: false });
    const keyOfDn = new Map(
      [...t.users, ...t.groups].map((o) => [server.dnOf(o.key).toLowerCase(), o.key] as const),
    );
    return {
      directory,
      idOf: (key) => server.idOf(key),
      serverMemberIds: async (groupKey) => {
        const [entry] = await server.cliSearch(server.dnOf(groupKey), '(objectClass=*)', ['member'], 'base');
        return (entry?.member ?? []).flatMap((dn) => {
          const key = keyOfDn.get(dn.toLowerCase());
          return key ? [server.idOf(key)] : [];
        });
      },
      stop: async () => {
        await directory.close();
        await server.stop();
      },
    };
  });
}
