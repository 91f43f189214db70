import { mapLimit } from '../batching';
import { ReadCache } from '../read-cache';
import type { DirectoryUser } from '../port';
import type { ScimClient } from './client';
import type { ScimGroup, ScimList, ScimUser } from './resources';
import { filterString, isGroupMember, toDirectoryUser } from './resources';
import type { ScimSettings } from './settings';

const path = (kind: 'Users' | 'Groups', id: string) => `/${kind}/${encodeURIComponent(id)}`;

/** A group's direct members, split into users and nested groups. */
export interface GroupMembers {
  group: ScimGroup;
  userIds: string[];
  groupIds: string[];
}

/**
 * Reads Users and Groups from a SCIM service provider: single resources, filtered and paged lists. A
 * group's members, owners and transitive members and the whole user list are reused for
 * SCIM_CACHE_SECONDS.
 */
export class ScimReads {
  private readonly cache: ReadCache;

  constructor(
    private readonly client: ScimClient,
    private readonly settings: ScimSettings,
  ) {
    this.cache = new ReadCache(settings.cacheMs);
  }

  /** Forgets every cached list: called after each write. */
  clear(): void {
    this.cache.clear();
  }

  rawUser(id: string): Promise<ScimUser | undefined> {
    return this.client.get<ScimUser>(path('Users', id));
  }

  rawGroup(id: string): Promise<ScimGroup | undefined> {
    return this.client.get<ScimGroup>(path('Groups', id));
  }

  async user(id: string): Promise<DirectoryUser | undefined> {
    const u = await this.rawUser(id);
    return u && toDirectoryUser(u, this.settings);
  }

  /**
   * Users for the ids, in order, unknown ones left out: read one by one, or from the whole list when
   * there are many or it was listed a moment ago.
   */
  async users(ids: readonly string[]): Promise<DirectoryUser[]> {
    if (ids.length > this.settings.listThreshold || this.cache.has('users')) {
      const all = await this.cache.get(
        'users',
        async () => new Map((await this.list<ScimUser>('Users')).map((u) => [u.id, u])),
      );
      return ids.flatMap((id) => {
        const u = all.get(id);
        return u ? [toDirectoryUser(u, this.settings)] : [];
      });
    }
    const found = await mapLimit(ids, this.settings.concurrency, (id) => this.user(id));
    return found.filter((u): u is DirectoryUser => u !== undefined);
  }

  /** Every resource of a kind (or those matching `filter`), page by page; the provider may cap `count`. */
  async list<T>(kind: 'Users' | 'Groups', filter?: string): Promise<T[]> {
    const out: T[] = [];
    for (let startIndex = 1; ;) {
      const page = await this.client.get<ScimList<T>>(`/${kind}`, {
        startIndex,
        count: this.settings.pageSize,
        ...(filter ? { filter } : {}),
      });
      const resources = page?.Resources ?? [];
      out.push(...resources);
      startIndex += resources.length;
      if (resources.length === 0 || out.length >= (page?.totalResults ?? 0)) return out;
    }
  }

  /** The group named exactly `displayName`, if there is one. */
  async groupNamed(displayName: string): Promise<ScimGroup | undefined> {
    const found = await this.list<ScimGroup>('Groups', `displayName eq ${filterString(displayName)}`);
    return found.find((g) => g.displayName === displayName);
  }

  /** A group's direct members; members whose kind the provider does not say are looked up. */
  members(groupOrId: string | ScimGroup): Promise<GroupMembers | undefined> {
    if (typeof groupOrId !== 'string') return this.readMembers(groupOrId);
    return this.cache.get(`members\n${groupOrId}`, async () => {
      const group = await this.rawGroup(groupOrId);
      return group && this.readMembers(group);
    });
  }

  private async readMembers(group: ScimGroup): Promise<GroupMembers> {
    const userIds: string[] = [];
    const groupIds: string[] = [];
    const unknown: string[] = [];
    for (const m of group.members ?? []) {
      if (!m.value) continue;
      if (isGroupMember(m)) groupIds.push(m.value);
      else if (m.type || m.$ref) userIds.push(m.value);
      else unknown.push(m.value);
    }
    const kinds = await mapLimit(unknown, this.settings.concurrency, async (id) =>
      (await this.rawGroup(id)) ? 'group' : 'user',
    );
    unknown.forEach((id, i) => (kinds[i] === 'group' ? groupIds : userIds).push(id));
    return { group, userIds, groupIds };
  }

  /** Ids of the users in a group and its nested groups (each once), and the groups visited; undefined for an unknown group. */
  async transitive(groupId: string): Promise<{ userIds: string[]; groups: GroupMembers[] } | undefined> {
    const root = await this.members(groupId);
    if (!root) return undefined;
    const groups = [root];
    const seen = new Set([root.group.id]);
    const users = new Set(root.userIds);
    for (let level = root.groupIds; level.length;) {
      const next = level.filter((id) => !seen.has(id));
      next.forEach((id) => seen.add(id));
      const found = (await mapLimit(next, this.settings.concurrency, (id) => this.members(id))).filter(
        (g): g is GroupMembers => g !== undefined,
      );
      groups.push(...found);
      found.forEach((g) => g.userIds.forEach((u) => users.add(u)));
      level = found.flatMap((g) => g.groupIds);
    }
    return { userIds: [...users], groups };
  }

  /** Owners of a group: the users in its owners group (displayName + SCIM_OWNERS_GROUP_SUFFIX). */
  ownerIds(group: ScimGroup): Promise<string[]> {
    return this.cache.get(`owners\n${group.id}`, async () => {
      const owners = await this.groupNamed(group.displayName + this.settings.ownersGroupSuffix);
      return owners ? ((await this.transitive(owners.id))?.userIds ?? []) : [];
    });
  }
}
