import { gzipSync } from 'node:zlib';
import request from 'supertest';
import type { StartedReview } from '../helpers/api-fixtures';
import {
  Api,
  DEMO,
  DIEGO_REPORTS_IN_FINANCE,
  expectError,
  FINANCE_TEAM_SIZE,
  REVIEWS,
  twoStageReview,
} from '../helpers/api-fixtures';
import { until } from '../helpers/review-harness';
import type { Stack } from '../helpers/stack';
import { startStack } from '../helpers/stack';
import { instanceQuery } from '../../src/workflows';

// Every route for three callers: the admin (Patti, admin role), the assigned stage-1 reviewer (Debra)
// and a user with no part in any review of this file (Megan).
type Caller = { authorization: string };
let stack: Stack;
let api: Api;
let admin: Caller;
let reviewer: Caller;
let unrelated: Caller;
beforeAll(async () => {
  stack = await startStack();
  api = new Api(stack);
  admin = await api.as(DEMO.PATTI, true);
  reviewer = await api.as(DEMO.DEBRA);
  unrelated = await api.as(DEMO.MEGAN);
});
afterAll(async () => {
  await stack?.stop();
});

const get = (path: string, caller: Caller, query: Record<string, unknown> = {}) =>
  api.http().get(path).query(query).set(caller);
const post = (path: string, caller: Caller, body?: object) => {
  const req = api.http().post(path).set(caller);
  return body === undefined ? req : req.send(body);
};
const put = (path: string, caller: Caller, body: object) => api.http().put(path).set(caller).send(body);
const patch = (path: string, caller: Caller, body: object) => api.http().patch(path).set(caller).send(body);
const del = (path: string, caller: Caller) => api.http().delete(path).set(caller);

/** Path and query of an absolute @odata.nextLink, to follow it on the test server. */
const pathOf = (link: string) => {
  const url = new URL(link);
  return url.pathname + url.search;
};
const ids = (body: { value: { id: string }[] }) => body.value.map((v) => v.id);
const principals = (body: { value: { principal: { id: string } }[] }) =>
  body.value.map((d) => d.principal.id).sort();
const review = (settings: Record<string, unknown> = {}, stage1: Record<string, unknown> = {}) =>
  twoStageReview(DEMO.DEBRA, settings, stage1);
const entityContext = (what: string) =>
  new RegExp(`^${stack.baseUrl}/v1\\.0/\\$metadata#.*${what}/\\$entity$`);

describe('definitions', () => {
  let started: StartedReview;
  let one: string;
  beforeAll(async () => {
    started = await api.startReview(review());
    one = `${REVIEWS}/definitions/${started.definitionId}`;
  });

  it('creates a definition with 201, a Location header, @odata.context and the creator', async () => {
    const res = await post(`${REVIEWS}/definitions`, admin, { ...review(), displayName: 'Created by POST' });
    expect(res.status).toBe(201);
    const id = res.body.id as string;
    expect(res.headers.location).toBe(`${REVIEWS}/definitions/${id}`);
    expect(res.body['@odata.context']).toBe(
      `${stack.baseUrl}/v1.0/$metadata#identityGovernance/accessReviews/definitions/$entity`,
    );
    expect(res.body).toMatchObject({
      displayName: 'Created by POST',
      createdBy: { id: DEMO.PATTI, displayName: 'Patti Fernandez' },
      stageSettings: [{ stageId: '1' }, { stageId: '2', dependsOn: ['1'] }],
    });
    const read = await get(res.headers.location!, admin);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id, displayName: 'Created by POST' });
  });

  it('refuses creating, listing, replacing and deleting definitions to non-admins, and reading to non-reviewers, with 403', async () => {
    for (const caller of [reviewer, unrelated]) {
      expectError(await post(`${REVIEWS}/definitions`, caller, review()), 403, 'auth.admin_required');
      expectError(await get(`${REVIEWS}/definitions`, caller), 403, 'auth.admin_required');
      if (caller === unrelated) {
        const read = await get(one, caller);
        expectError(read, 403, 'auth.admin_required');
        expect(read.body).not.toHaveProperty('displayName');
      }
      expectError(await put(one, caller, review()), 403, 'auth.admin_required');
      expectError(await del(one, caller), 403, 'auth.admin_required');
    }
    const still = await get(one, admin);
    expect(still.status).toBe(200);
    expect(still.body.displayName).toBe('Finance Team two-stage review');
  });

  it('lets the reviewers of a stage in progress read the definition; others get 403, also for unknown ids', async () => {
    // Adele Vance reviews stage 1 only; Diego reviews his reports in stage 2, which has not started.
    const ADELE = '6857f768-3c38-45ce-a1ea-023cb024f1f6';
    const own = await api.startReview(twoStageReview(ADELE));
    const path = `${REVIEWS}/definitions/${own.definitionId}`;
    const [adele, diego] = [await api.as(ADELE), await api.as(DEMO.DIEGO)];
    const read = await get(path, adele);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id: own.definitionId, displayName: 'Finance Team two-stage review' });
    expect(read.body['@odata.context']).toMatch(entityContext('definitions'));
    for (const caller of [unrelated, diego, reviewer]) {
      expectError(await get(path, caller), 403, 'auth.admin_required');
    }
    const unknown = `${REVIEWS}/definitions/00000000-0000-0000-0000-000000000000`;
    expectError(await get(unknown, adele), 403, 'auth.admin_required');
    expectError(await get(unknown, admin), 404, 'definition.not_found');

    expect((await post(`${own.base}/stages/1/stop`, admin)).status).toBe(204);
    await api.untilStage(own.base, '2', 'InProgress');
    expect((await get(path, diego)).status).toBe(200);
    expectError(await get(path, adele), 403, 'auth.admin_required');
    expect((await del(path, admin)).status).toBe(204);
  });

  it('pages the definition list with $top/$skip and @odata.nextLink', async () => {
    const created: string[] = [];
    for (let i = 0; i < 3; i++) {
      created.push(
        (await post(`${REVIEWS}/definitions`, admin, { ...review(), displayName: `Paged ${i}` })).body.id,
      );
    }
    const all = await until(
      () => get(`${REVIEWS}/definitions`, admin, { $top: 1000 }),
      (r) => created.every((id) => ids(r.body).includes(id)),
      'new definitions listed',
    );
    expect(all.body['@odata.context']).toBe(
      `${stack.baseUrl}/v1.0/$metadata#identityGovernance/accessReviews/definitions`,
    );
    expect(all.body['@odata.nextLink']).toBeUndefined();

    const paged: string[] = [];
    let next: string | undefined = `${REVIEWS}/definitions?$top=2`;
    while (next) {
      const page: { status: number; body: { value: { id: string }[]; '@odata.nextLink'?: string } } =
        await get(next, admin);
      expect(page.status).toBe(200);
      expect(page.body.value.length).toBeLessThanOrEqual(2);
      paged.push(...ids(page.body));
      const link = page.body['@odata.nextLink'];
      next = link ? pathOf(link) : undefined;
      if (next) expect(new URL(next, stack.baseUrl).searchParams.get('$skip')).toBe(String(paged.length));
    }
    expect(new Set(paged).size).toBe(paged.length);
    expect(paged).toEqual(expect.arrayContaining([...created, started.definitionId]));
    expect(paged.length).toBeGreaterThanOrEqual(ids(all.body).length);

    const skipped = await get(`${REVIEWS}/definitions`, admin, { $top: 1, $skip: 1 });
    expect(ids(skipped.body)).toEqual([paged[1]]);
  });

  it('counts definitions with GET definitions/$count as text/plain, for admins only', async () => {
    const count = `${REVIEWS}/definitions/$count`;
    const counted = await until(
      async () => {
        const res = await get(count, admin);
        const listed = await get(`${REVIEWS}/definitions`, admin, { $top: 1000 });
        return { res, listed: listed.body.value.length as number };
      },
      ({ res, listed }) => res.status === 200 && res.text === String(listed),
      'count as listed',
    );
    expect(counted.res.type).toBe('text/plain');
    expect(Number(counted.res.text)).toBeGreaterThanOrEqual(1);
    expect((await get(`${REVIEWS}/definitions/%24count`, admin)).text).toMatch(/^\d+$/);
    for (const caller of [reviewer, unrelated])
      expectError(await get(count, caller), 403, 'auth.admin_required');
  });

  it('replaces a definition with PUT 204, after which GET shows the change', async () => {
    const before = await get(one, admin);
    const renamed = {
      ...review(),
      displayName: 'Renamed by PUT',
      descriptionForReviewers: 'Please be quick',
    };
    expect((await put(one, admin, renamed)).status).toBe(204);
    const after = await get(one, admin);
    expect(after.body).toMatchObject({
      id: started.definitionId,
      displayName: 'Renamed by PUT',
      descriptionForReviewers: 'Please be quick',
      createdDateTime: before.body.createdDateTime,
      createdBy: before.body.createdBy,
    });
    expect(Date.parse(after.body.lastModifiedDateTime)).toBeGreaterThanOrEqual(
      Date.parse(before.body.lastModifiedDateTime),
    );

    const invalid = await put(one, admin, {
      ...review(),
      stageSettings: [{ stageId: '2', durationInDays: 1 }],
    });
    expectError(invalid, 400, 'definition.invalid');
    expect(invalid.body.error.message).toContain('stageId');
    expect((await get(one, admin)).body.displayName).toBe('Renamed by PUT');
    const unknown = `${REVIEWS}/definitions/00000000-0000-0000-0000-000000000000`;
    expectError(await put(unknown, admin, review()), 404, 'definition.not_found');
  });

  it('rejects a definition naming a group, service principal or user the directory does not have with 400', async () => {
    const [stage1, stage2] = review().stageSettings as [object, object];
    const users = (id: string) => [{ query: `/users/${id}`, queryType: 'MicrosoftGraph' }];
    const cases: [Record<string, unknown>, string, string][] = [
      [
        { ...review(), scope: { query: '/groups/no-such-group/transitiveMembers' } },
        'scope.query',
        'no-such-group',
      ],
      [
        { ...review(), scope: { query: '/servicePrincipals/no-such-app/appRoleAssignedTo' } },
        'scope.query',
        'no-such-app',
      ],
      [
        { ...review(), stageSettings: [{ ...stage1, reviewers: users('nobody') }, stage2] },
        'stageSettings[0].reviewers[0]',
        'nobody',
      ],
      [
        {
          ...review(),
          stageSettings: [
            stage1,
            { ...stage2, fallbackReviewers: [{ query: '/groups/gone/transitiveMembers' }] },
          ],
        },
        'stageSettings[1].fallbackReviewers[0]',
        'gone',
      ],
      [
        {
          displayName: 'One stage',
          scope: { query: `/groups/${DEMO.FINANCE}/members` },
          reviewers: [{ query: `/users/${DEMO.DEBRA}` }, { query: '/servicePrincipals/none/owners' }],
          settings: { instanceDurationInDays: 3 },
        },
        'reviewers[1]',
        'none',
      ],
    ];
    for (const [body, field, id] of cases) {
      const res = await post(`${REVIEWS}/definitions`, admin, { ...body, displayName: 'Unknown object' });
      expectError(res, 400, 'definition.unknown_object');
      expect(res.body.error.message).toMatch(new RegExp(`^${field.replace(/[[\].]/g, '\\$&')}: .*'${id}'`));
    }
    const replaced = await put(one, admin, cases[2]![0]);
    expectError(replaced, 400, 'definition.unknown_object');
    expect((await get(one, admin)).body.stageSettings[0].reviewers).toEqual(
      users(DEMO.DEBRA).map((r) => ({ '@odata.type': '#microsoft.graph.accessReviewReviewerScope', ...r })),
    );
    const listed = await get(`${REVIEWS}/definitions`, admin, { $top: 1000 });
    expect(
      listed.body.value.filter((d: { displayName: string }) => d.displayName === 'Unknown object'),
    ).toEqual([]);
  });

  it('deletes a definition with 204: GET, PUT and DELETE then answer 404 and its instance is stopped', async () => {
    const doomed = await api.startReview(review());
    const path = `${REVIEWS}/definitions/${doomed.definitionId}`;
    expect((await del(path, admin)).status).toBe(204);
    expectError(await get(path, admin), 404, 'definition.not_found');
    expectError(await put(path, admin, review()), 404, 'definition.not_found');
    expectError(await del(path, admin), 404, 'definition.not_found');
    const instance = stack.env.client.workflow.getHandle(
      `access-review/${doomed.definitionId}/${doomed.instanceId}`,
    );
    await until(
      () => instance.query(instanceQuery),
      (v) => v.status === 'Completed',
      'instance stopped',
    );
  });

  it("lists a reviewer's definitions with filterByCurrentUser(on='reviewer'), quoted literally or %27-encoded", async () => {
    for (const path of [
      `${REVIEWS}/definitions/filterByCurrentUser(on='reviewer')`,
      `${REVIEWS}/definitions/filterByCurrentUser(on=%27reviewer%27)`,
    ]) {
      const mine = await get(path, reviewer);
      expect(mine.status).toBe(200);
      expect(ids(mine.body)).toContain(started.definitionId);
      expect(mine.body['@odata.context']).toMatch(/#identityGovernance\/accessReviews\/definitions$/);
      const none = await get(path, unrelated);
      expect(none.status).toBe(200);
      expect(none.body.value).toEqual([]);
      // filterByCurrentUser is about the caller as a reviewer, and the admin reviews nothing here.
      expect(ids((await get(path, admin)).body)).not.toContain(started.definitionId);
    }
    const otherRole = await get(`${REVIEWS}/definitions/filterByCurrentUser(on='owner')`, reviewer);
    expect(otherRole.status).toBe(400);
  });
});

describe('instances', () => {
  let r: StartedReview;
  beforeAll(async () => {
    r = await api.startReview(
      review({ justificationRequiredOnApproval: true }, { recommendationsEnabled: true }),
    );
  });

  it('lists the instance for the admin and its reviewer, and nothing for an unrelated user', async () => {
    const list = `${REVIEWS}/definitions/${r.definitionId}/instances`;
    const forAdmin = await get(list, admin);
    expect(forAdmin.status).toBe(200);
    expect(forAdmin.body['@odata.context']).toBe(
      `${stack.baseUrl}/v1.0/$metadata#identityGovernance/accessReviews/definitions('${r.definitionId}')/instances`,
    );
    expect(forAdmin.body.value).toEqual([
      expect.objectContaining({
        id: r.instanceId,
        status: 'InProgress',
        scope: expect.objectContaining({ query: `/groups/${DEMO.FINANCE}/transitiveMembers` }),
        startDateTime: expect.any(String),
        endDateTime: expect.any(String),
      }),
    ]);
    expect(ids((await get(list, reviewer)).body)).toEqual([r.instanceId]);
    const forOther = await get(list, unrelated);
    expect(forOther.status).toBe(200);
    expect(forOther.body.value).toEqual([]);
  });

  it('reads the instance for the admin and its reviewer; an unrelated user gets 403 and no data', async () => {
    for (const caller of [admin, reviewer]) {
      const res = await get(r.base, caller);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: r.instanceId, status: 'InProgress' });
      expect(res.body['@odata.context']).toMatch(entityContext('/instances'));
    }
    const denied = await get(r.base, unrelated);
    expectError(denied, 403, 'review.not_a_reviewer');
    expect(Object.keys(denied.body)).toEqual(['error']);
  });

  it('counts instances with instances/$count as text/plain: the ones each caller may list', async () => {
    const count = `${REVIEWS}/definitions/${r.definitionId}/instances/$count`;
    for (const [caller, expected] of [
      [admin, '1'],
      [reviewer, '1'],
      [unrelated, '0'],
    ] as const) {
      const res = await get(count, caller);
      expect({ status: res.status, type: res.type, text: res.text }).toEqual({
        status: 200,
        type: 'text/plain',
        text: expected,
      });
    }
    expectError(
      await get(`${REVIEWS}/definitions/00000000-0000-0000-0000-000000000000/instances/$count`, admin),
      404,
      'definition.not_found',
    );
  });

  it('answers 404 for an unknown instance or definition', async () => {
    const unknown = '00000000-0000-0000-0000-000000000000';
    expectError(
      await get(`${REVIEWS}/definitions/${r.definitionId}/instances/${unknown}`, admin),
      404,
      'instance.not_found',
    );
    expectError(
      await get(`${REVIEWS}/definitions/${unknown}/instances`, reviewer),
      404,
      'definition.not_found',
    );
  });

  it("lists only the caller's instances with filterByCurrentUser(on='reviewer')", async () => {
    const path = `${REVIEWS}/definitions/${r.definitionId}/instances/filterByCurrentUser(on='reviewer')`;
    expect(ids((await get(path, reviewer)).body)).toEqual([r.instanceId]);
    expect((await get(path.replace(/'/g, '%27'), unrelated)).body.value).toEqual([]);
    expect((await get(path, admin)).body.value).toEqual([]);
  });

  it('refuses every admin action to reviewers and unrelated users with 403 auth.admin_required', async () => {
    for (const caller of [reviewer, unrelated]) {
      for (const action of ['stop', 'applyDecisions', 'resetDecisions', 'sendReminder', 'stages/1/stop']) {
        expectError(await post(`${r.base}/${action}`, caller), 403, 'auth.admin_required');
      }
    }
    expect((await get(`${r.base}/stages/1`, admin)).body.status).toBe('InProgress');
  });

  it('sends a reminder with 204', async () => {
    expect((await post(`${r.base}/sendReminder`, admin)).status).toBe(204);
  });

  it('accepts recommendations: the reviewer for their items with 204, an unrelated user gets 403', async () => {
    expectError(await post(`${r.base}/acceptRecommendations`, unrelated), 403, 'review.not_a_reviewer');
    const before = await api.decisionsByPrincipal(r.base);
    expect(before[DEMO.ENRICO]).toMatchObject({ recommendation: 'Deny', decision: 'NotReviewed' });
    expect((await post(`${r.base}/acceptRecommendations`, reviewer)).status).toBe(204);
    const after = await api.untilDecisions(
      r.base,
      (d) => d[DEMO.ENRICO]?.decision === 'Deny',
      'recommendations accepted',
    );
    for (const item of Object.values(after)) {
      const recommended = item.recommendation === 'Approve' || item.recommendation === 'Deny';
      expect({ who: item.principal.id, decision: item.decision }).toEqual({
        who: item.principal.id,
        decision: recommended ? item.recommendation : 'NotReviewed',
      });
      if (recommended) expect(item.reviewedBy?.id).toBe(DEMO.DEBRA);
    }
  });

  it("resets the current stage's decisions to NotReviewed with 204", async () => {
    const lee = (await api.decisionsByPrincipal(r.base))[DEMO.LEE]!;
    await patch(`${r.base}/decisions/${lee.id}`, reviewer, {
      decision: 'Deny',
      justification: 'left the team',
    });
    await api.untilDecisions(r.base, (d) => d[DEMO.LEE]?.decision === 'Deny', 'Lee denied');
    expect((await post(`${r.base}/resetDecisions`, admin)).status).toBe(204);
    const reset = await api.untilDecisions(
      r.base,
      (d) => Object.values(d).every((i) => i.decision === 'NotReviewed'),
      'all NotReviewed',
    );
    expect(Object.keys(reset)).toHaveLength(FINANCE_TEAM_SIZE);
  });

  it('stops an instance (204, then 409) and applies decisions only once it is Completed', async () => {
    const s = await api.startReview(review());
    const lee = (await api.decisionsByPrincipal(s.base))[DEMO.LEE]!;
    await patch(`${s.base}/decisions/${lee.id}`, reviewer, {
      decision: 'Approve',
      justification: 'on the team',
    });
    await api.untilDecisions(s.base, (d) => d[DEMO.LEE]?.decision === 'Approve', 'Lee approved');

    expectError(await post(`${s.base}/applyDecisions`, admin), 409, 'review.instance_not_completed');
    expect((await post(`${s.base}/stop`, admin)).status).toBe(204);
    // autoApplyDecisionsEnabled is off: the instance waits in Completed for applyDecisions.
    await api.untilInstance(s.base, 'Completed');
    for (const action of ['resetDecisions', 'sendReminder', 'acceptRecommendations', 'stages/1/stop']) {
      const res = await post(`${s.base}/${action}`, admin);
      expect({ action, status: res.status }).toEqual({ action, status: 409 });
    }
    expectError(await post(`${s.base}/stop`, admin), 409, 'review.instance_not_in_progress');
    expect((await post(`${s.base}/applyDecisions`, admin)).status).toBe(204);
    await api.untilInstance(s.base, 'Applied');
    const applied = await api.decisionsByPrincipal(s.base);
    expect(applied[DEMO.LEE]).toMatchObject({ decision: 'Approve', applyResult: 'AppliedSuccessfully' });
    expectError(await post(`${s.base}/applyDecisions`, admin), 409, 'review.instance_not_completed');
    // The workflow has closed: a decision or a stop reaching it is a 409, not a 404 or a 500.
    expectError(
      await patch(`${s.base}/decisions/${lee.id}`, reviewer, { decision: 'Deny', justification: 'late' }),
      409,
      'review.stage_not_in_progress',
    );
    expectError(await post(`${s.base}/stop`, admin), 409, 'review.instance_not_in_progress');
  });
});

describe('stages', () => {
  let r: StartedReview;
  beforeAll(async () => {
    r = await api.startReview(review({ justificationRequiredOnApproval: true }));
  });

  it('lists both stages with their reviewers for the admin and the reviewer; an unrelated user gets none', async () => {
    for (const caller of [admin, reviewer]) {
      const res = await get(`${r.base}/stages`, caller);
      expect(res.status).toBe(200);
      expect(res.body['@odata.context']).toContain(`/instances('${r.instanceId}')/stages`);
      expect(res.body.value).toEqual([
        expect.objectContaining({
          id: '1',
          status: 'InProgress',
          reviewers: [expect.objectContaining({ query: `/users/${DEMO.DEBRA}` })],
        }),
        expect.objectContaining({
          id: '2',
          status: 'NotStarted',
          reviewers: [expect.objectContaining({ query: './manager', queryRoot: 'decisions' })],
          fallbackReviewers: [
            expect.objectContaining({ query: `/groups/${DEMO.AUDITORS}/transitiveMembers` }),
          ],
        }),
      ]);
    }
    const none = await get(`${r.base}/stages`, unrelated);
    expect(none.status).toBe(200);
    expect(none.body.value).toEqual([]);
  });

  it('reads one stage; an unknown stage is 404 and an unrelated user gets 403 without stage data', async () => {
    const one = await get(`${r.base}/stages/1`, reviewer);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id: '1', status: 'InProgress' });
    expect(one.body['@odata.context']).toMatch(entityContext('/stages'));
    expectError(await get(`${r.base}/stages/9`, admin), 404, 'stage.not_found');
    const denied = await get(`${r.base}/stages/1`, unrelated);
    expectError(denied, 403, 'review.not_a_reviewer');
    expect(Object.keys(denied.body)).toEqual(['error']);
  });

  it("lists the caller's stages with filterByCurrentUser(on='reviewer')", async () => {
    const path = `${r.base}/stages/filterByCurrentUser(on='reviewer')`;
    expect(ids((await get(path, reviewer)).body)).toEqual(['1', '2']);
    expect((await get(path.replace(/'/g, '%27'), unrelated)).body.value).toEqual([]);
  });

  it('stops the current stage with 204 and starts the next at once; other stages answer 409 or 404', async () => {
    expectError(await post(`${r.base}/stages/2/stop`, admin), 409, 'review.stage_not_in_progress');
    expectError(await post(`${r.base}/stages/9/stop`, admin), 404, 'stage.not_found');
    const enrico = (await api.decisionsByPrincipal(r.base))[DEMO.ENRICO]!;
    await patch(`${r.base}/decisions/${enrico.id}`, reviewer, {
      decision: 'Deny',
      justification: 'inactive',
    });
    await api.untilDecisions(r.base, (d) => d[DEMO.ENRICO]?.decision === 'Deny', 'Enrico denied');

    expect((await post(`${r.base}/stages/1/stop`, admin)).status).toBe(204);
    await api.untilStage(r.base, '2', 'InProgress');
    expect((await get(`${r.base}/stages/1`, admin)).body.status).toBe('Completed');
    expectError(await post(`${r.base}/stages/1/stop`, admin), 409, 'review.stage_not_in_progress');
    // decisionsThatWillMoveToNextStage ['NotReviewed', 'Approve']: the denied reviewee stays behind.
    const stage2 = await api.decisionsByPrincipal(r.base, '2');
    expect(Object.keys(stage2)).toHaveLength(FINANCE_TEAM_SIZE - 1);
    expect(stage2).not.toHaveProperty(DEMO.ENRICO);
  });
});

describe('decisions', () => {
  let r: StartedReview;
  let itemIds: Record<string, string>;
  beforeAll(async () => {
    r = await api.startReview(
      review({ justificationRequiredOnApproval: true }, { recommendationsEnabled: true }),
    );
    const items = await api.decisionsByPrincipal(r.base);
    itemIds = Object.fromEntries(Object.entries(items).map(([principal, item]) => [principal, item.id]));
  });
  const itemOf = (principalId: string) => itemIds[principalId]!;
  const allDecided = (decision: string) => (d: Record<string, { decision: string }>) =>
    Object.values(d).every((i) => i.decision === decision);

  it('lists decision items with @odata.context, $count=true and $top/$skip paging through @odata.nextLink', async () => {
    const first = await get(`${r.base}/decisions`, admin, { $top: 4, $count: 'true' });
    expect(first.status).toBe(200);
    expect(first.body['@odata.context']).toBe(
      `${stack.baseUrl}/v1.0/$metadata#identityGovernance/accessReviews/definitions('${r.definitionId}')/instances('${r.instanceId}')/decisions`,
    );
    expect(first.body['@odata.count']).toBe(FINANCE_TEAM_SIZE);
    expect(first.body.value).toHaveLength(4);
    const seen = ids(first.body);
    let next = first.body['@odata.nextLink'] as string | undefined;
    while (next) {
      const page = await get(pathOf(next), admin);
      expect(page.body['@odata.count']).toBe(FINANCE_TEAM_SIZE);
      seen.push(...ids(page.body));
      next = page.body['@odata.nextLink'];
    }
    expect(new Set(seen).size).toBe(FINANCE_TEAM_SIZE);

    const beyond = await get(`${r.base}/decisions`, admin, { $skip: 50 });
    expect(beyond.body.value).toEqual([]);
    expect(beyond.body['@odata.nextLink']).toBeUndefined();
    expect((await get(`${r.base}/decisions`, admin)).body).not.toHaveProperty('@odata.count');
  });

  it('counts decision items with decisions/$count as text/plain, per instance and stage, honouring $filter', async () => {
    const text = async (path: string, caller: Caller, query: Record<string, unknown> = {}) => {
      const res = await get(path, caller, query);
      expect({ path, status: res.status, type: res.type }).toEqual({ path, status: 200, type: 'text/plain' });
      return res.text;
    };
    for (const path of [`${r.base}/decisions/$count`, `${r.base}/stages/1/decisions/$count`]) {
      expect(await text(path, admin)).toBe(String(FINANCE_TEAM_SIZE));
      expect(await text(path, reviewer)).toBe(String(FINANCE_TEAM_SIZE));
      expect(await text(path, unrelated)).toBe('0');
      expect(await text(path, admin, { $filter: `principal/id eq '${DEMO.LEE}'` })).toBe('1');
      const $filter = "decision eq 'NotReviewed'";
      const listed = await get(path.replace('/$count', ''), admin, { $filter, $count: 'true' });
      expect(await text(path, admin, { $filter })).toBe(String(listed.body['@odata.count']));
      const notDenied = await get(path.replace('/$count', ''), admin, {
        $filter: "decision ne 'Deny'",
        $count: 'true',
      });
      expect(await text(path, admin, { $filter: "decision ne 'Deny'" })).toBe(
        String(notDenied.body['@odata.count']),
      );
      expectError(await get(path, admin, { $filter: "nope eq 'x'" }), 400, 'request.unsupported_filter');
    }
    expect(await text(`${r.base}/decisions/%24count`, admin)).toBe(String(FINANCE_TEAM_SIZE));
  });

  it('returns only the $select-ed properties plus id', async () => {
    const res = await get(`${r.base}/decisions`, admin, { $select: 'decision,principal' });
    expect(res.body.value).toHaveLength(FINANCE_TEAM_SIZE);
    for (const item of res.body.value)
      expect(Object.keys(item).sort()).toEqual(['decision', 'id', 'principal']);
    const one = await get(`${r.base}/decisions/${itemOf(DEMO.LEE)}`, admin, { $select: 'recommendation' });
    expect(Object.keys(one.body).sort()).toEqual(['@odata.context', 'id', 'recommendation']);
  });

  it('rejects invalid paging options and unsupported $filter clauses with 400', async () => {
    for (const query of [{ $top: 0 }, { $top: 'ten' }, { $skip: -1 }, { $count: 'yes' }]) {
      expectError(await get(`${r.base}/decisions`, admin, query), 400, 'request.invalid_query');
    }
    for (const $filter of [
      "decision eq 'Maybe'",
      "nope eq 'x'",
      "reviewedBy/any(r:r/id eq 'x')",
      'decision eq',
      "substringof('L',principal/displayName)",
    ]) {
      expectError(await get(`${r.base}/decisions`, admin, { $filter }), 400, 'request.unsupported_filter');
    }
  });

  it('shows the reviewer their items and an unrelated user none, not even a count', async () => {
    const mine = await get(`${r.base}/decisions/filterByCurrentUser(on='reviewer')`, reviewer, {
      $count: 'true',
    });
    expect(mine.body['@odata.count']).toBe(FINANCE_TEAM_SIZE);
    for (const path of [
      `${r.base}/decisions`,
      `${r.base}/decisions/filterByCurrentUser(on=%27reviewer%27)`,
      `${r.base}/stages/1/decisions`,
      `${r.base}/stages/2/decisions`,
    ]) {
      const res = await get(path, unrelated, { $count: 'true' });
      expect({ path, status: res.status, count: res.body['@odata.count'], value: res.body.value }).toEqual({
        path,
        status: 200,
        count: 0,
        value: [],
      });
    }
    // The admin reviews nothing, so their own list is empty too.
    expect((await get(`${r.base}/decisions/filterByCurrentUser(on='reviewer')`, admin)).body.value).toEqual(
      [],
    );
  });

  it('reads one decision item; an unrelated user guessing its id gets 403 and no item data; unknown ids 404', async () => {
    for (const caller of [admin, reviewer]) {
      const res = await get(`${r.base}/decisions/${itemOf(DEMO.LEE)}`, caller);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        id: itemOf(DEMO.LEE),
        accessReviewId: r.instanceId,
        decision: 'NotReviewed',
        principal: { id: DEMO.LEE, displayName: 'Lee Gu' },
        resource: { id: DEMO.FINANCE, type: 'group' },
      });
      expect(res.body['@odata.context']).toMatch(entityContext('/decisions'));
    }
    const guessed = await get(`${r.base}/decisions/${itemOf(DEMO.LEE)}`, unrelated);
    expectError(guessed, 403, 'review.not_a_reviewer');
    expect(JSON.stringify(guessed.body)).not.toContain('Lee Gu');
    expectError(
      await get(`${r.base}/decisions/00000000-0000-0000-0000-000000000000`, admin),
      404,
      'review.decision_not_found',
    );
  });

  it('records a decision with PATCH 204; GET then shows it with the reviewer and justification', async () => {
    const path = `${r.base}/decisions/${itemOf(DEMO.FIONA)}`;
    expect(
      (await patch(path, reviewer, { decision: 'Deny', justification: 'moved to marketing' })).status,
    ).toBe(204);
    await api.untilDecisions(r.base, (d) => d[DEMO.FIONA]?.decision === 'Deny', 'Fiona denied');
    expect((await get(path, reviewer)).body).toMatchObject({
      decision: 'Deny',
      justification: 'moved to marketing',
      reviewedBy: { id: DEMO.DEBRA, displayName: 'Debra Berger' },
      reviewedDateTime: expect.any(String),
    });
  });

  it('filters with decision eq and principal/id eq, alone or joined with and', async () => {
    const all = Object.values(await api.decisionsByPrincipal(r.base));
    const withDecision = (decision: string) =>
      all
        .filter((d) => d.decision === decision)
        .map((d) => d.id)
        .sort();
    expect(withDecision('Deny')).toContain(itemOf(DEMO.FIONA));
    const list = async ($filter: string) =>
      ids((await get(`${r.base}/decisions`, admin, { $filter })).body).sort();
    expect(await list("decision eq 'Deny'")).toEqual(withDecision('Deny'));
    expect(await list("decision eq 'NotReviewed'")).toEqual(withDecision('NotReviewed'));
    expect(await list(`principal/id eq '${DEMO.LEE}'`)).toEqual([itemOf(DEMO.LEE)]);
    expect(await list(`(decision eq 'Deny') and (principal/id eq '${DEMO.FIONA}')`)).toEqual([
      itemOf(DEMO.FIONA),
    ]);
    expect(await list(`decision eq 'Deny' and principal/id eq '${DEMO.LEE}'`)).toEqual([]);
  });

  it('refuses PATCH of an item the caller does not review with 403, for unrelated users and admins alike', async () => {
    for (const caller of [unrelated, admin]) {
      const res = await patch(`${r.base}/decisions/${itemOf(DEMO.LEE)}`, caller, {
        decision: 'Deny',
        justification: 'not mine to decide',
      });
      expectError(res, 403, 'review.not_a_reviewer');
    }
    const unknown = `${r.base}/decisions/00000000-0000-0000-0000-000000000000`;
    expectError(
      await patch(unknown, reviewer, { decision: 'Deny', justification: 'x' }),
      404,
      'review.decision_not_found',
    );
    expect((await api.decisionsByPrincipal(r.base))[DEMO.LEE]).toMatchObject({
      decision: 'NotReviewed',
      reviewedBy: null,
    });
  });

  it("rejects 'NotReviewed', 'Maybe' and an Approve without the required justification with 400", async () => {
    const path = `${r.base}/decisions/${itemOf(DEMO.LAURA)}`;
    for (const body of [
      { decision: 'NotReviewed' },
      { decision: 'Maybe' },
      {},
      { decision: 'Deny', justification: 7 },
    ]) {
      expectError(await patch(path, reviewer, body), 400, 'request.invalid_body');
    }
    for (const justification of [undefined, null, '', '   ']) {
      const res = await patch(path, reviewer, { decision: 'Approve', justification });
      expectError(res, 400, 'review.justification_required');
      expect(res.body.error.message).toContain('justification');
    }
    expect((await api.decisionsByPrincipal(r.base))[DEMO.LAURA]).toMatchObject({
      decision: 'NotReviewed',
      reviewedBy: null,
    });
  });

  it('lists, reads and records decisions through the stage path; only the current stage takes decisions', async () => {
    const stage1 = `${r.base}/stages/1/decisions`;
    const list = await get(stage1, reviewer);
    expect(list.body.value).toHaveLength(FINANCE_TEAM_SIZE);
    expect(list.body['@odata.context']).toContain(`/instances('${r.instanceId}')/stages('1')/decisions`);
    const one = await get(`${stage1}/${itemOf(DEMO.LAURA)}`, reviewer);
    expect(one.body).toMatchObject({ id: itemOf(DEMO.LAURA), principal: { id: DEMO.LAURA } });
    const recorded = await patch(`${stage1}/${itemOf(DEMO.LAURA)}`, reviewer, {
      decision: 'DontKnow',
      justification: null,
    });
    expect(recorded.status).toBe(204);
    await api.untilDecisions(r.base, (d) => d[DEMO.LAURA]?.decision === 'DontKnow', 'Laura DontKnow', '1');
    const deny = { decision: 'Deny', justification: 'x' };
    expectError(
      await patch(`${r.base}/stages/2/decisions/${itemOf(DEMO.LAURA)}`, reviewer, deny),
      409,
      'review.stage_not_in_progress',
    );
    expectError(
      await patch(`${r.base}/stages/9/decisions/${itemOf(DEMO.LAURA)}`, reviewer, deny),
      404,
      'stage.not_found',
    );
    expect((await get(`${r.base}/stages/2/decisions`, admin)).body.value).toEqual([]);
  });

  it("records one decision for all the caller's items with batchRecordDecisions, or for one principal", async () => {
    const byOne = await post(`${r.base}/batchRecordDecisions`, reviewer, {
      decision: 'Deny',
      justification: 'batch of one',
      principalId: DEMO.LEE,
    });
    expect(byOne.status).toBe(204);
    await api.untilDecisions(r.base, (d) => d[DEMO.LEE]?.decision === 'Deny', 'Lee denied by batch');
    expect((await api.decisionsByPrincipal(r.base))[DEMO.LAURA]!.decision).toBe('DontKnow');

    expectError(
      await post(`${r.base}/stages/1/batchRecordDecisions`, reviewer, { decision: 'Approve' }),
      400,
      'review.justification_required',
    );
    const all = await post(`${r.base}/stages/1/batchRecordDecisions`, reviewer, {
      decision: 'Approve',
      justification: 'all still needed',
    });
    expect(all.status).toBe(204);
    const approved = await api.untilDecisions(r.base, allDecided('Approve'), 'all approved');
    expect(Object.values(approved).every((i) => i.justification === 'all still needed')).toBe(true);
  });

  it('refuses batchRecordDecisions on a stage not in progress (409) and to a caller who reviews nothing (403)', async () => {
    const deny = { decision: 'Deny', justification: 'x' };
    expectError(
      await post(`${r.base}/stages/2/batchRecordDecisions`, reviewer, deny),
      409,
      'review.stage_not_in_progress',
    );
    for (const caller of [unrelated, admin]) {
      expectError(await post(`${r.base}/batchRecordDecisions`, caller, deny), 403, 'review.not_a_reviewer');
    }
    for (const body of [{ decision: 'NotReviewed' }, { decision: 'Deny', principalId: 'not an id!' }]) {
      expectError(await post(`${r.base}/batchRecordDecisions`, reviewer, body), 400, 'request.invalid_body');
    }
    expect(allDecided('Approve')(await api.decisionsByPrincipal(r.base))).toBe(true);
  });

  it('records one decision on the listed decisionIds only, in one request (Stagecoach)', async () => {
    const listed = [itemOf(DEMO.LEE), itemOf(DEMO.FIONA), itemOf(DEMO.LEE)];
    const res = await post(`${r.base}/batchRecordDecisions`, reviewer, {
      decision: 'Deny',
      justification: 'listed',
      decisionIds: listed,
    });
    expect(res.status).toBe(204);
    const after = await api.untilDecisions(
      r.base,
      (d) => d[DEMO.LEE]?.decision === 'Deny' && d[DEMO.FIONA]?.decision === 'Deny',
      'the listed items denied',
    );
    expect(after[DEMO.LEE]).toMatchObject({ justification: 'listed', reviewedBy: { id: DEMO.DEBRA } });
    const others = Object.values(after).filter(
      (i) => ![DEMO.LEE, DEMO.FIONA].includes(i.principal.id as never),
    );
    expect(others.length).toBe(FINANCE_TEAM_SIZE - 2);
    expect(others.every((i) => i.decision === 'Approve')).toBe(true);

    expectError(
      await post(`${r.base}/stages/1/batchRecordDecisions`, reviewer, {
        decision: 'Approve',
        decisionIds: [itemOf(DEMO.LEE)],
      }),
      400,
      'review.justification_required',
    );
    const approve = await post(`${r.base}/stages/1/batchRecordDecisions`, reviewer, {
      decision: 'Approve',
      justification: 'back again',
      decisionIds: [itemOf(DEMO.LEE), itemOf(DEMO.FIONA)],
    });
    expect(approve.status).toBe(204);
    await api.untilDecisions(r.base, allDecided('Approve'), 'all approved again');
  });

  it('refuses decisionIds with an unknown id (404), an item not the caller’s (403), a closed stage (409) and with principalId (400), recording none', async () => {
    const deny = { decision: 'Deny', justification: 'x' };
    const unknown = '00000000-0000-0000-0000-000000000000';
    expectError(
      await post(`${r.base}/batchRecordDecisions`, reviewer, {
        ...deny,
        decisionIds: [itemOf(DEMO.LEE), unknown],
      }),
      404,
      'review.decision_not_found',
    );
    for (const caller of [unrelated, admin]) {
      expectError(
        await post(`${r.base}/batchRecordDecisions`, caller, { ...deny, decisionIds: [itemOf(DEMO.LEE)] }),
        403,
        'review.not_a_reviewer',
      );
    }
    expectError(
      await post(`${r.base}/stages/2/batchRecordDecisions`, reviewer, {
        ...deny,
        decisionIds: [itemOf(DEMO.LEE)],
      }),
      409,
      'review.stage_not_in_progress',
    );
    for (const body of [
      { ...deny, decisionIds: [itemOf(DEMO.LEE)], principalId: DEMO.LEE },
      { ...deny, decisionIds: [] },
      { ...deny, decisionIds: ['not an id!'] },
      { ...deny, decisionIds: Array.from({ length: 10_001 }, (_, i) => `id-${i}`) },
    ]) {
      expectError(await post(`${r.base}/batchRecordDecisions`, reviewer, body), 400, 'request.invalid_body');
    }
    expect(allDecided('Approve')(await api.decisionsByPrincipal(r.base))).toBe(true);
  });

  it('accepts recommendations for the current stage only', async () => {
    expect((await post(`${r.base}/resetDecisions`, admin)).status).toBe(204);
    await api.untilDecisions(r.base, allDecided('NotReviewed'), 'reset');
    expectError(
      await post(`${r.base}/stages/2/acceptRecommendations`, reviewer),
      409,
      'review.stage_not_in_progress',
    );
    expectError(await post(`${r.base}/stages/9/acceptRecommendations`, reviewer), 404, 'stage.not_found');
    expect((await post(`${r.base}/stages/1/acceptRecommendations`, reviewer)).status).toBe(204);
    const after = await api.untilDecisions(
      r.base,
      (d) => d[DEMO.ENRICO]?.decision === 'Deny',
      'Enrico denied',
    );
    for (const item of Object.values(after)) {
      if (item.recommendation === 'Approve' || item.recommendation === 'Deny') {
        expect(item.decision).toBe(item.recommendation);
      }
    }
  });

  describe('in stage 2, with decision histories hidden from reviewers', () => {
    beforeAll(async () => {
      // Everyone but Enrico (denied) moves on; Diego reviews his reports, Debra reviews Diego, Fiona and
      // Laura, the auditors review Fatima (no manager).
      await post(`${r.base}/batchRecordDecisions`, reviewer, {
        decision: 'Approve',
        justification: 'stage 1',
      });
      await patch(`${r.base}/decisions/${itemOf(DEMO.ENRICO)}`, reviewer, {
        decision: 'Deny',
        justification: 'inactive',
      });
      await api.untilDecisions(
        r.base,
        (d) =>
          Object.values(d).every((i) => i.decision === (i.principal.id === DEMO.ENRICO ? 'Deny' : 'Approve')),
        'stage 1 decided',
      );
      await post(`${r.base}/stages/1/stop`, admin);
      await api.untilStage(r.base, '2', 'InProgress');
    });

    it("shows each manager only their own reports' current-stage items, without earlier decisions", async () => {
      const diego = await get(`${r.base}/decisions`, await api.as(DEMO.DIEGO), { $count: 'true' });
      const expected = DIEGO_REPORTS_IN_FINANCE.filter((id) => id !== DEMO.ENRICO).sort();
      expect(principals(diego.body)).toEqual(expected);
      expect(diego.body['@odata.count']).toBe(expected.length);
      // Stage 1 decisions exist (the admin sees them) but R7 hides them from stage 2 reviewers.
      expect((await api.decisionsByPrincipal(r.base))[DEMO.LEE]!.decision).toBe('Approve');
      for (const d of diego.body.value)
        expect(d).toMatchObject({ decision: 'NotReviewed', reviewedBy: null });

      const debra = await get(`${r.base}/decisions/filterByCurrentUser(on='reviewer')`, reviewer);
      expect(principals(debra.body)).toEqual([DEMO.DIEGO, DEMO.FIONA, DEMO.LAURA].sort());
      const auditor = await get(`${r.base}/stages/2/decisions`, await api.as(DEMO.GRADY));
      expect(principals(auditor.body)).toEqual([DEMO.FATIMA]);
    });

    it("refuses a manager who guesses another manager's item id with 403, for reads and writes", async () => {
      const read = await get(`${r.base}/decisions/${itemOf(DEMO.LEE)}`, reviewer);
      expectError(read, 403, 'review.not_a_reviewer');
      expect(JSON.stringify(read.body)).not.toContain('Lee Gu');
      expectError(
        await get(`${r.base}/stages/2/decisions/${itemOf(DEMO.LEE)}`, reviewer),
        403,
        'review.not_a_reviewer',
      );
      expectError(
        await patch(`${r.base}/decisions/${itemOf(DEMO.LEE)}`, reviewer, {
          decision: 'Deny',
          justification: 'no',
        }),
        403,
        'review.not_a_reviewer',
      );
      const ok = await patch(`${r.base}/stages/2/decisions/${itemOf(DEMO.DIEGO)}`, reviewer, {
        decision: 'Approve',
        justification: 'runs finance',
      });
      expect(ok.status).toBe(204);
      await api.untilDecisions(r.base, (d) => d[DEMO.DIEGO]?.decision === 'Approve', 'Diego approved', '2');
      expect((await api.decisionsByPrincipal(r.base, '2'))[DEMO.LEE]!.decision).toBe('NotReviewed');
    });
  });
});

describe('directory reads', () => {
  beforeAll(async () => {
    // Debra reviews every Finance Team member in stage 1 of this review; Lidia reviews them in stage 2,
    // which has not started.
    const base = review();
    const [stage1, stage2] = base.stageSettings as [object, object];
    const lidia = { ...stage2, reviewers: [{ query: `/users/${DEMO.LIDIA}` }], fallbackReviewers: [] };
    await api.startReview({ ...base, stageSettings: [stage1, lidia] });
  });

  it('lets admins read any user and manager and list group members, owners and application assignees', async () => {
    const user = await get(`/v1.0/users/${DEMO.LEE}`, admin);
    expect(user.status).toBe(200);
    expect(user.body).toMatchObject({
      id: DEMO.LEE,
      displayName: 'Lee Gu',
      userPrincipalName: 'lee.gu@contoso.com',
      userType: 'Member',
      accountEnabled: true,
    });
    expect(user.body['@odata.context']).toBe(`${stack.baseUrl}/v1.0/$metadata#users/$entity`);
    const manager = await get(`/v1.0/users/${DEMO.LEE}/manager`, admin);
    expect(manager.body).toMatchObject({ id: DEMO.DIEGO, displayName: 'Diego Siciliani' });
    const members = await get(`/v1.0/groups/${DEMO.FINANCE}/members`, admin);
    expect(members.body.value).toHaveLength(FINANCE_TEAM_SIZE);
    expect(members.body['@odata.context']).toBe(`${stack.baseUrl}/v1.0/$metadata#directoryObjects`);
    const page = await get(`/v1.0/groups/${DEMO.FINANCE}/members`, admin, { $top: 5 });
    expect(page.body.value).toHaveLength(5);
    expect(new URL(page.body['@odata.nextLink'] as string).searchParams.get('$skip')).toBe('5');
    const owners = await get(`/v1.0/groups/${DEMO.FINANCE}/owners`, admin);
    expect(ids(owners.body).sort()).toEqual([DEMO.DEBRA, DEMO.DIEGO].sort());
    const assignees = await get(`/v1.0/servicePrincipals/${DEMO.SALESFORCE}/appRoleAssignedTo`, admin);
    expect(assignees.body.value).toHaveLength(10);
    expect(ids(assignees.body)).toContain(DEMO.IRVIN);
  });

  it('lets others read themselves, their own manager and the people they review now; the rest is 403', async () => {
    const debra = reviewer;
    expect((await get(`/v1.0/users/${DEMO.DEBRA}`, debra)).body).toMatchObject({ id: DEMO.DEBRA });
    expect((await get(`/v1.0/users/${DEMO.DEBRA}/manager`, debra)).body).toMatchObject({ id: DEMO.PATTI });
    const reviewee = await get(`/v1.0/users/${DEMO.LEE}`, debra);
    expect(reviewee.status).toBe(200);
    expect(reviewee.body).toMatchObject({ id: DEMO.LEE, displayName: 'Lee Gu' });
    expect((await get(`/v1.0/users/${DEMO.FATIMA}`, debra)).status).toBe(200);

    const lidia = await api.as(DEMO.LIDIA);
    const denied: [string, Caller][] = [
      [`/v1.0/users/${DEMO.MEGAN}`, debra], // in no review Debra reviews in
      [`/v1.0/users/${DEMO.LEE}/manager`, debra], // a reviewee's manager is not the reviewee
      [`/v1.0/users/${DEMO.LEE}`, lidia], // Lidia reviews Lee only once stage 2 is in progress
      [`/v1.0/users/${DEMO.LEE}`, unrelated],
      [`/v1.0/users/${DEMO.PATTI}/manager`, unrelated],
    ];
    for (const [path, caller] of denied) {
      const res = await get(path, caller);
      expectError(res, 403, 'directory.not_visible');
      expect(Object.keys(res.body)).toEqual(['error']);
    }
    expect((await get(`/v1.0/users/${DEMO.MEGAN}`, unrelated)).body).toMatchObject({ id: DEMO.MEGAN });
  });

  it('keeps group and application lists for admins', async () => {
    for (const caller of [reviewer, unrelated]) {
      for (const path of [
        `/v1.0/groups/${DEMO.FINANCE}/members`,
        `/v1.0/groups/${DEMO.FINANCE}/owners`,
        `/v1.0/servicePrincipals/${DEMO.SALESFORCE}/appRoleAssignedTo`,
      ]) {
        expectError(await get(path, caller), 403, 'directory.not_visible');
      }
    }
  });

  it('answers 404 to admins for unknown objects, and 403 to others alike for unknown and hidden ids', async () => {
    const notFound: [string, string][] = [
      [`/v1.0/users/${DEMO.PATTI}/manager`, 'directory.manager_not_found'],
      ['/v1.0/users/nobody', 'directory.user_not_found'],
      ['/v1.0/users/nobody/manager', 'directory.user_not_found'],
      ['/v1.0/groups/nothing/members', 'directory.group_not_found'],
      ['/v1.0/groups/nothing/owners', 'directory.group_not_found'],
      ['/v1.0/servicePrincipals/nothing/appRoleAssignedTo', 'directory.application_not_found'],
    ];
    for (const [path, code] of notFound) expectError(await get(path, admin), 404, code);
    // To a non-admin an id that does not exist looks like one that exists but is hidden.
    const unknown = await get('/v1.0/users/nobody', unrelated);
    const hidden = await get(`/v1.0/users/${DEMO.LEE}`, unrelated);
    expectError(unknown, 403, 'directory.not_visible');
    expect(unknown.body.error.message.replace('nobody', DEMO.LEE)).toBe(hidden.body.error.message);
    expectError(await get('/v1.0/users/bad%20id', reviewer), 400, 'request.invalid_params');
    expectError(await get('/v1.0/users/%zz', reviewer), 400, 'request.malformed_url');
  });
});

describe('PATCH of a user: restoring a guest a review blocked', () => {
  const PARTNERS = '8814bb25-08c2-453a-83b0-3f37340470c0';
  const ALEX = '5a7b46b1-de4f-481f-bce2-7f4ee40714eb';
  const CHEN = '33b249f3-cb92-4115-9ebf-3a4b5d9defad';
  const chen = `/v1.0/users/${CHEN}`;
  const deletion = () => stack.env.client.workflow.getHandle(`guest-deletion/${CHEN}`);

  beforeAll(async () => {
    // Alex reviews the Partner Collaboration guests; denied guests are blocked, then deleted after 30 days.
    const guests = await api.startReview({
      displayName: 'Partner guests',
      scope: {
        query: `/groups/${PARTNERS}/transitiveMembers?$filter=(userType eq 'Guest')`,
        queryType: 'MicrosoftGraph',
      },
      reviewers: [{ query: `/users/${ALEX}`, queryType: 'MicrosoftGraph' }],
      settings: {
        instanceDurationInDays: 3,
        autoApplyDecisionsEnabled: true,
        applyActions: [{ '@odata.type': '#microsoft.graph.disableAndDeleteUserApplyAction' }],
      },
    });
    const item = (await api.decisionsByPrincipal(guests.base))[CHEN]!;
    const denied = await patch(`${guests.base}/decisions/${item.id}`, await api.as(ALEX), {
      decision: 'Deny',
      justification: 'project over',
    });
    expect(denied.status).toBe(204);
    await api.untilDecisions(guests.base, (d) => d[CHEN]?.decision === 'Deny', 'Chen denied');
    expect((await post(`${guests.base}/stop`, admin)).status).toBe(204);
    await api.untilInstance(guests.base, 'Applied');
    await until(
      () => deletion().describe(),
      (d) => d.status.name === 'RUNNING',
      'guest deletion pending',
    );
  });

  it('restores the blocked guest with 204 and cancels the pending deletion', async () => {
    expect((await get(chen, admin)).body.accountEnabled).toBe(false);
    for (const caller of [reviewer, unrelated]) {
      expectError(await patch(chen, caller, { accountEnabled: true }), 403, 'auth.admin_required');
    }
    expect((await patch(chen, admin, { accountEnabled: true })).status).toBe(204);
    expect((await get(chen, admin)).body.accountEnabled).toBe(true);
    expect(await deletion().result()).toBe('restored');
    const again = await patch(chen, admin, { accountEnabled: true });
    expectError(again, 403, 'directory.change_not_allowed');
  });

  it('refuses every other change with 403 directory.change_not_allowed, saying why', async () => {
    const irvin = `/v1.0/users/${DEMO.IRVIN}`;
    const enable = await patch(irvin, admin, { accountEnabled: true });
    expectError(enable, 403, 'directory.change_not_allowed');
    expect(enable.body.error.message).toContain('not a guest blocked by an access review');
    expect((await get(irvin, admin)).body.accountEnabled).toBe(false);
    for (const id of [DEMO.LEE, CHEN]) {
      const disable = await patch(`/v1.0/users/${id}`, admin, { accountEnabled: false });
      expectError(disable, 403, 'directory.change_not_allowed');
      expect(disable.body.error.message).toContain('only as an access review decides');
      expect((await get(`/v1.0/users/${id}`, admin)).body.accountEnabled).toBe(true);
    }
    expectError(
      await patch(irvin, admin, { accountEnabled: true, displayName: 'x' }),
      400,
      'request.invalid_body',
    );
    expectError(
      await patch('/v1.0/users/nobody', admin, { accountEnabled: true }),
      404,
      'directory.user_not_found',
    );
  });
});

describe('the HTTP envelope', () => {
  it('answers unknown routes with 404 request.unknown_route', async () => {
    expectError(await get(`${REVIEWS}/policy`, admin), 404, 'request.unknown_route');
    expectError(await get('/v1.0/me', admin), 404, 'request.unknown_route');
    expectError(await del(`/v1.0/users/${DEMO.LEE}`, admin), 404, 'request.unknown_route');
    expectError(await api.http().get('/nowhere'), 404, 'request.unknown_route');
  });

  it('answers a body over the size limit with 413 request.too_large', async () => {
    const huge = { ...review(), descriptionForAdmins: 'x'.repeat(1_100_000) };
    expectError(await post(`${REVIEWS}/definitions`, admin, huge), 413, 'request.too_large');
  });

  it('answers a gzip body that does not inflate with 400 request.invalid_body, and reads one that does', async () => {
    // fetch, not supertest: superagent would serialise a Buffer as JSON instead of sending its bytes.
    const gzipped = async (body: string | Buffer, encoding = 'gzip') => {
      const res = await fetch(`${stack.baseUrl}${REVIEWS}/definitions`, {
        method: 'POST',
        headers: { ...admin, 'content-type': 'application/json', 'content-encoding': encoding },
        body,
      });
      type Body = { id: string; displayName: string; error: { code: string; message: string } };
      return { status: res.status, body: (await res.json()) as Body };
    };
    const definition = JSON.stringify({ ...review(), displayName: 'Sent gzipped' });
    for (const [body, encoding] of [
      ['not gzip at all', 'gzip'],
      [gzipSync(definition).subarray(0, 40), 'gzip'],
      ['not deflate either', 'deflate'],
      ['nor brotli', 'br'],
    ] as const) {
      const res = await gzipped(body, encoding);
      expectError(res, 400, 'request.invalid_body');
      expect(res.body.error.message).toContain('Content-Encoding');
    }
    const created = await gzipped(gzipSync(definition));
    expect(created.status).toBe(201);
    expect(created.body.displayName).toBe('Sent gzipped');
    expect((await del(`${REVIEWS}/definitions/${created.body.id}`, admin)).status).toBe(204);
  });

  it('answers a body nested deeper than 32 levels with 400 request.invalid_body, even 5,000 deep', async () => {
    const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
    const send = (recipients: string) =>
      api
        .http()
        .post(`${REVIEWS}/definitions`)
        .set(admin)
        .set('content-type', 'application/json')
        .send(
          JSON.stringify({ ...review(), displayName: 'Deep' }).replace(
            /}$/,
            `,"additionalNotificationRecipients":${recipients}}`,
          ),
        );
    for (const depth of [5_000, 32]) {
      const res = await send(nested(depth));
      expectError(res, 400, 'request.invalid_body');
      expect(res.body.error.message).toContain('nests deeper than 32 levels');
    }
    const graphShaped = JSON.stringify([
      {
        notificationTemplateType: 'CompletedAdditionalRecipients',
        notificationRecipientScope: {
          '@odata.type': '#microsoft.graph.accessReviewNotificationRecipientQueryScope',
          query: `/groups/${DEMO.AUDITORS}/transitiveMembers/microsoft.graph.user`,
          queryRoot: null,
          queryType: 'MicrosoftGraph',
        },
      },
    ]);
    const created = await send(graphShaped);
    expect(created.status).toBe(201);
    expect(created.body.additionalNotificationRecipients).toEqual(JSON.parse(graphShaped));
    expect((await del(`${REVIEWS}/definitions/${created.body.id as string}`, admin)).status).toBe(204);
  });

  it('builds @odata.context, @odata.nextLink and Location on PUBLIC_BASE_URL when it is set', async () => {
    const base = 'https://reviews.example.com/stagecoach';
    const proxied = request(await stack.serveApi({ publicBaseUrl: `${base}/` }));
    const user = await proxied.get(`/v1.0/users/${DEMO.LEE}`).set(admin);
    expect(user.body['@odata.context']).toBe(`${base}/v1.0/$metadata#users/$entity`);
    const page = await proxied.get(`/v1.0/groups/${DEMO.FINANCE}/members`).query({ $top: 5 }).set(admin);
    expect(page.body['@odata.context']).toBe(`${base}/v1.0/$metadata#directoryObjects`);
    const next = new URL(page.body['@odata.nextLink'] as string);
    expect(`${next.origin}${next.pathname}`).toBe(`${base}/v1.0/groups/${DEMO.FINANCE}/members`);
    expect(next.searchParams.get('$skip')).toBe('5');
    const created = await proxied
      .post(`${REVIEWS}/definitions`)
      .set(admin)
      .send({ ...review(), displayName: 'Behind a proxy' });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect(created.headers.location).toBe(`${base}${REVIEWS}/definitions/${id}`);
    expect(created.body['@odata.context']).toBe(
      `${base}/v1.0/$metadata#identityGovernance/accessReviews/definitions/$entity`,
    );
    expect((await proxied.delete(`${REVIEWS}/definitions/${id}`).set(admin)).status).toBe(204);
    // Without the setting, links keep naming the host the request came to.
    const direct = await get(`/v1.0/users/${DEMO.LEE}`, admin);
    expect(direct.body['@odata.context']).toBe(`${stack.baseUrl}/v1.0/$metadata#users/$entity`);
  });

  it('answers /health without a token', async () => {
    const res = await api.http().get('/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      status: 'ok',
      temporal: { reachable: true },
      workers: { answering: true, pollers: expect.any(Number) },
    });
    expect(res.body.workers.pollers).toBeGreaterThanOrEqual(1);
  });

  it("answers every error with Graph's innerError: the request-id header, client-request-id and the date", async () => {
    const limited = request(await stack.serveApi({ rateLimitPerMinute: 1 }));
    await limited.get(`/v1.0/users/${DEMO.LEE}`).set(admin);
    const failures = [
      [await get(`${REVIEWS}/definitions`, reviewer), 403],
      [await get(`${REVIEWS}/policy`, admin), 404],
      [await get(`${REVIEWS}/definitions`, admin, { $top: 0 }), 400],
      [await api.http().get(`${REVIEWS}/definitions`), 401],
      [await api.http().get(`${REVIEWS}/definitions/%zz`).set(admin), 400],
      [await limited.get(`/v1.0/users/${DEMO.LEE}`).set(admin), 429],
    ] as const;
    for (const [res, status] of failures) {
      expect(res.status).toBe(status);
      const requestId = res.headers['request-id'] as string;
      expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
      // An invalid query option is also named in Graph's details; the others carry none.
      const details =
        res.body.error.code === 'request.invalid_query'
          ? { details: [{ code: 'too_small', message: expect.any(String), target: '$top' }] }
          : {};
      expect(res.body).toEqual({
        error: {
          code: expect.any(String),
          message: expect.any(String),
          ...details,
          innerError: { 'request-id': requestId, 'client-request-id': requestId, date: expect.any(String) },
        },
      });
      const date = res.body.error.innerError.date as string;
      expect(date).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(Math.abs(Date.parse(date) - Date.now())).toBeLessThan(60_000);
    }
    const traced = await get(`${REVIEWS}/definitions`, reviewer).set('client-request-id', 'trace-456');
    expect(traced.body.error.innerError).toMatchObject({
      'request-id': 'trace-456',
      'client-request-id': 'trace-456',
    });
  });

  it('echoes client-request-id as request-id', async () => {
    const res = await get(`/v1.0/users/${DEMO.LEE}`, reviewer).set('client-request-id', 'trace-123');
    expect(res.headers['request-id']).toBe('trace-123');
    expect(res.headers['client-request-id']).toBe('trace-123');
  });
});
