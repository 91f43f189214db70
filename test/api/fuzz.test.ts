import fc from 'fast-check';
import type { Response } from 'supertest';
import type { DecisionItem, StartedReview } from '../helpers/api-fixtures';
import { Api, DEMO, REVIEWS } from '../helpers/api-fixtures';
import { until } from '../helpers/review-harness';
import type { Stack } from '../helpers/stack';
import { startStack } from '../helpers/stack';
import { decisionsQuery } from '../../src/workflows';

// Property tests of the HTTP surface: whatever JSON arrives, the answer is a 2xx or a 4xx with a Graph
// error body (never a 5xx), and a rejected request changes nothing.
const NUM_RUNS = 300;
const ADMIN = DEMO.PATTI;
const REVIEWER = DEMO.MEGAN;
const UNRELATED = DEMO.LEE;

let stack: Stack;
let api: Api;
let tokens: Record<string, { authorization: string }>;
beforeAll(async () => {
  stack = await startStack();
  api = new Api(stack);
  tokens = {
    [ADMIN]: await api.as(ADMIN, true),
    [REVIEWER]: await api.as(REVIEWER),
    [UNRELATED]: await api.as(UNRELATED),
  };
});
afterAll(async () => {
  await stack?.stop();
});

/** 2xx, or a 4xx whose body is exactly Graph's `{ error: { code, message, details?, innerError } }` with nothing internal in it. */
function expectGraphOutcome(res: Response): void {
  expect(res.status).toBeGreaterThanOrEqual(200);
  expect(res.status).toBeLessThan(500);
  if (res.status < 400) {
    expect(res.status).toBeLessThan(300);
    return;
  }
  // Graph's details, when the request's fields are named: each a code, a message and its field's path.
  const details = (res.body as { error?: { details?: unknown[] } }).error?.details;
  expect(res.body).toEqual({
    error: {
      code: expect.stringMatching(/^[a-z]+(\.[a-z_]+)+$/),
      message: expect.any(String),
      ...(details === undefined
        ? {}
        : {
            details: details.map(() => ({
              code: expect.any(String),
              message: expect.any(String),
              target: expect.any(String),
            })),
          }),
      innerError: {
        'request-id': expect.any(String),
        'client-request-id': expect.any(String),
        date: expect.any(String),
      },
    },
  });
  expect(res.body.error.message).not.toMatch(/\n\s+at |node_modules|Temporal|ECONN/);
}

/** Like `until`, but polls every 5 ms: this file waits for hundreds of accepted writes. */
async function soon<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Sends `text` as an application/json body. */
const sendJson = (method: 'post' | 'patch', path: string, caller: string, text: string) =>
  api.http()[method](path).set(tokens[caller]!).set('content-type', 'application/json').send(text);

// ---- arbitrary mutations of a valid body ------------------------------------------------------------

type Path = (string | number)[];
type Mutation =
  | { kind: 'delete'; path: Path }
  | { kind: 'set'; path: Path; value: unknown }
  | { kind: 'add'; path: Path; key: string; value: unknown };

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every path into a JSON value (not the root). */
function pathsOf(value: unknown, prefix: Path = []): Path[] {
  const out: Path[] = prefix.length ? [prefix] : [];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...pathsOf(v, [...prefix, i])));
  else if (isObject(value))
    for (const [k, v] of Object.entries(value)) out.push(...pathsOf(v, [...prefix, k]));
  return out;
}

/** Applies mutations to a copy; a mutation whose path no longer exists is skipped. */
function mutate(base: unknown, mutations: Mutation[]): unknown {
  const root: { value: unknown } = { value: structuredClone(base) };
  for (const m of mutations) {
    // For 'add' the path names the object that gets the new key; otherwise the value itself.
    const path: Path = ['value', ...m.path];
    let parent: unknown = root;
    for (const key of path.slice(0, -1))
      parent = isObject(parent) || Array.isArray(parent) ? (parent as never)[key] : undefined;
    const last = path[path.length - 1]!;
    if (!isObject(parent) && !Array.isArray(parent)) continue;
    const container = parent as Record<string | number, unknown>;
    if (m.kind === 'delete') {
      if (Array.isArray(parent) && typeof last === 'number') parent.splice(last, 1);
      else delete container[last];
    } else if (m.kind === 'set') {
      container[last] = m.value;
    } else {
      const target = container[last];
      // defineProperty: a key such as "__proto__" becomes an own property, as JSON.parse makes it.
      if (isObject(target))
        Object.defineProperty(target, m.key, {
          value: m.value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
    }
  }
  return root.value;
}

const awkwardValues = fc.constantFrom<unknown>(
  null,
  '',
  '   ',
  0,
  -1,
  1.5,
  4001,
  1e308,
  true,
  [],
  {},
  '1',
  '2',
  '4',
  'Approve',
  'Deny',
  'NotReviewed',
  'Recommendation',
  'P30D',
  'P0D',
  'PT0S',
  'weekly',
  'absoluteMonthly',
  './manager',
  '/users/nobody',
  `/groups/${DEMO.AUDITORS}/owners`,
  `/servicePrincipals/${DEMO.SALESFORCE}/appRoleAssignedTo`,
  "/groups/x/transitiveMembers?$filter=(userType eq 'Guest')",
  '2026-02-30',
  '2020-09-08T12:02:30.667Z',
  'x'.repeat(5000),
  '\u0000',
  '🦄',
  '%zz',
);
const anyValue = fc.oneof(fc.jsonValue(), awkwardValues);
const awkwardKeys = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    '@odata.type',
    'id',
    'status',
    'createdBy',
    'toString',
  ),
  fc.string({ maxLength: 12 }),
);

/** 1–4 mutations of `base`: delete a field, replace it with an odd value, or add an unknown property. */
function mutations(base: unknown): fc.Arbitrary<Mutation[]> {
  const paths = pathsOf(base);
  const objectPaths = [[], ...paths].filter((p) =>
    isObject(p.reduce<unknown>((v, k) => (v as never)[k], base)),
  );
  const path = fc.constantFrom(...paths);
  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    path.map((p): Mutation => ({ kind: 'delete', path: p })),
    fc.record({ kind: fc.constant('set' as const), path, value: anyValue }),
    fc.record({
      kind: fc.constant('add' as const),
      path: fc.constantFrom(...objectPaths),
      key: awkwardKeys,
      value: anyValue,
    }),
  );
  return fc.array(mutation, { minLength: 1, maxLength: 4 });
}

// ---- POST /definitions ------------------------------------------------------------------------------

/** A valid two-stage review of the (small) Contoso Auditors group. */
const VALID_DEFINITION = {
  displayName: 'Fuzzed review',
  descriptionForAdmins: 'fuzz',
  scope: {
    '@odata.type': '#microsoft.graph.accessReviewQueryScope',
    query: `/groups/${DEMO.AUDITORS}/transitiveMembers`,
    queryType: 'MicrosoftGraph',
  },
  stageSettings: [
    {
      stageId: '1',
      durationInDays: 2,
      recommendationsEnabled: false,
      decisionsThatWillMoveToNextStage: ['NotReviewed', 'Approve'],
      reviewers: [{ query: `/users/${REVIEWER}`, queryType: 'MicrosoftGraph' }],
    },
    {
      stageId: '2',
      dependsOn: ['1'],
      durationInDays: 2,
      reviewers: [{ query: './manager', queryType: 'MicrosoftGraph', queryRoot: 'decisions' }],
      fallbackReviewers: [{ query: `/users/${DEMO.LIDIA}` }],
    },
  ],
  settings: {
    justificationRequiredOnApproval: true,
    instanceDurationInDays: 0,
    recurrence: {
      pattern: { type: 'weekly', interval: 1 },
      range: { type: 'noEnd', startDate: '2026-01-01' },
    },
  },
};

const RUNNING_SERIES = `WorkflowType = 'reviewSeries' AND ExecutionStatus = 'Running'`;
const runningSeries = async () => (await stack.env.client.workflow.count(RUNNING_SERIES)).count;

describe('POST /definitions under fuzzing', () => {
  const created: string[] = [];
  let before = 0;
  beforeAll(async () => {
    before = await runningSeries();
  });
  afterAll(async () => {
    await Promise.all(
      created.map((id) => api.http().delete(`${REVIEWS}/definitions/${id}`).set(tokens[ADMIN]!)),
    );
  });

  const post = async (caller: string, text: string) => {
    const res = await sendJson('post', `${REVIEWS}/definitions`, caller, text);
    expectGraphOutcome(res);
    if (res.status === 201) {
      expect(caller).toBe(ADMIN);
      expect(res.body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(created).not.toContain(res.body.id);
      expect(res.body).toMatchObject({ status: 'NotStarted', createdBy: { id: ADMIN } });
      created.push(res.body.id as string);
    }
    return res;
  };

  it('answers arbitrary JSON values with a 4xx error body', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (value) => {
        const res = await post(ADMIN, JSON.stringify(value));
        // A random value is never a definition: there is no scope.
        expect(res.status).toBe(400);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('answers arbitrary text declared as JSON with 400 and never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200 }), async (text) => {
        const res = await post(ADMIN, text);
        expect(res.status).toBe(400);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('answers mutations of a valid definition with 201 or a 4xx; non-admins never create', async () => {
    const caller = fc.constantFrom(ADMIN, ADMIN, ADMIN, REVIEWER, UNRELATED);
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(caller, mutations(VALID_DEFINITION), async (who, changes) => {
        const res = await post(who, JSON.stringify(mutate(VALID_DEFINITION, changes)));
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (who !== ADMIN) expect(res.status).toBeGreaterThanOrEqual(400);
      }),
      { numRuns: NUM_RUNS },
    );
    // The generator reaches both sides of validation, so the state check below means something.
    expect(statuses.get(201) ?? 0).toBeGreaterThan(10);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(50);
    expect(statuses.get(403) ?? 0).toBeGreaterThan(10);
  });

  it('creates exactly one series per 201 and none for rejected requests', async () => {
    expect(created.length).toBeGreaterThan(0);
    await until(
      runningSeries,
      (n) => n === before + created.length,
      `${before + created.length} running series`,
    );
    for (const id of created.slice(0, 5)) {
      const read = await api.http().get(`${REVIEWS}/definitions/${id}`).set(tokens[ADMIN]!);
      expect(read.status).toBe(200);
    }
  });
});

// ---- PATCH /decisions/{id} and batchRecordDecisions ---------------------------------------------------

describe('decision writes under fuzzing', () => {
  let review: StartedReview;
  let items: DecisionItem[];
  /** The admin's view of every item, kept in step with each accepted write. */
  let snapshot: Record<string, DecisionItem>;

  /** The admin view of the items straight from the workflow (one query, so hundreds of checks stay cheap). */
  async function stateNow(): Promise<Record<string, DecisionItem>> {
    const handle = stack.env.client.workflow.getHandle(
      `access-review/${review.definitionId}/${review.instanceId}`,
    );
    const page = await handle.query(decisionsQuery, {
      viewer: { kind: 'admin', userId: ADMIN },
      skip: 0,
      top: 100,
    });
    if ('code' in page) throw new Error(page.message);
    return Object.fromEntries(page.value.map((d) => [d.principal.id, d as DecisionItem]));
  }

  beforeAll(async () => {
    review = await api.startReview(VALID_DEFINITION);
    snapshot = await stateNow();
    expect(snapshot).toEqual(await api.decisionsByPrincipal(review.base));
    items = Object.values(snapshot);
    expect(items).toHaveLength(3);
  });

  /**
   * After a 2xx, waits until exactly `affected` items carry the new decision (a fresh reviewedDateTime)
   * and takes the new snapshot; after a 4xx, checks that nothing changed.
   */
  async function checkState(res: Response, affected: string[], decision: unknown, justification: unknown) {
    if (res.status >= 400) {
      expect(await stateNow()).toEqual(snapshot);
      return;
    }
    const previous = snapshot;
    snapshot = await soon(
      stateNow,
      (now) =>
        affected.every(
          (p) => now[p]!.decision === decision && now[p]!.reviewedDateTime !== previous[p]!.reviewedDateTime,
        ),
      'decision recorded',
    );
    for (const [principal, item] of Object.entries(snapshot)) {
      if (affected.includes(principal)) {
        expect(item).toMatchObject({ reviewedBy: { id: REVIEWER }, justification: justification ?? '' });
      } else {
        expect(item).toEqual(previous[principal]);
      }
    }
  }

  // Weighted towards values that pass validation, so both sides of every check get exercised.
  const decisionValue = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom<unknown>('Approve', 'Deny', 'DontKnow') },
    {
      weight: 2,
      arbitrary: fc.constantFrom<unknown>('NotReviewed', 'Maybe', 'approve', 'Recommendation', ''),
    },
    { weight: 1, arbitrary: fc.jsonValue() },
  );
  const justificationValue = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom<unknown>(null, '', '   ', 'reviewed', 'x'.repeat(4001)) },
    { weight: 2, arbitrary: fc.string({ maxLength: 30 }) },
    { weight: 1, arbitrary: fc.jsonValue() },
  );
  const extras = fc.dictionary(awkwardKeys, anyValue, { maxKeys: 2 });
  const callers = fc.constantFrom(REVIEWER, REVIEWER, REVIEWER, UNRELATED, ADMIN);

  /** A body shaped like the real one, with odd values and unknown keys; or any JSON at all. */
  const decisionBody = (more: Record<string, fc.Arbitrary<unknown>> = {}) =>
    fc.oneof(
      {
        weight: 4,
        arbitrary: fc
          .tuple(
            fc.record(
              { decision: decisionValue, justification: justificationValue, ...more },
              { requiredKeys: ['decision'] },
            ),
            extras,
          )
          .map(([b, x]) => ({ ...x, ...b })),
      },
      { weight: 1, arbitrary: fc.jsonValue() },
    );

  it('answers PATCH of a decision item with 204 or a 4xx, and rejected PATCHes change nothing', async () => {
    const itemId = fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...items.map((i) => i.id)) },
      { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9._~-]{1,40}$/) },
      { weight: 1, arbitrary: fc.constantFrom('%zz', '%E0%A4%A', 'a%2Fb', '..', '%00') },
    );
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(callers, itemId, decisionBody(), async (who, id, body) => {
        const res = await sendJson('patch', `${review.base}/decisions/${id}`, who, JSON.stringify(body));
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        expectGraphOutcome(res);
        const target = items.find((i) => i.id === id);
        if (res.status < 400) {
          expect({ who, known: Boolean(target), status: res.status }).toEqual({
            who: REVIEWER,
            known: true,
            status: 204,
          });
        }
        const b: { decision?: unknown; justification?: unknown } = isObject(body) ? body : {};
        await checkState(res, target ? [target.principal.id] : [], b.decision, b.justification);
      }),
      { numRuns: NUM_RUNS },
    );
    // Both sides of every check were exercised, so the state checks mean something.
    for (const status of [204, 400, 403, 404]) expect(statuses.get(status) ?? 0).toBeGreaterThan(5);
  });

  it('answers batchRecordDecisions with 204 or a 4xx, applies it to the right items, and rejected ones change nothing', async () => {
    const principalIds = [...items.map((i) => i.principal.id), DEMO.LEE, 'nobody'];
    const body = decisionBody({
      principalId: fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom<unknown>(...principalIds, null, '', 'not an id!') },
        { weight: 1, arbitrary: fc.jsonValue() },
      ),
      resourceId: fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom<unknown>(DEMO.AUDITORS, DEMO.FINANCE, null) },
        { weight: 1, arbitrary: fc.jsonValue() },
      ),
    });
    const action = fc.constantFrom('/batchRecordDecisions', '/stages/1/batchRecordDecisions');
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(callers, action, body, async (who, suffix, value) => {
        const res = await sendJson('post', `${review.base}${suffix}`, who, JSON.stringify(value));
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        expectGraphOutcome(res);
        if (res.status < 400) expect({ who, status: res.status }).toEqual({ who: REVIEWER, status: 204 });
        const b: {
          decision?: unknown;
          justification?: unknown;
          principalId?: unknown;
          resourceId?: unknown;
        } = isObject(value) ? value : {};
        const affected =
          b.resourceId != null && b.resourceId !== DEMO.AUDITORS
            ? []
            : items.map((i) => i.principal.id).filter((p) => b.principalId == null || b.principalId === p);
        await checkState(res, affected, b.decision, b.justification);
      }),
      { numRuns: NUM_RUNS },
    );
    for (const status of [204, 400, 403]) expect(statuses.get(status) ?? 0).toBeGreaterThan(5);
  });
});

// ---- bodies that do not decode, and deep nesting ---------------------------------------------------------

describe('bodies that do not decode or nest deeply, under fuzzing', () => {
  const created: string[] = [];
  afterAll(async () => {
    await Promise.all(
      created.map((id) => api.http().delete(`${REVIEWS}/definitions/${id}`).set(tokens[ADMIN]!)),
    );
  });

  /** POSTs raw bytes as a definition (fetch: superagent would serialise a Buffer as JSON). */
  async function postBytes(body: Uint8Array | string, headers: Record<string, string> = {}) {
    const res = await fetch(`${stack.baseUrl}${REVIEWS}/definitions`, {
      method: 'POST',
      headers: { ...tokens[ADMIN], 'content-type': 'application/json', ...headers },
      body,
    });
    return { status: res.status, body: (await res.json()) as { id?: string; error?: { code: string } } };
  }

  it('answers arbitrary bytes declared as gzip, deflate or br with a 400 error body, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 300 }),
        fc.constantFrom('gzip', 'deflate', 'br'),
        async (bytes, encoding) => {
          const res = await postBytes(bytes, { 'content-encoding': encoding });
          expect({ status: res.status, code: res.body.error?.code }).toEqual({
            status: 400,
            code: expect.stringMatching(/^request\.(invalid_body|malformed_json)$/),
          });
        },
      ),
      { numRuns: 100 },
    );
  });

  it('answers a valid definition carrying nested arrays with 201 up to the depth limit and 400 beyond', async () => {
    // The definition object is level 1 and the nested arrays level 2, under a property the definition does
    // not have (ignored once the body decoded within the limit).
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 40, max: 6000 })),
        async (n) => {
          const recipients = '['.repeat(n + 1) + ']'.repeat(n + 1);
          const text = JSON.stringify(VALID_DEFINITION).replace(/}$/, `,"extensionData":${recipients}}`);
          const res = await postBytes(text);
          if (res.body.id) created.push(res.body.id);
          expect({ n, status: res.status }).toEqual({ n, status: n + 2 > 32 ? 400 : 201 });
        },
      ),
      { numRuns: 40 },
    );
  });
});
