import request from 'supertest';
import { DEMO, REVIEWS } from '../helpers/demo-ids';
import type { Stack } from '../helpers/stack';
import { startStack } from '../helpers/stack';
import { until } from '../helpers/review-harness';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

const auth = async (userId: string, admin = false) => ({
  authorization: `Bearer ${await stack.token(userId, admin)}`,
});

/** POST of a 14-day self-review of the Finance Team with automatic apply. */
const createFinanceReview = (admin: { authorization: string }, displayName: string) =>
  request(stack.baseUrl)
    .post(`${REVIEWS}/definitions`)
    .set(admin)
    .send({
      displayName,
      scope: { query: `/groups/${DEMO.financeTeam}/transitiveMembers`, queryType: 'MicrosoftGraph' },
      settings: { instanceDurationInDays: 14, autoApplyDecisionsEnabled: true },
    });

describe('the review slice over HTTP', () => {
  it('creates a self-review of a group, records a Deny, stops it and removes the denied member', async () => {
    const admin = await auth(DEMO.admin, true);
    const created = await createFinanceReview(admin, 'Finance Team quarterly review');
    expect(created.status).toBe(201);
    expect(created.body.id).toMatch(/^[0-9a-f-]{36}$/);
    const defId = created.body.id as string;

    const instances = await until(
      () => request(stack.baseUrl).get(`${REVIEWS}/definitions/${defId}/instances`).set(admin),
      (r) => r.status === 200 && r.body.value.length === 1 && r.body.value[0].status === 'InProgress',
      'instance InProgress',
    );
    const instId = instances.body.value[0].id as string;
    const base = `${REVIEWS}/definitions/${defId}/instances/${instId}`;

    const lee = await auth(DEMO.lee);
    const mine = await request(stack.baseUrl)
      .get(`${base}/decisions/filterByCurrentUser(on='reviewer')`)
      .set(lee);
    expect(mine.status).toBe(200);
    expect(mine.body.value).toHaveLength(1);
    expect(mine.body.value[0].principal.id).toBe(DEMO.lee);

    const patched = await request(stack.baseUrl)
      .patch(`${base}/decisions/${mine.body.value[0].id}`)
      .set(lee)
      .send({ decision: 'Deny', justification: 'Moved to sales' });
    expect(patched.status).toBe(204);

    const all = await request(stack.baseUrl)
      .get(`${base}/decisions`)
      .query({ $filter: "decision eq 'Deny'" })
      .set(admin);
    expect(all.body.value.map((d: { principal: { id: string } }) => d.principal.id)).toEqual([DEMO.lee]);

    expect((await request(stack.baseUrl).post(`${base}/stop`).set(admin)).status).toBe(204);
    await until(
      () => request(stack.baseUrl).get(base).set(admin),
      (r) => r.body.status === 'Applied',
      'Applied',
    );
    const members = await request(stack.baseUrl)
      .get(`/v1.0/groups/${DEMO.financeTeam}/members`)
      .query({ $top: 999 })
      .set(admin);
    const ids = members.body.value.map((u: { id: string }) => u.id);
    expect(ids).not.toContain(DEMO.lee);
    expect(ids).toContain(DEMO.diego);
    const decision = await request(stack.baseUrl)
      .get(`${base}/decisions/${mine.body.value[0].id}`)
      .set(admin);
    expect(decision.body).toMatchObject({
      decision: 'Deny',
      applyResult: 'AppliedSuccessfully',
      justification: 'Moved to sales',
    });
  });

  it('shows the instance as soon as the definition is created, and a stop sent at once ends it', async () => {
    const admin = await auth(DEMO.admin, true);
    const created = await createFinanceReview(admin, 'Finance Team review stopped at once');
    expect(created.status).toBe(201);
    const defId = created.body.id as string;
    // No polling: the 201 comes once the series has started the instance.
    const instances = await request(stack.baseUrl)
      .get(`${REVIEWS}/definitions/${defId}/instances`)
      .set(admin);
    expect(instances.status).toBe(200);
    expect(instances.body.value).toHaveLength(1);
    const base = `${REVIEWS}/definitions/${defId}/instances/${instances.body.value[0].id}`;
    expect((await request(stack.baseUrl).post(`${base}/stop`).set(admin)).status).toBe(204);
    const applied = await until(
      () => request(stack.baseUrl).get(base).set(admin),
      (r) => r.body.status === 'Applied',
      'Applied',
    );
    expect(applied.status).toBe(200);
    // Nobody decided: every member is still in the group.
    const members = await request(stack.baseUrl)
      .get(`/v1.0/groups/${DEMO.financeTeam}/members`)
      .query({ $top: 999 })
      .set(admin);
    expect(members.body.value.map((u: { id: string }) => u.id)).toContain(DEMO.diego);

    // A series whose first occurrence lies ahead has no instance yet.
    const nextWeek = new Date(Date.now() + 7 * 86_400_000).toISOString().slice(0, 10);
    const later = await request(stack.baseUrl)
      .post(`${REVIEWS}/definitions`)
      .set(admin)
      .send({
        displayName: 'Weekly review starting next week',
        scope: { query: `/groups/${DEMO.financeTeam}/transitiveMembers`, queryType: 'MicrosoftGraph' },
        settings: {
          instanceDurationInDays: 3,
          recurrence: {
            pattern: { type: 'weekly', interval: 1 },
            range: { type: 'noEnd', startDate: nextWeek },
          },
        },
      });
    expect(later.status).toBe(201);
    const none = await request(stack.baseUrl)
      .get(`${REVIEWS}/definitions/${later.body.id}/instances`)
      .set(admin);
    expect(none.body.value).toEqual([]);
    expect(
      (await request(stack.baseUrl).delete(`${REVIEWS}/definitions/${later.body.id}`).set(admin)).status,
    ).toBe(204);
  });

  it('answers malformed JSON and invalid definitions with 400 and unknown ids with 404', async () => {
    const admin = await auth(DEMO.admin, true);
    const malformed = await request(stack.baseUrl)
      .post(`${REVIEWS}/definitions`)
      .set(admin)
      .set('content-type', 'application/json')
      .send('{"displayName":');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('request.malformed_json');

    const invalid = await request(stack.baseUrl)
      .post(`${REVIEWS}/definitions`)
      .set(admin)
      .send({
        displayName: 'x',
        scope: { query: `/groups/${DEMO.financeTeam}/members` },
        settings: { instanceDurationInDays: 0 },
      });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.message).toContain('instanceDurationInDays');

    const unknown = await request(stack.baseUrl)
      .get(`${REVIEWS}/definitions/00000000-0000-0000-0000-000000000000`)
      .set(admin);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('definition.not_found');
    const user = await request(stack.baseUrl).get('/v1.0/users/nobody').set(admin);
    expect(user.status).toBe(404);
  });

  it('rejects a request without a token with 401', async () => {
    const res = await request(stack.baseUrl).get(`${REVIEWS}/definitions`);
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('auth.invalid_token');
  });
});
