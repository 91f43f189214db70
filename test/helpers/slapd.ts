import type { ChildProcess } from 'node:child_process';
import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'ldapts';
import type { ContractGroup, ContractTenant, ContractUser } from '../directory/contract-tenant';
import { CONTRACT_USER_PASSWORD } from '../directory/contract-tenant';
import type { LdapTestServer } from './ldap-test-server';
import type { OnlineMembership } from './ldap-load';
import { writeMembershipsAndReadIds } from './ldap-load';
import { freePort } from './ports';
import { createTestPki } from './tls-certs';

// A real OpenLDAP slapd (Debian's 2.5 packages) for directory adapter tests. The tenant is bulk-loaded
// offline with slapadd (users, groups, operational attributes such as authTimestamp), then memberships are
// added online as the rootdn so that the real memberof overlay writes memberOf, as it would in production.

const SLAPD = '/usr/sbin/slapd';
const SLAPADD = '/usr/sbin/slapadd';
const LDAPSEARCH = 'ldapsearch';
const MODULE_PATH = '/usr/lib/ldap';
const SCHEMA_DIR = '/etc/ldap/schema';

/** Suffix of the test directory. */
export const SLAPD_BASE_DN = 'dc=stagecoach,dc=test';
const ADMIN_DN = `cn=admin,${SLAPD_BASE_DN}`;
const USERS_DN = `ou=people,${SLAPD_BASE_DN}`;
const GROUPS_DN = `ou=groups,${SLAPD_BASE_DN}`;
const SERVICES_DN = `ou=services,${SLAPD_BASE_DN}`;
const APPLICATIONS_DN = `ou=applications,${SLAPD_BASE_DN}`;
const POLICIES_DN = `ou=policies,${SLAPD_BASE_DN}`;
const SERVICE_DN = `cn=stagecoach,${SERVICES_DN}`;
const DEFAULT_POLICY_DN = `cn=default,${POLICIES_DN}`;
/** ppolicy's "locked until an administrator unlocks it" value. */
const LOCKED_FOREVER = '000001010000Z';

/** Options of startSlapd. */
export interface SlapdOptions {
  /** Also listen on ldaps:// with a certificate from a throwaway CA (StartTLS on ldap:// then works too). */
  tls?: boolean;
  /**
   * Also create `ou=applications` holding one groupOfNames per tenant application (cn = key) whose members
   * are the DNs of the application's groups, for adapters configured to read applications from an OU.
   * Off by default: applications are otherwise not entries (the adapter maps them to groups by configuration).
   */
  applicationsOu?: boolean;
}

/** A started slapd: the LdapTestServer plus its temp folder and process id. */
export type Slapd = LdapTestServer & { dataDir: string; pid: number };

/** What `run` gives back: the output and the exit code. */
export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs a program to its end; rejects only when it cannot be started. */
export function run(file: string, args: string[], env?: NodeJS.ProcessEnv): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { maxBuffer: 256 * 1024 * 1024, ...(env ? { env } : {}) }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') {
        reject(new Error(`${file} could not be run (is it installed?): ${err.message}`));
        return;
      }
      resolve({ stdout, stderr, code: err ? Number(err.code) : 0 });
    });
  });
}

/** `{SSHA}` as slappasswd writes it: base64(SHA-1(password + salt) + salt). */
export function ssha(password: string): string {
  const salt = randomBytes(8);
  const digest = createHash('sha1').update(password).update(salt).digest();
  return `{SSHA}${Buffer.concat([digest, salt]).toString('base64')}`;
}

/** A random password for a throwaway server. */
export const randomPassword = () => randomBytes(18).toString('base64url');

/** Escapes an RDN attribute value (RFC 4514). */
export function rdnValue(value: string): string {
  return value
    .replace(/[\\,+"<>;=]/g, (c) => `\\${c}`)
    .replace(/^[ #]/, (c) => `\\${c}`)
    .replace(/ $/, '\\ ');
}

/** One LDIF line; values that are not an RFC 2849 SAFE-STRING are base64 (`attr:: `). */
function ldifLine(attribute: string, value: string): string {
  // eslint-disable-next-line no-control-regex
  const safe = /^(?:[\x01-\x09\x0b\x0c\x0e-\x1f\x21-\x39\x3b\x3d-\x7f][\x01-\x09\x0b\x0c\x0e-\x7f]*)?$/;
  if (safe.test(value) && !value.endsWith(' '))
    return value === '' ? `${attribute}:` : `${attribute}: ${value}`;
  return `${attribute}:: ${Buffer.from(value, 'utf8').toString('base64')}`;
}

/** One LDIF entry (attributes whose value is undefined are left out), ending in a blank line. */
export function ldifEntry(dn: string, attributes: [string, string | string[] | undefined][]): string {
  const lines = [ldifLine('dn', dn)];
  for (const [name, value] of attributes) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) lines.push(ldifLine(name, v));
  }
  return `${lines.join('\n')}\n\n`;
}

/** `2026-11-28T09:30:00Z` → `20261128093000Z` (generalized time). */
export function generalizedTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) throw new Error(`lastSignIn is not a date: ${iso}`);
  return `${d.toISOString().slice(0, 19).replace(/[-T:]/g, '')}Z`;
}

/** Surname for inetOrgPerson's required sn: the last word of the display name outside parentheses. */
export function surname(user: ContractUser): string {
  const words = user.displayName
    .replace(/\([^)]*\)/g, ' ')
    .trim()
    .split(/\s+/);
  return words[words.length - 1] || user.key;
}

function slapdConf(
  dir: string,
  rootPasswordHash: string,
  tls: { ca: string; cert: string; key: string } | undefined,
) {
  const svc = `dn.exact="${SERVICE_DN}"`;
  return `# Written by test/helpers/slapd.ts for one test run.
${['core', 'cosine', 'inetorgperson', 'nis'].map((s) => `include ${SCHEMA_DIR}/${s}.schema`).join('\n')}
# 2.5's ppolicy and lastbind define their schema themselves (no ppolicy.schema needed).
modulepath ${MODULE_PATH}
moduleload back_mdb
moduleload memberof
moduleload refint
moduleload ppolicy
moduleload lastbind
pidfile ${dir}/slapd.pid
argsfile ${dir}/slapd.args
# Like real servers: an unpaged search of more than 1,000 entries ends in sizeLimitExceeded.
sizelimit 1000
${
  tls
    ? `TLSCACertificateFile ${tls.ca}
TLSCertificateFile ${tls.cert}
TLSCertificateKeyFile ${tls.key}`
    : ''
}

# ACLs: the first "access to" whose target matches decides; each ends in an implicit "by * none".
# The root DSE and the schema, for clients that read supportedControl or the schema.
access to dn.base="" by * read
access to dn.base="cn=Subschema" by * read
# Users (and the service account) can bind; nobody reads password hashes (the rootdn bypasses ACLs).
access to attrs=userPassword
  by anonymous auth
  by * none
# The review tool removes members of groups ...
access to dn.subtree="${GROUPS_DN}" attrs=member,uniqueMember
  by ${svc} write
  by * none
# ... disables (locks) and enables users ...
access to dn.one="${USERS_DN}" attrs=pwdAccountLockedTime
  by ${svc} write
  by * none
# ... and deletes users: write on the entry itself and on its parent's children.
access to dn.one="${USERS_DN}" attrs=entry
  by ${svc} write
  by * none
access to dn.base="${USERS_DN}" attrs=children
  by ${svc} write
  by * none
# Everything else under the suffix: the service account reads (searches), nobody else does.
access to dn.subtree="${SLAPD_BASE_DN}"
  by ${svc} read
  by * none

database mdb
suffix "${SLAPD_BASE_DN}"
rootdn "${ADMIN_DN}"
rootpw ${rootPasswordHash}
directory ${dir}/db
# mdb's default map is 10 MB, too small for 10,050 users; the file is sparse.
maxsize 1073741824
# A throwaway database: no fsync per write (online membership loading is ~10,000 writes).
dbnosync
# The service account pages past the 1,000 limit (size.prtotal), with pages of up to 1,000 entries.
limits ${svc} size.soft=1000 size.hard=1000 size.pr=1000 size.prtotal=unlimited
index objectClass,entryUUID,memberOf,member,uniqueMember,uid,mail eq

# Two memberof instances, one per group class; both write memberOf. Overlays run in the reverse order of
# configuration. Their memberof-refint alone does not clean up reliably when a deleted user was a member of
# both a groupOfNames and a groupOfUniqueNames (seen with 2.5.13: neither group lost the member), so the
# refint overlay below removes a deleted or renamed entry's DN from member and uniqueMember.
overlay memberof
memberof-group-oc groupOfUniqueNames
memberof-member-ad uniqueMember
memberof-refint TRUE
overlay memberof
memberof-group-oc groupOfNames
memberof-member-ad member
memberof-refint TRUE
overlay refint
refint_attributes member uniqueMember
# groupOfNames and groupOfUniqueNames require a member: when refint removes the last one it writes the
# empty DN, the same placeholder the loader gives empty groups.
refint_nothing ""
overlay ppolicy
ppolicy_default "${DEFAULT_POLICY_DN}"
overlay lastbind
# No lastbind-precision: every successful bind writes authTimestamp (whole seconds). No
# lastbind_forward_updates: that is for replication consumers only.
`;
}

interface Layout {
  dnByKey: Map<string, string>;
  /** LDIF for slapadd: the tree, the policy, the service account, users and groups without members. */
  ldif: string;
  /** Memberships to add online: group DN → member attribute and member DNs. */
  memberships: OnlineMembership[];
}

function layout(tenant: ContractTenant, servicePasswordHash: string, applicationsOu: boolean): Layout {
  const dnByKey = new Map<string, string>();
  const setDn = (key: string, dn: string) => {
    if (dnByKey.has(key)) throw new Error(`Tenant key ${key} is used twice`);
    dnByKey.set(key, dn);
  };
  for (const u of tenant.users) setDn(u.key, `uid=${rdnValue(u.key)},${USERS_DN}`);
  for (const g of tenant.groups) setDn(g.key, `cn=${rdnValue(g.key)},${GROUPS_DN}`);
  if (applicationsOu)
    for (const a of tenant.applications) setDn(a.key, `cn=${rdnValue(a.key)},${APPLICATIONS_DN}`);
  const dnOf = (key: string, what: string) => {
    const dn = dnByKey.get(key);
    if (!dn) throw new Error(`${what} refers to unknown tenant key ${key}`);
    return dn;
  };

  const ou = (dn: string, name: string) =>
    ldifEntry(dn, [
      ['objectClass', 'organizationalUnit'],
      ['ou', name],
    ]);
  const parts: string[] = [
    ldifEntry(SLAPD_BASE_DN, [
      ['objectClass', ['dcObject', 'organization']],
      ['dc', 'stagecoach'],
      ['o', 'Stagecoach'],
    ]),
    ou(USERS_DN, 'people'),
    ou(GROUPS_DN, 'groups'),
    ou(SERVICES_DN, 'services'),
    ou(POLICIES_DN, 'policies'),
    // ppolicy enforces nothing for entries without a policy, and pwdAccountLockedTime only locks when
    // the policy says pwdLockout TRUE. pwdMaxFailure 0: failed binds in tests never lock anyone.
    ldifEntry(DEFAULT_POLICY_DN, [
      ['objectClass', ['organizationalRole', 'pwdPolicy']],
      ['cn', 'default'],
      ['pwdAttribute', 'userPassword'],
      ['pwdLockout', 'TRUE'],
      ['pwdMaxFailure', '0'],
    ]),
    ldifEntry(SERVICE_DN, [
      ['objectClass', ['applicationProcess', 'simpleSecurityObject']],
      ['cn', 'stagecoach'],
      ['description', 'Stagecoach access reviews (the adapter binds as this account)'],
      ['userPassword', servicePasswordHash],
    ]),
  ];
  if (applicationsOu) parts.push(ou(APPLICATIONS_DN, 'applications'));

  // One hash for all users: hashing 10,050 salted passwords would cost time for nothing.
  const userPassword = ssha(CONTRACT_USER_PASSWORD);
  for (const u of tenant.users) {
    parts.push(
      ldifEntry(dnOf(u.key, 'user'), [
        ['objectClass', 'inetOrgPerson'],
        ['uid', u.key],
        ['cn', u.displayName],
        ['sn', surname(u)],
        ['displayName', u.displayName],
        ['mail', u.upn],
        ['employeeType', u.guest ? 'Guest' : 'Member'],
        ['manager', u.managerKey === undefined ? undefined : dnOf(u.managerKey, `manager of ${u.key}`)],
        ['userPassword', userPassword],
        // slapadd takes operational attributes as given (and adds entryUUID, createTimestamp, ...).
        ['pwdAccountLockedTime', u.disabled ? LOCKED_FOREVER : undefined],
        ['authTimestamp', u.lastSignIn === undefined ? undefined : generalizedTime(u.lastSignIn)],
      ]),
    );
  }

  const memberships: Layout['memberships'] = [];
  const group = (
    dn: string,
    g: Pick<ContractGroup, 'displayName' | 'description' | 'ownerKeys'>,
    unique: boolean,
    key: string,
    members: string[],
  ) => {
    const attribute = unique ? 'uniqueMember' : 'member';
    parts.push(
      ldifEntry(dn, [
        // groupOfNames allows no displayName: extensibleObject lets the entry carry the tenant's name.
        ['objectClass', [unique ? 'groupOfUniqueNames' : 'groupOfNames', 'extensibleObject']],
        ['cn', key],
        ['displayName', g.displayName],
        ['description', g.description],
        ['owner', g.ownerKeys.map((k) => dnOf(k, `owner of ${key}`))],
        // Both classes require a member. Loaded without its members (added online below, so memberof sees
        // them), a group gets the empty DN "" as its one member; slapd accepts it and memberof ignores it
        // (it names no entry). A group that stays empty keeps it, as refint_nothing writes it too.
        [attribute, ''],
      ]),
    );
    if (members.length > 0) memberships.push({ dn, attribute, values: members });
  };
  for (const g of tenant.groups) {
    const dn = dnOf(g.key, 'group');
    group(
      dn,
      g,
      g.uniqueNames === true,
      g.key,
      g.memberKeys.map((k) => dnOf(k, `member of ${g.key}`)),
    );
  }
  if (applicationsOu) {
    for (const a of tenant.applications) {
      const members = a.groupKeys.map((k) => dnOf(k, `group of application ${a.key}`));
      group(dnOf(a.key, 'application'), { displayName: a.displayName, ownerKeys: [] }, false, a.key, members);
    }
  }
  return { dnByKey, ldif: parts.join(''), memberships };
}

/** Parses `ldapsearch -LLL` output: entries as attribute → values (names lowercased, plus `dn`). */
export function parseLdif(text: string): Record<string, string[]>[] {
  const entries: Record<string, string[]>[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    // Unfold continuation lines (a line starting with one space continues the previous one).
    const lines = block
      .replace(/\n /g, '')
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'));
    if (lines.length === 0) continue;
    const entry: Record<string, string[]> = {};
    for (const line of lines) {
      const m = /^([^:]+):(:?)(<?) ?(.*)$/.exec(line);
      if (!m) throw new Error(`Unparsable LDIF line: ${line}`);
      const [, name, b64, url, raw] = m as unknown as [string, string, string, string, string];
      if (url) throw new Error(`LDIF URL values are not supported: ${line}`);
      const value = b64 ? Buffer.from(raw, 'base64').toString('utf8') : raw;
      (entry[name.toLowerCase()] ??= []).push(value);
    }
    entries.push(entry);
  }
  return entries;
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One simple bind on a fresh connection, then unbind. */
export async function bindOnce(url: string, dn: string, password: string): Promise<void> {
  const client = new Client({ url, connectTimeout: 2000, timeout: 5000 });
  try {
    await client.bind(dn, password);
  } finally {
    await client.unbind().catch(() => undefined);
  }
}

/** Starts a slapd on loopback loaded with `tenant`; `stop()` kills it and removes its temp folder. */
export async function startSlapd(tenant: ContractTenant, options: SlapdOptions = {}): Promise<Slapd> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'stagecoach-slapd-'));
  let child: ChildProcess | undefined;
  let stderr = '';
  const killOnExit = () => child?.kill('SIGKILL');
  const cleanup = async () => {
    process.off('exit', killOnExit);
    if (child && child.exitCode === null && child.signalCode === null) {
      const proc = child;
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      proc.kill('SIGTERM');
      const killTimer = setTimeout(() => proc.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(killTimer);
    }
    await fs.rm(dataDir, { recursive: true, force: true });
  };

  try {
    const adminPassword = randomPassword();
    const bindPassword = randomPassword();
    await fs.mkdir(path.join(dataDir, 'db'));
    let tls: { ca: string; cert: string; key: string } | undefined;
    if (options.tls) {
      // The server certificate names both 127.0.0.1 (the URLs this helper returns) and localhost.
      const pki = createTestPki({ serverAltNames: 'IP:127.0.0.1,DNS:localhost' });
      const tlsDir = path.join(dataDir, 'tls');
      await fs.cp(pki.dir, tlsDir, { recursive: true });
      pki.remove();
      tls = {
        ca: path.join(tlsDir, 'ca.crt'),
        cert: path.join(tlsDir, 'server.crt'),
        key: path.join(tlsDir, 'server.key'),
      };
    }
    const conf = path.join(dataDir, 'slapd.conf');
    await fs.writeFile(conf, slapdConf(dataDir, ssha(adminPassword), tls), { mode: 0o600 });

    const { dnByKey, ldif, memberships } = layout(
      tenant,
      ssha(bindPassword),
      options.applicationsOu === true,
    );
    const ldifFile = path.join(dataDir, 'tenant.ldif');
    await fs.writeFile(ldifFile, ldif);
    // -q: no consistency checks and no per-entry sync (the LDIF is generated, so it is consistent).
    const added = await run(SLAPADD, ['-q', '-f', conf, '-l', ldifFile]);
    if (added.code !== 0) throw new Error(`slapadd failed (exit ${added.code}): ${added.stderr.trim()}`);

    const port = await freePort();
    const url = `ldap://127.0.0.1:${port}`;
    const ldapsUrl = tls ? `ldaps://127.0.0.1:${await freePort()}` : undefined;
    // -d none: stay in the foreground (a child of the test process) and print only errors, to stderr.
    const proc = spawn(
      SLAPD,
      [
        '-f',
        conf,
        '-h',
        [url, ldapsUrl]
          .filter(Boolean)
          .map((u) => `${u}/`)
          .join(' '),
        '-d',
        'none',
      ],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    child = proc;
    process.on('exit', killOnExit);
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-20_000);
    });
    let spawnError: Error | undefined;
    proc.on('error', (err) => (spawnError = err));

    const deadline = Date.now() + 15_000;
    for (;;) {
      if (spawnError) throw new Error(`${SLAPD} could not be started: ${spawnError.message}`);
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(
          `slapd exited (${proc.exitCode ?? proc.signalCode}) while starting: ${stderr.trim()}`,
        );
      }
      try {
        await bindOnce(url, ADMIN_DN, adminPassword);
        break;
      } catch (err) {
        if (Date.now() > deadline) {
          throw new Error(
            `slapd did not answer a bind on ${url} within 15 s (${String(err)}); stderr: ${stderr.trim()}`,
          );
        }
        await sleep(50);
      }
    }

    // Online, so that memberof writes memberOf on the members (slapadd runs no overlays); replace also drops
    // the "" placeholder member the group was loaded with.
    const idByDn = await writeMembershipsAndReadIds({
      url,
      adminDN: ADMIN_DN,
      adminPassword,
      baseDN: SLAPD_BASE_DN,
      memberships,
      operation: 'replace',
      idAttribute: 'entryUUID',
    });

    const dnOf = (key: string): string => {
      const dn = dnByKey.get(key);
      if (!dn) throw new Error(`No tenant object with key ${key}`);
      return dn;
    };
    return {
      flavour: 'openldap',
      url,
      ...(ldapsUrl ? { ldapsUrl } : {}),
      ...(tls ? { caFile: tls.ca } : {}),
      baseDN: SLAPD_BASE_DN,
      usersDN: USERS_DN,
      groupsDN: GROUPS_DN,
      bindDN: SERVICE_DN,
      bindPassword,
      adminDN: ADMIN_DN,
      adminPassword,
      dataDir,
      pid: proc.pid!,
      idOf(key) {
        const id = idByDn.get(dnOf(key).toLowerCase());
        if (!id) throw new Error(`slapd returned no entryUUID for ${dnOf(key)}`);
        return id;
      },
      dnOf,
      signIn: (key) => bindOnce(url, dnOf(key), CONTRACT_USER_PASSWORD),
      async cliSearch(base, filter, attributes, scope = 'sub') {
        const args = ['-x', '-LLL', '-H', url, '-D', ADMIN_DN, '-w', adminPassword, '-o', 'ldif-wrap=no'];
        args.push('-E', 'pr=1000/noprompt', '-b', base, '-s', scope, filter, ...attributes);
        const res = await run(LDAPSEARCH, args);
        // 32 noSuchObject: the base does not exist, so nothing matches.
        if (res.code === 32) return [];
        if (res.code !== 0)
          throw new Error(`ldapsearch -b ${base} ${filter} failed (exit ${res.code}): ${res.stderr.trim()}`);
        return parseLdif(res.stdout);
      },
      stop: cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
