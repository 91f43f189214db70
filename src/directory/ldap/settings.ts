import { z } from 'zod';
import type { SettingsFiles } from '../settings-files';
import { parseJson, readSecret, readSetting } from '../settings-files';

/** The two kinds of tree the LDAP adapter knows: OpenLDAP / 389 DS, and Active Directory (or Samba AD). */
export type LdapFlavour = 'openldap' | 'ad';

/** How a group's transitive members are found. */
export type MembershipStrategy =
  /** `memberOf` back-links (OpenLDAP memberof overlay, 389 DS MemberOf plugin), nested groups walked. */
  | 'memberOf'
  /** AD's LDAP_MATCHING_RULE_IN_CHAIN on memberOf: the server resolves nesting in one paged search. */
  | 'inChain'
  /** The group's own `member`/`uniqueMember` values (ranged retrieval on AD), each DN read: no back-links needed. */
  | 'member';

/** How an account is blocked from signing in (and restored). */
export type LockMethod = 'ppolicy' | 'nsAccountLock' | 'userAccountControl';

/** Which LDAP attribute holds each property Stagecoach reads or writes. */
export const attributeMapSchema = z.strictObject({
  /** Stable object id: entryUUID, nsUniqueId or objectGUID. */
  id: z.string().min(1),
  displayName: z.string().min(1),
  userPrincipalName: z.string().min(1),
  mail: z.string().min(1),
  manager: z.string().min(1),
  createdDateTime: z.string().min(1),
  /** Generalized time (OpenLDAP lastbind `authTimestamp`) or Windows FILETIME (AD `lastLogonTimestamp`). */
  lastSignInDateTime: z.string().min(1),
  groupOwner: z.string().min(1),
  memberOf: z.string().min(1),
});

/** The attribute map: Graph property → LDAP attribute. */
export type AttributeMap = z.infer<typeof attributeMapSchema>;

/** An "application" on LDAP: a configured set of groups whose members are its assignees. */
export const ldapApplicationSchema = z.strictObject({
  id: z.string().min(1),
  displayName: z.string().min(1),
  /** DNs of the groups whose (transitive) members are assigned; their owners own the application. */
  groups: z.array(z.string().min(1)).min(1),
});

/** One configured application (see ldapApplicationSchema). */
export type LdapApplication = z.infer<typeof ldapApplicationSchema>;

/** Everything the LDAP adapter needs, resolved from the LDAP_* settings and the flavour's defaults. */
export interface LdapSettings {
  flavour: LdapFlavour;
  url: string;
  startTls: boolean;
  /** PEM text of the CA(s) that sign the server's certificate; undefined: the system's trust store. */
  ca?: string;
  bindDn: string;
  bindPassword: string;
  baseDn: string;
  userBaseDn: string;
  groupBaseDn: string;
  userFilter: string;
  groupFilter: string;
  guestFilter: string;
  membership: MembershipStrategy;
  lockMethod: LockMethod;
  attributes: AttributeMap;
  applications: LdapApplication[];
  poolSize: number;
  timeoutMs: number;
  connectTimeoutMs: number;
  pageSize: number;
  /** How long a group's member list is reused between calls; writes by this process clear it. */
  cacheMs: number;
  /** What a groupOfNames keeps when its last member is removed (`member` is required there). */
  emptyGroupMember: string;
}

const flavourDefaults: Record<
  LdapFlavour,
  Pick<
    LdapSettings,
    'userFilter' | 'groupFilter' | 'guestFilter' | 'membership' | 'lockMethod' | 'attributes'
  >
> = {
  openldap: {
    userFilter: '(objectClass=inetOrgPerson)',
    groupFilter: '(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))',
    guestFilter: '(employeeType=Guest)',
    membership: 'memberOf',
    lockMethod: 'ppolicy',
    attributes: {
      id: 'entryUUID',
      displayName: 'displayName',
      userPrincipalName: 'mail',
      mail: 'mail',
      manager: 'manager',
      createdDateTime: 'createTimestamp',
      lastSignInDateTime: 'authTimestamp',
      groupOwner: 'owner',
      memberOf: 'memberOf',
    },
  },
  ad: {
    userFilter: '(&(objectCategory=person)(objectClass=user))',
    groupFilter: '(objectClass=group)',
    guestFilter: '(employeeType=Guest)',
    membership: 'inChain',
    lockMethod: 'userAccountControl',
    attributes: {
      id: 'objectGUID',
      displayName: 'displayName',
      userPrincipalName: 'userPrincipalName',
      mail: 'mail',
      manager: 'manager',
      createdDateTime: 'whenCreated',
      lastSignInDateTime: 'lastLogonTimestamp',
      groupOwner: 'managedBy',
      memberOf: 'memberOf',
    },
  },
};

/** The flavour's defaults (documented in the README's attribute mapping table). */
export function ldapFlavourDefaults(flavour: LdapFlavour) {
  return flavourDefaults[flavour];
}

const filter = z
  .string()
  .trim()
  .regex(/^\(.*\)$/s, 'must be an LDAP filter in parentheses, e.g. (objectClass=inetOrgPerson)');

/** The LDAP_* environment settings (strings from the environment; see the README's "Connect your directory"). */
export const ldapEnvSchema = z.object({
  LDAP_URL: z
    .string()
    .regex(/^ldaps?:\/\/[^/\s]+\/?$/i, 'must be ldap://host[:port] or ldaps://host[:port]')
    .optional(),
  LDAP_FLAVOUR: z.enum(['openldap', 'ad']).default('openldap'),
  LDAP_STARTTLS: z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .transform((v) => v === 'true' || v === '1' || v === 'yes')
    .default(false),
  LDAP_TLS_CA_FILE: z.string().min(1).optional(),
  LDAP_BIND_DN: z.string().min(1).optional(),
  LDAP_BIND_PASSWORD: z.string().min(1).optional(),
  LDAP_BIND_PASSWORD_FILE: z.string().min(1).optional(),
  LDAP_BASE_DN: z.string().min(1).optional(),
  LDAP_USER_BASE_DN: z.string().min(1).optional(),
  LDAP_GROUP_BASE_DN: z.string().min(1).optional(),
  LDAP_USER_FILTER: filter.optional(),
  LDAP_GROUP_FILTER: filter.optional(),
  LDAP_GUEST_FILTER: filter.optional(),
  LDAP_MEMBERSHIP: z.enum(['memberOf', 'inChain', 'member']).optional(),
  LDAP_LOCK_METHOD: z.enum(['ppolicy', 'nsAccountLock', 'userAccountControl']).optional(),
  /** JSON object overriding entries of the attribute map, e.g. {"id":"nsUniqueId"}. */
  LDAP_ATTRIBUTES: z.string().min(1).optional(),
  /** JSON array of {id, displayName, groups: [DN…]}, or the same in LDAP_APPLICATIONS_FILE. */
  LDAP_APPLICATIONS: z.string().min(1).optional(),
  LDAP_APPLICATIONS_FILE: z.string().min(1).optional(),
  LDAP_POOL_SIZE: z.coerce.number().int().min(1).max(64).default(4),
  LDAP_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  LDAP_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(5_000),
  LDAP_PAGE_SIZE: z.coerce.number().int().min(1).max(10_000).default(500),
  LDAP_CACHE_SECONDS: z.coerce.number().int().min(0).max(3600).default(30),
  LDAP_EMPTY_GROUP_MEMBER: z.string().default(''),
});

/** The LDAP_* settings as parsed from the environment. */
export type LdapEnv = z.infer<typeof ldapEnvSchema>;

/**
 * Resolves DIRECTORY=ldap's settings: required ones present, files read, JSON parsed, the flavour's
 * defaults filled in. Throws an Error whose message names each bad setting.
 */
export async function resolveLdapSettings(env: LdapEnv, files: SettingsFiles): Promise<LdapSettings> {
  const missing = (['LDAP_URL', 'LDAP_BASE_DN', 'LDAP_BIND_DN'] as const).filter((k) => env[k] === undefined);
  if (env.LDAP_BIND_PASSWORD === undefined && env.LDAP_BIND_PASSWORD_FILE === undefined) {
    missing.push('LDAP_BIND_PASSWORD or LDAP_BIND_PASSWORD_FILE' as never);
  }
  if (missing.length) throw new Error(`DIRECTORY=ldap needs ${missing.join(', ')}`);
  if (env.LDAP_BIND_PASSWORD !== undefined && env.LDAP_BIND_PASSWORD_FILE !== undefined) {
    throw new Error('set LDAP_BIND_PASSWORD or LDAP_BIND_PASSWORD_FILE, not both');
  }
  if (env.LDAP_APPLICATIONS !== undefined && env.LDAP_APPLICATIONS_FILE !== undefined) {
    throw new Error('set LDAP_APPLICATIONS or LDAP_APPLICATIONS_FILE, not both');
  }
  const url = env.LDAP_URL!;
  if (env.LDAP_STARTTLS && /^ldaps:/i.test(url)) {
    throw new Error('LDAP_STARTTLS=true is for ldap:// URLs; an ldaps:// URL is TLS from the first byte');
  }
  const defaults = flavourDefaults[env.LDAP_FLAVOUR];
  const bindPassword =
    env.LDAP_BIND_PASSWORD ??
    (await readSecret(files, 'LDAP_BIND_PASSWORD_FILE', env.LDAP_BIND_PASSWORD_FILE!));
  const ca = env.LDAP_TLS_CA_FILE && (await readSetting(files, 'LDAP_TLS_CA_FILE', env.LDAP_TLS_CA_FILE));
  const overrides = env.LDAP_ATTRIBUTES
    ? parseJson(env.LDAP_ATTRIBUTES, 'LDAP_ATTRIBUTES', attributeMapSchema.partial())
    : {};
  const appsText =
    env.LDAP_APPLICATIONS ??
    (env.LDAP_APPLICATIONS_FILE &&
      (await readSetting(files, 'LDAP_APPLICATIONS_FILE', env.LDAP_APPLICATIONS_FILE)));
  const appsSetting = env.LDAP_APPLICATIONS ? 'LDAP_APPLICATIONS' : 'LDAP_APPLICATIONS_FILE';
  const applications = appsText ? parseJson(appsText, appsSetting, z.array(ldapApplicationSchema)) : [];
  const ids = new Set<string>();
  for (const app of applications) {
    if (ids.has(app.id)) throw new Error(`${appsSetting}: the application id "${app.id}" is used twice`);
    ids.add(app.id);
  }
  const baseDn = env.LDAP_BASE_DN!;
  return {
    flavour: env.LDAP_FLAVOUR,
    url,
    startTls: env.LDAP_STARTTLS,
    ...(ca ? { ca } : {}),
    bindDn: env.LDAP_BIND_DN!,
    bindPassword,
    baseDn,
    userBaseDn: env.LDAP_USER_BASE_DN ?? baseDn,
    groupBaseDn: env.LDAP_GROUP_BASE_DN ?? baseDn,
    userFilter: env.LDAP_USER_FILTER ?? defaults.userFilter,
    groupFilter: env.LDAP_GROUP_FILTER ?? defaults.groupFilter,
    guestFilter: env.LDAP_GUEST_FILTER ?? defaults.guestFilter,
    membership: env.LDAP_MEMBERSHIP ?? defaults.membership,
    lockMethod: env.LDAP_LOCK_METHOD ?? defaults.lockMethod,
    attributes: { ...defaults.attributes, ...overrides },
    applications,
    poolSize: env.LDAP_POOL_SIZE,
    timeoutMs: env.LDAP_TIMEOUT_MS,
    connectTimeoutMs: env.LDAP_CONNECT_TIMEOUT_MS,
    pageSize: env.LDAP_PAGE_SIZE,
    cacheMs: env.LDAP_CACHE_SECONDS * 1000,
    emptyGroupMember: env.LDAP_EMPTY_GROUP_MEMBER,
  };
}
