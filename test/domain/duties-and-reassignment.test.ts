import { definitionInputSchema } from '../../src/domain/definition-schema';
import { AppError } from '../../src/domain/errors';
import { DAY_MS } from '../../src/domain/review-plan';
import { checkDecision, pendingByReviewer, planReassign, reviewersOf } from '../../src/domain/review-rules';
import { stagePoints } from '../../src/domain/review-schedule';
import { restoreState, snapshotState } from '../../src/domain/review-snapshot';
import { compileDefinition } from '../../src/domain/validate-definition';
import { ReviewBuilder, planWith, T0 } from './review-fixtures';

const definition = (overrides: Record<string, unknown> = {}, stage: Record<string, unknown> = {}) =>
  compileDefinition(
    'definition-1',
    definitionInputSchema.parse({
      displayName: 'Finance group review',
      scope: { query: '/groups/g-finance/transitiveMembers' },
      settings: { ...overrides },
      stageSettings: [
        {
          stageId: '1',
          durationInDays: 10,
          reviewers: [{ query: '/groups/g-finance/owners' }],
          fallbackReviewers: [{ query: '/users/auditor' }],
          ...stage,
        },
      ],
    }),
  );

const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err instanceof AppError ? err.message : String(err);
  }
  return 'accepted';
};

describe('stagePoints: when a stage reminds and escalates by itself', () => {
  const start = T0;
  const at = (days: number) => Date.parse(start) + days * DAY_MS;

  it('reminds halfway through the stage when reminders are on, as Entra does', () => {
    expect(stagePoints(definition(), 0, start)).toEqual([{ key: 'halfway', kind: 'reminder', at: at(5) }]);
  });

  it('adds reminderDaysBeforeDue and the escalation in time order', () => {
    const plan = definition(
      { reminderDaysBeforeDue: [1, 3] },
      { escalation: { daysBeforeEnd: 2, escalateTo: 'managers' } },
    );
    expect(stagePoints(plan, 0, start).map((p) => [p.key, (p.at - Date.parse(start)) / DAY_MS])).toEqual([
      ['halfway', 5],
      ['due-3', 7],
      ['escalation', 8],
      ['due-1', 9],
    ]);
  });

  it('sends no reminder without mail or reminder notifications, but still escalates', () => {
    for (const settings of [{ reminderNotificationsEnabled: false }, { mailNotificationsEnabled: false }]) {
      const plan = definition(
        { ...settings, reminderDaysBeforeDue: [1] },
        { escalation: { daysBeforeEnd: 2, escalateTo: 'managers' } },
      );
      expect(stagePoints(plan, 0, start).map((p) => p.key)).toEqual(['escalation']);
    }
  });

  it('keeps one reminder when two fall on the same moment', () => {
    const plan = definition({ reminderDaysBeforeDue: [5] });
    expect(stagePoints(plan, 0, start).map((p) => [p.kind, p.at])).toEqual([['reminder', at(5)]]);
  });
});

/** A one-stage definition whose end-of-review notice goes to these Graph recipient queries. */
const withRecipients = (...queries: string[]) =>
  definitionInputSchema.parse({
    displayName: 'x',
    scope: { query: '/groups/g1/transitiveMembers' },
    settings: { instanceDurationInDays: 3 },
    additionalNotificationRecipients: queries.map((query) => ({
      notificationTemplateType: 'CompletedAdditionalRecipients',
      notificationRecipientScope: { query, queryType: 'MicrosoftGraph' },
    })),
  });

describe('definitions: notification, escalation and separation-of-duties settings', () => {
  it('compiles additionalNotificationRecipients from Graph queries', () => {
    const plan = definition();
    expect(plan.settings.additionalNotificationRecipients).toBeUndefined();
    const body = withRecipients('/v1.0/users/u-cfo', '/groups/g-audit/members');
    expect(compileDefinition('d', body).settings.additionalNotificationRecipients).toEqual([
      { kind: 'user', userId: 'u-cfo' },
      { kind: 'groupMembers', groupId: 'g-audit' },
    ]);
  });

  it('refuses a recipient query it cannot resolve, naming the field', () => {
    const body = withRecipients('./manager');
    expect(refusal(() => compileDefinition('d', body))).toMatch(
      /^additionalNotificationRecipients\[0\]\.notificationRecipientScope\.query: /,
    );
  });

  it('refuses an escalation that is not before the end of its stage, or to fallback reviewers a stage lacks', () => {
    expect(refusal(() => definition({}, { escalation: { daysBeforeEnd: 10 } }))).toMatch(
      /^stageSettings\[0\]\.escalation\.daysBeforeEnd: must be less than/,
    );
    expect(
      refusal(() =>
        definition(
          {},
          { fallbackReviewers: [], escalation: { daysBeforeEnd: 2, escalateTo: 'fallbackReviewers' } },
        ),
      ),
    ).toMatch(/^stageSettings\[0\]\.escalation\.escalateTo: /);
  });

  it('refuses reminder days that fall before every stage start', () => {
    expect(refusal(() => definition({ reminderDaysBeforeDue: [10] }))).toMatch(
      /^settings\.reminderDaysBeforeDue: 10 days/,
    );
  });

  it('keeps separation of duties as set, at definition or stage level', () => {
    expect(definition().stages[0]!.separationOfDuties).toBeUndefined();
    expect(definition({ separationOfDutiesEnabled: false }).stages[0]!.separationOfDuties).toBe(false);
    expect(
      definition({ separationOfDutiesEnabled: false }, { separationOfDutiesEnabled: true }).stages[0]!
        .separationOfDuties,
    ).toBe(true);
  });
});

describe('separation of duties and reassignment in the review state', () => {
  /** Stage 1 reviewed by the owner `owner`, who is also a member; `auditor` got the owner's own item. */
  function ownerIsMember() {
    const b = new ReviewBuilder(planWith()).start(['alice', 'owner']);
    b.emit({
      type: 'StageStarted',
      at: T0,
      stageIndex: 0,
      itemIds: [b.item('alice'), b.item('owner')],
      sharedReviewerIds: ['owner'],
      reviewersByItem: { [b.item('owner')]: ['auditor'] },
      noReviewerItemIds: [],
      recommendations: {},
      people: {},
      excludedByItem: { [b.item('owner')]: ['owner'] },
    });
    return b;
  }

  it("refuses the owner's decision on his own membership with 403 review.own_access", () => {
    const b = ownerIsMember();
    expect(checkDecision(b.state, 'owner', { itemId: b.item('owner'), decision: 'Approve' })).toMatchObject({
      code: 'review.own_access',
      status: 403,
    });
    expect(checkDecision(b.state, 'owner', { itemId: b.item('alice'), decision: 'Approve' })).toBeUndefined();
    expect(
      checkDecision(b.state, 'auditor', { itemId: b.item('owner'), decision: 'Approve' }),
    ).toBeUndefined();
    expect(reviewersOf(b.state.stages[0]!, b.item('owner'))).toEqual(['auditor']);
  });

  it('hands an item to another reviewer for this stage, keeping who, from whom, when and why', () => {
    const b = ownerIsMember();
    const plan = planReassign(b.state, {
      viewer: { kind: 'reviewer', userId: 'owner' },
      itemIds: [b.item('alice')],
      fromReviewerId: 'owner',
      toReviewerId: 'carol',
      justification: 'Carol leads that team',
    });
    expect(plan).toMatchObject({ ok: true, stageId: '1', itemIds: [b.item('alice')] });
    b.emit({
      type: 'ItemsReassigned',
      at: '2025-03-04T09:00:00.000Z',
      by: 'owner',
      stageIndex: 0,
      itemIds: [b.item('alice')],
      fromReviewerId: 'owner',
      toReviewerId: 'carol',
      justification: 'Carol leads that team',
      people: { carol: { displayName: 'Carol', userPrincipalName: 'carol@contoso.com' } },
    });
    const stage = b.state.stages[0]!;
    expect(reviewersOf(stage, b.item('alice'))).toEqual(['carol']);
    expect(checkDecision(b.state, 'owner', { itemId: b.item('alice'), decision: 'Approve' })).toMatchObject({
      code: 'review.not_a_reviewer',
    });
    expect(pendingByReviewer(b.state)).toEqual({ carol: 1, auditor: 1 });
    const item = b.state.items.get(b.item('alice'))!;
    expect(item.reassignments).toEqual([
      {
        stageId: '1',
        at: '2025-03-04T09:00:00.000Z',
        by: 'owner',
        fromReviewerId: 'owner',
        toReviewerId: 'carol',
        justification: 'Carol leads that team',
      },
    ]);
    // Packed for continue-as-new and back: the reassignment and the exclusions survive.
    const restored = restoreState(snapshotState(b.state));
    expect(restored.items.get(b.item('alice'))!.reassignments).toEqual(item.reassignments);
    expect(reviewersOf(restored.stages[0]!, b.item('alice'))).toEqual(['carol']);
  });

  it.each([
    ['the reviewee’s own item', 'owner', 'owner', 'carol', 'review.not_a_reviewer', 403],
    ['an item to its reviewee', 'owner', 'alice', 'alice', 'review.reassign_not_allowed', 409],
    ['an item the caller does not review', 'mallory', 'alice', 'carol', 'review.not_a_reviewer', 403],
    ['an item to the reviewer it comes from', 'owner', 'alice', 'owner', 'review.reassign_not_allowed', 409],
  ])('refuses to reassign %s', (_what, caller, principal, to, code, status) => {
    const b = ownerIsMember();
    expect(
      planReassign(b.state, {
        viewer: { kind: 'reviewer', userId: caller },
        itemIds: [b.item(principal)],
        fromReviewerId: caller,
        toReviewerId: to,
        justification: 'why',
      }),
    ).toMatchObject({ ok: false, violation: { code, status } });
  });

  it('refuses to reassign an item the review does not have with 404', () => {
    const b = ownerIsMember();
    expect(
      planReassign(b.state, {
        viewer: { kind: 'admin', userId: 'admin' },
        itemIds: ['nope'],
        fromReviewerId: 'owner',
        toReviewerId: 'c',
        justification: 'why',
      }),
    ).toMatchObject({ ok: false, violation: { code: 'review.decision_not_found', status: 404 } });
  });

  it('lets an administrator take an item from every reviewer it has', () => {
    const b = ownerIsMember();
    const plan = planReassign(b.state, {
      viewer: { kind: 'admin', userId: 'admin' },
      itemIds: [b.item('owner')],
      fromReviewerId: null,
      toReviewerId: 'carol',
      justification: 'auditor is away',
    });
    expect(plan).toMatchObject({ ok: true });
    b.emit({
      type: 'ItemsReassigned',
      at: T0,
      by: 'admin',
      stageIndex: 0,
      itemIds: [b.item('owner')],
      fromReviewerId: null,
      toReviewerId: 'carol',
      justification: 'auditor is away',
      people: {},
    });
    expect(reviewersOf(b.state.stages[0]!, b.item('owner'))).toEqual(['carol']);
  });

  it('adds escalated reviewers to undecided items and marks the escalation done', () => {
    const b = ownerIsMember();
    b.emit({
      type: 'ReviewersEscalated',
      at: T0,
      stageIndex: 0,
      added: { [b.item('alice')]: ['boss'] },
      people: { boss: { displayName: 'Boss', userPrincipalName: 'boss@contoso.com' } },
      to: 'managers',
    });
    const stage = b.state.stages[0]!;
    expect(reviewersOf(stage, b.item('alice'))).toEqual(['owner', 'boss']);
    expect(stage.pointsDone).toEqual(['escalation']);
    expect(b.state.contacted.has('boss')).toBe(true);
  });
});
