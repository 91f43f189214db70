import { EmbeddedDirectory } from '../../src/directory/embedded';
import type { TenantFileInput } from '../../src/directory/tenant-file';
import { describeDirectoryContract } from './contract';
import type { ContractTenant } from './contract-tenant';
import { contractTenant } from './contract-tenant';

/** The contract tenant as an embedded tenant file: keys are the ids; an application's assignees are its groups' members. */
function tenantFile(t: ContractTenant): TenantFileInput {
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

describeDirectoryContract('embedded', { network: false, signIns: false, batchRemoval: false }, async () => ({
  directory: EmbeddedDirectory.inMemory(tenantFile(contractTenant())),
  idOf: (key) => key,
  multipleOwners: true,
  stop: async () => undefined,
}));
