import type { SmtpMailer } from '../../src/notifications/smtp';
import { Api, DEMO, expectError, REVIEWS } from '../helpers/api-fixtures';
import type { SmtpTestServer } from '../helpers/smtp-server';
import { mailerFor, startSmtpServer } from '../helpers/smtp-server';
import type { Stack } from '../helpers/stack';
import { startStack } from '../helpers/stack';
import { until } from '../helpers/review-harness';

// Separation of duties and reassignment through HTTP, against a real worker, Temporal dev server, the
// review records in PostgreSQL and a real SMTP server. Diego owns Finance Team and is a member of it.

let stack: Stack;
let api: Api;
let smtp: SmtpTestServer;
let mailer: SmtpMailer;
beforeAll(async () => {
  smtp = await startSmtpServer();
  mailer = mailerFor(smtp);
  stack = await startStack(undefined, { records: 'postgres', mailer });
  api = new Api(stack);
}, 120_000);
afterAll(async () => {
  await stack?.stop();
  await mailer?.close();
  await smtp?.stop();
});

const scope = (id: string) => ({ query: `/users/${id}`, queryType: 'MicrosoftGraph' });
const ownersReview = (extra: Record<string, unknown> = {}) => ({
  displayName: 'Finance owners review',
  scope: { query: `/groups/${DEMO.FINANCE}/transitiveMembers`, queryType: 'MicrosoftGraph' },
  reviewers: [{ query: `/groups/${DEMO.FINANCE}/owners`, queryType: 'MicrosoftGraph' }],
  fallbackReviewers: [scope(DEMO.LIDIA)],
  settings: { instanceDurationInDays: 7 },
  ...extra,
});
const mine = (base: string) => `${base}/decisions/filterByCurrentUser(on='reviewer')`;

describe('separation of duties through the API', () => {
  it("refuses the owner's decision on his own membership with 403 review.own_access; the other owner decides it", async () => {
    const { base } = await api.startReview(ownersReview());
    const items = await api.decisionsByPrincipal(base);
    const own = items[DEMO.DIEGO]!;
    const diego = await api.as(DEMO.DIEGO);
    const refused = await api
      .http()
      .patch(`${base}/decisions/${own.id}`)
      .set(diego)
      .send({ decision: 'Approve', justification: 'me' });
    expectError(refused, 403, 'review.own_access');
    // His inbox lists his team, not himself; the auditor's lists only Diego.
    const diegos = await until(
      () => api.http().get(mine(base)).set(diego),
      (r) => r.status === 200 && r.body.value.length > 0,
      "Diego's items",
    );
    expect(diegos.body.value.map((d: { principal: { id: string } }) => d.principal.id)).not.toContain(
      DEMO.DIEGO,
    );
    // Debra, the team's other owner, decides it; the fallback reviewer is not needed.
    const lidias = await api
      .http()
      .get(mine(base))
      .set(await api.as(DEMO.LIDIA));
    expect(lidias.body.value).toEqual([]);
    const approved = await api
      .http()
      .patch(`${base}/decisions/${own.id}`)
      .set(await api.as(DEMO.DEBRA))
      .send({ decision: 'Approve', justification: 'still leads the team' });
    expect(approved.status).toBe(204);
    // Listing his own item among his team's refuses the whole request, as PATCH would.
    const listed = await api
      .http()
      .post(`${base}/batchRecordDecisions`)
      .set(diego)
      .send({ decision: 'Deny', justification: 'team', decisionIds: [items[DEMO.LEE]!.id, own.id] });
    expectError(listed, 403, 'review.own_access');
    expect((await api.decisionsByPrincipal(base))[DEMO.LEE]!.decision).toBe('NotReviewed');
    // A batch by Diego decides his team and leaves his own item to the auditor's decision.
    const batch = await api
      .http()
      .post(`${base}/batchRecordDecisions`)
      .set(diego)
      .send({ decision: 'Approve', justification: 'team' });
    expect(batch.status).toBe(204);
    const after = await api.untilDecisions(base, (d) => d[DEMO.LEE]?.decision === 'Approve', 'the batch');
    expect(after[DEMO.DIEGO]!.reviewedBy?.id).toBe(DEMO.DEBRA);
  });
});

describe('reassignment through the API', () => {
  it('hands one item and then all of a reviewer’s items to other users, with the history kept and the new reviewer told', async () => {
    const { base } = await api.startReview(ownersReview());
    const items = await api.decisionsByPrincipal(base);
    const lee = items[DEMO.LEE]!;
    const diego = await api.as(DEMO.DIEGO);

    const one = await api
      .http()
      .post(`${base}/decisions/${lee.id}/reassign`)
      .set(diego)
      .send({ reviewerId: DEMO.GRADY, justification: 'Grady audits Lee this quarter' });
    expect(one.status).toBe(200);
    expect(one.body).toEqual({ stageId: '1', reassigned: 1 });
    const [told] = await until(
      async () => smtp.messages.filter((m) => /reassigned/.test(m.subject)),
      (list) => list.length === 1,
      'the reassignment message',
    );
    expect(told!.to[0]!.address).toMatch(/^grady/i);
    expect(told!.subject).toMatch(/reassigned to you by Diego/);
    expect(told!.text).toContain('Grady audits Lee this quarter');

    const grady = await api.as(DEMO.GRADY);
    const gradys = await api.http().get(mine(base)).set(grady);
    expect(gradys.body.value.map((d: { id: string }) => d.id)).toEqual([lee.id]);
    expectError(
      await api
        .http()
        .patch(`${base}/decisions/${lee.id}`)
        .set(diego)
        .send({ decision: 'Deny', justification: 'x' }),
      403,
      'review.not_a_reviewer',
    );
    expect(
      (
        await api
          .http()
          .patch(`${base}/decisions/${lee.id}`)
          .set(grady)
          .send({ decision: 'Approve', justification: 'ok' })
      ).status,
    ).toBe(204);
    const read = await until(
      async () =>
        api
          .http()
          .get(`${base}/decisions/${lee.id}`)
          .set(await api.admin()),
      (r) => r.status === 200 && r.body.reassignments?.length === 1,
      'the reassignment in the records',
    );
    expect(read.body.reassignments).toEqual([
      expect.objectContaining({
        stageId: '1',
        reassignedBy: expect.objectContaining({ id: DEMO.DIEGO }),
        from: expect.objectContaining({ id: DEMO.DIEGO }),
        to: expect.objectContaining({ id: DEMO.GRADY }),
        justification: 'Grady audits Lee this quarter',
      }),
    ]);

    // Everything else Diego reviews, to Henrietta; then an administrator moves it all on to Lidia.
    const rest = await api
      .http()
      .post(`${base}/decisions/reassign`)
      .set(diego)
      .send({ reviewerId: DEMO.HENRIETTA, justification: 'On leave' });
    expect(rest.status).toBe(200);
    const remaining = Object.keys(items).length - 2; // not Lee (reassigned), not Diego himself
    expect(rest.body.reassigned).toBe(remaining);
    const moved = await api
      .http()
      .post(`${base}/decisions/reassign`)
      .set(await api.admin())
      .send({ fromReviewerId: DEMO.HENRIETTA, reviewerId: DEMO.LIDIA, justification: 'Henrietta left' });
    expect(moved.body).toEqual({ stageId: '1', reassigned: remaining });
  });

  it('answers bad reassignments with clear errors and changes nothing', async () => {
    const { base } = await api.startReview(ownersReview());
    const items = await api.decisionsByPrincipal(base);
    const lee = items[DEMO.LEE]!;
    const diego = await api.as(DEMO.DIEGO);
    const post = (body: object, as = diego, id = lee.id) =>
      api.http().post(`${base}/decisions/${id}/reassign`).set(as).send(body);
    expectError(await post({ reviewerId: DEMO.GRADY }), 400, 'request.invalid_body');
    expectError(await post({ reviewerId: DEMO.GRADY, justification: '  ' }), 400, 'request.invalid_body');
    expectError(
      await post({ reviewerId: 'no-such-user', justification: 'x' }),
      404,
      'directory.user_not_found',
    );
    expectError(await post({ reviewerId: DEMO.LEE, justification: 'x' }), 409, 'review.reassign_not_allowed');
    expectError(
      await post({ reviewerId: DEMO.GRADY, justification: 'x' }, await api.as(DEMO.GRADY)),
      403,
      'review.not_a_reviewer',
    );
    expectError(
      await post({ reviewerId: DEMO.GRADY, justification: 'x', fromReviewerId: DEMO.LIDIA }),
      403,
      'auth.admin_required',
    );
    expectError(
      await post({ reviewerId: DEMO.GRADY, justification: 'x' }, diego, 'no-such-item'),
      404,
      'review.decision_not_found',
    );
    const unchanged = await api
      .http()
      .get(`${base}/decisions/${lee.id}`)
      .set(await api.admin());
    expect(unchanged.body.reassignments).toBeUndefined();
  });
});

describe('out-of-office delegation through the API', () => {
  const DELEGATIONS = `${REVIEWS}/delegations`;
  const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();

  it("hands the user's running items to the delegate at once and the items of stages that start later", async () => {
    const running = await api.startReview(ownersReview({ displayName: 'Running when Diego leaves' }));
    const diego = await api.as(DEMO.DIEGO);
    const grady = await api.as(DEMO.GRADY);
    const set = await api
      .http()
      .put(`${DELEGATIONS}/${DEMO.DIEGO}`)
      .set(diego)
      .send({ delegateId: DEMO.GRADY, endDateTime: inDays(10), justification: 'Parental leave' });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({
      userId: DEMO.DIEGO,
      delegateId: DEMO.GRADY,
      justification: 'Parental leave',
    });
    // His team minus himself in this review (other reviews of this file count too).
    const team = Object.keys(await api.decisionsByPrincipal(running.base)).length;
    expect(set.body.reassigned).toBeGreaterThanOrEqual(team - 1);
    const gradys = await until(
      () => api.http().get(mine(running.base)).set(grady),
      (r) => r.status === 200 && r.body.value.length === team - 1,
      "Grady holding Diego's items",
    );
    expect(gradys.body.value.map((d: { principal: { id: string } }) => d.principal.id)).not.toContain(
      DEMO.GRADY,
    );
    expect((await api.http().get(mine(running.base)).set(diego)).body.value).toEqual([]);

    // A review that starts while he is away: his items go to Grady from the start, and say why.
    const later = await api.startReview(ownersReview({ displayName: 'Starts while Diego is away' }));
    const mineLater = await until(
      () => api.http().get(mine(later.base)).set(grady),
      (r) => r.status === 200 && r.body.value.length === team - 1,
      'Grady assigned at stage start',
    );
    const item = await api
      .http()
      .get(`${later.base}/decisions/${mineLater.body.value[0].id as string}`)
      .set(await api.admin());
    expect(item.body.reassignments).toEqual([
      expect.objectContaining({
        from: expect.objectContaining({ id: DEMO.DIEGO }),
        to: expect.objectContaining({ id: DEMO.GRADY }),
        justification: expect.stringMatching(/^Out of office until .*: Parental leave$/),
      }),
    ]);
    const read = await api
      .http()
      .get(`${DELEGATIONS}/${DEMO.DIEGO}`)
      .set(await api.admin());
    expect(read.body.delegateId).toBe(DEMO.GRADY);
    expect((await api.http().delete(`${DELEGATIONS}/${DEMO.DIEGO}`).set(diego)).status).toBe(204);
    expectError(await api.http().get(`${DELEGATIONS}/${DEMO.DIEGO}`).set(diego), 404, 'delegation.not_found');
  });

  it('refuses delegations that cannot work, and other users’ delegations to non-administrators', async () => {
    const diego = await api.as(DEMO.DIEGO);
    const put = (body: object, as = diego, user: string = DEMO.DIEGO) =>
      api.http().put(`${DELEGATIONS}/${user}`).set(as).send(body);
    expectError(await put({ delegateId: DEMO.DIEGO, endDateTime: inDays(3) }), 400, 'delegation.invalid');
    expectError(await put({ delegateId: DEMO.GRADY, endDateTime: inDays(-1) }), 400, 'delegation.invalid');
    expectError(await put({ delegateId: DEMO.GRADY, endDateTime: 'next week' }), 400, 'request.invalid_body');
    expectError(await put({ delegateId: 'nobody', endDateTime: inDays(3) }), 404, 'directory.user_not_found');
    expectError(
      await put({ delegateId: DEMO.GRADY, endDateTime: inDays(3) }, diego, DEMO.LEE),
      403,
      'auth.admin_required',
    );
    expectError(
      await api.http().delete(`${DELEGATIONS}/${DEMO.DIEGO}`).set(diego),
      404,
      'delegation.not_found',
    );
  });
});

describe('notification settings of a definition', () => {
  it('keeps reminder days, escalation and separation of duties, and refuses what cannot work', async () => {
    const admin = await api.admin();
    const body = {
      ...ownersReview(),
      reviewers: undefined,
      settings: { reminderDaysBeforeDue: [1, 3], separationOfDutiesEnabled: true },
      stageSettings: [
        {
          stageId: '1',
          durationInDays: 7,
          reviewers: [{ query: `/groups/${DEMO.FINANCE}/owners`, queryType: 'MicrosoftGraph' }],
          fallbackReviewers: [scope(DEMO.LIDIA)],
          escalation: { daysBeforeEnd: 2, escalateTo: 'fallbackReviewers' },
        },
      ],
      additionalNotificationRecipients: [
        {
          notificationTemplateType: 'CompletedAdditionalRecipients',
          notificationRecipientScope: {
            query: `/groups/${DEMO.AUDITORS}/members`,
            queryType: 'MicrosoftGraph',
          },
        },
      ],
    };
    const created = await api.http().post(`${REVIEWS}/definitions`).set(admin).send(body);
    expect(created.status).toBe(201);
    expect(created.body.settings.reminderDaysBeforeDue).toEqual([1, 3]);
    expect(created.body.stageSettings[0].escalation).toEqual({
      daysBeforeEnd: 2,
      escalateTo: 'fallbackReviewers',
    });
    expect(created.body.additionalNotificationRecipients).toHaveLength(1);

    const bad = (patch: Record<string, unknown>) =>
      api
        .http()
        .post(`${REVIEWS}/definitions`)
        .set(admin)
        .send({ ...body, ...patch });
    const tooLate = await bad({
      stageSettings: [{ ...body.stageSettings[0], escalation: { daysBeforeEnd: 7 } }],
    });
    expectError(tooLate, 400, 'definition.invalid');
    expect(tooLate.body.error.message).toMatch(/^stageSettings\[0\]\.escalation\.daysBeforeEnd/);
    const nobody = await bad({
      additionalNotificationRecipients: [
        {
          notificationTemplateType: 'CompletedAdditionalRecipients',
          notificationRecipientScope: { query: '/users/nobody' },
        },
      ],
    });
    expectError(nobody, 400, 'definition.unknown_object');
    expectError(
      await bad({
        additionalNotificationRecipients: [
          { notificationTemplateType: 'Weekly', notificationRecipientScope: { query: '/users/x' } },
        ],
      }),
      400,
      'request.invalid_body',
    );
  });
});
