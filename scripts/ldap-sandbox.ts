/**
 * `npm run ldap:sandbox`: a local OpenLDAP slapd on loopback (Debian's `slapd`, see scripts/install-directory-servers.sh)
 * loaded with a small tenant (managers, nested groups, guests, a disabled account, an application of two
 * groups), so `npm start` can run against a real directory. Writes the LDAP_* settings to
 * .stagecoach/ldap-sandbox.env (the bind password to a file beside it) and runs until Ctrl-C; the server and
 * its data are temporary.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { contractTenant } from '../test/directory/contract-tenant';
import { ldapEnv } from '../test/directory/ldap-fixture';
import { startSlapd } from '../test/helpers/slapd';

async function main() {
  const tenant = contractTenant({ bulk: false });
  const server = await startSlapd(tenant);
  const dir = path.resolve('.stagecoach');
  mkdirSync(dir, { recursive: true });
  const passwordFile = path.join(dir, 'ldap-sandbox-bind-password');
  writeFileSync(passwordFile, `${server.bindPassword}\n`, { mode: 0o600 });
  // ldapsearch -y reads the whole file as the password: no newline.
  const adminPasswordFile = path.join(dir, 'ldap-sandbox-admin-password');
  writeFileSync(adminPasswordFile, server.adminPassword, { mode: 0o600 });
  const { LDAP_BIND_PASSWORD: _secret, ...env } = ldapEnv(server);
  const envFile = path.join(dir, 'ldap-sandbox.env');
  const quoted = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;
  writeFileSync(
    envFile,
    [
      'DIRECTORY=ldap',
      ...Object.entries({ ...env, LDAP_BIND_PASSWORD_FILE: passwordFile }).map(
        ([k, v]) => `${k}=${quoted(v)}`,
      ),
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  const rel = path.relative(process.cwd(), envFile);
  const users = ['patti', 'megan', 'adele', 'alex', 'lynne', 'nestor']
    .map(
      (key) =>
        `    ${key.padEnd(7)} ${server.idOf(key)}  ${tenant.users.find((u) => u.key === key)?.displayName}`,
    )
    .join('\n');
  process.stdout.write(
    [
      '',
      `OpenLDAP sandbox on ${server.url} (base ${server.baseDN}, bound as ${server.bindDN})`,
      `  Settings   ${rel}`,
      `  Start      set -a; . ./${rel}; set +a; npm start`,
      `  Group      sales  ${server.idOf('sales')}  (members: /groups/${server.idOf('sales')}/transitiveMembers)`,
      `  Users (entryUUID):`,
      users,
      `  Look       ldapsearch -x -LLL -H ${server.url} -D '${server.adminDN}' -y ${path.relative(process.cwd(), adminPasswordFile)} -b '${server.dnOf('sales')}' member`,
      'Press Ctrl-C to stop (the data is thrown away).',
      '',
    ].join('\n'),
  );
  const stop = () => {
    void server.stop().finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
