import { definitionInputSchema } from '../../src/domain/definition-schema';
import { AppError } from '../../src/domain/errors';
import type { ReviewPlan } from '../../src/domain/review-plan';
import { compileDefinition, shortestRecurrenceDays } from '../../src/domain/validate-definition';

type Body = Record<string, unknown> & {
  scope: Record<string, unknown>;
  settings: Record<string, unknown>;
  stageSettings?: Record<string, unknown>[];
};

const GROUP_SCOPE = { query: '/groups/g1/transitiveMembers', queryType: 'MicrosoftGraph' };
const GUEST_SCOPE = {
  query: "/groups/g1/transitiveMembers/microsoft.graph.user/?$count=true&$filter=(userType eq 'Guest')",
  queryType: 'MicrosoftGraph',
};
const APP_SCOPE = { query: '/servicePrincipals/sp1/appRoleAssignedTo', queryType: 'MicrosoftGraph' };

const stage = (n: number, extra: Record<string, unknown> = {}) => ({
  stageId: String(n),
  dependsOn: n === 1 ? [] : [String(n - 1)],
  durationInDays: 2,
  reviewers: [{ query: '/users/auditor', queryType: 'MicrosoftGraph' }],
  ...extra,
});

const weekly = (interval: number) => ({
  pattern: { type: 'weekly', interval },
  range: { type: 'noEnd', startDate: '2025-01-06' },
});
const monthly = (interval: number) => ({
  pattern: { type: 'absoluteMonthly', interval, dayOfMonth: 1 },
  range: { type: 'noEnd', startDate: '2025-01-01' },
});

/** A valid two-stage definition body that each case changes in one place. */
function body(change: (b: Body) => void = () => {}): Body {
  const b: Body = {
    displayName: 'Quarterly finance review',
    scope: { ...GROUP_SCOPE },
    reviewers: [],
    settings: { instanceDurationInDays: 0 },
    stageSettings: [stage(1), stage(2)],
  };
  change(b);
  return b;
}

const compile = (b: Body): ReviewPlan => compileDefinition('def-1', definitionInputSchema.parse(b));

function compileError(b: Body): AppError {
  try {
    compile(b);
  } catch (err) {
    if (err instanceof AppError) return err;
    throw new Error(`expected an AppError, got ${String(err)}`);
  }
  throw new Error('expected the definition to be rejected');
}

describe('compileDefinition accepts valid definitions', () => {
  it.each<[string, Body, (plan: ReviewPlan) => void]>([
    [
      'a single-stage review without stageSettings, lasting instanceDurationInDays',
      body((b) => {
        delete b.stageSettings;
        b.settings.instanceDurationInDays = 14;
      }),
      (plan) => {
        expect(plan.stages).toHaveLength(1);
        expect(plan.stages[0]).toMatchObject({
          stageId: '1',
          durationInDays: 14,
          reviewers: [],
          decisionsThatWillMoveToNextStage: null,
        });
      },
    ],
    [
      'three sequential stages, keeping their order, durations and filters',
      body((b) => {
        b.stageSettings = [
          stage(1, { durationInDays: 3, decisionsThatWillMoveToNextStage: ['NotReviewed', 'DontKnow'] }),
          stage(2, { durationInDays: 4, decisionsThatWillMoveToNextStage: ['Approve', 'Approve'] }),
          stage(3, { durationInDays: 5 }),
        ];
      }),
      (plan) => {
        expect(plan.stages.map((s) => [s.stageId, s.durationInDays])).toEqual([
          ['1', 3],
          ['2', 4],
          ['3', 5],
        ]);
        expect(plan.stages.map((s) => s.decisionsThatWillMoveToNextStage)).toEqual([
          ['NotReviewed', 'DontKnow'],
          ['Approve'],
          null,
        ]);
      },
    ],
    [
      'stage durations that exactly fill a weekly×2 recurrence (14 days)',
      body((b) => {
        b.settings.recurrence = weekly(2);
        b.stageSettings = [stage(1, { durationInDays: 10 }), stage(2, { durationInDays: 4 })];
      }),
      (plan) => expect(plan.stages.reduce((sum, s) => sum + s.durationInDays, 0)).toBe(14),
    ],
    [
      'a 28-day review on a monthly recurrence (February is the shortest month)',
      body((b) => {
        b.settings.recurrence = monthly(1);
        b.stageSettings = [stage(1, { durationInDays: 28 })];
      }),
      (plan) => expect(plan.stages[0]?.durationInDays).toBe(28),
    ],
    [
      'an 89-day review on a quarterly (absoluteMonthly×3) recurrence',
      body((b) => {
        b.settings.recurrence = monthly(3);
        b.stageSettings = [
          stage(1, { durationInDays: 30 }),
          stage(2, { durationInDays: 30 }),
          stage(3, { durationInDays: 29 }),
        ];
      }),
      (plan) => expect(plan.stages).toHaveLength(3),
    ],
    [
      'disableAndDeleteUserApplyAction on a guests-only scope, compiled into the disable-and-delete deny action',
      body((b) => {
        b.scope = { ...GUEST_SCOPE };
        b.settings.applyActions = [{ '@odata.type': '#microsoft.graph.disableAndDeleteUserApplyAction' }];
      }),
      (plan) => {
        expect(plan.scope).toEqual({ resource: { type: 'group', id: 'g1' }, principals: 'guests' });
        expect(plan.settings.denyAction).toBe('disableAndDeleteUser');
      },
    ],
    [
      'removeAccessApplyAction on any scope, compiled into the remove-access deny action',
      body((b) => {
        b.settings.applyActions = [{ '@odata.type': '#microsoft.graph.removeAccessApplyAction' }];
      }),
      (plan) => expect(plan.settings.denyAction).toBe('removeAccess'),
    ],
    [
      'an application scope with a 30-day look-back (the maximum for applications)',
      body((b) => {
        b.scope = { ...APP_SCOPE };
        b.settings.recommendationsEnabled = true;
        b.settings.recommendationLookBackDuration = 'P30D';
      }),
      (plan) => {
        expect(plan.scope.resource).toEqual({ type: 'application', id: 'sp1' });
        expect(plan.stages.map((s) => s.recommendationLookBackDays)).toEqual([30, 30]);
      },
    ],
    [
      'a group scope with a 90-day look-back, and a stage overriding it',
      body((b) => {
        b.settings.recommendationLookBackDuration = 'P90D';
        b.stageSettings = [stage(1, { recommendationLookBackDuration: 'P2W' }), stage(2)];
      }),
      (plan) => expect(plan.stages.map((s) => s.recommendationLookBackDays)).toEqual([14, 90]),
    ],
    [
      'a look-back from userLastSignIn insight settings, which win over recommendationLookBackDuration',
      body((b) => {
        const lastSignIn = (d: string) => [
          {
            '@odata.type': '#microsoft.graph.userLastSignInRecommendationInsightSetting',
            recommendationLookBackDuration: d,
          },
        ];
        b.settings.recommendationLookBackDuration = 'P90D';
        b.settings.recommendationInsightSettings = lastSignIn('P60D');
        b.stageSettings = [
          stage(1, {
            recommendationLookBackDuration: 'P2W',
            recommendationInsightSettings: lastSignIn('P7D'),
          }),
          stage(2, { recommendationInsightsSettings: lastSignIn('P5D') }),
          stage(3, { recommendationLookBackDuration: 'P3D' }),
        ];
      }),
      (plan) => expect(plan.stages.map((s) => s.recommendationLookBackDays)).toEqual([7, 5, 3]),
    ],
    [
      'the definition-wide insight look-back for stages that set none',
      body((b) => {
        b.settings.recommendationInsightSettings = [
          {
            '@odata.type': '#microsoft.graph.userLastSignInRecommendationInsightSetting',
            recommendationLookBackDuration: 'P45D',
          },
          { '@odata.type': '#microsoft.graph.groupPeerOutlierRecommendationInsightSettings' },
        ];
        b.stageSettings = [stage(1), stage(2)];
      }),
      (plan) => expect(plan.stages.map((s) => s.recommendationLookBackDays)).toEqual([45, 45]),
    ],
    [
      'a default look-back of 30 days when none is given',
      body(),
      (plan) => expect(plan.stages.map((s) => s.recommendationLookBackDays)).toEqual([30, 30]),
    ],
    [
      'an inactive-users scope with its inactiveDuration in days',
      body((b) => {
        b.scope = {
          '@odata.type': '#microsoft.graph.accessReviewInactiveUsersQueryScope',
          query: '/groups/g1/members',
          inactiveDuration: 'P60D',
        };
      }),
      (plan) =>
        expect(plan.scope).toEqual({
          resource: { type: 'group', id: 'g1' },
          principals: 'all',
          inactiveDays: 60,
        }),
    ],
    [
      'defaultDecisionEnabled with defaultDecision Recommendation',
      body((b) => {
        b.settings.defaultDecisionEnabled = true;
        b.settings.defaultDecision = 'Recommendation';
      }),
      (plan) =>
        expect(plan.settings).toMatchObject({
          defaultDecisionEnabled: true,
          defaultDecision: 'Recommendation',
        }),
    ],
    [
      'every supported reviewer query form, with /v1.0 and full-URL prefixes',
      body((b) => {
        b.stageSettings = [
          stage(1, {
            reviewers: [
              { query: './manager', queryType: 'MicrosoftGraph', queryRoot: 'decisions' },
              { query: '/v1.0/users/u1' },
              { query: '/groups/g2/owners' },
              { query: 'https://graph.microsoft.com/v1.0/servicePrincipals/sp9/owners' },
              { query: '/groups/g3/transitiveMembers' },
            ],
            fallbackReviewers: [{ query: '/users/fallback' }],
          }),
        ];
      }),
      (plan) => {
        expect(plan.stages[0]?.reviewers).toEqual([
          { kind: 'manager' },
          { kind: 'user', userId: 'u1' },
          { kind: 'groupOwners', groupId: 'g2' },
          { kind: 'applicationOwners', applicationId: 'sp9' },
          { kind: 'groupMembers', groupId: 'g3' },
        ]);
        expect(plan.stages[0]?.fallbackReviewers).toEqual([{ kind: 'user', userId: 'fallback' }]);
      },
    ],
    [
      'a numbered recurrence with one occurrence',
      body((b) => {
        b.settings.recurrence = {
          pattern: { type: 'weekly', interval: 1 },
          range: { type: 'numbered', startDate: '2025-01-06', numberOfOccurrences: 1 },
        };
      }),
      (plan) => expect(plan.stages).toHaveLength(2),
    ],
    [
      'an endDate recurrence ending on its start date',
      body((b) => {
        b.settings.recurrence = {
          pattern: { type: 'weekly', interval: 1 },
          range: { type: 'endDate', startDate: '2025-01-06', endDate: '2025-01-06' },
        };
      }),
      (plan) => expect(plan.stages).toHaveLength(2),
    ],
  ])('accepts %s', (_name, input, check) => {
    const plan = compile(input);
    expect(plan.definitionId).toBe('def-1');
    expect(plan.displayName).toBe('Quarterly finance review');
    check(plan);
  });

  it('copies the review settings into the plan', () => {
    const plan = compile(
      body((b) => {
        b.settings = {
          ...b.settings,
          justificationRequiredOnApproval: true,
          autoApplyDecisionsEnabled: true,
          decisionHistoriesForReviewersEnabled: true,
          mailNotificationsEnabled: false,
          reminderNotificationsEnabled: false,
          defaultDecisionEnabled: true,
          defaultDecision: 'Deny',
        };
      }),
    );
    expect(plan.settings).toEqual({
      justificationRequiredOnApproval: true,
      defaultDecisionEnabled: true,
      defaultDecision: 'Deny',
      autoApplyDecisionsEnabled: true,
      decisionHistoriesForReviewersEnabled: true,
      mailNotificationsEnabled: false,
      reminderNotificationsEnabled: false,
      denyAction: 'removeAccess',
    });
  });
});

describe('compileDefinition rejects definitions that break R1, R2, R8, R11 with a 400 naming the field', () => {
  it.each<[string, Body, string[]]>([
    [
      'four stages',
      body((b) => {
        b.stageSettings = [stage(1), stage(2), stage(3), stage(4)];
      }),
      ['stageSettings', 'at most 3', 'got 4'],
    ],
    [
      "a first stage whose stageId is not '1'",
      body((b) => {
        b.stageSettings = [stage(2, { dependsOn: [] })];
      }),
      ['stageSettings[0].stageId', "stageId '1'", "got '2'"],
    ],
    [
      'stages out of order',
      body((b) => {
        b.stageSettings = [stage(1), stage(3, { dependsOn: ['1'] })];
      }),
      ['stageSettings[1].stageId', "stageId '2'", "got '3'"],
    ],
    [
      'a non-numeric stageId',
      body((b) => {
        b.stageSettings = [stage(1, { stageId: 'first' })];
      }),
      ['stageSettings[0].stageId'],
    ],
    [
      'a first stage that depends on another stage',
      body((b) => {
        b.stageSettings = [stage(1, { dependsOn: ['0'] }), stage(2)];
      }),
      ['stageSettings[0].dependsOn', "stage '1' must not depend"],
    ],
    [
      'a second stage that depends on nothing',
      body((b) => {
        b.stageSettings = [stage(1), stage(2, { dependsOn: [] })];
      }),
      ['stageSettings[1].dependsOn', "exactly ['1']"],
    ],
    [
      'a third stage that depends on stage 1 instead of stage 2',
      body((b) => {
        b.stageSettings = [stage(1), stage(2), stage(3, { dependsOn: ['1'] })];
      }),
      ['stageSettings[2].dependsOn', "exactly ['2']"],
    ],
    [
      'a stage that depends on two stages',
      body((b) => {
        b.stageSettings = [stage(1), stage(2), stage(3, { dependsOn: ['1', '2'] })];
      }),
      ['stageSettings[2].dependsOn'],
    ],
    [
      'stages lasting 8 days on a weekly recurrence',
      body((b) => {
        b.settings.recurrence = weekly(1);
        b.stageSettings = [stage(1, { durationInDays: 4 }), stage(2, { durationInDays: 4 })];
      }),
      ['stageSettings.durationInDays', '8 days', 'weekly', '(7 days)'],
    ],
    [
      'stages lasting 22 days on a weekly×3 recurrence',
      body((b) => {
        b.settings.recurrence = weekly(3);
        b.stageSettings = [stage(1, { durationInDays: 20 }), stage(2, { durationInDays: 2 })];
      }),
      ['stageSettings.durationInDays', '22 days', '(21 days)'],
    ],
    [
      'a 29-day review on a monthly recurrence',
      body((b) => {
        b.settings.recurrence = monthly(1);
        b.stageSettings = [stage(1, { durationInDays: 29 })];
      }),
      ['stageSettings.durationInDays', '29 days', 'absoluteMonthly', '(28 days)'],
    ],
    [
      'a 90-day review on a quarterly recurrence',
      body((b) => {
        b.settings.recurrence = monthly(3);
        b.stageSettings = [stage(1, { durationInDays: 45 }), stage(2, { durationInDays: 45 })];
      }),
      ['stageSettings.durationInDays', '90 days', '(89 days)'],
    ],
    [
      'an instanceDurationInDays longer than a weekly recurrence when there are no stageSettings',
      body((b) => {
        delete b.stageSettings;
        b.settings.instanceDurationInDays = 8;
        b.settings.recurrence = weekly(1);
      }),
      ['settings.instanceDurationInDays', '8 days'],
    ],
    [
      'no stageSettings and no instanceDurationInDays',
      body((b) => {
        delete b.stageSettings;
      }),
      ['settings.instanceDurationInDays', 'at least 1'],
    ],
    [
      'a numbered recurrence with zero occurrences',
      body((b) => {
        b.settings.recurrence = { ...weekly(1), range: { type: 'numbered', startDate: '2025-01-06' } };
      }),
      ['settings.recurrence.range.numberOfOccurrences'],
    ],
    [
      'an endDate recurrence without an endDate',
      body((b) => {
        b.settings.recurrence = { ...weekly(1), range: { type: 'endDate', startDate: '2025-01-06' } };
      }),
      ['settings.recurrence.range.endDate'],
    ],
    [
      'an endDate recurrence ending before it starts',
      body((b) => {
        b.settings.recurrence = {
          ...weekly(1),
          range: { type: 'endDate', startDate: '2025-01-06', endDate: '2025-01-05' },
        };
      }),
      ['settings.recurrence.range.endDate', 'not before startDate'],
    ],
    [
      'disableAndDeleteUserApplyAction on a scope of all users',
      body((b) => {
        b.settings.applyActions = [{ '@odata.type': '#microsoft.graph.disableAndDeleteUserApplyAction' }];
      }),
      ['settings.applyActions', 'disableAndDeleteUserApplyAction', 'guest users only'],
    ],
    [
      "disableAndDeleteUserApplyAction with a member filter ($filter=(userType eq 'Member'))",
      body((b) => {
        b.scope = { query: "/groups/g1/transitiveMembers?$filter=(userType eq 'Member')" };
        b.settings.applyActions = [{ '@odata.type': '#microsoft.graph.disableAndDeleteUserApplyAction' }];
      }),
      ['settings.applyActions', 'guest users only'],
    ],
    [
      'two apply actions',
      body((b) => {
        b.scope = { ...GUEST_SCOPE };
        b.settings.applyActions = [
          { '@odata.type': '#microsoft.graph.removeAccessApplyAction' },
          { '@odata.type': '#microsoft.graph.disableAndDeleteUserApplyAction' },
        ];
      }),
      ['settings.applyActions', 'at most one'],
    ],
    [
      'defaultDecisionEnabled with defaultDecision None',
      body((b) => {
        b.settings.defaultDecisionEnabled = true;
        b.settings.defaultDecision = 'None';
      }),
      ['settings.defaultDecision', 'Approve, Deny or Recommendation'],
    ],
    [
      'a 31-day look-back for an application scope',
      body((b) => {
        b.scope = { ...APP_SCOPE };
        b.settings.recommendationLookBackDuration = 'P31D';
      }),
      ['stageSettings[0].recommendationLookBackDuration', 'at most 30 days'],
    ],
    [
      'a 5-week look-back on one stage of an application review',
      body((b) => {
        b.scope = { ...APP_SCOPE };
        b.stageSettings = [stage(1), stage(2, { recommendationLookBackDuration: 'P5W' })];
      }),
      ['stageSettings[1].recommendationLookBackDuration', 'at most 30 days'],
    ],
    [
      'a 2-month look-back for a single-stage application review',
      body((b) => {
        delete b.stageSettings;
        b.scope = { ...APP_SCOPE };
        b.settings.instanceDurationInDays = 7;
        b.settings.recommendationLookBackDuration = 'P2M';
      }),
      ['settings.recommendationLookBackDuration', 'at most 30 days'],
    ],
    [
      'an inactive-users scope without inactiveDuration',
      body((b) => {
        b.scope = {
          '@odata.type': '#microsoft.graph.accessReviewInactiveUsersQueryScope',
          query: '/groups/g1/members',
        };
      }),
      ['scope.inactiveDuration'],
    ],
    [
      'an inactive-users scope with a zero inactiveDuration',
      body((b) => {
        b.scope = {
          '@odata.type': '#microsoft.graph.accessReviewInactiveUsersQueryScope',
          query: '/groups/g1/members',
          inactiveDuration: 'P0D',
        };
      }),
      ['scope.inactiveDuration', 'above zero'],
    ],
    [
      'an unsupported scope query',
      body((b) => {
        b.scope = { query: '/users' };
      }),
      ['scope.query', "unsupported scope query '/users'"],
    ],
    [
      'a scope query on group owners',
      body((b) => {
        b.scope = { query: '/groups/g1/owners' };
      }),
      ['scope.query'],
    ],
    [
      'a scope query with malformed percent-encoding',
      body((b) => {
        b.scope = { query: '/groups/g1/transitiveMembers?$filter=%E0%A4%A' };
      }),
      ['scope.query', 'percent-encoding'],
    ],
    [
      'an unsupported reviewer query in a stage',
      body((b) => {
        b.stageSettings = [stage(1), stage(2, { reviewers: [{ query: '/me' }] })];
      }),
      ['stageSettings[1].reviewers[0]', "unsupported reviewer query '/me'"],
    ],
    [
      'an unsupported fallback reviewer query in a stage',
      body((b) => {
        b.stageSettings = [
          stage(1, { fallbackReviewers: [{ query: '/users/u1' }, { query: '/groups/g1' }] }),
        ];
      }),
      ['stageSettings[0].fallbackReviewers[1]'],
    ],
    [
      'an unsupported top-level reviewer query in a single-stage review',
      body((b) => {
        delete b.stageSettings;
        b.settings.instanceDurationInDays = 7;
        b.reviewers = [{ query: '/directoryRoles/r1/members' }];
      }),
      ['reviewers[0]'],
    ],
    [
      "a manager reviewer whose queryRoot is not 'decisions'",
      body((b) => {
        delete b.stageSettings;
        b.settings.instanceDurationInDays = 7;
        b.fallbackReviewers = [{ query: './manager', queryRoot: 'reviewers' }];
      }),
      ['fallbackReviewers[0]', "queryRoot for './manager' must be 'decisions'"],
    ],
  ])('rejects %s', (_name, input, fragments) => {
    const err = compileError(input);
    expect(err.status).toBe(400);
    expect(err.code).toBe('definition.invalid');
    for (const fragment of fragments) expect(err.message).toContain(fragment);
  });
});

describe('definitionInputSchema rejects values outside the Graph enums and shapes, naming the field', () => {
  const issuePaths = (input: unknown): string[] => {
    const result = definitionInputSchema.safeParse(input);
    if (result.success) return [];
    return result.error.issues.map((i) => i.path.join('.'));
  };

  it.each<[string, Body, string]>([
    [
      "decisionsThatWillMoveToNextStage: ['Maybe']",
      body((b) => {
        b.stageSettings = [stage(1, { decisionsThatWillMoveToNextStage: ['Approve', 'Maybe'] }), stage(2)];
      }),
      'stageSettings.0.decisionsThatWillMoveToNextStage.1',
    ],
    [
      "recurrence pattern 'daily'",
      body((b) => {
        b.settings.recurrence = { ...weekly(1), pattern: { type: 'daily', interval: 1 } };
      }),
      'settings.recurrence.pattern.type',
    ],
    [
      "recurrence range 'forever'",
      body((b) => {
        b.settings.recurrence = { ...weekly(1), range: { type: 'forever', startDate: '2025-01-06' } };
      }),
      'settings.recurrence.range.type',
    ],
    [
      'a recurrence start date that is not a date',
      body((b) => {
        b.settings.recurrence = { ...weekly(1), range: { type: 'noEnd', startDate: 'next monday' } };
      }),
      'settings.recurrence.range.startDate',
    ],
    [
      'an unknown apply action @odata.type',
      body((b) => {
        b.settings.applyActions = [{ '@odata.type': '#microsoft.graph.notifyOwnerApplyAction' }];
      }),
      'settings.applyActions.0.@odata.type',
    ],
    [
      "defaultDecision 'Maybe'",
      body((b) => {
        b.settings.defaultDecision = 'Maybe';
      }),
      'settings.defaultDecision',
    ],
    [
      'a stage lasting 0 days',
      body((b) => {
        b.stageSettings = [stage(1, { durationInDays: 0 })];
      }),
      'stageSettings.0.durationInDays',
    ],
    [
      'a fractional stage duration',
      body((b) => {
        b.stageSettings = [stage(1, { durationInDays: 1.5 })];
      }),
      'stageSettings.0.durationInDays',
    ],
    [
      'a look-back that is not an ISO 8601 duration',
      body((b) => {
        b.settings.recommendationLookBackDuration = '30 days';
      }),
      'settings.recommendationLookBackDuration',
    ],
    [
      "an empty ISO 8601 duration 'P'",
      body((b) => {
        b.stageSettings = [stage(1, { recommendationLookBackDuration: 'P' })];
      }),
      'stageSettings.0.recommendationLookBackDuration',
    ],
    [
      'an unknown scope @odata.type',
      body((b) => {
        b.scope = {
          '@odata.type': '#microsoft.graph.principalResourceMembershipsScope',
          query: '/groups/g1/members',
        };
      }),
      'scope.@odata.type',
    ],
    [
      'an empty scope query',
      body((b) => {
        b.scope = { query: '' };
      }),
      'scope.query',
    ],
    [
      'an empty reviewer query',
      body((b) => {
        b.stageSettings = [stage(1, { reviewers: [{ query: '' }] })];
      }),
      'stageSettings.0.reviewers.0.query',
    ],
    [
      'a blank displayName',
      body((b) => {
        b.displayName = '   ';
      }),
      'displayName',
    ],
    [
      "a queryType other than 'MicrosoftGraph'",
      body((b) => {
        b.scope = { query: '/groups/g1/members', queryType: 'OData' };
      }),
      'scope.queryType',
    ],
  ])('rejects %s', (_name, input, path) => {
    expect(issuePaths(input)).toContain(path);
  });

  it('fills Graph defaults for omitted settings', () => {
    const parsed = definitionInputSchema.parse({ displayName: 'x', scope: GROUP_SCOPE });
    expect(parsed.settings).toMatchObject({
      defaultDecisionEnabled: false,
      defaultDecision: 'None',
      justificationRequiredOnApproval: false,
      decisionHistoriesForReviewersEnabled: false,
      autoApplyDecisionsEnabled: false,
      mailNotificationsEnabled: true,
      applyActions: [],
    });
    expect(parsed.reviewers).toEqual([]);
  });
});

describe('shortestRecurrenceDays (R2 limit)', () => {
  it.each<[string, number, number]>([
    ['weekly', 1, 7],
    ['weekly', 4, 28],
    ['absoluteMonthly', 1, 28],
    ['absoluteMonthly', 2, 59],
    ['absoluteMonthly', 3, 89],
    ['absoluteMonthly', 6, 181],
    ['absoluteMonthly', 12, 365],
  ])('a %s×%i recurrence allows at most %i days', (type, interval, days) => {
    const recurrence = definitionInputSchema.parse(
      body((b) => {
        b.settings.recurrence = {
          pattern: { type, interval },
          range: { type: 'noEnd', startDate: '2025-01-01' },
        };
      }),
    ).settings.recurrence;
    expect(recurrence).toBeDefined();
    expect(shortestRecurrenceDays(recurrence!)).toBe(days);
  });
});
