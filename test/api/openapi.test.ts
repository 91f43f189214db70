import pino from 'pino';
import request from 'supertest';
import type { AppDeps } from '../../src/api/app';
import { createApp } from '../../src/api/app';
import { packageVersion } from '../../src/api/docs';
import type { OpenApiDocument } from '../../src/api/openapi';
import { openApiDocument } from '../../src/api/openapi';
import { MINE, operations } from '../../src/api/operations';
import { definitionInputSchema } from '../../src/domain/definition-schema';
import { AppError } from '../../src/domain/errors';
import { compileDefinition } from '../../src/domain/validate-definition';
import { resolvePointer, validate } from '../helpers/json-schema';

/** Every service call fails with this message: a request answered with it reached its handler. */
const REACHED = 'The route reached a service';
const reachedOnly = <T>(): T =>
  new Proxy(
    {},
    {
      get: () => async () => {
        throw new AppError('definition.invalid', REACHED);
      },
    },
  ) as T;

// The document and routing only: every service is a stub, so no Temporal behaviour is exercised here.
const deps: AppDeps = {
  definitions: reachedOnly(),
  instances: reachedOnly(),
  directory: reachedOnly(),
  health: async () => ({ reachable: true, answering: true, pollers: 1 }),
  access: reachedOnly(),
  evidence: reachedOnly(),
  localIssuer: reachedOnly(),
  history: reachedOnly(),
  delegations: reachedOnly(),
  auth: {
    verifier: { verify: async () => ({ oid: 'admin-1', roles: ['Admin'] }) },
    userClaim: 'oid',
    rolesClaim: 'roles',
    adminRole: 'Admin',
    // Listed, so the directory (a stub here) is not asked whether the caller exists.
    admins: ['admin-1'],
  },
  logger: pino({ level: 'silent' }),
  bodyLimit: '1mb',
  rateLimitPerMinute: 100_000,
  rateLimitUnauthenticatedPerMinute: 100_000,
};
const app = createApp(deps);
const doc = openApiDocument({ version: packageVersion() });

type Layer = {
  route?: { path: string; methods: Record<string, boolean> };
  handle: { stack?: Layer[] };
  rawPath?: unknown;
};

/** `METHOD /path` of every route registered in a router, nested routers included (Express 5). */
function registeredRoutes(stack: Layer[], prefix = ''): string[] {
  return stack.flatMap((layer) => {
    if (layer.route) {
      const { route } = layer;
      return Object.keys(route.methods).map((m) => `${m.toUpperCase()} ${prefix}${route.path}`);
    }
    if (!layer.handle.stack) return [];
    if (typeof layer.rawPath !== 'string') throw new Error('Express no longer exposes a mount path');
    return registeredRoutes(layer.handle.stack, prefix + (layer.rawPath === '/' ? '' : layer.rawPath));
  });
}

/** The documented path as the router spells it: `:id` parameters, the plain filterByCurrentUser segment. */
const asRoute = (op: { method: string; path: string }) =>
  `${op.method.toUpperCase()} ${op.path.replace(/\{(\w+)\}/g, ':$1').replace(MINE, 'filterByCurrentUser')}`;

const concrete = (p: string) => p.replace(/\{(\w+)\}/g, (_m, name: string) => `${name}-1`);

function* allRefs(node: unknown): Generator<string> {
  if (Array.isArray(node)) for (const n of node) yield* allRefs(n);
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') yield value;
      else yield* allRefs(value);
    }
  }
}

const bodySchema = (d: OpenApiDocument, p: string, method: string) =>
  (d.paths[p]?.[method] as { requestBody: { content: Record<string, { schema: object }> } }).requestBody
    .content['application/json']!.schema as Record<string, unknown>;

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1 with unique operation ids, resolvable $refs and Error responses on every operation', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.version).toBe(packageVersion());
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });

    const refs = [...allRefs(doc)];
    expect(refs.length).toBeGreaterThan(50);
    for (const ref of refs) expect([ref, resolvePointer(doc, ref) !== undefined]).toEqual([ref, true]);

    const ops = Object.values(doc.paths).flatMap((item) => Object.values(item)) as {
      operationId: string;
      responses: Record<string, unknown>;
      security?: unknown[];
    }[];
    expect(ops).toHaveLength(operations.length);
    expect(new Set(ops.map((o) => o.operationId)).size).toBe(ops.length);
    for (const op of ops) {
      const statuses = Object.keys(op.responses);
      expect([op.operationId, statuses.some((s) => /^2\d\d$/.test(s))]).toEqual([op.operationId, true]);
      expect([op.operationId, statuses.includes('500')]).toEqual([op.operationId, true]);
      if (!op.security)
        expect([op.operationId, statuses]).toEqual([op.operationId, expect.arrayContaining(['401'])]);
    }
  });

  it('leaves only /health, /openapi.json, /docs, the local token endpoint and history downloads without a token', () => {
    const open = operations.filter((o) => o.role === 'public').map((o) => o.path);
    expect(open.sort()).toEqual([
      '/auth/local/token',
      '/docs/',
      '/health',
      '/openapi.json',
      '/v1.0/identityGovernance/accessReviews/historyDefinitions/{historyDefinitionId}/instances/{historyInstanceId}/download',
    ]);
    for (const p of open) expect(Object.values(doc.paths[p]!)[0]).toMatchObject({ security: [] });
    expect(doc.security).toEqual([{ bearer: [] }]);
  });

  it('documents exactly the routes the app registers', () => {
    const registered = registeredRoutes((app.router as unknown as { stack: Layer[] }).stack);
    expect(registered.length).toBeGreaterThan(30);
    // /docs/ is Swagger UI's static middleware (app.use), not a route.
    const documented = operations.filter((o) => o.path !== '/docs/').map(asRoute);
    expect([...registered].sort()).toEqual([...documented].sort());
  });

  it('writes filterByCurrentUser as a Graph function call', () => {
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/v1.0/identityGovernance/accessReviews/definitions/filterByCurrentUser(on='reviewer')",
        "/v1.0/identityGovernance/accessReviews/definitions/{definitionId}/instances/{instanceId}/stages/{stageId}/decisions/filterByCurrentUser(on='reviewer')",
      ]),
    );
    expect(Object.keys(doc.paths).filter((p) => p.endsWith('/filterByCurrentUser'))).toEqual([]);
  });

  it('documents the definition body as the route parses it: displayName and scope required', () => {
    const ref = bodySchema(doc, '/v1.0/identityGovernance/accessReviews/definitions', 'post');
    const schema = resolvePointer(doc, ref.$ref as string) as { required: string[] };
    expect(schema.required.sort()).toEqual(['displayName', 'scope']);
    const scope = { query: '/groups/56b642ff-312b-4458-9263-d915740b44fe/members' };
    const examples: unknown[] = [
      { displayName: 'Minimal', scope },
      {},
      { displayName: 'No scope' },
      { scope },
      { displayName: 'x'.repeat(257), scope },
      { displayName: 'Empty query', scope: { query: '' } },
      { displayName: 'Bad duration', scope: { ...scope, inactiveDuration: '30 days' } },
      { displayName: 'Bad default', scope, settings: { defaultDecision: 'Maybe' } },
      { displayName: 'Bad reviewers', scope, reviewers: 'the managers' },
      { displayName: 'Bad stage', scope, stageSettings: [{ stageId: '1', durationInDays: 0 }] },
      { displayName: 'Nullable', scope, descriptionForAdmins: null, instanceEnumerationScope: null },
      { displayName: 'Unknown props are stripped', scope, somethingElse: 1 },
    ];
    for (const example of examples) {
      const zodAccepts = definitionInputSchema.safeParse(example).success;
      const docAccepts = validate(ref, example, doc).length === 0;
      expect({ example, docAccepts }).toEqual({ example, docAccepts: zodAccepts });
    }
  });

  it('gives every request body an example its route accepts, as does its schema in the document', () => {
    const withBody = operations.filter((o) => o.body);
    expect(withBody.length).toBeGreaterThanOrEqual(7);
    for (const op of withBody) {
      expect([op.operationId, op.body!.schema.safeParse(op.body!.example).success]).toEqual([
        op.operationId,
        true,
      ]);
      expect([op.operationId, validate(bodySchema(doc, op.path, op.method), op.body!.example, doc)]).toEqual([
        op.operationId,
        [],
      ]);
      const strict = { ...(op.body!.example as object), unexpected: true };
      const zodAccepts = op.body!.schema.safeParse(strict).success;
      expect([
        op.operationId,
        validate(bodySchema(doc, op.path, op.method), strict, doc).length === 0,
      ]).toEqual([op.operationId, zodAccepts]);
    }
    const create = operations.find((o) => o.operationId === 'definitions.create')!;
    expect(() =>
      compileDefinition('example', definitionInputSchema.parse(create.body!.example)),
    ).not.toThrow();
  });
});

describe('the documented routes over HTTP', () => {
  it('serves /openapi.json without a token: every documented path', async () => {
    const res = await request(app).get('/openapi.json');
    expect(res.status).toBe(200);
    expect(res.type).toBe('application/json');
    expect(res.body.openapi).toBe('3.1.0');
    expect(Object.keys(res.body.paths).sort()).toEqual(Object.keys(doc.paths).sort());
  });

  it('reaches the handler of every documented operation with its documented inputs', async () => {
    for (const op of operations) {
      let req = request(app)[op.method](concrete(op.path)).set('authorization', 'Bearer any');
      if (op.body) req = req.send(op.body.example as object);
      const res = await req;
      const outcome = res.body?.error?.message === REACHED ? REACHED : res.status;
      expect([op.operationId, outcome]).toEqual([
        op.operationId,
        op.role === 'public' && !op.body && !op.query ? 200 : REACHED,
      ]);
    }
  });

  it('answers an undocumented path with request.unknown_route, in the documented Error shape with innerError', async () => {
    const res = await request(app)
      .get('/v1.0/identityGovernance/accessReviews/nothingHere')
      .set('authorization', 'Bearer any');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('request.unknown_route');
    const error = { $ref: '#/components/schemas/Error' };
    expect(validate(error, res.body, doc)).toEqual([]);
    expect(res.body.error.innerError['request-id']).toBe(res.headers['request-id']);
    const { innerError: _inner, ...withoutInner } = res.body.error as Record<string, unknown>;
    expect(validate(error, { error: withoutInner }, doc)).not.toEqual([]);
  });

  it('serves Swagger UI at /docs/ from same-origin scripts, under a CSP that drops only upgrade-insecure-requests', async () => {
    const bare = await request(app).get('/docs');
    expect(bare.status).toBe(302);
    expect(bare.headers.location).toBe('/docs/');

    const page = await request(app).get('/docs/');
    expect(page.status).toBe(200);
    expect(page.type).toBe('text/html');
    expect(page.text).toContain('<div id="swagger-ui">');
    const scripts = [...page.text.matchAll(/<script([^>]*)>/g)].map((m) => m[1]);
    expect(scripts.length).toBeGreaterThan(0);
    for (const attrs of scripts) expect(attrs).toMatch(/src="\.\//);
    const csp = page.headers['content-security-policy'] as string;
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('upgrade-insecure-requests');
    expect(
      await request(app)
        .get('/health')
        .then((r) => r.headers['content-security-policy']),
    ).toContain('upgrade-insecure-requests');

    const init = await request(app).get('/docs/swagger-ui-init.js');
    expect(init.status).toBe(200);
    expect(init.text).toContain('"url": "/openapi.json"');
    expect((await request(app).get('/docs/swagger-ui-bundle.js')).status).toBe(200);
  });
});
