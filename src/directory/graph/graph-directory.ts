import type {
  Directory,
  DirectoryApplication,
  DirectoryGroup,
  DirectoryUser,
  DirectoryWriteResult,
} from '../port';
import { mapLimit } from '../batching';
import { ReadCache } from '../read-cache';
import type { BatchRequest } from './client';
import { batchItemFailure, GraphApi, GraphRequestError, isNotFound } from './client';
import type { AppRoleAssignment, DirectoryObjectRef } from './objects';
import { EVENTUAL, isId, isMissingReference, USER_TYPE } from './objects';
import type { GraphSettings } from './settings';
import { checkConnection } from './start-check';
import { GraphUsers } from './users';

/**
 * The Directory port on Microsoft Entra ID through Microsoft Graph v1.0. Users come from
 * `/users/{id}` in JSON batches (sign-in activity and manager are only there), memberships from
 * `/groups/{id}/members` and `/transitiveMembers`, applications are service principals with their
 * `appRoleAssignedTo` (users, and groups resolved to their transitive users).
 */
export class GraphDirectory implements Directory {
  /** Reads reused for GRAPH_CACHE_SECONDS (users, groups, applications); this adapter's writes clear it. */
  private readonly cache: ReadCache;
  private readonly users: GraphUsers;

  private constructor(
    private readonly api: GraphApi,
    private readonly settings: GraphSettings,
  ) {
    this.cache = new ReadCache(settings.cacheMs);
    this.users = new GraphUsers(api, settings, this.cache);
  }

  /** Connects and checks the settings with one cheap call; a wrong setting fails here, named. */
  static async connect(settings: GraphSettings): Promise<GraphDirectory> {
    const api = new GraphApi(settings);
    try {
      await checkConnection(api, settings);
    } catch (err) {
      await api.close();
      throw err;
    }
    return new GraphDirectory(api, settings);
  }

  private page(path: string, query = ''): string {
    return `${path}?$top=${this.settings.pageSize}${query}`;
  }

  getUser(id: string): Promise<DirectoryUser | undefined> {
    return this.users.get(id);
  }

  getUsers(ids: readonly string[]): Promise<DirectoryUser[]> {
    return this.users.many(ids);
  }

  async getManager(userId: string): Promise<DirectoryUser | undefined> {
    const user = await this.getUser(userId);
    return user?.managerId ? this.getUser(user.managerId) : undefined;
  }

  /** A GET of one object, reused from the read cache. */
  private object<T>(path: string): Promise<T | undefined> {
    return this.cache.get(`get:${path}`, () => this.api.get<T>(path));
  }

  /** Every item of a collection, reused from the read cache. */
  private collection<T>(path: string, headers?: Record<string, string>): Promise<T[] | undefined> {
    return this.cache.get(`list:${path}`, () => this.api.list<T>(path, headers));
  }

  private refs(path: string): Promise<DirectoryObjectRef[] | undefined> {
    return this.collection<DirectoryObjectRef>(this.page(path, '&$select=id'));
  }

  private async userRefIds(path: string): Promise<string[] | undefined> {
    const refs = await this.refs(path);
    return refs?.filter((r) => r['@odata.type'] === USER_TYPE).map((r) => r.id);
  }

  async getGroup(id: string): Promise<DirectoryGroup | undefined> {
    if (!isId(id)) return undefined;
    const group = await this.object<{ id: string; displayName?: string; description?: string | null }>(
      `/groups/${id}?$select=id,displayName,description`,
    );
    if (!group) return undefined;
    const [members, owners] = await Promise.all([
      this.refs(`/groups/${id}/members`),
      this.userRefIds(`/groups/${id}/owners`),
    ]);
    return {
      id: group.id,
      displayName: group.displayName ?? '',
      description: group.description ?? null,
      memberIds: (members ?? []).map((m) => m.id),
      ownerIds: owners ?? [],
    };
  }

  /** Ids of the group's users through nesting: the user cast needs ConsistencyLevel and $count. */
  private async transitiveUserIds(groupId: string): Promise<string[] | undefined> {
    if (!isId(groupId)) return undefined;
    const users = await this.collection<DirectoryObjectRef>(
      this.page(`/groups/${groupId}/transitiveMembers/microsoft.graph.user`, '&$select=id&$count=true'),
      EVENTUAL,
    );
    return users && [...new Set(users.map((u) => u.id))];
  }

  async listGroupTransitiveMembers(groupId: string): Promise<DirectoryUser[] | undefined> {
    const ids = await this.transitiveUserIds(groupId);
    return ids && this.getUsers(ids);
  }

  async listGroupOwners(groupId: string): Promise<DirectoryUser[] | undefined> {
    if (!isId(groupId)) return undefined;
    const ids = await this.userRefIds(`/groups/${groupId}/owners`);
    return ids && this.getUsers(ids);
  }

  private async assignedUserIds(appId: string): Promise<string[] | undefined> {
    const assignments = await this.collection<AppRoleAssignment>(
      this.page(`/servicePrincipals/${appId}/appRoleAssignedTo`, '&$select=id,principalId,principalType'),
    );
    if (!assignments) return undefined;
    const direct = assignments.filter((a) => a.principalType === 'User').map((a) => a.principalId);
    const groups = [
      ...new Set(assignments.filter((a) => a.principalType === 'Group').map((a) => a.principalId)),
    ];
    const viaGroups = await mapLimit(groups, this.settings.concurrency, (g) => this.transitiveUserIds(g));
    return [...new Set([...direct, ...viaGroups.flatMap((ids) => ids ?? [])])];
  }

  async getApplication(id: string): Promise<DirectoryApplication | undefined> {
    if (!isId(id)) return undefined;
    const sp = await this.object<{ id: string; appId?: string | null; displayName?: string }>(
      `/servicePrincipals/${id}?$select=id,appId,displayName`,
    );
    if (!sp) return undefined;
    const [assigned, owners] = await Promise.all([
      this.assignedUserIds(id),
      this.userRefIds(`/servicePrincipals/${id}/owners`),
    ]);
    return {
      id: sp.id,
      appId: sp.appId ?? null,
      displayName: sp.displayName ?? '',
      assignedUserIds: assigned ?? [],
      ownerIds: owners ?? [],
    };
  }

  async listApplicationAssignees(appId: string): Promise<DirectoryUser[] | undefined> {
    if (!isId(appId)) return undefined;
    const ids = await this.assignedUserIds(appId);
    return ids && this.getUsers(ids);
  }

  async listApplicationOwners(appId: string): Promise<DirectoryUser[] | undefined> {
    if (!isId(appId)) return undefined;
    const ids = await this.userRefIds(`/servicePrincipals/${appId}/owners`);
    return ids && this.getUsers(ids);
  }

  /** A write whose 404 (the object, or the link) means it is already gone. */
  private async write(
    method: 'DELETE' | 'PATCH',
    path: string,
    body?: unknown,
  ): Promise<DirectoryWriteResult> {
    try {
      await this.api.request(method, path, body === undefined ? {} : { body });
      return 'done';
    } catch (err) {
      if (isNotFound(err)) return 'notFound';
      if (err instanceof GraphRequestError && isMissingReference(err.status, err.message)) return 'notFound';
      throw err;
    } finally {
      // After the write, so that a read that ran alongside it is not kept either.
      this.cache.clear();
    }
  }

  async removeGroupMember(groupId: string, userId: string): Promise<DirectoryWriteResult> {
    if (!isId(groupId) || !isId(userId)) return 'notFound';
    // Graph removes direct members only; a member through a nested group is answered 400 "do not exist".
    return this.write('DELETE', `/groups/${groupId}/members/${userId}/$ref`);
  }

  async removeGroupMembers(groupId: string, userIds: readonly string[]): Promise<DirectoryWriteResult[]> {
    const results: DirectoryWriteResult[] = userIds.map(() => 'notFound');
    if (!isId(groupId)) return results;
    const asked = userIds.map((id, i) => ({ id, i })).filter((x) => isId(x.id));
    const requests = asked.map((x): BatchRequest => ({
      method: 'DELETE',
      url: `/groups/${groupId}/members/${x.id}/$ref`,
    }));
    const responses = await this.api.batchAll(requests).finally(() => this.cache.clear());
    // A failure of one member throws after the others were sent; the caller then applies one by one.
    responses.forEach((r, k) => {
      const { i } = asked[k]!;
      if (r.status === 204 || r.status === 200) results[i] = 'done';
      else if (r.status === 404 || isMissingReference(r.status, r.body?.error?.message))
        results[i] = 'notFound';
      else throw batchItemFailure(requests[k]!, r);
    });
    return results;
  }

  async removeApplicationAssignment(appId: string, userId: string): Promise<DirectoryWriteResult> {
    if (!isId(appId) || !isId(userId)) return 'notFound';
    // appRoleAssignedTo cannot be filtered by principal; the user's own assignments can by resource.
    const mine = await this.api.list<AppRoleAssignment>(
      `/users/${userId}/appRoleAssignments?$filter=resourceId eq ${appId}&$select=id,principalId,principalType`,
    );
    const direct = (mine ?? []).filter((a) => a.principalType === 'User' && a.principalId === userId);
    let removed = 0;
    for (const a of direct) {
      if ((await this.write('DELETE', `/servicePrincipals/${appId}/appRoleAssignedTo/${a.id}`)) === 'done') {
        removed++;
      }
    }
    return removed ? 'done' : 'notFound';
  }

  async setAccountEnabled(userId: string, enabled: boolean): Promise<DirectoryWriteResult> {
    if (!isId(userId)) return 'notFound';
    return this.write('PATCH', `/users/${userId}`, { accountEnabled: enabled });
  }

  async deleteUser(userId: string): Promise<DirectoryWriteResult> {
    if (!isId(userId)) return 'notFound';
    return this.write('DELETE', `/users/${userId}`);
  }

  async close(): Promise<void> {
    await this.api.close();
  }
}
