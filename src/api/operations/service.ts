import { operation } from '../operation';
import { healthSchema, localTokenSchema } from '../response-schemas';
import { localTokenRequestSchema } from '../params';

/** /health, the document, its UI and the demo token endpoint: the operations served without a token. */
export const serviceOperations = [
  operation({
    method: 'get',
    path: '/health',
    operationId: 'health',
    tag: 'service',
    summary: 'Whether reviews can be served: Temporal reachable and a worker answering (503 otherwise)',
    role: 'public',
    success: { kind: 'json', schema: healthSchema },
    errors: [503],
    // 200 only when reviews can be served: Temporal answers and a worker answers on the task queue.
    handler: async ({ services, res }) => {
      const { reachable, answering, pollers, reason } = await services.health();
      const ok = reachable && answering;
      if (!ok) res.status(503).setHeader('Retry-After', '5');
      return {
        status: ok ? 'ok' : 'unavailable',
        ...(reason ? { reason } : {}),
        temporal: { reachable },
        workers: { answering, pollers },
      };
    },
  }),
  operation({
    method: 'get',
    path: '/openapi.json',
    operationId: 'openApiDocument',
    tag: 'service',
    summary: 'This OpenAPI document',
    role: 'public',
    success: { kind: 'document' },
  }),
  operation({
    method: 'get',
    path: '/docs/',
    operationId: 'docs',
    tag: 'service',
    summary: 'Swagger UI for this document',
    role: 'public',
    success: { kind: 'html' },
  }),
  operation({
    method: 'post',
    path: '/auth/local/token',
    operationId: 'auth.localToken',
    tag: 'authentication',
    summary: 'Issue a demo token for a directory user',
    description: 'Only with AUTH_MODE=local (the demo tenant); otherwise the route does not exist (404).',
    role: 'public',
    body: { schema: localTokenRequestSchema, example: { userId: '7c32e15c-d4d0-49aa-9eb3-0793e032aa70' } },
    success: { kind: 'json', schema: localTokenSchema },
    errors: [404, 429],
    enabled: (services) => services.localIssuer !== undefined,
    handler: async ({ body, services }) => {
      const issuer = services.localIssuer!;
      await services.directory.user(body.userId);
      const roles = body.admin ? [services.auth.adminRole] : [];
      const token = await issuer.issue(body.userId, { roles });
      return { token_type: 'Bearer', expires_in: 8 * 3600, access_token: token };
    },
  }),
];
