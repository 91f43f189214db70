import type { DirectoryUser } from '../port';

/** Directory object ids in Entra ID are GUIDs; anything else Graph would refuse with 400, so it is not asked. */
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isId = (id: string) => GUID.test(id);

/** A user as Graph returns it for the adapter's $select and $expand=manager. */
export interface GraphUser {
  id: string;
  displayName?: string | null;
  userPrincipalName?: string | null;
  mail?: string | null;
  userType?: string | null;
  accountEnabled?: boolean | null;
  createdDateTime?: string | null;
  signInActivity?: { lastSignInDateTime?: string | null } | null;
  manager?: { id?: string } | null;
}

export interface DirectoryObjectRef {
  '@odata.type'?: string;
  id: string;
}

export interface AppRoleAssignment {
  id: string;
  principalId: string;
  /** User, Group or ServicePrincipal. */
  principalType: string;
}

export const USER_TYPE = '#microsoft.graph.user';
export const EVENTUAL = { ConsistencyLevel: 'eventual' };

/** "The link is not there": Graph's 400 for removing a reference that is not a direct member. */
export const isMissingReference = (status: number, message: string | undefined) =>
  status === 400 && /object references do not exist/i.test(message ?? '');

/** A Graph user as the port's DirectoryUser; the last sign-in only when the tenant reports it. */
export function toUser(signInActivity: boolean, u: GraphUser): DirectoryUser {
  return {
    id: u.id,
    displayName: u.displayName ?? '',
    userPrincipalName: u.userPrincipalName ?? '',
    mail: u.mail ?? null,
    userType: u.userType === 'Guest' ? 'Guest' : 'Member',
    accountEnabled: u.accountEnabled !== false,
    managerId: u.manager?.id ?? null,
    createdDateTime: u.createdDateTime ?? new Date(0).toISOString(),
    lastSignInDateTime: signInActivity ? (u.signInActivity?.lastSignInDateTime ?? null) : null,
  };
}
