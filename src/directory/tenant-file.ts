import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { DirectoryApplication, DirectoryGroup, DirectoryUser } from './port';

// Strict objects: a misspelt property (`managerID`) is an error instead of a silently dropped manager.
const id = z.string().min(1);
const dateTime = z.iso.datetime({ offset: true });

/** One user in a tenant file; Graph property names. */
export const tenantUserSchema = z.strictObject({
  id,
  displayName: z.string().min(1),
  userPrincipalName: z.string().min(1),
  mail: z.string().min(1).nullish(),
  userType: z.enum(['Member', 'Guest']),
  accountEnabled: z.boolean(),
  managerId: id.nullish(),
  createdDateTime: dateTime,
  lastSignInDateTime: dateTime.nullish(),
}) satisfies z.ZodType<DirectoryUser>;

/** One group in a tenant file; `memberIds` name users or nested groups, `ownerIds` name users. */
export const tenantGroupSchema = z.strictObject({
  id,
  displayName: z.string().min(1),
  description: z.string().nullish(),
  memberIds: z.array(id),
  ownerIds: z.array(id),
}) satisfies z.ZodType<DirectoryGroup>;

/** One application (service principal) in a tenant file; assignees and owners are users. */
export const tenantApplicationSchema = z.strictObject({
  id,
  appId: id.nullish(),
  displayName: z.string().min(1),
  assignedUserIds: z.array(id),
  ownerIds: z.array(id),
}) satisfies z.ZodType<DirectoryApplication>;

/** The shape of a tenant file without cross-reference checks; used to validate a part added to a loaded tenant. */
export const tenantShapeSchema = z.strictObject({
  users: z.array(tenantUserSchema).default([]),
  groups: z.array(tenantGroupSchema).default([]),
  applications: z.array(tenantApplicationSchema).default([]),
});

/** Objects that already exist outside the file being checked (a loaded tenant that a part is added to). */
export interface ReferenceScope {
  hasUser(id: string): boolean;
  hasGroup(id: string): boolean;
  /** Any directory object (user, group or application) with this id. */
  hasObject(id: string): boolean;
}

/** A broken reference or duplicate id, with the path of the offending value. */
export interface TenantIssue {
  path: (string | number)[];
  message: string;
}

const emptyScope: ReferenceScope = { hasUser: () => false, hasGroup: () => false, hasObject: () => false };

/**
 * Checks that ids are unique across users, groups and applications (one object id space, as in Graph)
 * and that every reference names an object of the right kind, in the tenant or in `existing`.
 */
export function tenantReferenceIssues(
  tenant: z.output<typeof tenantShapeSchema>,
  existing: ReferenceScope = emptyScope,
): TenantIssue[] {
  const issues: TenantIssue[] = [];
  const seen = new Map<string, string>();
  const claim = (objectId: string, where: string, path: (string | number)[]) => {
    const first = seen.get(objectId);
    if (first !== undefined || existing.hasObject(objectId)) {
      issues.push({
        path,
        message: `duplicate id "${objectId}" (already used by ${first ?? 'an existing object'})`,
      });
    } else {
      seen.set(objectId, where);
    }
  };
  const userIds = new Set<string>();
  const groupIds = new Set<string>();
  tenant.users.forEach((u, i) => {
    claim(u.id, `users[${i}]`, ['users', i, 'id']);
    userIds.add(u.id);
  });
  tenant.groups.forEach((g, i) => {
    claim(g.id, `groups[${i}]`, ['groups', i, 'id']);
    groupIds.add(g.id);
  });
  tenant.applications.forEach((a, i) => claim(a.id, `applications[${i}]`, ['applications', i, 'id']));

  const isUser = (x: string) => userIds.has(x) || existing.hasUser(x);
  const isGroup = (x: string) => groupIds.has(x) || existing.hasGroup(x);
  const checkUsers = (
    kind: string,
    ownerId: string,
    field: string,
    ids: string[],
    path: (string | number)[],
  ) =>
    ids.forEach((x, j) => {
      if (!isUser(x)) {
        issues.push({
          path: [...path, field, j],
          message: `${field} of ${kind} "${ownerId}" names "${x}", which is not a user`,
        });
      }
    });

  tenant.users.forEach((u, i) => {
    if (u.managerId == null) return;
    const path = ['users', i, 'managerId'];
    if (u.managerId === u.id) issues.push({ path, message: `user "${u.id}" is its own manager` });
    else if (!isUser(u.managerId)) {
      issues.push({ path, message: `managerId "${u.managerId}" of user "${u.id}" does not name a user` });
    }
  });
  tenant.groups.forEach((g, i) => {
    g.memberIds.forEach((x, j) => {
      if (!isUser(x) && !isGroup(x)) {
        issues.push({
          path: ['groups', i, 'memberIds', j],
          message: `memberIds of group "${g.id}" names "${x}", which is neither a user nor a group`,
        });
      }
    });
    checkUsers('group', g.id, 'ownerIds', g.ownerIds, ['groups', i]);
  });
  tenant.applications.forEach((a, i) => {
    checkUsers('application', a.id, 'assignedUserIds', a.assignedUserIds, ['applications', i]);
    checkUsers('application', a.id, 'ownerIds', a.ownerIds, ['applications', i]);
  });
  return issues;
}

/** A whole tenant file: users, groups and applications whose references all resolve within the file. */
export const tenantFileSchema = tenantShapeSchema.superRefine((tenant, ctx) => {
  for (const issue of tenantReferenceIssues(tenant)) ctx.addIssue({ code: 'custom', ...issue });
});

/** A validated tenant file. */
export type TenantFile = z.infer<typeof tenantFileSchema>;
/** What a tenant file may look like before parsing (the three arrays are optional). */
export type TenantFileInput = z.input<typeof tenantFileSchema>;

// A 100,000-user file with one systematic mistake would otherwise produce a 100,000-line message.
const MAX_ISSUES_IN_MESSAGE = 20;

/** Thrown when a tenant file (or a part added to a tenant) is malformed; `issues` holds one line per problem. */
export class TenantFileError extends Error {
  override readonly name = 'TenantFileError';
  constructor(
    readonly source: string,
    readonly issues: string[],
  ) {
    const shown = issues.slice(0, MAX_ISSUES_IN_MESSAGE).map((line) => `  ${line}`);
    if (issues.length > MAX_ISSUES_IN_MESSAGE)
      shown.push(`  ... and ${issues.length - MAX_ISSUES_IN_MESSAGE} more`);
    super(`Invalid tenant ${source}:\n${shown.join('\n')}`);
  }
}

const formatPath = (path: readonly PropertyKey[]) =>
  path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');

/**
 * Parses and validates a tenant (file contents or a part to add to `existing`); throws TenantFileError
 * listing every problem with its path, e.g. `users[3].managerId: managerId "x" of user "y" does not name a user`.
 */
export function parseTenantFile(
  data: unknown,
  options: { source?: string; existing?: ReferenceScope } = {},
): TenantFile {
  const source = options.source ?? 'file';
  const shape = tenantShapeSchema.safeParse(data);
  if (!shape.success) {
    throw new TenantFileError(
      source,
      shape.error.issues.map((i) => `${formatPath(i.path) || '(root)'}: ${i.message}`),
    );
  }
  const issues = tenantReferenceIssues(shape.data, options.existing);
  if (issues.length > 0) {
    throw new TenantFileError(
      source,
      issues.map((i) => `${formatPath(i.path)}: ${i.message}`),
    );
  }
  return shape.data;
}

/** Reads and validates a tenant file; undefined when it does not exist. */
export async function readTenantFile(file: string): Promise<TenantFile | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new TenantFileError(`file ${file}`, [`not valid JSON: ${(error as Error).message}`]);
  }
  return parseTenantFile(data, { source: `file ${file}` });
}
