import type { DirectoryUser } from '../port';
import type { ScimSettings } from './settings';

/** RFC 7643 schema URNs the adapter reads and writes. */
export const SCIM = {
  enterpriseUser: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
  patchOp: 'urn:ietf:params:scim:api:messages:2.0:PatchOp',
  listResponse: 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
} as const;

/** A multi-valued reference (group member, manager) as RFC 7643 §2.4 and §4.1.2 shape it. */
export interface ScimReference {
  value?: string;
  $ref?: string;
  type?: string;
  display?: string;
}

/** The User attributes the adapter reads (RFC 7643 §4.1, the Enterprise extension §4.3, a sign-in extension). */
export interface ScimUser {
  id: string;
  userName: string;
  displayName?: string;
  name?: { formatted?: string; givenName?: string; familyName?: string };
  emails?: { value?: string; primary?: boolean; type?: string }[];
  userType?: string;
  active?: boolean;
  meta?: { created?: string; lastModified?: string; version?: string };
  [extension: string]: unknown;
}

/** The Group attributes the adapter reads (RFC 7643 §4.2). */
export interface ScimGroup {
  id: string;
  displayName: string;
  members?: ScimReference[];
  meta?: { version?: string };
  [extension: string]: unknown;
}

/** A ListResponse (RFC 7644 §3.4.2). */
export interface ScimList<T> {
  totalResults: number;
  startIndex?: number;
  itemsPerPage?: number;
  Resources?: T[];
}

/** Whole seconds, UTC, as the other adapters report times (2026-11-28T09:30:00Z). */
export function isoSeconds(value: unknown): string | null {
  if (typeof value !== 'string' || value === '') return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** The value of an extension attribute, e.g. urn:…:User + lastSignInDateTime. */
export function extensionValue(
  resource: Record<string, unknown>,
  at: { schema: string; attribute: string } | undefined,
): unknown {
  if (!at) return undefined;
  const ext = resource[at.schema];
  return typeof ext === 'object' && ext !== null ? (ext as Record<string, unknown>)[at.attribute] : undefined;
}

/** The Graph-shaped user for a SCIM User. */
export function toDirectoryUser(u: ScimUser, settings: ScimSettings): DirectoryUser {
  const manager = (u[SCIM.enterpriseUser] as { manager?: ScimReference } | undefined)?.manager;
  const emails = u.emails ?? [];
  const mail = (emails.find((e) => e.primary) ?? emails[0])?.value ?? null;
  return {
    id: u.id,
    displayName: u.displayName ?? u.name?.formatted ?? u.userName,
    userPrincipalName: u.userName,
    mail,
    userType: u.userType?.toLowerCase() === settings.guestUserType.toLowerCase() ? 'Guest' : 'Member',
    accountEnabled: u.active !== false,
    managerId: manager?.value ?? null,
    createdDateTime: isoSeconds(u.meta?.created) ?? '1970-01-01T00:00:00Z',
    lastSignInDateTime: isoSeconds(extensionValue(u, settings.lastSignInAttribute)),
  };
}

/** Whether a group member is a group (RFC 7643 `type`, else its `$ref` path). */
export function isGroupMember(m: ScimReference): boolean {
  if (m.type) return m.type.toLowerCase() === 'group';
  return typeof m.$ref === 'string' && /\/Groups\//i.test(m.$ref);
}

/** A string literal for a SCIM filter (RFC 7644 §3.4.2.2: JSON string rules). */
export const filterString = (value: string) => JSON.stringify(value);
