import { randomBytes, randomUUID } from 'node:crypto';
import type { ContractTenant } from '../../directory/contract-tenant';

/** A user as the reproduction keeps it (Graph property names; sign-in kept apart, as Graph does). */
export interface UserRecord {
  id: string;
  displayName: string;
  userPrincipalName: string;
  mail: string;
  userType: 'Member' | 'Guest';
  accountEnabled: boolean;
  createdDateTime: string;
  lastSignInDateTime: string | null;
  managerId: string | null;
}

export interface GroupRecord {
  id: string;
  displayName: string;
  description: string | null;
  /** Direct members: user and group ids. */
  members: string[];
  owners: string[];
}

export interface ServicePrincipalRecord {
  id: string;
  appId: string;
  displayName: string;
  owners: string[];
}

export interface AppRoleAssignmentRecord {
  id: string;
  appRoleId: string;
  principalId: string;
  principalType: 'User' | 'Group';
  principalDisplayName: string;
  resourceId: string;
  resourceDisplayName: string;
  createdDateTime: string;
}

/** How the tenant's applications hold their assignees: their groups' users one by one, or the groups. */
export type AssignAs = 'users' | 'groups';

/** How a tenant is loaded: applications' assignees (default: users), Entra ID P1/P2 (default: yes). */
export interface TenantOptions {
  assignAs?: AssignAs;
  premium?: boolean;
}

/** The default app role (Graph's id for "User" access without a defined role). */
export const DEFAULT_APP_ROLE = '00000000-0000-0000-0000-000000000000';

const seconds = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The objects of one Entra ID tenant, and the keys they were loaded under. */
export class TenantState {
  readonly users = new Map<string, UserRecord>();
  readonly groups = new Map<string, GroupRecord>();
  readonly servicePrincipals = new Map<string, ServicePrincipalRecord>();
  readonly assignments = new Map<string, AppRoleAssignmentRecord>();
  private readonly ids = new Map<string, string>();
  /** The tenant (directory) id. */
  readonly tenantId = randomUUID();
  /** Whether the tenant has Entra ID P1/P2, without which Graph refuses signInActivity. */
  premium = true;

  /** The id the object loaded under `key` was given. */
  idOf(key: string): string {
    const id = this.ids.get(key);
    if (!id) throw new Error(`no tenant object has the key ${key}`);
    return id;
  }

  /** Loads a tenant: GUID ids, managers and nested groups resolved, applications as service principals. */
  static load(t: ContractTenant, options: TenantOptions = {}): TenantState {
    const s = new TenantState();
    s.premium = options.premium ?? true;
    const created = seconds(new Date());
    for (const key of [
      ...t.users.map((u) => u.key),
      ...t.groups.map((g) => g.key),
      ...t.applications.map((a) => a.key),
    ]) {
      s.ids.set(key, randomUUID());
    }
    for (const u of t.users) {
      const id = s.idOf(u.key);
      s.users.set(id, {
        id,
        displayName: u.displayName,
        userPrincipalName: u.upn,
        mail: u.upn,
        userType: u.guest ? 'Guest' : 'Member',
        accountEnabled: !u.disabled,
        createdDateTime: created,
        lastSignInDateTime: u.lastSignIn ?? null,
        managerId: u.managerKey ? s.idOf(u.managerKey) : null,
      });
    }
    for (const g of t.groups) {
      const id = s.idOf(g.key);
      s.groups.set(id, {
        id,
        displayName: g.displayName,
        description: g.description ?? null,
        members: g.memberKeys.map((k) => s.idOf(k)),
        owners: g.ownerKeys.map((k) => s.idOf(k)),
      });
    }
    for (const a of t.applications) {
      const id = s.idOf(a.key);
      const groups = a.groupKeys.map((k) => s.groups.get(s.idOf(k))!);
      s.servicePrincipals.set(id, {
        id,
        appId: randomUUID(),
        displayName: a.displayName,
        owners: [...new Set(groups.flatMap((g) => g.owners))],
      });
      const principals =
        options.assignAs === 'groups'
          ? groups.map((g) => ({ id: g.id, type: 'Group' as const, name: g.displayName }))
          : [...new Set(groups.flatMap((g) => s.transitiveUserIds(g.id)))].map((uid) => ({
              id: uid,
              type: 'User' as const,
              name: s.users.get(uid)!.displayName,
            }));
      for (const p of principals) s.assign(id, p.id, p.type, p.name);
    }
    return s;
  }

  /** Adds an app role assignment (default role) of a principal to a service principal. */
  assign(
    resourceId: string,
    principalId: string,
    type: 'User' | 'Group',
    name: string,
  ): AppRoleAssignmentRecord {
    const sp = this.servicePrincipals.get(resourceId)!;
    const a: AppRoleAssignmentRecord = {
      // Graph's assignment ids are 43-character base64url strings, not GUIDs.
      id: randomBytes(32).toString('base64url').slice(0, 43),
      appRoleId: DEFAULT_APP_ROLE,
      principalId,
      principalType: type,
      principalDisplayName: name,
      resourceId,
      resourceDisplayName: sp.displayName,
      createdDateTime: seconds(new Date()),
    };
    this.assignments.set(a.id, a);
    return a;
  }

  /** Every object reachable through nesting (users and groups), each once, in first-seen order. */
  transitiveMemberIds(groupId: string): string[] {
    const seen = new Set<string>();
    const walk = (gid: string, path: Set<string>) => {
      for (const m of this.groups.get(gid)?.members ?? []) {
        seen.add(m);
        if (this.groups.has(m) && !path.has(m)) walk(m, new Set([...path, m]));
      }
    };
    walk(groupId, new Set([groupId]));
    return [...seen];
  }

  transitiveUserIds(groupId: string): string[] {
    return this.transitiveMemberIds(groupId).filter((id) => this.users.has(id));
  }

  /** Deletes a user with every reference to it (memberships, ownerships, assignments, manager links). */
  deleteUser(id: string): void {
    this.users.delete(id);
    for (const g of this.groups.values()) {
      g.members = g.members.filter((m) => m !== id);
      g.owners = g.owners.filter((m) => m !== id);
    }
    for (const sp of this.servicePrincipals.values()) sp.owners = sp.owners.filter((m) => m !== id);
    for (const [aid, a] of this.assignments) if (a.principalId === id) this.assignments.delete(aid);
    for (const u of this.users.values()) if (u.managerId === id) u.managerId = null;
  }

  /** The directory object with this id, and its Graph type. */
  objectOf(id: string): { type: 'user' | 'group' | 'servicePrincipal'; value: object } | undefined {
    const user = this.users.get(id);
    if (user) return { type: 'user', value: user };
    const group = this.groups.get(id);
    if (group) return { type: 'group', value: group };
    const sp = this.servicePrincipals.get(id);
    return sp ? { type: 'servicePrincipal', value: sp } : undefined;
  }
}
