/** A user as the directory knows it; Graph property names. */
export interface DirectoryUser {
  id: string;
  displayName: string;
  userPrincipalName: string;
  mail?: string | null;
  userType: 'Member' | 'Guest';
  accountEnabled: boolean;
  managerId?: string | null;
  createdDateTime: string;
  lastSignInDateTime?: string | null;
}

/** A security or Microsoft 365 group: direct members are user ids (or nested group ids). */
export interface DirectoryGroup {
  id: string;
  displayName: string;
  description?: string | null;
  memberIds: string[];
  ownerIds: string[];
}

/** An application (service principal) with its assigned users and owners. */
export interface DirectoryApplication {
  id: string;
  appId?: string | null;
  displayName: string;
  assignedUserIds: string[];
  ownerIds: string[];
}

/** Outcome of a write against the directory; `notFound` means the object or the link was already gone. */
export type DirectoryWriteResult = 'done' | 'notFound';

/**
 * The port in front of every identity directory (embedded JSON tenant, SCIM, Microsoft Graph, LDAP).
 * Reads return `undefined` for unknown ids; writes are idempotent.
 */
export interface Directory {
  getUser(id: string): Promise<DirectoryUser | undefined>;
  /** Users for the given ids, in the same order; unknown ids are left out. */
  getUsers(ids: readonly string[]): Promise<DirectoryUser[]>;
  getManager(userId: string): Promise<DirectoryUser | undefined>;
  getGroup(id: string): Promise<DirectoryGroup | undefined>;
  /** Users that are members of the group, through nested groups too; undefined when the group does not exist. */
  listGroupTransitiveMembers(groupId: string): Promise<DirectoryUser[] | undefined>;
  listGroupOwners(groupId: string): Promise<DirectoryUser[] | undefined>;
  getApplication(id: string): Promise<DirectoryApplication | undefined>;
  listApplicationAssignees(appId: string): Promise<DirectoryUser[] | undefined>;
  listApplicationOwners(appId: string): Promise<DirectoryUser[] | undefined>;
  removeGroupMember(groupId: string, userId: string): Promise<DirectoryWriteResult>;
  removeApplicationAssignment(appId: string, userId: string): Promise<DirectoryWriteResult>;
  setAccountEnabled(userId: string, enabled: boolean): Promise<DirectoryWriteResult>;
  deleteUser(userId: string): Promise<DirectoryWriteResult>;
  /**
   * Removes several direct memberships of one group at once, results in the order of `userIds`; for
   * directories where one write per member is slow (an LDAP modify rewrites the whole group entry).
   * Optional: without it, removeGroupMember is called for each.
   */
  removeGroupMembers?(groupId: string, userIds: readonly string[]): Promise<DirectoryWriteResult[]>;
  /** Releases connections; optional for in-process directories. */
  close?(): Promise<void>;
}

/** Thrown by adapters when the directory could not be reached or answered with a transient failure. */
export class DirectoryUnavailableError extends Error {
  override readonly name = 'DirectoryUnavailableError';
}
