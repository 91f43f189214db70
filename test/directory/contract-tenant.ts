import type { TenantFileInput } from '../../src/directory/tenant-file';

/**
 * The tenant every directory adapter is loaded with before the directory contract suite runs against it.
 * Objects are named by key; each server harness maps keys to its own entries (uid=…/CN=…) and reports the
 * ids its server gave them (entryUUID, objectGUID, the embedded tenant's own ids).
 */
export interface ContractUser {
  key: string;
  displayName: string;
  /** userPrincipalName (AD) / mail (LDAP) */
  upn: string;
  guest?: boolean;
  disabled?: boolean;
  managerKey?: string;
  /** Last sign-in, whole seconds, UTC; absent: never signed in. */
  lastSignIn?: string;
}

export interface ContractGroup {
  key: string;
  displayName: string;
  description?: string;
  /** Keys of users or of other groups (nested). */
  memberKeys: string[];
  ownerKeys: string[];
  /** LDAP only: a groupOfUniqueNames (uniqueMember) instead of a groupOfNames (member). */
  uniqueNames?: boolean;
}

/** An application whose assignees are the (transitive) members of its groups and whose owners own them. */
export interface ContractApplication {
  key: string;
  displayName: string;
  groupKeys: string[];
}

export interface ContractTenant {
  users: ContractUser[];
  groups: ContractGroup[];
  applications: ContractApplication[];
}

/** Password of every contract user (the harnesses bind as users to record sign-ins). */
export const CONTRACT_USER_PASSWORD = 'Contract-Passw0rd!';

/** Members of the `bulk` group: enough to page (OpenLDAP size limits, AD's 1,000-entry pages and 1,500-value ranges). */
export const BULK_MEMBERS = 10_050;

export const bulkUserKey = (i: number) => `bulk-${String(i).padStart(5, '0')}`;

/** The contract tenant; `bulk` false leaves out the 10,050-member group (faster harness start). */
export function contractTenant(options: { bulk?: boolean } = {}): ContractTenant {
  const users: ContractUser[] = [
    {
      key: 'megan',
      displayName: 'Megan Bowen',
      upn: 'megan@stagecoach.test',
      lastSignIn: '2026-11-20T08:00:00Z',
    },
    {
      key: 'adele',
      displayName: 'Adele Vance',
      upn: 'adele@stagecoach.test',
      managerKey: 'megan',
      lastSignIn: '2026-11-28T09:30:00Z',
    },
    { key: 'alex', displayName: 'Alex Wilber', upn: 'alex@stagecoach.test', managerKey: 'megan' },
    {
      key: 'grady',
      displayName: 'Grady Archie (guest)',
      upn: 'grady@partner.test',
      guest: true,
      managerKey: 'megan',
      lastSignIn: '2026-01-05T12:00:00Z',
    },
    {
      key: 'gina',
      displayName: 'Gina Guest (guest)',
      upn: 'gina@partner.test',
      guest: true,
      lastSignIn: '2026-11-25T16:45:00Z',
    },
    { key: 'isaiah', displayName: 'Isaiah Langer', upn: 'isaiah@stagecoach.test', disabled: true },
    {
      key: 'lynne',
      displayName: 'Lynne Robbins',
      upn: 'lynne@stagecoach.test',
      lastSignIn: '2026-11-27T10:00:00Z',
    },
    {
      key: 'nestor',
      displayName: 'Nestor Wilke',
      upn: 'nestor@stagecoach.test',
      managerKey: 'lynne',
      lastSignIn: '2026-06-01T07:15:00Z',
    },
    {
      key: 'patti',
      displayName: 'Patti Fernandez',
      upn: 'patti@stagecoach.test',
      lastSignIn: '2026-11-29T11:00:00Z',
    },
    { key: 'diego', displayName: 'Diego Siciliani', upn: 'diego@stagecoach.test', managerKey: 'patti' },
  ];
  const groups: ContractGroup[] = [
    {
      key: 'sales',
      displayName: 'Sales',
      description: 'Everyone in sales',
      memberKeys: ['adele', 'alex', 'grady', 'gina', 'sales-emea'],
      ownerKeys: ['megan'],
    },
    // adele is both a direct member of sales and a member through sales-emea: listed once.
    {
      key: 'sales-emea',
      displayName: 'Sales EMEA',
      memberKeys: ['nestor', 'adele', 'sales-emea-north'],
      ownerKeys: ['lynne'],
    },
    {
      key: 'sales-emea-north',
      displayName: 'Sales EMEA North',
      memberKeys: ['isaiah', 'diego'],
      ownerKeys: [],
    },
    {
      key: 'finance',
      displayName: 'Finance',
      memberKeys: ['diego', 'patti'],
      ownerKeys: ['patti'],
      uniqueNames: true,
    },
    { key: 'empty', displayName: 'Nobody yet', memberKeys: [], ownerKeys: ['megan'] },
    {
      key: 'payroll-users',
      displayName: 'Payroll users',
      memberKeys: ['adele', 'grady', 'sales-emea-north'],
      ownerKeys: ['patti'],
    },
    {
      key: 'payroll-admins',
      displayName: 'Payroll admins',
      memberKeys: ['megan'],
      ownerKeys: ['patti', 'lynne'],
    },
  ];
  if (options.bulk !== false) {
    const bulk = Array.from({ length: BULK_MEMBERS }, (_, i) => bulkUserKey(i));
    users.push(
      ...bulk.map((key, i) => ({
        key,
        displayName: `Bulk User ${key.slice(5)}`,
        upn: `${key}@stagecoach.test`,
        ...(i % 10 === 0 ? { guest: true } : {}),
        ...(i % 3 === 0 ? { lastSignIn: '2026-10-01T00:00:00Z' } : {}),
      })),
    );
    groups.push({ key: 'bulk', displayName: 'All bulk users', memberKeys: bulk, ownerKeys: ['megan'] });
  }
  return {
    users,
    groups,
    applications: [
      { key: 'payroll', displayName: 'Payroll', groupKeys: ['payroll-users', 'payroll-admins'] },
    ],
  };
}

/** The contract tenant as an embedded tenant file: keys are the ids; an application's assignees are its groups' members. */
export function embeddedTenantFile(t: ContractTenant): TenantFileInput {
  const groups = new Map(t.groups.map((g) => [g.key, g]));
  const transitive = (key: string, seen = new Set<string>()): string[] => {
    const g = groups.get(key);
    if (!g || seen.has(key)) return [];
    seen.add(key);
    return g.memberKeys.flatMap((m) => (groups.has(m) ? transitive(m, seen) : [m]));
  };
  return {
    users: t.users.map((u) => ({
      id: u.key,
      displayName: u.displayName,
      userPrincipalName: u.upn,
      mail: u.upn,
      userType: u.guest ? 'Guest' : 'Member',
      accountEnabled: !u.disabled,
      managerId: u.managerKey ?? null,
      createdDateTime: '2025-01-01T00:00:00Z',
      lastSignInDateTime: u.lastSignIn ?? null,
    })),
    groups: t.groups.map((g) => ({
      id: g.key,
      displayName: g.displayName,
      description: g.description ?? null,
      memberIds: g.memberKeys,
      ownerIds: g.ownerKeys,
    })),
    applications: t.applications.map((a) => ({
      id: a.key,
      displayName: a.displayName,
      assignedUserIds: [...new Set(a.groupKeys.flatMap((k) => transitive(k)))],
      ownerIds: [...new Set(a.groupKeys.flatMap((k) => groups.get(k)?.ownerKeys ?? []))],
    })),
  };
}
