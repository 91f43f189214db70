import { mapLimit } from '../batching';
import { DirectoryUnavailableError } from '../port';
import type {
  Directory,
  DirectoryApplication,
  DirectoryGroup,
  DirectoryUser,
  DirectoryWriteResult,
} from '../port';
import { ScimClient, ScimError } from './client';
import type { ScimGroup } from './resources';
import { extensionValue, SCIM } from './resources';
import { ScimReads } from './scim-reads';
import type { ScimApplication, ScimSettings } from './settings';

/** A configured application with its groups resolved to SCIM ids. */
interface ResolvedApplication extends ScimApplication {
  groupIds: string[];
}

const patch = (Operations: unknown[]) => ({ schemas: [SCIM.patchOp], Operations });
const removeMember = (userId: string) => ({
  op: 'remove',
  path: `members[value eq ${JSON.stringify(userId)}]`,
});
const path = (kind: 'Users' | 'Groups', id: string) => `/${kind}/${encodeURIComponent(id)}`;

/**
 * The directory on a SCIM 2.0 service provider (RFC 7643/7644): Users with the Enterprise extension's
 * manager, Groups with `members`; owners and applications by the mapping in ScimSettings. Writes are
 * PATCH (remove a member, `active`) and DELETE, idempotent: what is already gone is `notFound`.
 */
export class ScimDirectory implements Directory {
  private constructor(
    private readonly client: ScimClient,
    private readonly reads: ScimReads,
    private readonly settings: ScimSettings,
    private readonly applications: Map<string, ResolvedApplication>,
  ) {}

  /**
   * Connects and checks the settings with real calls: the credential (one Users page) and each
   * application's groups. Errors name the setting.
   */
  static async connect(settings: ScimSettings): Promise<ScimDirectory> {
    const client = new ScimClient(settings);
    const reads = new ScimReads(client, settings);
    try {
      const probe = await client.send('GET', '/Users', { query: { startIndex: 1, count: 1 } });
      if (probe.status !== 200) {
        throw new Error(`SCIM_BASE_URL=${settings.baseUrl}: GET /Users answered HTTP ${probe.status}`);
      }
      const applications = new Map<string, ResolvedApplication>();
      const setting = 'SCIM_APPLICATIONS';
      for (const app of settings.applications) {
        const groupIds: string[] = [];
        for (const ref of app.groups) {
          const group =
            (await reads.rawGroup(ref).catch((err: unknown) => {
              if (err instanceof ScimError) return undefined;
              throw err;
            })) ?? (await reads.groupNamed(ref));
          if (!group)
            throw new Error(`${setting}: application "${app.id}": no group "${ref}" (by id or displayName)`);
          groupIds.push(group.id);
        }
        applications.set(app.id, { ...app, groupIds });
      }
      return new ScimDirectory(client, reads, settings, applications);
    } catch (err) {
      await client.close();
      // A server that cannot be reached: say which setting points at it.
      if (err instanceof DirectoryUnavailableError && !err.message.startsWith('SCIM_')) {
        throw new Error(`SCIM_BASE_URL=${settings.baseUrl}: ${err.message}`);
      }
      throw err;
    }
  }

  getUser(id: string): Promise<DirectoryUser | undefined> {
    return this.reads.user(id);
  }

  getUsers(ids: readonly string[]): Promise<DirectoryUser[]> {
    return this.reads.users(ids);
  }

  async getManager(userId: string): Promise<DirectoryUser | undefined> {
    const managerId = (await this.reads.user(userId))?.managerId;
    return managerId ? this.reads.user(managerId) : undefined;
  }

  async getGroup(id: string): Promise<DirectoryGroup | undefined> {
    const members = await this.reads.members(id);
    if (!members) return undefined;
    const description = extensionValue(members.group, this.settings.groupDescriptionAttribute);
    return {
      id: members.group.id,
      displayName: members.group.displayName,
      description: typeof description === 'string' ? description : null,
      memberIds: [...members.userIds, ...members.groupIds],
      ownerIds: await this.reads.ownerIds(members.group),
    };
  }

  async listGroupTransitiveMembers(groupId: string): Promise<DirectoryUser[] | undefined> {
    const found = await this.reads.transitive(groupId);
    return found && this.reads.users(found.userIds);
  }

  async listGroupOwners(groupId: string): Promise<DirectoryUser[] | undefined> {
    const group = await this.reads.rawGroup(groupId);
    return group && this.reads.users(await this.reads.ownerIds(group));
  }

  async getApplication(id: string): Promise<DirectoryApplication | undefined> {
    const app = this.applications.get(id);
    if (!app) return undefined;
    const [assigned, owners] = await Promise.all([this.assigneeIds(app), this.applicationOwnerIds(app)]);
    return {
      id: app.id,
      appId: null,
      displayName: app.displayName,
      assignedUserIds: assigned,
      ownerIds: owners,
    };
  }

  async listApplicationAssignees(appId: string): Promise<DirectoryUser[] | undefined> {
    const app = this.applications.get(appId);
    return app && this.reads.users(await this.assigneeIds(app));
  }

  async listApplicationOwners(appId: string): Promise<DirectoryUser[] | undefined> {
    const app = this.applications.get(appId);
    return app && this.reads.users(await this.applicationOwnerIds(app));
  }

  async removeGroupMember(groupId: string, userId: string): Promise<DirectoryWriteResult> {
    const [result] = await this.removeGroupMembers(groupId, [userId]);
    return result!;
  }

  /** One PATCH with a remove operation per direct member (RFC 7644 §3.5.2.2); the group's ETag guards it where offered. */
  async removeGroupMembers(groupId: string, userIds: readonly string[]): Promise<DirectoryWriteResult[]> {
    for (let attempt = 0; ; attempt++) {
      const group = await this.reads.rawGroup(groupId);
      if (!group) return userIds.map(() => 'notFound');
      const direct = new Set((group.members ?? []).map((m) => m.value));
      const present = [...new Set(userIds.filter((id) => direct.has(id)))];
      if (present.length === 0) return userIds.map(() => 'notFound');
      const res = await this.client.send('PATCH', path('Groups', group.id), {
        body: patch(present.map(removeMember)),
        ...(group.meta?.version ? { ifMatch: group.meta.version } : {}),
      });
      if (res.status === 404) return userIds.map(() => 'notFound');
      if (res.status === 412 && attempt < 3) continue; // changed since we read it: read again
      if (res.status === 412 || res.status === 409) {
        throw new ScimError(
          res.status,
          undefined,
          `SCIM PATCH ${path('Groups', group.id)}: the group kept changing`,
        );
      }
      this.reads.clear();
      const done = new Set(present);
      return userIds.map((id) => (done.delete(id) ? 'done' : 'notFound'));
    }
  }

  /** Removes the user from every group of the application's tree that holds them directly. */
  async removeApplicationAssignment(appId: string, userId: string): Promise<DirectoryWriteResult> {
    const app = this.applications.get(appId);
    if (!app) return 'notFound';
    const groups = await this.applicationGroups(app);
    const holding = groups.filter((g) => g.userIds.includes(userId));
    const results = await mapLimit(holding, this.settings.concurrency, (g) =>
      this.removeGroupMember(g.group.id, userId),
    );
    return results.includes('done') ? 'done' : 'notFound';
  }

  /** `active` replaced by value (RFC 7644 §3.5.2.3), the form every provider takes. */
  async setAccountEnabled(userId: string, enabled: boolean): Promise<DirectoryWriteResult> {
    const res = await this.client.send('PATCH', path('Users', userId), {
      body: patch([{ op: 'replace', value: { active: enabled } }]),
    });
    this.reads.clear();
    return res.status === 404 ? 'notFound' : 'done';
  }

  /** Removes the user's memberships first (not every provider does on DELETE), then deletes the user. */
  async deleteUser(userId: string): Promise<DirectoryWriteResult> {
    if (!(await this.reads.rawUser(userId))) return 'notFound';
    const groups = await this.groupsHolding(userId);
    await mapLimit(groups, this.settings.concurrency, (g) => this.removeGroupMember(g.id, userId));
    const res = await this.client.send('DELETE', path('Users', userId));
    this.reads.clear();
    return res.status === 404 ? 'notFound' : 'done';
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  /** Groups with the user as a direct member: by filter where the provider supports it, else from the whole list. */
  private async groupsHolding(userId: string): Promise<ScimGroup[]> {
    const holds = (g: ScimGroup) => (g.members ?? []).some((m) => m.value === userId);
    try {
      return (
        await this.reads.list<ScimGroup>('Groups', `members.value eq ${JSON.stringify(userId)}`)
      ).filter(holds);
    } catch (err) {
      if (!(err instanceof ScimError) || err.status !== 400) throw err;
      return (await this.reads.list<ScimGroup>('Groups')).filter(holds);
    }
  }

  private async applicationGroups(app: ResolvedApplication) {
    const trees = await Promise.all(app.groupIds.map((id) => this.reads.transitive(id)));
    const byId = new Map(trees.flatMap((t) => t?.groups ?? []).map((g) => [g.group.id, g]));
    return [...byId.values()];
  }

  private async assigneeIds(app: ResolvedApplication): Promise<string[]> {
    const trees = await Promise.all(app.groupIds.map((id) => this.reads.transitive(id)));
    return [...new Set(trees.flatMap((t) => t?.userIds ?? []))];
  }

  private async applicationOwnerIds(app: ResolvedApplication): Promise<string[]> {
    const groups = await Promise.all(app.groupIds.map((id) => this.reads.rawGroup(id)));
    const owners = await Promise.all(groups.map(async (g) => (g ? this.reads.ownerIds(g) : [])));
    return [...new Set(owners.flat())];
  }
}
