import type { GraphUser } from '../../domain/graph-resources';
import type { ApiServices } from '../services';
import { operation } from '../operation';
import { userSchema } from '../response-schemas';
import { directoryObjectParams, userPatchSchema } from '../params';

const tag = 'directory';

const directoryList = (
  path: string,
  operationId: string,
  summary: string,
  load: (s: ApiServices, id: string) => Promise<GraphUser[]>,
) =>
  operation({
    method: 'get',
    path,
    operationId,
    tag,
    summary,
    description: 'Administrators only (403 directory.not_visible otherwise).',
    role: 'user',
    params: directoryObjectParams,
    success: { kind: 'collection', schema: userSchema, context: () => 'directoryObjects' },
    errors: [403, 404],
    handler: async ({ params, caller, services }) => {
      await services.access.requireList(caller);
      return load(services, params.id);
    },
  });

/** Graph-shaped reads of the directory, so people can see what a review changed, and a guest's restore. */
export const directoryOperations = [
  operation({
    method: 'get',
    path: '/v1.0/users/{id}',
    operationId: 'users.get',
    tag,
    summary: 'Read a user',
    description:
      'Administrators read any user; others their own user object and those of the people whose access ' +
      'they review in a stage in progress (403 directory.not_visible otherwise, whether or not the id exists).',
    role: 'user',
    params: directoryObjectParams,
    success: { kind: 'entity', schema: userSchema, context: () => 'users' },
    errors: [403, 404],
    handler: async ({ params, caller, services }) => {
      await services.access.requireUser(caller, params.id);
      return services.directory.user(params.id);
    },
  }),
  operation({
    method: 'patch',
    path: '/v1.0/users/{id}',
    operationId: 'users.update',
    tag,
    summary: 'Restore a guest blocked by a review (accountEnabled: true) and cancel their deletion',
    description:
      'Only guests that a review blocked and whose deletion is pending; any other change is 403 directory.change_not_allowed.',
    role: 'admin',
    params: directoryObjectParams,
    body: { schema: userPatchSchema, example: { accountEnabled: true } },
    success: { kind: 'none' },
    errors: [403, 404],
    handler: ({ params, body, caller, services }) =>
      services.directory.setAccountEnabled(params.id, body.accountEnabled, caller),
  }),
  operation({
    method: 'get',
    path: '/v1.0/users/{id}/manager',
    operationId: 'users.manager',
    tag,
    summary: "Read a user's manager",
    description: "Administrators read anyone's manager; others only their own.",
    role: 'user',
    params: directoryObjectParams,
    success: { kind: 'entity', schema: userSchema, context: () => 'directoryObjects' },
    errors: [403, 404],
    handler: async ({ params, caller, services }) => {
      await services.access.requireManagerOf(caller, params.id);
      return services.directory.manager(params.id);
    },
  }),
  directoryList('/v1.0/groups/{id}/members', 'groups.members', "List a group's members", (s, id) =>
    s.directory.groupMembers(id),
  ),
  directoryList('/v1.0/groups/{id}/owners', 'groups.owners', "List a group's owners", (s, id) =>
    s.directory.groupOwners(id),
  ),
  directoryList(
    '/v1.0/servicePrincipals/{id}/appRoleAssignedTo',
    'servicePrincipals.appRoleAssignedTo',
    "List the users assigned to an application's service principal",
    (s, id) => s.directory.applicationAssignees(id),
  ),
];
