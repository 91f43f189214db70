import type { Directory, DirectoryUser, DirectoryWriteResult } from '../../src/directory/port';
import { DirectoryUnavailableError } from '../../src/directory/port';

/** Forwards every call to an inner directory; subclasses override the calls a test needs to bend. */
export class ForwardingDirectory implements Directory {
  constructor(protected readonly inner: Directory) {}
  getUser(id: string) {
    return this.inner.getUser(id);
  }
  getUsers(ids: readonly string[]) {
    return this.inner.getUsers(ids);
  }
  getManager(userId: string) {
    return this.inner.getManager(userId);
  }
  getGroup(id: string) {
    return this.inner.getGroup(id);
  }
  listGroupTransitiveMembers(groupId: string) {
    return this.inner.listGroupTransitiveMembers(groupId);
  }
  listGroupOwners(groupId: string) {
    return this.inner.listGroupOwners(groupId);
  }
  getApplication(id: string) {
    return this.inner.getApplication(id);
  }
  listApplicationAssignees(appId: string) {
    return this.inner.listApplicationAssignees(appId);
  }
  listApplicationOwners(appId: string) {
    return this.inner.listApplicationOwners(appId);
  }
  removeGroupMember(groupId: string, userId: string) {
    return this.inner.removeGroupMember(groupId, userId);
  }
  removeApplicationAssignment(appId: string, userId: string) {
    return this.inner.removeApplicationAssignment(appId, userId);
  }
  setAccountEnabled(userId: string, enabled: boolean) {
    return this.inner.setAccountEnabled(userId, enabled);
  }
  deleteUser(userId: string) {
    return this.inner.deleteUser(userId);
  }
}

/**
 * A directory whose first `failures` removeGroupMember calls throw DirectoryUnavailableError (a transient
 * outage); it records every call and every removal that went through.
 */
export class FlakyRemovalsDirectory extends ForwardingDirectory {
  readonly calls: string[] = [];
  readonly removals: { userId: string; result: DirectoryWriteResult }[] = [];

  constructor(
    inner: Directory,
    private failures: number,
  ) {
    super(inner);
  }

  override async removeGroupMember(groupId: string, userId: string): Promise<DirectoryWriteResult> {
    this.calls.push(userId);
    if (this.failures > 0) {
      this.failures--;
      throw new DirectoryUnavailableError('directory briefly unavailable');
    }
    const result = await this.inner.removeGroupMember(groupId, userId);
    this.removals.push({ userId, result });
    return result;
  }
}

/** A directory where owners can be added to a group while a review runs (the embedded one has no such write). */
export class GrowingOwnersDirectory extends ForwardingDirectory {
  private readonly added = new Map<string, string[]>();

  addGroupOwner(groupId: string, userId: string): void {
    this.added.set(groupId, [...(this.added.get(groupId) ?? []), userId]);
  }

  override async listGroupOwners(groupId: string): Promise<DirectoryUser[] | undefined> {
    const owners = await this.inner.listGroupOwners(groupId);
    if (!owners) return owners;
    const extra = await this.inner.getUsers(this.added.get(groupId) ?? []);
    return [...owners, ...extra];
  }
}

/** Polls like `until`, for waits that take real seconds (activity retry backoff). */
export async function eventually<T>(
  read: () => Promise<T>,
  ok: (v: T) => boolean,
  what: string,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
