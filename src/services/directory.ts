import type { Directory, DirectoryUser } from '../directory/port';
import { notFound } from '../domain/errors';
import { guestDeletionWorkflowId } from '../domain/ids';
import { restoreGuestSignal } from '../workflows';
import type { Caller } from './caller';
import { requireAdmin } from './caller';
import type { TemporalGateway } from './temporal-gateway';
import { isWorkflowNotFound } from './temporal-gateway';
import { TtlCache } from './ttl-cache';

/** How long isKnownUser trusts one directory read, either way. */
const KNOWN_USER_MS = 30_000;

/** A user in Graph's shape (the subset the directory knows). */
export function graphUser(u: DirectoryUser) {
  return {
    id: u.id,
    displayName: u.displayName,
    userPrincipalName: u.userPrincipalName,
    mail: u.mail ?? null,
    userType: u.userType,
    accountEnabled: u.accountEnabled,
    createdDateTime: u.createdDateTime,
    signInActivity: { lastSignInDateTime: u.lastSignInDateTime ?? null },
  };
}
export type GraphUser = ReturnType<typeof graphUser>;

/** Read access to the directory in Graph's shapes, and the admin's restore of a blocked guest (R11). */
export class DirectoryService {
  private readonly known = new TtlCache<boolean>(KNOWN_USER_MS);

  constructor(
    private readonly directory: Directory,
    private readonly gw: TemporalGateway,
  ) {}

  /** Whether the directory has this user; asked on every request, so one read is kept for 30 s. */
  isKnownUser(id: string): Promise<boolean> {
    return this.known.get(id, async () => (await this.directory.getUser(id)) !== undefined);
  }

  async user(id: string): Promise<GraphUser> {
    const u = await this.directory.getUser(id);
    if (!u) throw notFound('directory.user_not_found', `User '${id}' not found`);
    return graphUser(u);
  }

  async manager(id: string): Promise<GraphUser> {
    await this.user(id);
    const m = await this.directory.getManager(id);
    if (!m) throw notFound('directory.manager_not_found', `User '${id}' has no manager`);
    return graphUser(m);
  }

  async groupMembers(groupId: string): Promise<GraphUser[]> {
    const group = await this.directory.getGroup(groupId);
    if (!group) throw notFound('directory.group_not_found', `Group '${groupId}' not found`);
    const users = await this.directory.getUsers(group.memberIds);
    return users.map(graphUser);
  }

  async groupOwners(groupId: string): Promise<GraphUser[]> {
    const owners = await this.directory.listGroupOwners(groupId);
    if (!owners) throw notFound('directory.group_not_found', `Group '${groupId}' not found`);
    return owners.map(graphUser);
  }

  async applicationAssignees(appId: string): Promise<GraphUser[]> {
    const users = await this.directory.listApplicationAssignees(appId);
    if (!users) throw notFound('directory.application_not_found', `Service principal '${appId}' not found`);
    return users.map(graphUser);
  }

  /**
   * PATCH /users/{id} { accountEnabled }: re-enabling a guest blocked by a review restores them, which
   * also cancels their pending deletion.
   */
  async setAccountEnabled(id: string, enabled: boolean, caller: Caller): Promise<void> {
    requireAdmin(caller);
    const result = await this.directory.setAccountEnabled(id, enabled);
    if (result === 'notFound') throw notFound('directory.user_not_found', `User '${id}' not found`);
    if (!enabled) return;
    try {
      await this.gw.handle(guestDeletionWorkflowId(id)).signal(restoreGuestSignal, { by: caller.userId });
    } catch (err) {
      // No pending deletion (never denied, or already closed): enabling the account is all there is to do.
      if (!isWorkflowNotFound(err)) throw err;
    }
  }
}
