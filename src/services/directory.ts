import type { WorkflowHandle } from '@temporalio/client';
import type { Directory, DirectoryUser } from '../directory/port';
import { AppError } from '../domain/errors';
import type { GraphUser } from '../domain/graph-resources';
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
export function graphUser(u: DirectoryUser): GraphUser {
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
export type { GraphUser };

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
    if (!u) throw new AppError('directory.user_not_found', `User '${id}' not found`);
    return graphUser(u);
  }

  async manager(id: string): Promise<GraphUser> {
    await this.user(id);
    const m = await this.directory.getManager(id);
    if (!m) throw new AppError('directory.manager_not_found', `User '${id}' has no manager`);
    return graphUser(m);
  }

  async groupMembers(groupId: string): Promise<GraphUser[]> {
    const group = await this.directory.getGroup(groupId);
    if (!group) throw new AppError('directory.group_not_found', `Group '${groupId}' not found`);
    const users = await this.directory.getUsers(group.memberIds);
    return users.map(graphUser);
  }

  async groupOwners(groupId: string): Promise<GraphUser[]> {
    const owners = await this.directory.listGroupOwners(groupId);
    if (!owners) throw new AppError('directory.group_not_found', `Group '${groupId}' not found`);
    return owners.map(graphUser);
  }

  async applicationAssignees(appId: string): Promise<GraphUser[]> {
    const users = await this.directory.listApplicationAssignees(appId);
    if (!users)
      throw new AppError('directory.application_not_found', `Service principal '${appId}' not found`);
    return users.map(graphUser);
  }

  /**
   * PATCH /users/{id} { accountEnabled }: only the restore of a guest that a review blocked (R11), which
   * enables the account and cancels its pending deletion. Stagecoach changes accounts only as reviews
   * decide; any other enable or disable belongs in the directory itself.
   */
  async setAccountEnabled(id: string, enabled: boolean, caller: Caller): Promise<void> {
    requireAdmin(caller);
    await this.user(id);
    const deletion = this.gw.handle(guestDeletionWorkflowId(id));
    if (!enabled || !(await isRunning(deletion))) {
      throw new AppError(
        'directory.change_not_allowed',
        enabled
          ? `User '${id}' is not a guest blocked by an access review (no deletion is pending), so Stagecoach does not enable the account; change it in the directory`
          : 'Stagecoach disables accounts only as an access review decides (disableAndDeleteUserApplyAction); disable it in the directory',
      );
    }
    const result = await this.directory.setAccountEnabled(id, true);
    if (result === 'notFound') throw new AppError('directory.user_not_found', `User '${id}' not found`);
    try {
      await deletion.signal(restoreGuestSignal, { by: caller.userId });
    } catch (err) {
      // The deletion closed since it was checked: the account is enabled, there is nothing to cancel.
      if (!isWorkflowNotFound(err)) throw err;
    }
  }
}

async function isRunning(handle: WorkflowHandle): Promise<boolean> {
  try {
    return (await handle.describe()).status.name === 'RUNNING';
  } catch (err) {
    if (isWorkflowNotFound(err)) return false;
    throw err;
  }
}
