import { Api, DEMO, REVIEWS } from '../helpers/api-fixtures';
import type { Stack } from '../helpers/stack';
import { startStack } from '../helpers/stack';

// A Graph SDK picks the model of a polymorphic object by its `@odata.type`: definitions created without
// it (as most clients write them) must be answered with it, or the SDK reads the base type and loses the
// properties. Recommendation insight settings travel under Graph's name at both levels.

let stack: Stack;
let api: Api;
beforeAll(async () => {
  stack = await startStack();
  api = new Api(stack);
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

const graph = { queryType: 'MicrosoftGraph' };
const lastSignIn = (d: string) => [
  {
    '@odata.type': '#microsoft.graph.userLastSignInRecommendationInsightSetting',
    recommendationLookBackDuration: d,
  },
];

describe('Graph types on definitions, instances and decision items', () => {
  it('answers every scope, reviewer scope and stage with its @odata.type, also when the client sent none', async () => {
    const admin = await api.admin();
    const body = {
      displayName: 'Untyped two-stage review',
      scope: { query: `/groups/${DEMO.FINANCE}/transitiveMembers`, ...graph },
      stageSettings: [
        {
          stageId: '1',
          durationInDays: 2,
          reviewers: [{ query: `/users/${DEMO.DEBRA}`, ...graph }],
          recommendationsEnabled: true,
          recommendationInsightsSettings: lastSignIn('P10D'),
        },
        {
          stageId: '2',
          dependsOn: ['1'],
          durationInDays: 2,
          reviewers: [{ query: './manager', queryRoot: 'decisions', ...graph }],
          fallbackReviewers: [{ query: `/groups/${DEMO.AUDITORS}/transitiveMembers`, ...graph }],
        },
      ],
      settings: { instanceDurationInDays: 0, recommendationInsightSettings: lastSignIn('P20D') },
    };
    const created = await api.http().post(`${REVIEWS}/definitions`).set(admin).send(body);
    expect(created.status).toBe(201);
    const read = await api.http().get(`${REVIEWS}/definitions/${created.body.id}`).set(admin);
    for (const definition of [created.body, read.body]) {
      expect(definition.scope['@odata.type']).toBe('#microsoft.graph.accessReviewQueryScope');
      expect(definition.stageSettings.map((s: { '@odata.type': string }) => s['@odata.type'])).toEqual([
        '#microsoft.graph.accessReviewStageSettings',
        '#microsoft.graph.accessReviewStageSettings',
      ]);
      const scopes = definition.stageSettings.flatMap(
        (s: { reviewers: object[]; fallbackReviewers: object[] }) => [...s.reviewers, ...s.fallbackReviewers],
      );
      expect(scopes).toHaveLength(3);
      expect(
        scopes.every(
          (r: Record<string, unknown>) => r['@odata.type'] === '#microsoft.graph.accessReviewReviewerScope',
        ),
      ).toBe(true);
      // The stage's insight settings under Graph's name, whichever spelling the client used.
      expect(definition.stageSettings[0].recommendationInsightSettings).toEqual(lastSignIn('P10D'));
      expect(definition.stageSettings[0]).not.toHaveProperty('recommendationInsightsSettings');
      expect(definition.settings.recommendationInsightSettings).toEqual(lastSignIn('P20D'));
    }

    const list = await api.http().get(`${REVIEWS}/definitions/${created.body.id}/instances`).set(admin);
    expect(list.body.value[0]?.scope?.['@odata.type']).toBe('#microsoft.graph.accessReviewQueryScope');
    await api.http().delete(`${REVIEWS}/definitions/${created.body.id}`).set(admin).expect(204);
  });

  it('types an inactive-users scope sent without @odata.type as accessReviewInactiveUsersQueryScope', async () => {
    const admin = await api.admin();
    const created = await api
      .http()
      .post(`${REVIEWS}/definitions`)
      .set(admin)
      .send({
        displayName: 'Inactive members',
        scope: { query: `/groups/${DEMO.FINANCE}/transitiveMembers`, inactiveDuration: 'P30D', ...graph },
        settings: { instanceDurationInDays: 3 },
      });
    expect(created.status).toBe(201);
    expect(created.body.scope['@odata.type']).toBe('#microsoft.graph.accessReviewInactiveUsersQueryScope');
    await api.http().delete(`${REVIEWS}/definitions/${created.body.id}`).set(admin).expect(204);
  });

  it.each([
    [
      'a group review',
      `/groups/${DEMO.FINANCE}/transitiveMembers`,
      '#microsoft.graph.accessReviewInstanceDecisionItemResource',
    ],
    [
      'an application review',
      `/servicePrincipals/${DEMO.SALESFORCE}/appRoleAssignedTo`,
      '#microsoft.graph.accessReviewInstanceDecisionItemServicePrincipalResource',
    ],
  ])('types the resource of the decision items of %s', async (_what, query, type) => {
    const admin = await api.admin();
    const review = await api.startReview({
      displayName: 'Resource types',
      scope: { query, ...graph },
      reviewers: [{ query: `/users/${DEMO.DEBRA}`, ...graph }],
      settings: { instanceDurationInDays: 3 },
    });
    const items = Object.values(await api.decisionsByPrincipal(review.base));
    expect(items.length).toBeGreaterThan(0);
    const resources = await api.http().get(`${review.base}/decisions`).set(admin);
    const typed = (resources.body.value as { resource: Record<string, unknown> }[]).map(
      (i) => i.resource['@odata.type'],
    );
    expect(new Set(typed)).toEqual(new Set([type]));
    await api.http().post(`${review.base}/stop`).set(admin).expect(204);
  });
});
