import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'ldapts';
import type { ContractGroup, ContractTenant } from '../directory/contract-tenant';
import { CONTRACT_USER_PASSWORD } from '../directory/contract-tenant';
import type { LdapTestServer } from './ldap-test-server';
import type { OnlineMembership } from './ldap-load';
import { writeMembershipsAndReadIds } from './ldap-load';
import { freePort } from './ports';
import {
  bindOnce,
  generalizedTime,
  ldifEntry,
  parseLdif,
  randomPassword,
  rdnValue,
  run,
  sleep,
  ssha,
  surname,
} from './slapd';

// A real 389 Directory Server (Debian's 389-ds-base 2.3) for directory adapter tests, the twin of slapd.ts.
// dscreate makes an instance whose every path is under a temp folder: lib389 reads its path defaults from
// $PREFIX/share/dirsrv/inf/defaults.inf when PREFIX is set, so a rewritten copy of the system's defaults.inf
// points configuration, database, logs, locks and sockets there, and no systemd unit is involved. The
// plugins are switched on in dse.ldif while the server is stopped (they are read at start only), the tenant
// is imported offline with ldif2db, and ns-slapd then runs in the foreground (-d) as a child of the test.

const DSCREATE = '/usr/sbin/dscreate';
const NS_SLAPD = '/usr/sbin/ns-slapd';
const LDAPSEARCH = 'ldapsearch';
const SYSTEM_DEFAULTS_INF = '/usr/share/dirsrv/inf/defaults.inf';
/** dscreate copies the instance's schema and config templates from $sysconf_dir/dirsrv. */
const SYSTEM_SYSCONF = '/etc/dirsrv';
const INSTANCE = 'stagecoach';

/** Suffix of the test directory. */
export const DIRSRV_BASE_DN = 'dc=stagecoach,dc=test';
const ADMIN_DN = 'cn=Directory Manager';
const USERS_DN = `ou=people,${DIRSRV_BASE_DN}`;
const GROUPS_DN = `ou=groups,${DIRSRV_BASE_DN}`;
const SERVICES_DN = `ou=services,${DIRSRV_BASE_DN}`;
const SERVICE_DN = `cn=stagecoach,${SERVICES_DN}`;

/**
 * Groups with at least this many members (and no nesting either way) are imported with their members and
 * the members' memberOf already written: the MemberOf plugin takes ~5 ms per member online (3,000 members
 * of one group: 17 s in one modify; its fixup task: 14 s), too slow for the 10,050-member `bulk` group.
 */
const OFFLINE_MEMBERS = 1000;

/** A started 389 DS: the LdapTestServer, its temp folder and process id, and the adapter settings it needs. */
export type Dirsrv = LdapTestServer & {
  dataDir: string;
  pid: number;
  /** LDAP_* settings Stagecoach needs on 389 DS besides the connection (ids, sign-ins, locking). */
  stagecoachEnv: Record<string, string>;
};

/** defaults.inf keys that hold a per-instance (writable) path, moved under the temp folder. */
const INSTANCE_PATHS = new Set([
  'tmp_dir',
  'sysconf_dir',
  'initconfig_dir',
  'config_dir',
  'local_state_dir',
  'run_dir',
  'ldapi',
  'pid_file',
  'inst_dir',
  'tmpfiles_d',
  'schema_dir',
  'cert_dir',
  'lock_dir',
  'log_dir',
  'access_log',
  'audit_log',
  'error_log',
  'security_log',
  'db_dir',
  'db_home_dir',
  'backup_dir',
  'ldif_dir',
]);

/** The system's defaults.inf with instance paths under `root`, no systemd, and the current user. */
function prefixedDefaults(text: string, root: string, user: string, group: string): string {
  return text
    .split('\n')
    .map((line) => {
      const m = /^(\w+) = (.*)$/.exec(line);
      if (!m) return line;
      const [, key, value] = m as unknown as [string, string, string];
      if (INSTANCE_PATHS.has(key) && value.startsWith('/')) return `${key} = ${root}${value}`;
      if (key === 'with_systemd') return `${key} = 0`;
      if (key === 'user') return `${key} = ${user}`;
      if (key === 'group') return `${key} = ${group}`;
      return line;
    })
    .join('\n');
}

/**
 * Sets attributes of entries in dse.ldif (each listed attribute's values replaced). The file is unfolded
 * first, so that a value never spans lines; 389 DS reads unfolded LDIF alike and refolds when it rewrites.
 */
function editDse(text: string, edits: Record<string, Record<string, string[]>>): string {
  const wanted = new Map(Object.entries(edits).map(([dn, attrs]) => [dn.toLowerCase(), attrs]));
  const done = new Set<string>();
  const blocks = text
    .replace(/\r?\n /g, '')
    .split(/\n{2,}/)
    .map((block) => {
      const lines = block.split('\n');
      const dnLine = lines.find((l) => /^dn:/i.test(l));
      const dn = dnLine?.replace(/^dn:\s*/i, '').toLowerCase();
      const attrs = dn === undefined ? undefined : wanted.get(dn);
      if (!attrs) return block;
      done.add(dn!);
      const names = new Set(Object.keys(attrs).map((n) => n.toLowerCase()));
      const kept = lines.filter((l) => !names.has(l.slice(0, l.indexOf(':')).toLowerCase()));
      for (const [name, values] of Object.entries(attrs)) for (const v of values) kept.push(`${name}: ${v}`);
      return kept.join('\n');
    });
  const missing = [...wanted.keys()].filter((dn) => !done.has(dn));
  if (missing.length) throw new Error(`dse.ldif has no entry ${missing.join(', ')}`);
  return `${blocks.join('\n\n').trimEnd()}\n\n`;
}

const PLUGINS = 'cn=plugins,cn=config';

/** The server configuration the adapter relies on (all read at start). */
const DSE_EDITS: Record<string, Record<string, string[]>> = {
  // Back-links for groupOfNames and groupOfUniqueNames. memberOfSkipNested stays off (its default): 389
  // writes memberOf for every enclosing group, nested ones too, unlike OpenLDAP's memberof overlay.
  [`cn=MemberOf Plugin,${PLUGINS}`]: {
    'nsslapd-pluginEnabled': ['on'],
    memberOfAttr: ['memberOf'],
    memberOfGroupAttr: ['member', 'uniqueMember'],
  },
  // A deleted user leaves its groups (member, uniqueMember, owner, seeAlso by default), at once (delay 0).
  [`cn=referential integrity postoperation,${PLUGINS}`]: {
    'nsslapd-pluginEnabled': ['on'],
    'referint-update-delay': ['0'],
  },
  // Every successful bind writes lastLoginTime. No account policy entry (acctPolicySubentry) and no
  // accountInactivityLimit in the config: nothing is ever locked for inactivity.
  [`cn=Account Policy Plugin,${PLUGINS}`]: { 'nsslapd-pluginEnabled': ['on'] },
  [`cn=config,cn=Account Policy Plugin,${PLUGINS}`]: {
    alwaysRecordLogin: ['yes'],
    stateAttrName: ['lastLoginTime'],
    altStateAttrName: ['createTimestamp'],
    specAttrName: ['acctPolicySubentry'],
    limitAttrName: ['accountInactivityLimit'],
  },
  // A throwaway database: no fsync per transaction (cannot be changed while the server runs). No cache
  // autosizing: it gives each server a quarter of the machine's memory once it has started, while dscreate
  // leaves a 500 kB entry cache in place until then, which makes ldif2db of 10,000 users take 30 s, not 3.
  [`cn=config,cn=ldbm database,${PLUGINS}`]: {
    'nsslapd-db-durable-transaction': ['off'],
    'nsslapd-cache-autosize': ['0'],
    'nsslapd-dbcachesize': [String(64 * 1024 * 1024)],
  },
  [`cn=userRoot,cn=ldbm database,${PLUGINS}`]: {
    'nsslapd-cachememsize': [String(256 * 1024 * 1024)],
    'nsslapd-dncachememsize': [String(32 * 1024 * 1024)],
  },
};

/**
 * ACIs on the suffix: the service account gets only what the README documents. 389 DS denies what no ACI
 * allows (the Directory Manager bypasses ACIs); `targetattr="*"` leaves out operational attributes, so
 * those the adapter reads are named.
 */
function acis(): string[] {
  const svc = `userdn = "ldap:///${SERVICE_DN}"`;
  return [
    `(targetattr != "userPassword")(version 3.0; acl "stagecoach: read everything but passwords"; allow (read, search, compare) ${svc};)`,
    `(targetattr = "nsUniqueId || lastLoginTime || nsAccountLock || memberOf || createTimestamp || modifyTimestamp")(version 3.0; acl "stagecoach: read operational attributes"; allow (read, search, compare) ${svc};)`,
    `(target = "ldap:///${GROUPS_DN}")(targetattr = "member || uniqueMember")(version 3.0; acl "stagecoach: remove group members"; allow (write) ${svc};)`,
    `(target = "ldap:///${USERS_DN}")(targetfilter = "(objectClass=inetOrgPerson)")(targetattr = "nsAccountLock")(version 3.0; acl "stagecoach: lock and unlock users"; allow (write) ${svc};)`,
    `(target = "ldap:///${USERS_DN}")(targetfilter = "(objectClass=inetOrgPerson)")(version 3.0; acl "stagecoach: delete users"; allow (delete) ${svc};)`,
  ];
}

interface Layout {
  dnByKey: Map<string, string>;
  /** LDIF for ldif2db: the tree, the service account, users and groups. */
  ldif: string;
  /** Memberships to add online (so that the MemberOf plugin writes memberOf): group DN → values. */
  memberships: OnlineMembership[];
}

function layout(tenant: ContractTenant, servicePasswordHash: string): Layout {
  const dnByKey = new Map<string, string>();
  const setDn = (key: string, dn: string) => {
    if (dnByKey.has(key)) throw new Error(`Tenant key ${key} is used twice`);
    dnByKey.set(key, dn);
  };
  for (const u of tenant.users) setDn(u.key, `uid=${rdnValue(u.key)},${USERS_DN}`);
  for (const g of tenant.groups) setDn(g.key, `cn=${rdnValue(g.key)},${GROUPS_DN}`);
  const dnOf = (key: string, what: string) => {
    const dn = dnByKey.get(key);
    if (!dn) throw new Error(`${what} refers to unknown tenant key ${key}`);
    return dn;
  };

  // Large groups that neither hold groups nor belong to one: memberOf on their members is exactly the
  // group's DN, so it is imported as the plugin would have written it (with its nsMemberOf class).
  const groupKeys = new Set(tenant.groups.map((g) => g.key));
  const nestedKeys = new Set(tenant.groups.flatMap((g) => g.memberKeys.filter((k) => groupKeys.has(k))));
  const offline = (g: ContractGroup) =>
    g.memberKeys.length >= OFFLINE_MEMBERS &&
    !nestedKeys.has(g.key) &&
    g.memberKeys.every((k) => !groupKeys.has(k));
  const importedMemberOf = new Map<string, string[]>();
  for (const g of tenant.groups.filter(offline)) {
    for (const k of g.memberKeys) {
      const list = importedMemberOf.get(k) ?? [];
      list.push(dnOf(g.key, 'group'));
      importedMemberOf.set(k, list);
    }
  }

  const ou = (dn: string, name: string) =>
    ldifEntry(dn, [
      ['objectClass', ['top', 'organizationalUnit']],
      ['ou', name],
    ]);
  const parts: string[] = [
    ldifEntry(DIRSRV_BASE_DN, [
      ['objectClass', ['top', 'dcObject', 'organization']],
      ['dc', 'stagecoach'],
      ['o', 'Stagecoach'],
      ['aci', acis()],
    ]),
    ou(USERS_DN, 'people'),
    ou(GROUPS_DN, 'groups'),
    ou(SERVICES_DN, 'services'),
    ldifEntry(SERVICE_DN, [
      ['objectClass', ['top', 'applicationProcess', 'simpleSecurityObject']],
      ['cn', 'stagecoach'],
      ['description', 'Stagecoach access reviews (the adapter binds as this account)'],
      ['userPassword', servicePasswordHash],
      // Paged searches already pass the 2,000-entry nsslapd-sizelimit (it caps each page, and unpaged
      // searches stay capped), but 389 also caps the entries one search looks at (nsslapd-lookthroughlimit
      // 5,000): past nsslapd-idlistscanlimit (4,000 ids) an index key is not used, so a search among 10,050
      // users looks at all of them and ends in adminLimitExceeded unless the account's paged limit is lifted.
      ['nsPagedLookThroughLimit', '-1'],
    ]),
  ];

  // One hash for all users: hashing 10,050 salted passwords would cost time for nothing.
  const userPassword = ssha(CONTRACT_USER_PASSWORD);
  for (const u of tenant.users) {
    const memberOf = importedMemberOf.get(u.key);
    parts.push(
      ldifEntry(dnOf(u.key, 'user'), [
        ['objectClass', memberOf ? ['top', 'inetOrgPerson', 'nsMemberOf'] : ['top', 'inetOrgPerson']],
        ['uid', u.key],
        ['cn', u.displayName],
        ['sn', surname(u)],
        ['displayName', u.displayName],
        ['mail', u.upn],
        ['employeeType', u.guest ? 'Guest' : 'Member'],
        ['manager', u.managerKey === undefined ? undefined : dnOf(u.managerKey, `manager of ${u.key}`)],
        ['userPassword', userPassword],
        // ldif2db takes operational attributes as given (and adds nsUniqueId, createTimestamp, ...).
        ['nsAccountLock', u.disabled ? 'true' : undefined],
        ['lastLoginTime', u.lastSignIn === undefined ? undefined : generalizedTime(u.lastSignIn)],
        ['memberOf', memberOf],
      ]),
    );
  }

  const memberships: Layout['memberships'] = [];
  for (const g of tenant.groups) {
    const dn = dnOf(g.key, 'group');
    const attribute = g.uniqueNames === true ? 'uniqueMember' : 'member';
    const members = g.memberKeys.map((k) => dnOf(k, `member of ${g.key}`));
    const now = offline(g);
    parts.push(
      ldifEntry(dn, [
        // groupOfNames allows no displayName: extensibleObject lets the entry carry the tenant's name.
        [
          'objectClass',
          ['top', g.uniqueNames === true ? 'groupOfUniqueNames' : 'groupOfNames', 'extensibleObject'],
        ],
        ['cn', g.key],
        ['displayName', g.displayName],
        ['description', g.description],
        ['owner', g.ownerKeys.map((k) => dnOf(k, `owner of ${g.key}`))],
        // 389's groupOfNames and groupOfUniqueNames have member / uniqueMember as MAY: an empty group
        // simply has none (no placeholder, unlike OpenLDAP).
        [attribute, now && members.length > 0 ? members : undefined],
      ]),
    );
    if (!now && members.length > 0) memberships.push({ dn, attribute, values: members });
  }
  return { dnByKey, ldif: parts.join(''), memberships };
}

async function tail(file: string, lines = 40): Promise<string> {
  const text = await fs.readFile(file, 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Starts a 389 Directory Server on loopback loaded with `tenant`; `stop()` kills it and removes its temp folder. */
export async function startDirsrv(tenant: ContractTenant): Promise<Dirsrv> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'stagecoach-dirsrv-'));
  const configDir = `${dataDir}/etc/dirsrv/slapd-${INSTANCE}`;
  const errorLog = `${dataDir}/var/log/dirsrv/slapd-${INSTANCE}/errors`;
  let child: ChildProcess | undefined;
  const killOnExit = () => child?.kill('SIGKILL');
  const cleanup = async () => {
    process.off('exit', killOnExit);
    if (child && child.exitCode === null && child.signalCode === null) {
      const proc = child;
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      proc.kill('SIGTERM');
      // ns-slapd flushes its database on SIGTERM (about 2 s); nothing here needs it kept.
      const killTimer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killTimer);
    }
    await fs.rm(dataDir, { recursive: true, force: true });
  };

  try {
    const adminPassword = randomPassword();
    const bindPassword = randomPassword();
    const port = await freePort();
    const url = `ldap://127.0.0.1:${port}`;

    // The prefixed install: defaults.inf and the schema/config templates dscreate copies.
    const infDir = path.join(dataDir, 'share/dirsrv/inf');
    await fs.mkdir(infDir, { recursive: true });
    const group = (await run('id', ['-gn'])).stdout.trim();
    const defaults = prefixedDefaults(
      await fs.readFile(SYSTEM_DEFAULTS_INF, 'utf8'),
      dataDir,
      os.userInfo().username,
      group,
    );
    await fs.writeFile(path.join(infDir, 'defaults.inf'), defaults);
    await fs.mkdir(path.join(dataDir, 'etc/dirsrv'), { recursive: true });
    for (const dir of ['schema', 'config'])
      await fs.cp(path.join(SYSTEM_SYSCONF, dir), path.join(dataDir, 'etc/dirsrv', dir), { recursive: true });

    const inf = path.join(dataDir, 'instance.inf');
    await fs.writeFile(
      inf,
      `[general]
full_machine_name = localhost
start = False
strict_host_checking = False
systemd = False
selinux = False
[slapd]
instance_name = ${INSTANCE}
user = ${os.userInfo().username}
group = ${group}
port = ${port}
secure_port = ${await freePort()}
self_sign_cert = False
root_password = ${adminPassword}
[backend-userroot]
suffix = ${DIRSRV_BASE_DN}
sample_entries = no
create_suffix_entry = False
`,
      { mode: 0o600 },
    );
    // dscreate starts the new server once (to create the backend) and stops it again (start = False).
    const created = await run(DSCREATE, ['from-file', inf], { ...process.env, PREFIX: dataDir });
    if (created.code !== 0) {
      throw new Error(
        `dscreate failed (exit ${created.code}): ${(created.stdout + created.stderr).trim().slice(-4000)}`,
      );
    }

    const dse = path.join(configDir, 'dse.ldif');
    await fs.writeFile(dse, editDse(await fs.readFile(dse, 'utf8'), DSE_EDITS), { mode: 0o600 });

    const { dnByKey, ldif, memberships } = layout(tenant, ssha(bindPassword));
    const ldifFile = path.join(dataDir, 'tenant.ldif');
    await fs.writeFile(ldifFile, ldif);
    const imported = await run(NS_SLAPD, ['ldif2db', '-D', configDir, '-n', 'userRoot', '-i', ldifFile]);
    if (imported.code !== 0 || !/Import complete/.test(await tail(errorLog, 10))) {
      throw new Error(`ns-slapd ldif2db failed (exit ${imported.code}): ${await tail(errorLog)}`);
    }

    // -d: stay in the foreground (a child of the test process); 0: no debug output, errors go to the log.
    const proc = spawn(NS_SLAPD, ['-D', configDir, '-i', `${dataDir}/run/ns-slapd.pid`, '-d', '0'], {
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    child = proc;
    process.on('exit', killOnExit);
    let spawnError: Error | undefined;
    proc.on('error', (err) => (spawnError = err));

    const deadline = Date.now() + 30_000;
    for (;;) {
      if (spawnError) throw new Error(`${NS_SLAPD} could not be started: ${spawnError.message}`);
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(
          `ns-slapd exited (${proc.exitCode ?? proc.signalCode}) while starting: ${await tail(errorLog)}`,
        );
      }
      try {
        await bindOnce(url, ADMIN_DN, adminPassword);
        break;
      } catch (err) {
        if (Date.now() > deadline) {
          throw new Error(
            `ns-slapd did not answer a bind on ${url} within 30 s (${String(err)}): ${await tail(errorLog)}`,
          );
        }
        await sleep(100);
      }
    }

    // Online, so that the MemberOf plugin writes memberOf on the members (ldif2db runs no plugins).
    const idByDn = await writeMembershipsAndReadIds({
      url,
      adminDN: ADMIN_DN,
      adminPassword,
      baseDN: DIRSRV_BASE_DN,
      memberships,
      operation: 'add',
      idAttribute: 'nsUniqueId',
    });

    const dnOf = (key: string): string => {
      const dn = dnByKey.get(key);
      if (!dn) throw new Error(`No tenant object with key ${key}`);
      return dn;
    };
    return {
      flavour: 'openldap',
      url,
      baseDN: DIRSRV_BASE_DN,
      usersDN: USERS_DN,
      groupsDN: GROUPS_DN,
      bindDN: SERVICE_DN,
      bindPassword,
      adminDN: ADMIN_DN,
      adminPassword,
      dataDir,
      pid: proc.pid!,
      stagecoachEnv: {
        LDAP_ATTRIBUTES: JSON.stringify({ id: 'nsUniqueId', lastSignInDateTime: 'lastLoginTime' }),
        LDAP_LOCK_METHOD: 'nsAccountLock',
      },
      idOf(key) {
        const id = idByDn.get(dnOf(key).toLowerCase());
        if (!id) throw new Error(`389 DS returned no nsUniqueId for ${dnOf(key)}`);
        return id;
      },
      dnOf,
      async signIn(key) {
        const since = generalizedTime(new Date(Math.floor(Date.now() / 1000) * 1000).toISOString());
        await bindOnce(url, dnOf(key), CONTRACT_USER_PASSWORD);
        // The Account Policy plugin writes lastLoginTime after the bind's response has gone out (a read
        // right after the bind saw the old value 5 times in 20): wait for it, as a sign-in is what is asked.
        const admin = new Client({ url, timeout: 5000 });
        try {
          await admin.bind(ADMIN_DN, adminPassword);
          for (const deadline = Date.now() + 5000; ; await sleep(20)) {
            const { searchEntries } = await admin.search(dnOf(key), {
              scope: 'base',
              attributes: ['lastLoginTime'],
            });
            // Generalized times of one format compare as strings.
            if (String(searchEntries[0]?.lastLoginTime ?? '') >= since) return;
            if (Date.now() > deadline) throw new Error(`389 DS recorded no sign-in of ${key} within 5 s`);
          }
        } finally {
          await admin.unbind().catch(() => undefined);
        }
      },
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
