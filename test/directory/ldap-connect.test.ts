import { mkdtempSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BusyError, NoSuchObjectError, UnavailableError } from 'ldapts';
import { parseConfig } from '../../src/config';
import { isTransientLdapError } from '../../src/directory/ldap/connection';
import { LdapDirectory } from '../../src/directory/ldap/ldap-directory';
import { openDirectory } from '../../src/directory/open';
import type { Slapd } from '../helpers/slapd';
import { startSlapd } from '../helpers/slapd';
import { freePort } from '../helpers/ports';
import { contractTenant } from './contract-tenant';
import { ldapEnv, ldapSettings } from './ldap-fixture';

let server: Slapd;
beforeAll(async () => {
  server = await startSlapd(contractTenant({ bulk: false }), { tls: true });
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

const ca = () => readFile(server.caFile!, 'utf8');

async function connected(settings: Parameters<typeof LdapDirectory.connect>[0]) {
  const directory = await LdapDirectory.connect(settings);
  try {
    return await directory.getUser(server.idOf('adele'));
  } finally {
    await directory.close();
  }
}

describe('LDAP connection', () => {
  it('talks LDAPS with the CA file', async () => {
    const settings = { ...(await ldapSettings(server, {}, server.ldapsUrl)), ca: await ca() };
    expect(await connected(settings)).toMatchObject({ displayName: 'Adele Vance' });
  });

  it('upgrades ldap:// with StartTLS and the CA file', async () => {
    const settings = { ...(await ldapSettings(server, { LDAP_STARTTLS: 'true' })), ca: await ca() };
    expect(await connected(settings)).toMatchObject({ displayName: 'Adele Vance' });
  });

  it('refuses a server certificate the CA did not sign, naming LDAP_TLS_CA_FILE', async () => {
    const settings = await ldapSettings(server, {}, server.ldapsUrl);
    await expect(LdapDirectory.connect(settings)).rejects.toThrow(/LDAP_TLS_CA_FILE/);
  });

  it('names LDAP_BIND_DN when the bind is refused', async () => {
    const settings = { ...(await ldapSettings(server)), bindPassword: 'wrong' };
    await expect(LdapDirectory.connect(settings)).rejects.toThrow(
      `LDAP_BIND_DN=${server.bindDN}: the server refused the bind with the configured password (invalidCredentials)`,
    );
  });

  it('names LDAP_URL when nothing listens', async () => {
    const url = `ldap://127.0.0.1:${await freePort()}`;
    await expect(LdapDirectory.connect(await ldapSettings(server, {}, url))).rejects.toThrow(
      new RegExp(`^LDAP_URL=${url}: cannot connect to the LDAP server \\(ECONNREFUSED`),
    );
  });

  it('names the base DN setting that does not exist, and an application group that is no group', async () => {
    const missing = `ou=nowhere,${server.baseDN}`;
    await expect(
      LdapDirectory.connect(await ldapSettings(server, { LDAP_GROUP_BASE_DN: missing })),
    ).rejects.toThrow(`LDAP_GROUP_BASE_DN=${missing}: no such entry`);
    const apps = JSON.stringify([{ id: 'x', displayName: 'X', groups: [server.dnOf('adele')] }]);
    await expect(
      LdapDirectory.connect(await ldapSettings(server, { LDAP_APPLICATIONS: apps })),
    ).rejects.toThrow(
      `LDAP_APPLICATIONS: application "x" names ${server.dnOf('adele')}, which is not a group`,
    );
  });

  it('opens DIRECTORY=ldap from the environment, the password and CA from files', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'stagecoach-ldap-'));
    const passwordFile = path.join(dir, 'bind-password');
    writeFileSync(passwordFile, `${server.bindPassword}\n`, { mode: 0o600 });
    const { LDAP_BIND_PASSWORD: _omitted, ...env } = ldapEnv(server, {}, server.ldapsUrl);
    const config = parseConfig(
      {
        ...env,
        DIRECTORY: 'ldap',
        LDAP_BIND_PASSWORD_FILE: passwordFile,
        LDAP_TLS_CA_FILE: server.caFile,
        DATABASE_URL: 'postgres://u:p@localhost/db',
      },
      'worker',
    );
    const opened = await openDirectory(config);
    try {
      expect(opened.description).toContain(`${server.ldapsUrl} (LDAP, openldap flavour`);
      expect(opened.description).not.toContain(server.bindPassword);
      expect(await opened.directory.getUser(server.idOf('nestor'))).toMatchObject({
        managerId: server.idOf('lynne'),
      });
    } finally {
      await opened.close();
    }
  });

  it('serves many calls at once over its pool', async () => {
    const directory = await LdapDirectory.connect(await ldapSettings(server, { LDAP_POOL_SIZE: '3' }));
    try {
      const keys = ['adele', 'alex', 'megan', 'nestor', 'lynne', 'patti', 'diego', 'gina'];
      const users = await Promise.all(
        Array.from({ length: 200 }, (_, i) => directory.getUser(server.idOf(keys[i % 8]!))),
      );
      expect(users.map((u) => u?.id)).toEqual(
        Array.from({ length: 200 }, (_, i) => server.idOf(keys[i % 8]!)),
      );
    } finally {
      await directory.close();
    }
  });
});

describe('LDAP failure classes', () => {
  it.each([
    ['busy (51)', new BusyError('busy'), true],
    ['unavailable (52)', new UnavailableError('unavailable'), true],
    ['noSuchObject (32)', new NoSuchObjectError('gone'), false],
    ['a reset socket', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), true],
    ['an operation timeout', new Error('SearchRequest: Operation timed out'), true],
    ['a filter error', new Error('Invalid expression: x'), false],
  ])('%s is transient: %s', (_name, err, transient) => {
    expect(isTransientLdapError(err)).toBe(transient);
  });
});
