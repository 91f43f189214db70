import request from 'supertest';
import { DEMO, REVIEWS } from '../helpers/demo-ids';
import { until } from '../helpers/review-harness';
import type { Stack } from '../helpers/stack';
import { startStack } from '../helpers/stack';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

const bearer = async (userId: string, admin = false) => ({
  authorization: `Bearer ${await stack.token(userId, admin)}`,
});
const userScope = (id: string) => ({ query: `/users/${id}`, queryType: 'MicrosoftGraph' });

async function twoStageReview() {
  const admin = await bearer(DEMO.admin, true);
  const created = await request(stack.baseUrl)
    .post(`${REVIEWS}/definitions`)
    .set(admin)
    .send({
      displayName: 'Finance two-stage',
      scope: { query: `/groups/${DEMO.financeTeam}/transitiveMembers`, queryType: 'MicrosoftGraph' },
      stageSettings: [
        {
          stageId: '1',
          durationInDays: 3,
          recommendationsEnabled: false,
          reviewers: [userScope(DEMO.grady)],
        },
        {
          stageId: '2',
          dependsOn: ['1'],
          durationInDays: 3,
          recommendationsEnabled: false,
          reviewers: [userScope(DEMO.henrietta)],
        },
      ],
      settings: { autoApplyDecisionsEnabled: false },
    });
  expect(created.status).toBe(201);
  const def = created.body.id as string;
  const list = await until(
    () => request(stack.baseUrl).get(`${REVIEWS}/definitions/${def}/instances`).set(admin),
    (r) => r.body.value?.[0]?.status === 'InProgress',
    'instance',
  );
  return { admin, base: `${REVIEWS}/definitions/${def}/instances/${list.body.value[0].id as string}` };
}

describe('changing reviewers of a running review', () => {
  it('re-resolves the running stage when its reviewers change: the new reviewer decides, the old one cannot', async () => {
    const { admin, base } = await twoStageReview();
    await until(
      () => request(stack.baseUrl).get(`${base}/stages/1`).set(admin),
      (r) => r.body.status === 'InProgress',
      'stage 1',
    );
    const patched = await request(stack.baseUrl)
      .patch(`${base}/stages/1`)
      .set(admin)
      .send({ reviewers: [userScope(DEMO.lidia)] });
    expect(patched.status).toBe(204);
    const stage = await until(
      () => request(stack.baseUrl).get(`${base}/stages/1`).set(admin),
      (r) => r.body.reviewers?.[0]?.query === `/users/${DEMO.lidia}`,
      'stage 1 reviewers',
    );
    expect(stage.body.reviewers).toEqual([userScope(DEMO.lidia)]);

    const lidia = await bearer(DEMO.lidia);
    const mine = await until(
      () => request(stack.baseUrl).get(`${base}/decisions/filterByCurrentUser(on='reviewer')`).set(lidia),
      (r) => r.body.value?.length > 0,
      'Lidia assigned',
    );
    const item = mine.body.value[0].id as string;
    expect(
      (
        await request(stack.baseUrl)
          .patch(`${base}/decisions/${item}`)
          .set(lidia)
          .send({ decision: 'Approve' })
      ).status,
    ).toBe(204);
    const grady = await request(stack.baseUrl)
      .patch(`${base}/decisions/${item}`)
      .set(await bearer(DEMO.grady))
      .send({ decision: 'Deny' });
    expect(grady.status).toBe(403);
    expect(grady.body.error.code).toBe('review.not_a_reviewer');

    const contacted = await request(stack.baseUrl).get(`${base}/contactedReviewers`).set(admin);
    expect(contacted.status).toBe(200);
    expect(contacted.body.value.map((r: { id: string }) => r.id).sort()).toEqual(
      [DEMO.grady, DEMO.lidia].sort(),
    );
    expect(contacted.body.value[0].createdDateTime).toEqual(expect.any(String));
  });

  it('sets a later stage’s reviewers before it starts and refuses a completed stage or a bad query', async () => {
    const { admin, base } = await twoStageReview();
    expect(
      (
        await request(stack.baseUrl)
          .put(base)
          .set(admin)
          .send({ reviewers: [userScope(DEMO.lidia)] })
      ).status,
    ).toBe(204);
    const stage2 = await until(
      () => request(stack.baseUrl).get(`${base}/stages/2`).set(admin),
      (r) => r.body.reviewers?.[0]?.query === `/users/${DEMO.lidia}`,
      'stage 2 reviewers',
    );
    expect(stage2.body.status).toBe('NotStarted');

    const bad = await request(stack.baseUrl)
      .patch(`${base}/stages/2`)
      .set(admin)
      .send({ reviewers: [{ query: '/nonsense' }] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('reviewers[0]');
    const empty = await request(stack.baseUrl).put(base).set(admin).send({});
    expect(empty.status).toBe(400);
    const notAdmin = await request(stack.baseUrl)
      .put(base)
      .set(await bearer(DEMO.lidia))
      .send({ reviewers: [] });
    expect(notAdmin.status).toBe(403);

    expect((await request(stack.baseUrl).post(`${base}/stop`).set(admin)).status).toBe(204);
    await until(
      () => request(stack.baseUrl).get(base).set(admin),
      (r) => r.body.status === 'Completed',
      'Completed',
    );
    const late = await request(stack.baseUrl)
      .patch(`${base}/stages/1`)
      .set(admin)
      .send({ reviewers: [userScope(DEMO.grady)] });
    expect(late.status).toBe(409);
  });

  it("changes an instance's reviewers with PATCH (the Graph SDK's update) exactly as with PUT", async () => {
    const { admin, base } = await twoStageReview();
    const patch = (body: object, caller = admin) => request(stack.baseUrl).patch(base).set(caller).send(body);
    expect((await patch({ reviewers: [userScope(DEMO.lidia)] })).status).toBe(204);
    const stage2 = await until(
      () => request(stack.baseUrl).get(`${base}/stages/2`).set(admin),
      (r) => r.body.reviewers?.[0]?.query === `/users/${DEMO.lidia}`,
      'stage 2 reviewers',
    );
    expect(stage2.body.status).toBe('NotStarted');

    const empty = await patch({});
    expect({ status: empty.status, code: empty.body.error?.code }).toEqual({
      status: 400,
      code: 'request.invalid_body',
    });
    const unknown = await patch({ reviewers: [userScope('nobody')] });
    expect({ status: unknown.status, code: unknown.body.error?.code }).toEqual({
      status: 400,
      code: 'definition.unknown_object',
    });
    const notAdmin = await patch({ reviewers: [userScope(DEMO.grady)] }, await bearer(DEMO.lidia));
    expect({ status: notAdmin.status, code: notAdmin.body.error?.code }).toEqual({
      status: 403,
      code: 'auth.admin_required',
    });
    const stages = await request(stack.baseUrl).get(`${base}/stages`).set(admin);
    expect(stages.body.value.map((s: { reviewers: { query: string }[] }) => s.reviewers[0]?.query)).toEqual([
      `/users/${DEMO.lidia}`,
      `/users/${DEMO.lidia}`,
    ]);
  });

  it('refuses reviewers naming a user, group or service principal the directory does not have with 400', async () => {
    const { admin, base } = await twoStageReview();
    const cases: [string, object, string, string][] = [
      [`${base}/stages/1`, { reviewers: [userScope('nobody')] }, 'reviewers[0]', 'nobody'],
      [
        base,
        { reviewers: [userScope(DEMO.lidia)], fallbackReviewers: [{ query: '/groups/gone/owners' }] },
        'fallbackReviewers[0]',
        'gone',
      ],
      [
        `${base}/stages/2`,
        { reviewers: [{ query: '/servicePrincipals/none/owners' }] },
        'reviewers[0]',
        'none',
      ],
    ];
    for (const [path, body, field, id] of cases) {
      const method = path === base ? 'put' : 'patch';
      const res = await request(stack.baseUrl)[method](path).set(admin).send(body);
      expect({ status: res.status, code: res.body.error?.code }).toEqual({
        status: 400,
        code: 'definition.unknown_object',
      });
      expect(res.body.error.message.slice(0, field.length + 2)).toBe(`${field}: `);
      expect(res.body.error.message).toContain(`'${id}'`);
    }
    const stages = await request(stack.baseUrl).get(`${base}/stages`).set(admin);
    expect(stages.body.value.map((s: { reviewers: { query: string }[] }) => s.reviewers[0]?.query)).toEqual([
      `/users/${DEMO.grady}`,
      `/users/${DEMO.henrietta}`,
    ]);
    // Only admins learn whether an id exists.
    const probe = await request(stack.baseUrl)
      .patch(`${base}/stages/1`)
      .set(await bearer(DEMO.grady))
      .send({ reviewers: [userScope('nobody')] });
    expect(probe.status).toBe(403);
    expect(probe.body.error.code).toBe('auth.admin_required');
  });
});
