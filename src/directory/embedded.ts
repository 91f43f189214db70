import type {
  Directory,
  DirectoryApplication,
  DirectoryGroup,
  DirectoryUser,
  DirectoryWriteResult,
} from './port';
import { SharedStateFile } from './state-file';
import type { Change } from './state-file';
import { parseTenantFile, readTenantFile } from './tenant-file';
import type { ReferenceScope, TenantFile, TenantFileInput } from './tenant-file';

interface GroupRecord {
  info: Omit<DirectoryGroup, 'memberIds' | 'ownerIds'>;
  members: Set<string>;
  owners: Set<string>;
}

interface ApplicationRecord {
  info: Omit<DirectoryApplication, 'assignedUserIds' | 'ownerIds'>;
  assignees: Set<string>;
  owners: Set<string>;
}

/** Object counts of a directory, for the API's health and overview endpoints. */
export interface DirectorySnapshot {
  users: number;
  members: number;
  guests: number;
  disabledUsers: number;
  groups: number;
  applications: number;
}

/** Paging for `listUsers`; `filter` mirrors Graph's `$filter=userType eq 'Guest'`. */
export interface ListUsersOptions {
  skip?: number;
  top?: number;
  filter?: DirectoryUser['userType'];
}

/** One page of users; `total` counts every user that matches the filter (Graph's `@odata.count`). */
export interface UserPage {
  users: DirectoryUser[];
  total: number;
}

/**
 * The directory for demos, tests and small deployments: a tenant held in memory (Maps and Sets, so
 * 100,000-member groups stay cheap) and, when opened on a state file, saved atomically after every write.
 * Several processes (the API and the worker) may share one state file: every read first reloads the file
 * if another process replaced it (one stat when it did not), and every write is a read-modify-write under
 * the cross-process `<stateFile>.lock` (see state-file.ts), so no process saves over another's changes.
 */
export class EmbeddedDirectory implements Directory {
  private readonly users = new Map<string, DirectoryUser>();
  /** managerId → direct reports, so deleteUser clears the reports' managerId without scanning every user. */
  private readonly reports = new Map<string, Set<string>>();
  private readonly groups = new Map<string, GroupRecord>();
  private readonly applications = new Map<string, ApplicationRecord>();
  private readonly scope: ReferenceScope = {
    hasUser: (id) => this.users.has(id),
    hasGroup: (id) => this.groups.has(id),
    hasObject: (id) => this.users.has(id) || this.groups.has(id) || this.applications.has(id),
  };
  /** The state file shared with other processes; undefined for an in-memory directory. */
  private readonly shared: SharedStateFile | undefined;

  private constructor(stateFile: string | undefined) {
    this.shared =
      stateFile === undefined
        ? undefined
        : new SharedStateFile(stateFile, { replace: (t) => this.replace(t), collect: () => this.collect() });
  }

  /** Opens the state file, or on first start seeds it from `seedFile` (creating its folder). */
  static async open(files: { stateFile: string; seedFile: string }): Promise<EmbeddedDirectory> {
    const directory = new EmbeddedDirectory(files.stateFile);
    await directory.shared?.open(async () => {
      const seed = await readTenantFile(files.seedFile);
      if (seed === undefined) throw new Error(`Directory seed file ${files.seedFile} does not exist`);
      return seed;
    });
    return directory;
  }

  /** A directory that lives only in memory (tests); the tenant is validated like a file. */
  static inMemory(tenant: TenantFileInput = {}): EmbeddedDirectory {
    const directory = new EmbeddedDirectory(undefined);
    directory.load(parseTenantFile(tenant, { source: 'in memory' }));
    return directory;
  }

  /**
   * Adds new users, groups and applications in one write (benchmarks, fixtures). Their references may
   * name objects already loaded; an id that already exists is rejected, so nothing is replaced.
   */
  async seedBulk(part: TenantFileInput): Promise<void> {
    return this.write(() => {
      this.load(parseTenantFile(part, { source: 'part', existing: this.scope }));
      return { result: undefined, changed: true };
    });
  }

  /** The whole tenant in file format; the state file holds exactly this. */
  toTenantFile(): TenantFile {
    this.fresh();
    return this.collect();
  }

  private collect(): TenantFile {
    return {
      users: Array.from(this.users.values(), (u) => ({ ...u })),
      groups: Array.from(this.groups.values(), toGroup),
      applications: Array.from(this.applications.values(), toApplication),
    };
  }

  /** Counts of users by kind, groups and applications. */
  async snapshot(): Promise<DirectorySnapshot> {
    this.fresh();
    let guests = 0;
    let disabledUsers = 0;
    for (const u of this.users.values()) {
      if (u.userType === 'Guest') guests++;
      if (!u.accountEnabled) disabledUsers++;
    }
    return {
      users: this.users.size,
      members: this.users.size - guests,
      guests,
      disabledUsers,
      groups: this.groups.size,
      applications: this.applications.size,
    };
  }

  /** A page of users in tenant order, for a Graph-shaped `/users` endpoint. */
  async listUsers({ skip = 0, top = 100, filter }: ListUsersOptions = {}): Promise<UserPage> {
    this.fresh();
    const users: DirectoryUser[] = [];
    let total = 0;
    for (const u of this.users.values()) {
      if (filter !== undefined && u.userType !== filter) continue;
      if (total >= skip && users.length < top) users.push({ ...u });
      total++;
    }
    return { users, total };
  }

  async getUser(id: string): Promise<DirectoryUser | undefined> {
    this.fresh();
    const user = this.users.get(id);
    return user && { ...user };
  }

  async getUsers(ids: readonly string[]): Promise<DirectoryUser[]> {
    this.fresh();
    return this.usersFor(ids);
  }

  async getManager(userId: string): Promise<DirectoryUser | undefined> {
    this.fresh();
    const managerId = this.users.get(userId)?.managerId;
    return managerId == null ? undefined : this.getUser(managerId);
  }

  async getGroup(id: string): Promise<DirectoryGroup | undefined> {
    this.fresh();
    const group = this.groups.get(id);
    return group && toGroup(group);
  }

  async listGroupTransitiveMembers(groupId: string): Promise<DirectoryUser[] | undefined> {
    this.fresh();
    const root = this.groups.get(groupId);
    if (root === undefined) return undefined;
    // Breadth-first; `visited` makes membership cycles harmless and `userIds` de-duplicates.
    const visited = new Set([groupId]);
    const userIds = new Set<string>();
    const queue = [root];
    for (const group of queue) {
      for (const memberId of group.members) {
        const nested = this.groups.get(memberId);
        if (nested === undefined) userIds.add(memberId);
        else if (!visited.has(memberId)) {
          visited.add(memberId);
          queue.push(nested);
        }
      }
    }
    return this.usersFor(userIds);
  }

  async listGroupOwners(groupId: string): Promise<DirectoryUser[] | undefined> {
    this.fresh();
    const group = this.groups.get(groupId);
    return group && this.usersFor(group.owners);
  }

  async getApplication(id: string): Promise<DirectoryApplication | undefined> {
    this.fresh();
    const application = this.applications.get(id);
    return application && toApplication(application);
  }

  async listApplicationAssignees(appId: string): Promise<DirectoryUser[] | undefined> {
    this.fresh();
    const application = this.applications.get(appId);
    return application && this.usersFor(application.assignees);
  }

  async listApplicationOwners(appId: string): Promise<DirectoryUser[] | undefined> {
    this.fresh();
    const application = this.applications.get(appId);
    return application && this.usersFor(application.owners);
  }

  /** Removes a direct membership only: a user who belongs through a nested group gives 'notFound'. */
  async removeGroupMember(groupId: string, userId: string): Promise<DirectoryWriteResult> {
    return this.write(() => outcome(this.groups.get(groupId)?.members.delete(userId) ?? false));
  }

  async removeApplicationAssignment(appId: string, userId: string): Promise<DirectoryWriteResult> {
    return this.write(() => outcome(this.applications.get(appId)?.assignees.delete(userId) ?? false));
  }

  async setAccountEnabled(userId: string, enabled: boolean): Promise<DirectoryWriteResult> {
    return this.write(() => {
      const user = this.users.get(userId);
      if (user === undefined) return outcome(false);
      const changed = user.accountEnabled !== enabled;
      user.accountEnabled = enabled;
      return { result: 'done', changed };
    });
  }

  /** Deletes the user and every link to it: memberships, ownerships, assignments and reports' managerId. */
  async deleteUser(userId: string): Promise<DirectoryWriteResult> {
    return this.write(() => this.applyDeleteUser(userId));
  }

  private applyDeleteUser(userId: string): { result: DirectoryWriteResult; changed: boolean } {
    const user = this.users.get(userId);
    if (user === undefined) return outcome(false);
    this.users.delete(userId);
    if (user.managerId != null) this.reports.get(user.managerId)?.delete(userId);
    for (const reportId of this.reports.get(userId) ?? []) {
      const report = this.users.get(reportId);
      if (report !== undefined) report.managerId = null;
    }
    this.reports.delete(userId);
    for (const group of this.groups.values()) {
      group.members.delete(userId);
      group.owners.delete(userId);
    }
    for (const application of this.applications.values()) {
      application.assignees.delete(userId);
      application.owners.delete(userId);
    }
    return outcome(true);
  }

  private usersFor(ids: Iterable<string>): DirectoryUser[] {
    const found: DirectoryUser[] = [];
    for (const id of ids) {
      const user = this.users.get(id);
      if (user !== undefined) found.push({ ...user });
    }
    return found;
  }

  /** Adds an already validated tenant (or part) to the maps; callers have checked ids and references. */
  private load(tenant: TenantFile): void {
    for (const user of tenant.users) {
      this.users.set(user.id, { ...user });
      if (user.managerId != null) {
        let reports = this.reports.get(user.managerId);
        if (reports === undefined) this.reports.set(user.managerId, (reports = new Set()));
        reports.add(user.id);
      }
    }
    for (const { memberIds, ownerIds, ...info } of tenant.groups) {
      this.groups.set(info.id, { info, members: new Set(memberIds), owners: new Set(ownerIds) });
    }
    for (const { assignedUserIds, ownerIds, ...info } of tenant.applications) {
      this.applications.set(info.id, {
        info,
        assignees: new Set(assignedUserIds),
        owners: new Set(ownerIds),
      });
    }
  }

  /** Replaces the whole tenant with one read from the state file (another process saved it). */
  private replace(tenant: TenantFile): void {
    this.users.clear();
    this.reports.clear();
    this.groups.clear();
    this.applications.clear();
    this.load(tenant);
  }

  /** Before every read: picks up other processes' saves (one stat when there are none). */
  private fresh(): void {
    this.shared?.fresh();
  }

  /** Applies a write: in memory at once, with a state file as a locked read-modify-write (SharedStateFile). */
  private async write<R>(change: Change<R>): Promise<R> {
    return this.shared === undefined ? change().result : this.shared.write(change);
  }
}

const outcome = (found: boolean): { result: DirectoryWriteResult; changed: boolean } => ({
  result: found ? 'done' : 'notFound',
  changed: found,
});

const toGroup = (g: GroupRecord): DirectoryGroup => ({
  ...g.info,
  memberIds: [...g.members],
  ownerIds: [...g.owners],
});

const toApplication = (a: ApplicationRecord): DirectoryApplication => ({
  ...a.info,
  assignedUserIds: [...a.assignees],
  ownerIds: [...a.owners],
});
