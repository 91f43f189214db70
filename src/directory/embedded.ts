import { randomUUID } from 'node:crypto';
import { mkdir, open as openFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type {
  Directory,
  DirectoryApplication,
  DirectoryGroup,
  DirectoryUser,
  DirectoryWriteResult,
} from './port';
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
 * One process owns a state file: two processes opening the same file would overwrite each other.
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
  /** True while memory holds a change the state file lacks (including after a failed save). */
  private dirty = false;
  private saving: Promise<void> = Promise.resolve();
  private queuedSave: Promise<void> | undefined;

  private constructor(private readonly stateFile: string | undefined) {}

  /** Opens the state file, or on first start seeds it from `seedFile` (creating its folder). */
  static async open(files: { stateFile: string; seedFile: string }): Promise<EmbeddedDirectory> {
    const directory = new EmbeddedDirectory(files.stateFile);
    const state = await readTenantFile(files.stateFile);
    if (state !== undefined) {
      directory.load(state);
      return directory;
    }
    const seed = await readTenantFile(files.seedFile);
    if (seed === undefined) throw new Error(`Directory seed file ${files.seedFile} does not exist`);
    directory.load(seed);
    directory.dirty = true;
    await directory.save();
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
    this.load(parseTenantFile(part, { source: 'part', existing: this.scope }));
    await this.commit('done');
  }

  /** The whole tenant in file format; the state file holds exactly this. */
  toTenantFile(): TenantFile {
    return {
      users: Array.from(this.users.values(), (u) => ({ ...u })),
      groups: Array.from(this.groups.values(), toGroup),
      applications: Array.from(this.applications.values(), toApplication),
    };
  }

  /** Counts of users by kind, groups and applications. */
  async snapshot(): Promise<DirectorySnapshot> {
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
    const user = this.users.get(id);
    return user && { ...user };
  }

  async getUsers(ids: readonly string[]): Promise<DirectoryUser[]> {
    return this.usersFor(ids);
  }

  async getManager(userId: string): Promise<DirectoryUser | undefined> {
    const managerId = this.users.get(userId)?.managerId;
    return managerId == null ? undefined : this.getUser(managerId);
  }

  async getGroup(id: string): Promise<DirectoryGroup | undefined> {
    const group = this.groups.get(id);
    return group && toGroup(group);
  }

  async listGroupTransitiveMembers(groupId: string): Promise<DirectoryUser[] | undefined> {
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
    const group = this.groups.get(groupId);
    return group && this.usersFor(group.owners);
  }

  async getApplication(id: string): Promise<DirectoryApplication | undefined> {
    const application = this.applications.get(id);
    return application && toApplication(application);
  }

  async listApplicationAssignees(appId: string): Promise<DirectoryUser[] | undefined> {
    const application = this.applications.get(appId);
    return application && this.usersFor(application.assignees);
  }

  async listApplicationOwners(appId: string): Promise<DirectoryUser[] | undefined> {
    const application = this.applications.get(appId);
    return application && this.usersFor(application.owners);
  }

  /** Removes a direct membership only: a user who belongs through a nested group gives 'notFound'. */
  async removeGroupMember(groupId: string, userId: string): Promise<DirectoryWriteResult> {
    const removed = this.groups.get(groupId)?.members.delete(userId) ?? false;
    return this.commit(removed ? 'done' : 'notFound');
  }

  async removeApplicationAssignment(appId: string, userId: string): Promise<DirectoryWriteResult> {
    const removed = this.applications.get(appId)?.assignees.delete(userId) ?? false;
    return this.commit(removed ? 'done' : 'notFound');
  }

  async setAccountEnabled(userId: string, enabled: boolean): Promise<DirectoryWriteResult> {
    const user = this.users.get(userId);
    if (user === undefined) return this.commit('notFound');
    const changed = user.accountEnabled !== enabled;
    user.accountEnabled = enabled;
    return this.commit('done', changed);
  }

  /** Deletes the user and every link to it: memberships, ownerships, assignments and reports' managerId. */
  async deleteUser(userId: string): Promise<DirectoryWriteResult> {
    const user = this.users.get(userId);
    if (user === undefined) return this.commit('notFound');
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
    return this.commit('done');
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

  /**
   * Finishes a write: saves when memory is ahead of the state file. A save that failed earlier is retried
   * here too, so an idempotent retry that now answers 'notFound' still gets the change onto disk.
   */
  private async commit(
    result: DirectoryWriteResult,
    changed = result === 'done',
  ): Promise<DirectoryWriteResult> {
    if (changed) this.dirty = true;
    if (this.dirty) await this.save();
    return result;
  }

  /**
   * Saves one after another (a promise chain), so a slow save never overwrites a newer one. Writers that
   * arrive while a save is waiting its turn share it: it serializes the state when it starts.
   */
  private save(): Promise<void> {
    const file = this.stateFile;
    if (file === undefined) {
      this.dirty = false;
      return Promise.resolve();
    }
    if (this.queuedSave !== undefined) return this.queuedSave;
    const save = this.saving.then(async () => {
      this.queuedSave = undefined;
      this.dirty = false;
      try {
        await writeFileAtomically(file, formatTenantFile(this.toTenantFile()));
      } catch (error) {
        this.dirty = true;
        throw error;
      }
    });
    this.queuedSave = save;
    this.saving = save.catch(() => undefined);
    return save;
  }
}

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

/**
 * One object per line: readable and diff-friendly for the demo tenant, and about as fast as compact JSON
 * for 100,000 users (indented JSON doubles the time and size of every save).
 */
function formatTenantFile(tenant: TenantFile): string {
  const list = (items: readonly unknown[]) =>
    items.length === 0 ? '[]' : `[\n    ${items.map((item) => JSON.stringify(item)).join(',\n    ')}\n  ]`;
  return `{\n  "users": ${list(tenant.users)},\n  "groups": ${list(tenant.groups)},\n  "applications": ${list(tenant.applications)}\n}\n`;
}

/** Writes a temp file beside the target, flushes it to disk, then renames it over the target. */
async function writeFileAtomically(file: string, contents: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.${randomUUID()}.tmp`;
  try {
    const handle = await openFile(temp, 'w');
    try {
      await handle.writeFile(contents, 'utf8');
      // Without the sync a crash right after the rename can leave an empty state file on some filesystems.
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
