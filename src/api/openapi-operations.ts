import type { z } from 'zod';
import { ADMIN, page, reviewOperations } from './openapi-review-operations';
import { healthSchema, localTokenSchema, userSchema } from './response-schemas';
import { directoryObjectParams, localTokenRequestSchema, userPatchSchema } from './routes/params';

export { MINE } from './openapi-review-operations';

/** What a documented operation answers with when it succeeds. */
export type Success =
  | { status: 204 }
  | { status: 200 | 201; entity: z.ZodType }
  | { status: 200; page: z.ZodType }
  | { status: 200; body: z.ZodType | 'document' | 'html' }
  /** A `$count` segment: the number as text/plain. */
  | { status: 200; body: 'count' };

/** One operation of the route table: the document is built from it and a test compares it with the router. */
export interface ApiOperation {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** OpenAPI path; Graph's function-call segments are written as Graph writes them. */
  path: string;
  operationId: string;
  tag: string;
  summary: string;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: { schema: z.ZodType; example: unknown };
  success: Success;
  /** Statuses beyond the ones every operation of its kind has (see `errorStatuses` in openapi.ts). */
  errors?: (403 | 404 | 409 | 429 | 503)[];
  /** Served without a bearer token. */
  public?: true;
  description?: string;
}

const directoryPage = (path: string, operationId: string, summary: string): ApiOperation => ({
  method: 'get',
  path,
  operationId,
  tag: 'directory',
  summary,
  params: directoryObjectParams,
  query: page,
  success: { status: 200, page: userSchema },
  description: ADMIN,
  errors: [404],
});

/** Every operation the API serves: the route table behind /openapi.json. */
export const operations: readonly ApiOperation[] = [
  {
    method: 'get',
    path: '/health',
    operationId: 'health',
    tag: 'service',
    summary: 'Whether reviews can be served: Temporal reachable and a worker answering (503 otherwise)',
    success: { status: 200, body: healthSchema },
    errors: [503],
    public: true,
  },
  {
    method: 'get',
    path: '/openapi.json',
    operationId: 'openApiDocument',
    tag: 'service',
    summary: 'This OpenAPI document',
    success: { status: 200, body: 'document' },
    public: true,
  },
  {
    method: 'get',
    path: '/docs/',
    operationId: 'docs',
    tag: 'service',
    summary: 'Swagger UI for this document',
    success: { status: 200, body: 'html' },
    public: true,
  },
  {
    method: 'post',
    path: '/auth/local/token',
    operationId: 'auth.localToken',
    tag: 'authentication',
    summary: 'Issue a demo token for a directory user',
    description: 'Only with AUTH_MODE=local (the demo tenant); otherwise the route does not exist (404).',
    body: { schema: localTokenRequestSchema, example: { userId: '7c32e15c-d4d0-49aa-9eb3-0793e032aa70' } },
    success: { status: 200, body: localTokenSchema },
    errors: [404, 429],
    public: true,
  },
  ...reviewOperations,
  {
    method: 'get',
    path: '/v1.0/users/{id}',
    operationId: 'users.get',
    tag: 'directory',
    summary: 'Read a user',
    description:
      'Administrators read any user; others their own user object and those of the people whose access ' +
      'they review in a stage in progress (403 directory.not_visible otherwise, whether or not the id exists).',
    params: directoryObjectParams,
    success: { status: 200, entity: userSchema },
    errors: [404],
  },
  {
    method: 'patch',
    path: '/v1.0/users/{id}',
    operationId: 'users.update',
    tag: 'directory',
    summary: 'Restore a guest blocked by a review (accountEnabled: true) and cancel their deletion',
    description: `${ADMIN} Only guests that a review blocked and whose deletion is pending; any other change is 403 directory.change_not_allowed.`,
    params: directoryObjectParams,
    body: { schema: userPatchSchema, example: { accountEnabled: true } },
    success: { status: 204 },
    errors: [403, 404],
  },
  {
    method: 'get',
    path: '/v1.0/users/{id}/manager',
    operationId: 'users.manager',
    tag: 'directory',
    summary: "Read a user's manager",
    description: "Administrators read anyone's manager; others only their own.",
    params: directoryObjectParams,
    success: { status: 200, entity: userSchema },
    errors: [404],
  },
  directoryPage('/v1.0/groups/{id}/members', 'groups.members', "List a group's members"),
  directoryPage('/v1.0/groups/{id}/owners', 'groups.owners', "List a group's owners"),
  directoryPage(
    '/v1.0/servicePrincipals/{id}/appRoleAssignedTo',
    'servicePrincipals.appRoleAssignedTo',
    "List the users assigned to an application's service principal",
  ),
];
