import type { DirectoryUser } from '../../src/directory/port';
import type { TenantFileInput } from '../../src/directory/tenant-file';

export const BENCH_GROUP = 'bench-group';
export const BENCH_OWNER = 'bench-owner';
export const BENCH_ADMIN = 'bench-admin';

/** The bench tenant: N members (u000001 …) with managers among 1 % manager users (mgr0001 …). */
export interface BenchTenant {
  tenant: TenantFileInput;
  memberIds: string[];
  managerOf: Map<string, string>;
  managerCount: number;
}

const pad = (i: number, width: number) => String(i).padStart(width, '0');

function user(id: string, managerId: string | null): DirectoryUser {
  return {
    id,
    displayName: `Bench ${id}`,
    userPrincipalName: `${id}@bench.test`,
    mail: `${id}@bench.test`,
    userType: 'Member',
    accountEnabled: true,
    managerId,
    createdDateTime: '2020-01-01T00:00:00.000Z',
    lastSignInDateTime: '2020-01-02T00:00:00.000Z',
  };
}

/** Deterministic: the same N gives the same ids and the same manager for every member. */
export function benchTenant(reviewees: number): BenchTenant {
  const managerCount = Math.max(1, Math.round(reviewees / 100));
  const width = Math.max(6, String(reviewees).length);
  const managerIds = Array.from({ length: managerCount }, (_, i) => `mgr${pad(i + 1, 4)}`);
  const memberIds: string[] = [];
  const managerOf = new Map<string, string>();
  const users: DirectoryUser[] = [user(BENCH_ADMIN, null), user(BENCH_OWNER, null)];
  for (const id of managerIds) users.push(user(id, null));
  for (let i = 1; i <= reviewees; i++) {
    const id = `u${pad(i, width)}`;
    const managerId = managerIds[(i - 1) % managerCount]!;
    memberIds.push(id);
    managerOf.set(id, managerId);
    users.push(user(id, managerId));
  }
  return {
    tenant: {
      users,
      groups: [
        {
          id: BENCH_GROUP,
          displayName: 'Bench group',
          description: 'Members under review by the review bench',
          memberIds,
          ownerIds: [BENCH_OWNER],
        },
      ],
    },
    memberIds,
    managerOf,
    managerCount,
  };
}
