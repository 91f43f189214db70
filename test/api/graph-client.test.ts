import {
  Client,
  GraphError,
  HTTPMessageHandler,
  RedirectHandler,
  RetryHandler,
} from '@microsoft/microsoft-graph-client';
import { DEMO, DIEGO_REPORTS_IN_FINANCE, FINANCE_TEAM_SIZE } from '../helpers/api-fixtures';
import { until } from '../helpers/review-harness';
import { BearerToken } from '../helpers/graph-sdk';
import type { Stack } from '../helpers/stack';
import { startStack } from '../helpers/stack';

/**
 * The request body of "Example 4: Create an access review on a group with multiple stages" from the
 * Graph v1.0 docs (accessreviewset-post-definitions), unchanged but for demo-tenant ids: the Finance
 * Team is reviewed, Debra reviews stage 1, managers review stage 2 with the auditors as fallback.
 * Note the date-time `startDate`, which Graph accepts for a recurrence range.
 */
const EXAMPLE_4 = {
  displayName: 'Group Multi-stage Access Review',
  descriptionForAdmins: 'New scheduled access review',
  descriptionForReviewers: 'If you have any questions, contact jerry@contoso.com',
  scope: {
    '@odata.type': '#microsoft.graph.accessReviewQueryScope',
    query: `/groups/${DEMO.FINANCE}/transitiveMembers`,
    queryType: 'MicrosoftGraph',
  },
  stageSettings: [
    {
      stageId: '1',
      durationInDays: 2,
      recommendationsEnabled: false,
      decisionsThatWillMoveToNextStage: ['NotReviewed', 'Approve'],
      reviewers: [{ query: `/users/${DEMO.DEBRA}`, queryType: 'MicrosoftGraph' }],
    },
    {
      stageId: '2',
      dependsOn: ['1'],
      durationInDays: 2,
      recommendationsEnabled: true,
      reviewers: [{ query: './manager', queryType: 'MicrosoftGraph', queryRoot: 'decisions' }],
      fallbackReviewers: [
        { query: `/groups/${DEMO.AUDITORS}/transitiveMembers`, queryType: 'MicrosoftGraph' },
      ],
    },
  ],
  settings: {
    instanceDurationInDays: 4,
    recurrence: {
      pattern: { type: 'weekly', interval: 1 },
      range: { type: 'noEnd', startDate: '2020-09-08T12:02:30.667Z' },
    },
    decisionHistoriesForReviewersEnabled: true,
  },
};

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

/** A Graph SDK client for a demo user, pointed at Stagecoach instead of graph.microsoft.com. */
async function graphClient(userId: string, admin = false): Promise<Client> {
  const token = await stack.token(userId, admin);
  return Client.initWithMiddleware({
    baseUrl: `${stack.baseUrl}/`,
    defaultVersion: 'v1.0',
    middleware: [new BearerToken(token), new RetryHandler(), new RedirectHandler(), new HTTPMessageHandler()],
  });
}

/** The GraphError an SDK call fails with. */
async function graphError(call: Promise<unknown>): Promise<GraphError> {
  try {
    await call;
  } catch (err) {
    if (err instanceof GraphError) return err;
    throw err;
  }
  throw new Error('expected the call to fail');
}

interface Item {
  id: string;
  decision: string;
  justification: string | null;
  reviewedBy: { id: string } | null;
  principal: { id: string };
}
const byPrincipal = (items: Item[]) => Object.fromEntries(items.map((i) => [i.principal.id, i]));
const REVIEWS = '/identityGovernance/accessReviews';

describe('the Microsoft Graph JavaScript SDK against Stagecoach', () => {
  it('runs Example 4 from the Graph docs: create, list instances, decide, stop stage 1, read decisions', async () => {
    const admin = await graphClient(DEMO.PATTI, true);
    const created = await admin.api(`${REVIEWS}/definitions`).post(EXAMPLE_4);
    expect(created).toMatchObject({
      displayName: 'Group Multi-stage Access Review',
      descriptionForReviewers: 'If you have any questions, contact jerry@contoso.com',
      stageSettings: [
        { stageId: '1', decisionsThatWillMoveToNextStage: ['NotReviewed', 'Approve'] },
        { stageId: '2', dependsOn: ['1'], recommendationsEnabled: true },
      ],
      settings: {
        decisionHistoriesForReviewersEnabled: true,
        recurrence: {
          pattern: { type: 'weekly', interval: 1 },
          range: { type: 'noEnd', startDate: '2020-09-08' },
        },
      },
    });
    const definitionId = created.id as string;
    expect(created['@odata.context']).toContain(
      '$metadata#identityGovernance/accessReviews/definitions/$entity',
    );

    const instances = await until(
      () => admin.api(`${REVIEWS}/definitions/${definitionId}/instances`).get(),
      (r: { value: { id: string; status: string }[] }) =>
        r.value.length === 1 && r.value[0]!.status === 'InProgress',
      'instance InProgress',
    );
    const instanceId = instances.value[0]!.id;
    const instance = `${REVIEWS}/definitions/${definitionId}/instances/${instanceId}`;
    await until(
      () => admin.api(`${instance}/stages/1`).get(),
      (s: { status: string }) => s.status === 'InProgress',
      'stage 1 InProgress',
    );

    // Stage 1: Debra sees every member, approves Lee and denies Enrico.
    const debra = await graphClient(DEMO.DEBRA);
    const mine = await debra.api(`${instance}/decisions/filterByCurrentUser(on='reviewer')`).top(100).get();
    expect(mine.value).toHaveLength(FINANCE_TEAM_SIZE);
    const items = byPrincipal(mine.value as Item[]);
    await debra
      .api(`${instance}/decisions/${items[DEMO.LEE]!.id}`)
      .patch({ decision: 'Approve', justification: 'still in finance' });
    await debra
      .api(`${instance}/decisions/${items[DEMO.ENRICO]!.id}`)
      .patch({ decision: 'Deny', justification: 'inactive' });
    const invalid = await graphError(
      debra.api(`${instance}/decisions/${items[DEMO.LAURA]!.id}`).patch({ decision: 'Maybe' }),
    );
    expect({ status: invalid.statusCode, code: invalid.code }).toEqual({
      status: 400,
      code: 'request.invalid_body',
    });
    const notMine = await graphError(
      (await graphClient(DEMO.DIEGO))
        .api(`${instance}/decisions/${items[DEMO.LAURA]!.id}`)
        .patch({ decision: 'Deny' }),
    );
    expect({ status: notMine.statusCode, code: notMine.code }).toEqual({
      status: 403,
      code: 'review.not_a_reviewer',
    });

    await until(
      () => admin.api(`${instance}/decisions`).filter("decision eq 'Deny'").get(),
      (r: { value: Item[] }) => r.value.length === 1,
      'Enrico denied',
    );
    const denied = await admin
      .api(`${instance}/decisions`)
      .filter("decision eq 'Deny'")
      .select(['decision', 'principal'])
      .count(true)
      .get();
    expect(denied['@odata.count']).toBe(1);
    expect(denied.value).toEqual([
      {
        id: items[DEMO.ENRICO]!.id,
        decision: 'Deny',
        principal: expect.objectContaining({ id: DEMO.ENRICO }),
      },
    ]);

    // The admin stops stage 1; stage 2 (managers) starts at once without the denied reviewee.
    await admin.api(`${instance}/stages/1/stop`).post({});
    const stages = await until(
      () => admin.api(`${instance}/stages`).get(),
      (r: { value: { id: string; status: string }[] }) => r.value[1]?.status === 'InProgress',
      'stage 2 InProgress',
    );
    expect(stages.value.map((s) => [s.id, s.status])).toEqual([
      ['1', 'Completed'],
      ['2', 'InProgress'],
    ]);
    const stage2 = await admin.api(`${instance}/stages/2/decisions`).top(100).get();
    expect(stage2.value).toHaveLength(FINANCE_TEAM_SIZE - 1);
    expect(Object.keys(byPrincipal(stage2.value as Item[]))).not.toContain(DEMO.ENRICO);

    // Diego reviews his reports in stage 2 and, with decision histories on, sees Debra's stage 1 decisions.
    const diego = await graphClient(DEMO.DIEGO);
    const diegoItems = await diego
      .api(`${instance}/stages/2/decisions/filterByCurrentUser(on='reviewer')`)
      .get();
    expect((diegoItems.value as Item[]).map((i) => i.principal.id).sort()).toEqual(
      DIEGO_REPORTS_IN_FINANCE.filter((id) => id !== DEMO.ENRICO).sort(),
    );
    const history = byPrincipal(
      (await diego.api(`${instance}/stages/1/decisions`).top(100).get()).value as Item[],
    );
    expect(history[DEMO.LEE]).toMatchObject({
      decision: 'Approve',
      justification: 'still in finance',
      reviewedBy: { id: DEMO.DEBRA },
    });
    await diego
      .api(`${instance}/stages/2/decisions/${items[DEMO.LEE]!.id}`)
      .patch({ decision: 'Deny', justification: 'moving to sales' });
    const lee = await until(
      () => diego.api(`${instance}/decisions/${items[DEMO.LEE]!.id}`).get(),
      (d: Item) => d.decision === 'Deny',
      'Lee denied in stage 2',
    );
    expect(lee).toMatchObject({ justification: 'moving to sales', reviewedBy: { id: DEMO.DIEGO } });
    const stage1Lee = await admin.api(`${instance}/stages/1/decisions/${items[DEMO.LEE]!.id}`).get();
    expect(stage1Lee.decision).toBe('Approve');
  });

  it("surfaces Stagecoach's error bodies as GraphError with status, code, request id and date", async () => {
    const reviewer = await graphClient(DEMO.LEE);
    const forbidden = await graphError(reviewer.api(`${REVIEWS}/definitions`).get());
    expect(forbidden).toMatchObject({ statusCode: 403, code: 'auth.admin_required' });
    // The SDK reads request-id and date from Graph's innerError; without one its requestId stays null.
    expect(forbidden.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(Math.abs(forbidden.date.getTime() - Date.now())).toBeLessThan(60_000);
    const hidden = await graphError(reviewer.api(`/users/${DEMO.PATTI}`).get());
    expect(hidden).toMatchObject({ statusCode: 403, code: 'directory.not_visible' });
    const admin = await graphClient(DEMO.PATTI, true);
    const missing = await graphError(admin.api('/users/nobody').get());
    expect(missing).toMatchObject({ statusCode: 404, code: 'directory.user_not_found' });
    const invalid = await graphError(admin.api(`${REVIEWS}/definitions`).post({ displayName: 'no scope' }));
    expect(invalid.statusCode).toBe(400);
    expect(invalid.code).toBe('request.invalid_body');
    expect(invalid.message).toContain('scope');
  });

  it('gets 401 auth.invalid_token when the default chain withholds the token from a plain-http host', async () => {
    const token = await stack.token(DEMO.PATTI, true);
    const client = Client.init({
      authProvider: (done) => done(null, token),
      baseUrl: `${stack.baseUrl}/`,
      defaultVersion: 'v1.0',
      customHosts: new Set(['127.0.0.1']),
    });
    const err = await graphError(client.api(`${REVIEWS}/definitions`).get());
    expect({ status: err.statusCode, code: err.code }).toEqual({ status: 401, code: 'auth.invalid_token' });
  });
});
