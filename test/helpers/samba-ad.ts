import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Attribute, Change, Client } from 'ldapts';
import { CONTRACT_USER_PASSWORD } from '../directory/contract-tenant';
import type { ContractGroup, ContractTenant, ContractUser } from '../directory/contract-tenant';
import type { LdapTestServer } from './ldap-test-server';
import { alive } from './processes';

// A real Samba Active Directory domain controller for tests, loaded with a contract tenant.
//
// How it is made fast enough: provisioning (samba-tool domain provision) takes 5-10 s, so there is no template
// cache. The tenant is written OFFLINE, before samba starts, with `ldbmodify -o batch_mode:1` straight into
// DIR/private/sam.ldb: ldb loads Samba's whole dsdb module stack for that URL, so objectGUIDs, SIDs,
// memberOf back links and password hashes come out as the server would make them. batch_mode matters: without
// it every record is a nested transaction whose commit copies the growing index lists, and 10,050 users take
// 3+ minutes instead of ~25 s. Only named users get a password offline (hashing one costs ~27 ms, 4.5 minutes
// for the bulk users); signIn() gives a bulk user its password over LDAPS on first use.
//
// Samba AD binds fixed ports (389, 636, 3268, 3269; there is no smb.conf option to move them), so only one
// instance can run on the machine at a time: a cross-process lock (a mkdir in os.tmpdir()) serialises the
// jest workers.

const REALM = 'STAGECOACH.TEST';
const DOMAIN = 'STAGECOACH';
const HOST = 'stagecoachdc';
const BASE_DN = 'DC=stagecoach,DC=test';
const USERS_DN = `OU=People,${BASE_DN}`;
const GROUPS_DN = `OU=Groups,${BASE_DN}`;
const SERVICES_DN = `OU=Services,${BASE_DN}`;
const ADMIN_DN = `CN=Administrator,CN=Users,${BASE_DN}`;
const SERVICE_DN = `CN=stagecoach,${SERVICES_DN}`;

/** The loopback ports a running Samba AD DC holds (ldap, ldaps, global catalog, global catalog over TLS). */
export const SAMBA_AD_PORTS = { ldap: 389, ldaps: 636, globalCatalog: 3268, globalCatalogTls: 3269 } as const;

/** Packages the harness needs (Debian names), for the error that says one is missing. */
const PACKAGES = 'samba samba-ad-dc samba-ad-provision ldb-tools ldap-utils openssl';

// schemaIDGUIDs of the AD schema (the same in every forest) used in the service account's ACEs.
const SCHEMA_GUID = {
  member: 'bf9679c0-0de6-11d0-a285-00aa003049e2',
  userAccountControl: 'bf967a68-0de6-11d0-a285-00aa003049e2',
  userClass: 'bf967aba-0de6-11d0-a285-00aa003049e2',
  groupClass: 'bf967a9c-0de6-11d0-a285-00aa003049e2',
};

const GLOBAL_SECURITY_GROUP = '-2147483646';
const UAC_NORMAL_ACCOUNT = 512;
const UAC_ACCOUNTDISABLE = 2;
const UAC_DONT_EXPIRE_PASSWORD = 0x10000;

/** Lock dir shared by every process on the machine that wants the fixed AD ports. */
const LOCK_DIR = path.join(os.tmpdir(), 'stagecoach-samba-ad.lock');
const LOCK_WAIT_MS = 5 * 60_000;
/** Samba stops by itself after this long even if the test process dies without calling stop(). */
const MAX_RUNTIME_S = 60 * 60;

/** Starts a provisioned Samba AD DC on 127.0.0.1 loaded with `tenant`; one at a time per machine (fixed ports). */
export async function startSambaAd(
  tenant: ContractTenant,
): Promise<LdapTestServer & { dir: string; realm: string }> {
  checkInstalled();
  const releaseLock = await acquireLock();
  let dir: string | undefined;
  let samba: ChildProcess | undefined;
  try {
    await assertPortsFree();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stagecoach-samba-ad-'));
    writeLockOwner(undefined, dir);
    const adminPassword = strongPassword();
    const bindPassword = strongPassword();
    await provision(dir, adminPassword);
    const caFile = await makeCertificates(dir);
    const conf = writeSmbConf(dir);
    await loadTenant(dir, conf, tenant, bindPassword);
    samba = spawnSamba(dir, conf);
    writeLockOwner(samba.pid, dir);
    const url = `ldap://127.0.0.1:${SAMBA_AD_PORTS.ldap}`;
    const ldapsUrl = `ldaps://127.0.0.1:${SAMBA_AD_PORTS.ldaps}`;
    await waitForBind(samba, dir, url, adminPassword);
    const names = entryNames(tenant);
    const ids = await readObjectGuids(url, adminPassword, names);
    const withPassword = new Set(tenant.users.filter((u) => !isBulk(u)).map((u) => u.key));
    const running = samba;
    const runningDir = dir;
    let stopped = false;
    return {
      flavour: 'ad',
      dir,
      realm: REALM,
      url,
      ldapsUrl,
      caFile,
      baseDN: BASE_DN,
      usersDN: USERS_DN,
      groupsDN: GROUPS_DN,
      bindDN: SERVICE_DN,
      bindPassword,
      adminDN: ADMIN_DN,
      adminPassword,
      idOf: (key) => lookup(ids, key, 'objectGUID'),
      dnOf: (key) => lookup(names.dns, key, 'DN'),
      signIn: async (key) => {
        const dn = lookup(names.dns, key, 'DN');
        if (!names.users.has(key)) throw new Error(`signIn(${key}): not a user of the tenant`);
        if (!withPassword.has(key)) {
          await setPassword(ldapsUrl, caFile, adminPassword, dn);
          withPassword.add(key);
        }
        await withClient(url, dn, CONTRACT_USER_PASSWORD, async () => undefined);
      },
      cliSearch: (base, filter, attributes, scope = 'sub') =>
        cliSearch(url, adminPassword, base, filter, attributes, scope),
      stop: async () => {
        if (stopped) return;
        stopped = true;
        try {
          await killProcess(running);
        } finally {
          fs.rmSync(runningDir, { recursive: true, force: true });
          releaseLock();
        }
      },
    };
  } catch (err) {
    if (samba) await killProcess(samba).catch(() => undefined);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    releaseLock();
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Processes and files

function checkInstalled(): void {
  const missing = ['samba', 'samba-tool', 'ldbmodify', 'ldbsearch', 'ldapsearch', 'openssl'].filter(
    (tool) => !process.env.PATH?.split(path.delimiter).some((p) => fs.existsSync(path.join(p, tool))),
  );
  // samba-tool provision reads the AD schema from samba-ad-provision's files.
  if (!fs.existsSync('/usr/share/samba/setup/ad-schema')) missing.push('/usr/share/samba/setup/ad-schema');
  if (missing.length > 0) {
    throw new Error(`Samba AD harness: missing ${missing.join(', ')} (Debian: apt-get install ${PACKAGES})`);
  }
}

interface RunResult {
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}) {
  return new Promise<RunResult>((resolve, reject) => {
    execFile(
      cmd,
      args,
      { maxBuffer: 256 * 1024 * 1024, timeout: options.timeoutMs ?? 10 * 60_000, env: options.env },
      (err, stdout, stderr) => {
        if (err) {
          const tail = (s: string) => s.split('\n').slice(-30).join('\n');
          reject(
            new Error(
              `${cmd} ${args.slice(0, 3).join(' ')} … failed: ${err.message}\n${tail(stderr)}\n${tail(stdout)}`,
            ),
          );
        } else resolve({ stdout, stderr });
      },
    );
  });
}

/** A password that satisfies AD's complexity rules (upper, lower, digit, symbol; long). */
function strongPassword(): string {
  return `Sc-${randomBytes(12).toString('base64url')}-9a!Z`;
}

async function provision(dir: string, adminPassword: string): Promise<void> {
  await run('samba-tool', [
    'domain',
    'provision',
    '--targetdir',
    dir,
    '--realm',
    REALM,
    '--domain',
    DOMAIN,
    // A fixed host name: the DC's computer account and certificate names do not depend on the machine's.
    '--host-name',
    HOST,
    '--server-role',
    'dc',
    '--dns-backend',
    'NONE',
    '--adminpass',
    adminPassword,
    '--use-rfc2307',
    '--option=interfaces=127.0.0.1',
    '--option=bind interfaces only=yes',
  ]);
}

/**
 * A CA and a server certificate for 127.0.0.1. Samba's self-generated certificate (DIR/private/tls/ca.pem,
 * cert.pem) names only CN=<host>.stagecoach.test, without subjectAltName, so a client that connects to
 * 127.0.0.1 and trusts ca.pem still fails hostname verification; this one carries IP:127.0.0.1.
 */
async function makeCertificates(dir: string): Promise<string> {
  const tls = path.join(dir, 'tls');
  fs.mkdirSync(tls, { mode: 0o700 });
  const openssl = (args: string[]) =>
    new Promise<void>((resolve, reject) =>
      execFile('openssl', args, { cwd: tls }, (err, _o, stderr) =>
        err ? reject(new Error(`openssl ${args[0]} failed: ${stderr}`)) : resolve(),
      ),
    );
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const steps = [
    [
      'req',
      '-x509',
      ...ec,
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '2',
      '-subj',
      '/CN=Stagecoach test AD CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    ['req', ...ec, '-keyout', 'key.pem', '-out', 'server.csr', '-subj', `/CN=${HOST}.${REALM.toLowerCase()}`],
    [
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-out',
      'cert.pem',
      '-extfile',
      'server.ext',
    ],
  ];
  fs.writeFileSync(
    path.join(tls, 'server.ext'),
    'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' +
      `subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:${HOST}.${REALM.toLowerCase()}\n`,
  );
  for (const args of steps) await openssl(args);
  // Samba refuses a key file that others can read.
  fs.chmodSync(path.join(tls, 'key.pem'), 0o600);
  return path.join(tls, 'ca.pem');
}

/** Our smb.conf: provision's own lacks the options below and logs to /var/log/samba. */
function writeSmbConf(dir: string): string {
  const conf = path.join(dir, 'etc', 'smb.conf');
  const lines = [
    '[global]',
    `netbios name = ${HOST.toUpperCase()}`,
    `realm = ${REALM}`,
    `workgroup = ${DOMAIN}`,
    'server role = active directory domain controller',
    // LDAP only: no kdc (88), dns (53), nbt (137/138), smb (445), rpc (135), drepl/kcc/winbindd/ntp_signd.
    'server services = ldap',
    'interfaces = 127.0.0.1',
    'bind interfaces only = yes',
    // Simple binds over plain ldap:// (AD requires signing or TLS for them by default).
    'ldap server require strong auth = no',
    `private dir = ${dir}/private`,
    `lock directory = ${dir}`,
    `state directory = ${dir}/state`,
    `cache directory = ${dir}/cache`,
    `binddns dir = ${dir}/bind-dns`,
    `log file = ${dir}/log.%m`,
    'idmap_ldb:use rfc2307 = yes',
    'dsdb:schema update allowed = yes',
    'tls enabled = yes',
    `tls keyfile = ${dir}/tls/key.pem`,
    `tls certfile = ${dir}/tls/cert.pem`,
    `tls cafile = ${dir}/tls/ca.pem`,
    'load printers = no',
    'printing = bsd',
    'printcap name = /dev/null',
    'disable spoolss = yes',
  ];
  fs.writeFileSync(conf, lines.join('\n\t') + '\n');
  return conf;
}

function spawnSamba(dir: string, conf: string): ChildProcess {
  const log = fs.openSync(path.join(dir, 'samba.log'), 'a');
  try {
    return spawn(
      'samba',
      [
        '--foreground',
        '--no-process-group',
        // One process: the default prefork model forks per service and is harder to stop cleanly.
        '--model=single',
        '--debug-stdout',
        '--debuglevel=1',
        `--maximum-runtime=${MAX_RUNTIME_S}`,
        `--configfile=${conf}`,
      ],
      { stdio: ['ignore', log, log] },
    );
  } finally {
    fs.closeSync(log);
  }
}

function logTail(dir: string): string {
  try {
    return fs.readFileSync(path.join(dir, 'samba.log'), 'utf8').split('\n').slice(-40).join('\n');
  } catch {
    return '(no samba.log)';
  }
}

async function waitForBind(samba: ChildProcess, dir: string, url: string, adminPassword: string) {
  const deadline = Date.now() + 90_000;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (samba.exitCode !== null || samba.signalCode !== null) {
      throw new Error(
        `samba exited (${samba.exitCode ?? samba.signalCode}) before accepting binds; samba.log:\n${logTail(dir)}`,
      );
    }
    try {
      await withClient(url, ADMIN_DN, adminPassword, async () => undefined);
      return;
    } catch (err) {
      lastError = err;
      await sleep(250);
    }
  }
  throw new Error(
    `samba did not accept an Administrator bind on ${url} within 90 s (${String(lastError)}); samba.log:\n${logTail(dir)}`,
  );
}

async function killProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function assertPortsFree(): Promise<void> {
  for (const port of Object.values(SAMBA_AD_PORTS)) {
    const inUse = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (inUse) {
      throw new Error(
        `Samba AD harness: 127.0.0.1:${port} is already in use (another AD DC or LDAP server?); Samba AD binds fixed ports`,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// The cross-process lock

interface LockOwner {
  pid: number;
  sambaPid?: number;
  /** The server's folder, removed when a later process finds the lock abandoned. */
  dir?: string;
}

function readLockOwner(): LockOwner | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(LOCK_DIR, 'owner.json'), 'utf8')) as LockOwner;
  } catch {
    return undefined;
  }
}

function writeLockOwner(sambaPid?: number, dir?: string): void {
  const owner: LockOwner = { pid: process.pid, ...(sambaPid ? { sambaPid } : {}), ...(dir ? { dir } : {}) };
  fs.writeFileSync(path.join(LOCK_DIR, 'owner.json'), JSON.stringify(owner), { mode: 0o600 });
}

/** A samba left running by a test process that died holds the ports: end it (it is ours: its pid was recorded). */
function killAbandonedSamba(owner: LockOwner): void {
  if (!owner.sambaPid || !alive(owner.sambaPid)) return;
  try {
    const cmdline = fs.readFileSync(`/proc/${owner.sambaPid}/cmdline`, 'utf8');
    if (cmdline.startsWith('samba')) process.kill(owner.sambaPid, 'SIGKILL');
  } catch {
    // Gone meanwhile.
  }
}

async function acquireLock(): Promise<() => void> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  const startedAt = Date.now();
  for (;;) {
    try {
      fs.mkdirSync(LOCK_DIR, { mode: 0o700 });
      writeLockOwner();
      let released = false;
      return () => {
        if (released) return;
        released = true;
        if (readLockOwner()?.pid === process.pid) fs.rmSync(LOCK_DIR, { recursive: true, force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = readLockOwner();
    // An owner file is written right after mkdir; a lock dir older than a few seconds without one is stale too.
    const ageMs = Date.now() - (fs.statSync(LOCK_DIR, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
    if ((owner && !alive(owner.pid)) || (!owner && ageMs > 5_000)) {
      if (owner) killAbandonedSamba(owner);
      if (owner?.dir?.startsWith(path.join(os.tmpdir(), 'stagecoach-samba-ad-'))) {
        fs.rmSync(owner.dir, { recursive: true, force: true });
      }
      fs.rmSync(LOCK_DIR, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `Samba AD harness: lock ${LOCK_DIR} still held by pid ${owner?.pid ?? '?'} after ${Math.round((Date.now() - startedAt) / 1000)} s`,
      );
    }
    await sleep(500);
  }
}

// ---------------------------------------------------------------------------------------------------------
// The tenant

interface EntryNames {
  dns: Map<string, string>;
  users: Set<string>;
}

const isBulk = (u: ContractUser) => /^bulk-\d+$/.test(u.key);

/** Escapes an RDN value (RFC 4514). */
function escapeRdn(value: string): string {
  return value
    .replace(/[\\,+"<>;=]/g, (c) => `\\${c}`)
    .replace(/^[ #]/, (c) => `\\${c}`)
    .replace(/ $/, '\\ ');
}

function entryNames(tenant: ContractTenant): EntryNames {
  const dns = new Map<string, string>();
  const cnCount = new Map<string, number>();
  for (const u of tenant.users) cnCount.set(u.displayName, (cnCount.get(u.displayName) ?? 0) + 1);
  for (const u of tenant.users) {
    // CN is the display name, as an AD admin would name it; the key when two users share a display name.
    const cn = u.displayName && cnCount.get(u.displayName) === 1 ? u.displayName : u.key;
    dns.set(u.key, `CN=${escapeRdn(cn)},${USERS_DN}`);
  }
  for (const g of tenant.groups) {
    if (dns.has(g.key)) throw new Error(`Samba AD harness: key ${g.key} is both a user and a group`);
    dns.set(g.key, `CN=${escapeRdn(g.key)},${GROUPS_DN}`);
  }
  for (const key of dns.keys()) {
    // sAMAccountName is at most 20 characters.
    if (key.length > 20)
      throw new Error(`Samba AD harness: key ${key} is longer than sAMAccountName's 20 characters`);
  }
  return { dns, users: new Set(tenant.users.map((u) => u.key)) };
}

function lookup(map: Map<string, string>, key: string, what: string): string {
  const value = map.get(key);
  if (value === undefined) throw new Error(`Samba AD harness: no ${what} for key ${key}`);
  return value;
}

/** One LDIF line; base64 when the value is not a SAFE-STRING (RFC 2849) or ends with a space. */
function ldif(attr: string, value: string): string {
  const codes = [...value].map((c) => c.codePointAt(0)!);
  const safe =
    codes.every((c) => c > 0 && c < 0x80 && c !== 0x0a && c !== 0x0d) &&
    !/^[ :<]/.test(value) &&
    !value.endsWith(' ');
  return safe ? `${attr}: ${value}` : `${attr}:: ${Buffer.from(value, 'utf8').toString('base64')}`;
}

/** unicodePwd: the password in double quotes, UTF-16LE. */
const unicodePwd = (password: string) => Buffer.from(`"${password}"`, 'utf16le');

/** Windows FILETIME: 100 ns intervals since 1601-01-01 UTC. */
export function fileTime(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`not a date: ${iso}`);
  return ((BigInt(ms) + 11_644_473_600_000n) * 10_000n).toString();
}

function addRecord(dn: string, lines: string[]): string {
  return [ldif('dn', dn), 'changetype: add', ...lines].join('\n') + '\n';
}

function modifyRecord(dn: string, attr: string, values: string[], op: 'add' | 'replace' = 'add'): string {
  return (
    [ldif('dn', dn), 'changetype: modify', `${op}: ${attr}`, ...values.map((v) => ldif(attr, v)), '-'].join(
      '\n',
    ) + '\n'
  );
}

function userRecord(u: ContractUser, dn: string): string {
  const uac = UAC_NORMAL_ACCOUNT | (u.disabled ? UAC_ACCOUNTDISABLE : 0);
  const lines = [
    'objectClass: user',
    ldif('sAMAccountName', u.key),
    ldif('userPrincipalName', u.upn),
    ldif('displayName', u.displayName),
    `employeeType: ${u.guest ? 'Guest' : 'Member'}`,
    `userAccountControl: ${uac}`,
  ];
  if (!isBulk(u)) lines.push(`unicodePwd:: ${unicodePwd(CONTRACT_USER_PASSWORD).toString('base64')}`);
  // lastLogonTimestamp is writable over LDAP by an admin too (Samba 4.17), but offline costs nothing.
  if (u.lastSignIn) lines.push(`lastLogonTimestamp: ${fileTime(u.lastSignIn)}`);
  return addRecord(dn, lines);
}

function groupRecord(g: ContractGroup, dn: string, names: EntryNames): string {
  const lines = [
    'objectClass: group',
    ldif('sAMAccountName', g.key),
    `groupType: ${GLOBAL_SECURITY_GROUP}`,
    ldif('displayName', g.displayName),
  ];
  if (g.description) lines.push(ldif('description', g.description));
  // AD has a single managedBy: the first owner; the contract suite reads AD owners from it.
  const owner = g.ownerKeys[0];
  if (owner) lines.push(ldif('managedBy', lookup(names.dns, owner, 'DN')));
  return addRecord(dn, lines);
}

async function ldb(tool: 'ldbmodify' | 'ldbsearch', dir: string, conf: string, args: string[]) {
  return run(tool, ['-H', path.join(dir, 'private', 'sam.ldb'), `--configfile=${conf}`, ...args]);
}

async function loadTenant(dir: string, conf: string, tenant: ContractTenant, bindPassword: string) {
  const names = entryNames(tenant);
  // Phase 1: the OUs and the service account, so its rights can be set on the OUs before the users and groups
  // are added (they inherit them then; setting them afterwards would propagate to 10,050 children).
  const phase1 = [
    addRecord(USERS_DN, ['objectClass: organizationalUnit']),
    addRecord(GROUPS_DN, ['objectClass: organizationalUnit']),
    addRecord(SERVICES_DN, ['objectClass: organizationalUnit']),
    addRecord(SERVICE_DN, [
      'objectClass: user',
      'sAMAccountName: stagecoach',
      'displayName: Stagecoach access reviews',
      `userAccountControl: ${UAC_NORMAL_ACCOUNT | UAC_DONT_EXPIRE_PASSWORD}`,
      `unicodePwd:: ${unicodePwd(bindPassword).toString('base64')}`,
    ]),
    // lastLogonTimestamp is updated on a bind only when older than this many days; the default 14 (randomised
    // down to 9) would leave most of the tenant's recent sign-ins untouched by signIn(). 1: no randomising.
    modifyRecord(BASE_DN, 'msDS-LogonTimeSyncInterval', ['1'], 'replace'),
  ];
  await applyLdif(dir, conf, 'phase1.ldif', phase1);
  const found = await ldb('ldbsearch', dir, conf, ['-b', SERVICE_DN, '-s', 'base', 'objectSid']);
  const sid = /^objectSid: (S-1-5-21-[\d-]+)$/m.exec(found.stdout)?.[1];
  if (!sid) throw new Error(`Samba AD harness: no objectSid for ${SERVICE_DN}:\n${found.stdout}`);
  await grantServiceRights(dir, conf, sid);

  const phase2: string[] = [];
  for (const u of tenant.users) phase2.push(userRecord(u, lookup(names.dns, u.key, 'DN')));
  for (const g of tenant.groups) phase2.push(groupRecord(g, lookup(names.dns, g.key, 'DN'), names));
  // Links after every object exists: a manager or a nested group may come later in the tenant's lists.
  for (const u of tenant.users) {
    if (u.managerKey) {
      phase2.push(
        modifyRecord(lookup(names.dns, u.key, 'DN'), 'manager', [lookup(names.dns, u.managerKey, 'DN')]),
      );
    }
  }
  for (const g of tenant.groups) {
    if (g.memberKeys.length > 0) {
      const members = g.memberKeys.map((k) => lookup(names.dns, k, 'member DN'));
      phase2.push(modifyRecord(lookup(names.dns, g.key, 'DN'), 'member', members));
    }
  }
  await applyLdif(dir, conf, 'tenant.ldif', phase2);
}

async function applyLdif(dir: string, conf: string, name: string, records: string[]): Promise<void> {
  const file = path.join(dir, name);
  fs.writeFileSync(file, records.join('\n'), { mode: 0o600 });
  // batch_mode: one transaction without per-record sub-transactions (see the top of this file).
  await ldb('ldbmodify', dir, conf, ['-o', 'batch_mode:1', file]);
  fs.rmSync(file);
}

/**
 * The review tool's rights, and no more: write `member` of groups under OU=Groups, write
 * `userAccountControl` of users under OU=People and delete users there. Reading is what every authenticated
 * user may do by default.
 */
async function grantServiceRights(dir: string, conf: string, sid: string): Promise<void> {
  const acl = (objectDn: string, sddl: string) =>
    run('samba-tool', [
      'dsacl',
      'set',
      '-H',
      path.join(dir, 'private', 'sam.ldb'),
      `--configfile=${conf}`,
      `--objectdn=${objectDn}`,
      `--sddl=${sddl}`,
    ]);
  // CIIO: inherited by the children (of the given class) only, not effective on the OU itself.
  await acl(GROUPS_DN, `(OA;CIIO;WP;${SCHEMA_GUID.member};${SCHEMA_GUID.groupClass};${sid})`);
  await acl(
    USERS_DN,
    `(OA;CIIO;WP;${SCHEMA_GUID.userAccountControl};${SCHEMA_GUID.userClass};${sid})` +
      // Delete child, for user objects only.
      `(OA;;DC;${SCHEMA_GUID.userClass};;${sid})`,
  );
}

// ---------------------------------------------------------------------------------------------------------
// LDAP

async function withClient<T>(
  url: string,
  dn: string,
  password: string,
  use: (client: Client) => Promise<T>,
  tlsCa?: string,
): Promise<T> {
  const client = new Client({
    url,
    timeout: 60_000,
    connectTimeout: 5_000,
    ...(tlsCa ? { tlsOptions: { ca: fs.readFileSync(tlsCa) } } : {}),
  });
  try {
    await client.bind(dn, password);
    return await use(client);
  } finally {
    await client.unbind().catch(() => undefined);
  }
}

/** A bulk user has no password until it first signs in (AD refuses unicodePwd writes without TLS). */
async function setPassword(ldapsUrl: string, caFile: string, adminPassword: string, dn: string) {
  await withClient(
    ldapsUrl,
    ADMIN_DN,
    adminPassword,
    (client) =>
      client.modify(
        dn,
        new Change({
          operation: 'replace',
          modification: new Attribute({ type: 'unicodePwd', values: [unicodePwd(CONTRACT_USER_PASSWORD)] }),
        }),
      ),
    caFile,
  );
}

/** objectGUID bytes → Microsoft's string form: the first three fields are little-endian. */
export function guidString(bytes: Buffer): string {
  if (bytes.length !== 16) throw new Error(`objectGUID of ${bytes.length} bytes`);
  const hex = (idx: number[]) => idx.map((i) => bytes[i]!.toString(16).padStart(2, '0')).join('');
  return [hex([3, 2, 1, 0]), hex([5, 4]), hex([7, 6]), hex([8, 9]), hex([10, 11, 12, 13, 14, 15])].join('-');
}

/** objectSid bytes → S-1-… */
function sidString(bytes: Buffer): string {
  const count = bytes[1] ?? 0;
  const authority = bytes.readUIntBE(2, 6);
  const subs = Array.from({ length: count }, (_, i) => bytes.readUInt32LE(8 + 4 * i));
  return `S-${bytes[0] ?? 1}-${authority}${subs.map((s) => `-${s}`).join('')}`;
}

async function readObjectGuids(url: string, adminPassword: string, names: EntryNames) {
  const keyByDn = new Map([...names.dns].map(([key, dn]) => [dn.toLowerCase(), key]));
  const ids = new Map<string, string>();
  await withClient(url, ADMIN_DN, adminPassword, async (client) => {
    const { searchEntries } = await client.search(BASE_DN, {
      scope: 'sub',
      filter: '(|(objectClass=user)(objectClass=group))',
      attributes: ['objectGUID'],
      explicitBufferAttributes: ['objectGUID'],
      paged: { pageSize: 1000 },
    });
    for (const entry of searchEntries) {
      const key = keyByDn.get(entry.dn.toLowerCase());
      const guid = entry.objectGUID;
      if (key !== undefined && Buffer.isBuffer(guid)) ids.set(key, guidString(guid));
    }
  });
  const missing = [...names.dns.keys()].filter((k) => !ids.has(k));
  if (missing.length > 0) {
    throw new Error(
      `Samba AD harness: no objectGUID read back for ${missing.slice(0, 5).join(', ')} (${missing.length})`,
    );
  }
  return ids;
}

// ---------------------------------------------------------------------------------------------------------
// ldapsearch CLI

async function cliSearch(
  url: string,
  adminPassword: string,
  base: string,
  filter: string,
  attributes: string[],
  scope: 'base' | 'one' | 'sub',
): Promise<Record<string, string[]>[]> {
  const { stdout } = await run(
    'ldapsearch',
    [
      '-x',
      '-LLL',
      '-H',
      url,
      '-D',
      ADMIN_DN,
      '-w',
      adminPassword,
      '-o',
      'ldif-wrap=no',
      '-E',
      'pr=1000/noprompt',
      '-b',
      base,
      '-s',
      scope,
      filter,
      ...attributes,
    ],
    // LDAPNOINIT: ignore /etc/ldap/ldap.conf and ~/.ldaprc, whose BASE or TLS settings would change the search.
    { env: { ...process.env, LDAPNOINIT: '1' } },
  );
  return parseLdif(stdout);
}

/** Parses unwrapped LDIF: attribute names lowercased, base64 values decoded (objectGUID/objectSid to strings). */
export function parseLdif(text: string): Record<string, string[]>[] {
  const entries: Record<string, string[]>[] = [];
  let entry: Record<string, string[]> | undefined;
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      entry = undefined;
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = /^([^:]+)(::?) ?(.*)$/.exec(line);
    if (!m) throw new Error(`ldapsearch printed a line that is not LDIF: ${line}`);
    const attr = m[1]!.toLowerCase();
    let value = m[3]!;
    if (m[2] === '::') {
      const bytes = Buffer.from(value, 'base64');
      if (attr === 'objectguid') value = guidString(bytes);
      else if (attr === 'objectsid') value = sidString(bytes);
      else {
        try {
          value = utf8.decode(bytes);
        } catch {
          // Binary (nTSecurityDescriptor, …): left as base64.
        }
      }
    }
    if (!entry) {
      entry = {};
      entries.push(entry);
    }
    (entry[attr] ??= []).push(value);
  }
  return entries;
}
