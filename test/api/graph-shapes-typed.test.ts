import type { Client } from '@microsoft/microsoft-graph-client';
import { ResponseType } from '@microsoft/microsoft-graph-client';
import type {
  AccessReviewInstance,
  AccessReviewInstanceDecisionItem,
  AccessReviewReviewerScope,
  AccessReviewScheduleDefinition,
  AccessReviewStage,
  User,
  UserSignInInsight,
} from '@microsoft/microsoft-graph-types';
import { DEMO } from '../helpers/api-fixtures';
import type { Collection, OData, Seeded } from '../helpers/graph-sdk';
import {
  all,
  graphClient,
  graphError,
  lastSignIn,
  REVIEWS,
  seedReviews,
  typeOf,
  userScope,
} from '../helpers/graph-sdk';
import type { Stack } from '../helpers/stack';
import { startStack } from '../helpers/stack';

// Graph fidelity of the shapes, read with the Graph SDK and typed with microsoft-graph-types: $select
// and $expand on lists and single objects, sign-in insights, @odata.type on every polymorphic object the
// client sent without one, @odata.context everywhere, and Graph's error shape.

let stack: Stack;
let admin: Client;
let seeded: Seeded;
beforeAll(async () => {
  stack = await startStack();
  admin = await graphClient(stack, DEMO.PATTI, true);
  seeded = await seedReviews(stack);
}, 180_000);
afterAll(async () => {
  await stack?.stop();
});

type Definition = AccessReviewScheduleDefinition;
type Decision = AccessReviewInstanceDecisionItem;
const DEFINITIONS = `${REVIEWS}/definitions`;
const ADELE = '6857f768-3c38-45ce-a1ea-023cb024f1f6'; // Salesforce assignee who never signed in
const GROUP_RESOURCE = '#microsoft.graph.accessReviewInstanceDecisionItemResource';
const SP_RESOURCE = '#microsoft.graph.accessReviewInstanceDecisionItemServicePrincipalResource';
const USER_IDENTITY = '#microsoft.graph.userIdentity';

const get = async <T>(path: string, client = admin) => (await client.api(path).get()) as OData<T>;
/** The properties of a response other than its OData annotations. */
const properties = (o: object) => Object.keys(o).filter((k) => !k.startsWith('@odata.'));
const item = (k: keyof Seeded, principal: string, stage = '') =>
  `${seeded[k].base}${stage}/decisions/${seeded[k].items[principal]}`;

/** Lists and single objects of the API, by name (those of the finance review). */
const TARGETS: Record<string, () => string> = {
  'the definitions list': () => DEFINITIONS,
  'a definition': () => `${DEFINITIONS}/${seeded.finance.definitionId}`,
  'the instances list': () => `${DEFINITIONS}/${seeded.finance.definitionId}/instances`,
  'an instance': () => seeded.finance.base,
  'a stage': () => `${seeded.finance.base}/stages/1`,
  'the decisions list': () => `${seeded.finance.base}/decisions`,
  'a decision item': () => item('finance', DEMO.LEE),
  'a stage decision item': () => item('finance', DEMO.LEE, '/stages/1'),
};

async function expect400(call: Promise<unknown>, option: string) {
  const err = await graphError(call);
  expect({ status: err.statusCode, code: err.code }).toEqual({
    status: 400,
    code: 'request.unsupported_query_option',
  });
  expect(err.message).toContain(option);
}

/** The one userSignInInsight of a principal: their last sign-in as GET /users/{id} has it. */
async function signInInsights(principalId: string) {
  const user = await get<User>(`/users/${principalId}`);
  return [
    expect.objectContaining({
      '@odata.type': '#microsoft.graph.userSignInInsight',
      id: expect.any(String),
      insightCreatedDateTime: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      lastSignInDateTime: user.signInActivity?.lastSignInDateTime ?? null,
    }),
  ];
}

describe('$select', () => {
  it('keeps only the selected properties and id on every list', async () => {
    const { base, definitionId } = seeded.finance;
    for (const [path, select] of [
      [DEFINITIONS, ['displayName', 'status']],
      [`${DEFINITIONS}/${definitionId}/instances`, ['status']],
      [`${base}/stages`, ['status']],
      [`${base}/decisions`, ['decision', 'principal']],
      [`${base}/stages/1/decisions`, ['decision', 'principal']],
    ] as const) {
      const list = (await admin
        .api(path)
        .select([...select])
        .get()) as Collection<object>;
      expect(list.value.length).toBeGreaterThan(0);
      for (const o of list.value)
        expect([path, properties(o).sort()]).toEqual([path, ['id', ...select].sort()]);
    }
  });

  it.each<[string, () => string, string[]]>([
    ['a definition', () => `${DEFINITIONS}/${seeded.finance.definitionId}`, ['displayName', 'status']],
    ['an instance', () => seeded.finance.base, ['status', 'startDateTime']],
    ['a stage', () => `${seeded.finance.base}/stages/1`, ['status']],
    ['a decision item', () => item('finance', DEMO.LEE), ['decision', 'reviewedBy']],
    ['a stage decision item', () => item('finance', DEMO.LEE, '/stages/1'), ['decision']],
  ])('keeps only the selected properties and id on %s', async (_what, path, select) => {
    const o = (await admin.api(path()).select(select).get()) as object;
    expect(properties(o).sort()).toEqual(['id', ...select].sort());
  });

  it.each(Object.keys(TARGETS))(
    'an unknown $select property on %s is 400 request.unsupported_query_option naming $select',
    async (what) => {
      await expect400(admin.api(TARGETS[what]!()).select('nope').get(), '$select');
    },
  );
});

describe('$expand', () => {
  it('definitions $expand=instances carries the instances of each definition, in the list and alone', async () => {
    const list = (await admin.api(DEFINITIONS).expand('instances').get()) as Collection<Definition>;
    const one = (await admin
      .api(`${DEFINITIONS}/${seeded.finance.definitionId}`)
      .expand('instances')
      .get()) as Definition;
    for (const d of [...list.value, one]) {
      const review = Object.values(seeded).find((s) => s.definitionId === d.id)!;
      expect(d.instances?.map((i) => [i.id, typeof i.status])).toEqual([[review.instanceId, 'string']]);
    }
  });

  it('instances $expand=stages carries the stages of each instance, in the list and alone', async () => {
    const { base, definitionId } = seeded.finance;
    const list = (await admin
      .api(`${DEFINITIONS}/${definitionId}/instances`)
      .expand('stages')
      .get()) as Collection<AccessReviewInstance>;
    const one = (await admin.api(base).expand('stages').get()) as AccessReviewInstance;
    for (const i of [...list.value, one]) {
      expect(i.stages?.map((s: AccessReviewStage) => [s.id, s.status])).toEqual([['1', 'InProgress']]);
    }
  });

  it('decisions $expand=insights carries the userSignInInsight of the principal, in lists and alone', async () => {
    for (const k of ['finance', 'salesforce'] as const) {
      const list = (await admin
        .api(`${seeded[k].base}/decisions`)
        .expand('insights')
        .top(1000)
        .get()) as Collection<Decision>;
      expect(list.value.length).toBeGreaterThan(0);
      for (const d of list.value) expect(d.insights).toEqual(await signInInsights(d.principal!.id!));
    }
    for (const path of [
      item('finance', DEMO.LEE),
      item('finance', DEMO.LEE, '/stages/1'),
      item('salesforce', ADELE),
    ]) {
      const d = (await admin.api(path).expand('insights').get()) as Decision;
      expect(d.insights).toEqual(await signInInsights(d.principal!.id!));
    }
  });

  it.each(Object.keys(TARGETS))(
    'an unknown $expand on %s is 400 request.unsupported_query_option naming $expand',
    async (what) => {
      await expect400(admin.api(TARGETS[what]!()).expand('nope').get(), '$expand');
    },
  );
});

describe('insights of a decision item', () => {
  it.each([
    ['an instance', 'finance', DEMO.LEE, ''],
    ['a stage', 'finance', DEMO.ENRICO, '/stages/1'],
    ['an application review (never signed in)', 'salesforce', ADELE, ''],
  ] as const)(
    'GET .../decisions/{id}/insights of %s lists the userSignInInsight',
    async (_what, k, who, stage) => {
      const insights = await get<Collection<UserSignInInsight>>(`${item(k, who, stage)}/insights`);
      expect(insights['@odata.context']).toEqual(expect.stringContaining('$metadata#'));
      expect(insights.value).toEqual(await signInInsights(who));
    },
  );
});

describe('@odata.type on objects sent without one', () => {
  const reviewerScopes = (d: Definition) => [
    ...(d.reviewers ?? []),
    ...(d.fallbackReviewers ?? []),
    ...(d.stageSettings ?? []).flatMap((s) => [...(s.reviewers ?? []), ...(s.fallbackReviewers ?? [])]),
  ];

  it('types scope, instanceEnumerationScope and every reviewer scope of a definition read back', async () => {
    for (const k of ['finance', 'staged'] as const) {
      const d = await get<Definition>(`${DEFINITIONS}/${seeded[k].definitionId}`);
      expect(typeOf(d.scope)).toBe('#microsoft.graph.accessReviewQueryScope');
      if (k === 'staged')
        expect(typeOf(d.instanceEnumerationScope)).toBe('#microsoft.graph.accessReviewQueryScope');
      const scopes: AccessReviewReviewerScope[] = reviewerScopes(d);
      expect(scopes).toHaveLength(2);
      expect(scopes.map(typeOf)).toEqual(scopes.map(() => '#microsoft.graph.accessReviewReviewerScope'));
    }
  });

  it.each([
    ['a group review', 'finance', GROUP_RESOURCE],
    ['an application review', 'salesforce', SP_RESOURCE],
  ] as const)(
    'types the principal and the resource of the decision items of %s',
    async (_what, k, resource) => {
      const items = await all<Decision>(admin, `${seeded[k].base}/decisions`);
      expect(items.map((d) => [typeOf(d.principal), typeOf(d.resource)])).toEqual(
        items.map(() => [USER_IDENTITY, resource]),
      );
    },
  );

  it('types reviewedBy and appliedBy of decision items as userIdentity where they are set', async () => {
    for (const k of ['finance', 'salesforce'] as const) {
      const items = await all<Decision>(admin, `${seeded[k].base}/decisions`);
      const identities = items.flatMap((d) => [d.reviewedBy, d.appliedBy]).filter((i) => i != null);
      expect(identities.length).toBeGreaterThan(0);
      expect(identities.map(typeOf)).toEqual(identities.map(() => USER_IDENTITY));
    }
  });
});

describe('@odata.context and the error shape', () => {
  it('every JSON answer, entity or collection, carries @odata.context', async () => {
    const { base } = seeded.finance;
    const lee = item('finance', DEMO.LEE);
    const paths = [
      ...Object.values(TARGETS).map((path) => path()),
      `${base}/stages`,
      `${base}/stages/1/decisions`,
      `${lee}/insights`,
      `${base}/contactedReviewers`,
      `${DEFINITIONS}/filterByCurrentUser(on='reviewer')`,
      `${base}/decisions/filterByCurrentUser(on='reviewer')`,
      `/users/${DEMO.LEE}`,
    ];
    const without: string[] = [];
    for (const path of paths) {
      const body = (await admin
        .api(path)
        .get()
        .catch((err: Error) => ({ error: err.message }))) as OData<object>;
      if (typeof body['@odata.context'] !== 'string') without.push(path);
    }
    expect(without).toEqual([]);
  });

  it('errors carry innerError with the request-id of the response header and a date', async () => {
    const lee = await graphClient(stack, DEMO.LEE);
    const calls = [
      () => admin.api(`${seeded.finance.base}/decisions`).filter('nope eq 1').get(),
      () => admin.api(`${DEFINITIONS}/no-such-definition`).get(),
      () => admin.api(DEFINITIONS).post({ displayName: 'no scope' }),
      () => lee.api(DEFINITIONS).get(),
    ];
    for (const call of calls) {
      const err = await graphError(call());
      const body = JSON.parse(err.body as string) as { code: string; innerError?: Record<string, string> };
      const requestId = err.headers?.get('request-id');
      expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
      expect([body.code, body.innerError?.['request-id']]).toEqual([body.code, requestId]);
      expect(Number.isNaN(Date.parse(body.innerError?.date ?? ''))).toBe(false);
    }
  });
});

describe('recommendationInsightSettings', () => {
  it('round-trips at settings level and stage level', async () => {
    const finance = await get<Definition>(`${DEFINITIONS}/${seeded.finance.definitionId}`);
    expect(finance.settings?.recommendationInsightSettings).toEqual(lastSignIn('P60D'));
    const staged = await get<Definition>(`${DEFINITIONS}/${seeded.staged.definitionId}`);
    expect(staged.settings?.recommendationInsightSettings).toEqual(lastSignIn('P45D'));
    expect(staged.stageSettings?.[0]?.recommendationInsightSettings).toEqual(lastSignIn('P30D'));
  });
});

describe('reviewer updates and reviewer reads', () => {
  it('PATCH of an instance with reviewers (the update verb of the SDK) is 204', async () => {
    const res = (await admin
      .api(seeded.finance.base)
      .responseType(ResponseType.RAW)
      .update({ reviewers: [userScope(DEMO.DEBRA)] })) as Response;
    expect(res.status).toBe(204);
  });

  it('a reviewer of a stage in progress reads the definition she reviews', async () => {
    const debra = await graphClient(stack, DEMO.DEBRA);
    const d = await get<Definition>(`${DEFINITIONS}/${seeded.finance.definitionId}`, debra);
    expect(d).toMatchObject({ id: seeded.finance.definitionId, displayName: 'OData finance review' });
  });
});
