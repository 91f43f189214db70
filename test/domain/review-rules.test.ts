import type { RecommendationValue } from '../../src/domain/recommendations';
import type { DecisionValue, ReviewerDecision } from '../../src/domain/review-events';
import type { MoveOnValue } from '../../src/domain/review-plan';
import type { DecisionRequest, Viewer } from '../../src/domain/review-rules';
import {
  checkDecision,
  itemsMovingOn,
  recommendationDecisions,
  reviewersWithPendingItems,
} from '../../src/domain/review-rules';
import type { ItemState } from '../../src/domain/review-state';
import { finalDecisionOf, replay } from '../../src/domain/review-state';
import type { DecisionItemView } from '../../src/domain/review-views';
import { getDecision, instanceView, listDecisions } from '../../src/domain/review-views';
import type { PlanOptions } from './review-fixtures';
import { principal, principalsOf, planWith, ReviewBuilder } from './review-fixtures';

const admin: Viewer = { kind: 'admin', userId: 'admin' };
const reviewer = (userId: string): Viewer => ({ kind: 'reviewer', userId });

describe('checkDecision (R5)', () => {
  /**
   * Stage 1 reviews alice, bob and carol: manager-1 reviews alice and bob, carol reviews herself, and
   * auditor is a shared reviewer of every item. Only alice moves on to stage 2, reviewed by owner-2.
   */
  function review(options: PlanOptions = {}) {
    const b = new ReviewBuilder(planWith({ filters: [null, undefined], ...options }));
    b.start(['alice', 'bob', 'carol']);
    return b;
  }
  const inStage1 = (options: PlanOptions = {}) =>
    review(options).startStage(0, {
      principals: ['alice', 'bob', 'carol'],
      shared: ['auditor'],
      byPrincipal: { alice: ['manager-1'], bob: ['manager-1'], carol: ['carol'] },
    });
  const inStage2 = () =>
    inStage1()
      .completeStage()
      .startStage(1, { principals: ['alice'], byPrincipal: { alice: ['owner-2'] } });

  const ok = undefined;
  const violation = (code: string, status: number) => expect.objectContaining({ code, status });

  it.each<
    [string, () => ReviewBuilder, string, string, ReviewerDecision, string | null | undefined, unknown]
  >([
    [
      'lets the assigned manager approve in stage 1',
      inStage1,
      'manager-1',
      'alice',
      'Approve',
      undefined,
      ok,
    ],
    [
      'lets a shared reviewer deny any item of the stage',
      inStage1,
      'auditor',
      'carol',
      'Deny',
      undefined,
      ok,
    ],
    ['lets a self-reviewer decide their own item', inStage1, 'carol', 'carol', 'DontKnow', undefined, ok],
    [
      "refuses a self-reviewer deciding someone else's item",
      inStage1,
      'carol',
      'alice',
      'Approve',
      'x',
      violation('review.not_a_reviewer', 403),
    ],
    [
      'refuses someone who reviews nothing',
      inStage1,
      'mallory',
      'bob',
      'Deny',
      'x',
      violation('review.not_a_reviewer', 403),
    ],
    [
      'refuses an unknown item with 404 even before the review starts',
      () => review(),
      'manager-1',
      'nobody',
      'Approve',
      'x',
      violation('review.decision_not_found', 404),
    ],
    [
      'refuses an unknown item with 404 during a stage',
      inStage1,
      'auditor',
      'nobody',
      'Approve',
      'x',
      violation('review.decision_not_found', 404),
    ],
    [
      'refuses decisions before the first stage starts with 409',
      () => review(),
      'manager-1',
      'alice',
      'Approve',
      'x',
      violation('review.stage_not_in_progress', 409),
    ],
    [
      'refuses decisions between stages with 409',
      () => inStage1().completeStage(),
      'manager-1',
      'alice',
      'Approve',
      'x',
      violation('review.stage_not_in_progress', 409),
    ],
    [
      'refuses decisions once the instance completed with 409',
      () => inStage2().completeStage().completeInstance(),
      'owner-2',
      'alice',
      'Approve',
      'x',
      violation('review.stage_not_in_progress', 409),
    ],
    [
      'refuses a stage-1 reviewer deciding in stage 2',
      inStage2,
      'manager-1',
      'alice',
      'Approve',
      'x',
      violation('review.not_a_reviewer', 403),
    ],
    [
      'lets the stage-2 reviewer decide an item that moved on',
      inStage2,
      'owner-2',
      'alice',
      'Deny',
      undefined,
      ok,
    ],
    [
      'refuses deciding an item that did not move on to the current stage',
      inStage2,
      'manager-1',
      'bob',
      'Deny',
      'x',
      violation('review.not_a_reviewer', 403),
    ],
    [
      'refuses the shared stage-1 reviewer once stage 2 started',
      inStage2,
      'auditor',
      'alice',
      'Deny',
      'x',
      violation('review.not_a_reviewer', 403),
    ],
    [
      'refuses an approval without justification when one is required',
      () => inStage1({ justificationRequiredOnApproval: true }),
      'manager-1',
      'alice',
      'Approve',
      undefined,
      violation('review.justification_required', 400),
    ],
    [
      'refuses an approval with a blank justification when one is required',
      () => inStage1({ justificationRequiredOnApproval: true }),
      'manager-1',
      'alice',
      'Approve',
      '   ',
      violation('review.justification_required', 400),
    ],
    [
      'accepts an approval with a justification when one is required',
      () => inStage1({ justificationRequiredOnApproval: true }),
      'manager-1',
      'alice',
      'Approve',
      'still in the finance team',
      ok,
    ],
    [
      'accepts a denial without justification when justification is required on approval only',
      () => inStage1({ justificationRequiredOnApproval: true }),
      'manager-1',
      'alice',
      'Deny',
      null,
      ok,
    ],
    [
      'reports not_a_reviewer before a missing justification',
      () => inStage1({ justificationRequiredOnApproval: true }),
      'mallory',
      'alice',
      'Approve',
      undefined,
      violation('review.not_a_reviewer', 403),
    ],
  ])('%s', (_name, build, reviewerId, principalId, decision, justification, expected) => {
    const b = build();
    const request: DecisionRequest = { itemId: b.item(principalId), decision, justification };
    expect(checkDecision(b.state, reviewerId, request)).toEqual(expected);
  });

  it('names the justification field in the justification_required message', () => {
    const b = inStage1({ justificationRequiredOnApproval: true });
    const v = checkDecision(b.state, 'manager-1', { itemId: b.item('alice'), decision: 'Approve' });
    expect(v?.message).toMatch(/^justification:/);
  });
});

describe('itemsMovingOn (R6)', () => {
  /**
   * Stage-1 decisions: ann Approve, ben Deny, cat DontKnow, dan nothing (NotReviewed),
   * eve Approve by accepting the recommendation, fay Approve then Deny (last wins),
   * gus Deny accepted from the recommendation then Approve by a reviewer (source reviewer).
   */
  function afterStage1(filter: MoveOnValue[] | null | undefined) {
    const b = new ReviewBuilder(planWith({ filters: [filter, undefined] }));
    const everyone = ['ann', 'ben', 'cat', 'dan', 'eve', 'fay', 'gus'];
    b.start(everyone).startStage(0, {
      principals: everyone,
      shared: ['r1'],
      recommendations: { eve: 'Approve', gus: 'Deny' },
    });
    b.decide('ann', 'Approve', 'r1')
      .decide('ben', 'Deny', 'r1')
      .decide('cat', 'DontKnow', 'r1')
      .decide('eve', 'Approve', 'r1', { source: 'recommendation' })
      .decide('fay', 'Approve', 'r1')
      .decide('fay', 'Deny', 'r1')
      .decide('gus', 'Deny', 'r1', { source: 'recommendation' })
      .decide('gus', 'Approve', 'r1')
      .completeStage();
    return b;
  }

  it.each<[string, MoveOnValue[] | null | undefined, string[]]>([
    [
      'moves every reviewee to stage 2 when the filter is omitted',
      undefined,
      ['ann', 'ben', 'cat', 'dan', 'eve', 'fay', 'gus'],
    ],
    [
      'moves every reviewee to stage 2 when the filter is null',
      null,
      ['ann', 'ben', 'cat', 'dan', 'eve', 'fay', 'gus'],
    ],
    [
      'moves only approved reviewees (by reviewer or by recommendation) to stage 2',
      ['Approve'],
      ['ann', 'eve', 'gus'],
    ],
    ['moves only denied reviewees to stage 2, by their last decision', ['Deny'], ['ben', 'fay']],
    ['moves only NotReviewed and DontKnow reviewees to stage 2', ['NotReviewed', 'DontKnow'], ['cat', 'dan']],
    ['moves only NotReviewed reviewees to stage 2', ['NotReviewed'], ['dan']],
    ['moves only reviewees decided by accepting a recommendation to stage 2', ['Recommendation'], ['eve']],
    [
      'moves denied reviewees and accepted recommendations to stage 2',
      ['Deny', 'Recommendation'],
      ['ben', 'eve', 'fay'],
    ],
    ['moves nobody when the filter is an empty list', [], []],
  ])('%s', (_name, filter, expected) => {
    const b = afterStage1(filter);
    expect(principalsOf(b.state, itemsMovingOn(b.state, 0))).toEqual(expected);
  });

  it('selects from the items of that stage only, by their decision in that stage', () => {
    const b = new ReviewBuilder(planWith({ filters: [['Approve'], ['Approve'], undefined] }));
    b.start(['ann', 'ben', 'cat']).startStage(0, { principals: ['ann', 'ben', 'cat'], shared: ['r1'] });
    b.decide('ann', 'Approve', 'r1')
      .decide('ben', 'Approve', 'r1')
      .decide('cat', 'Deny', 'r1')
      .completeStage();
    expect(principalsOf(b.state, itemsMovingOn(b.state, 0))).toEqual(['ann', 'ben']);
    b.startStageWithItems(1, itemsMovingOn(b.state, 0), { shared: ['r2'] });
    // ann's stage-1 Approve does not count in stage 2: nothing recorded there means NotReviewed.
    b.decide('ben', 'Approve', 'r2').completeStage();
    expect(principalsOf(b.state, itemsMovingOn(b.state, 1))).toEqual(['ben']);
  });

  it('treats decisions wiped by resetDecisions as NotReviewed', () => {
    const b = new ReviewBuilder(planWith({ filters: [['NotReviewed'], undefined] }));
    b.start(['ann', 'ben']).startStage(0, { principals: ['ann', 'ben'], shared: ['r1'] });
    b.decide('ann', 'Approve', 'r1').decide('ben', 'Deny', 'r1').resetDecisions().decide('ben', 'Deny', 'r1');
    b.completeStage();
    expect(principalsOf(b.state, itemsMovingOn(b.state, 0))).toEqual(['ann']);
  });

  it('returns nothing for a stage the plan does not have', () => {
    const b = afterStage1(null);
    expect(itemsMovingOn(b.state, 5)).toEqual([]);
  });
});

describe('final decision on InstanceCompleted (R9)', () => {
  interface Case {
    options?: PlanOptions;
    /** Decisions per stage for the reviewee 'ann': [decision, source] in order; undefined = stage not reached. */
    stages: ([ReviewerDecision, 'reviewer' | 'recommendation'][] | undefined)[];
    recommendations?: (RecommendationValue | undefined)[];
    expected: { decision: DecisionValue; source: string };
  }
  const r = (d: ReviewerDecision): [ReviewerDecision, 'reviewer'] => [d, 'reviewer'];

  it.each<[string, Case]>([
    [
      'keeps a single approval',
      { stages: [[r('Approve')]], expected: { decision: 'Approve', source: 'reviewer' } },
    ],
    [
      'keeps the last of several decisions in the same stage',
      {
        stages: [[r('Deny'), r('DontKnow'), r('Approve')]],
        expected: { decision: 'Approve', source: 'reviewer' },
      },
    ],
    [
      "lets stage 2's decision overwrite stage 1's",
      { stages: [[r('Deny')], [r('Approve')]], expected: { decision: 'Approve', source: 'reviewer' } },
    ],
    [
      "lets stage 3's decision overwrite stages 1 and 2",
      {
        stages: [[r('Approve')], [r('Approve')], [r('Deny')]],
        expected: { decision: 'Deny', source: 'reviewer' },
      },
    ],
    [
      'keeps the stage-1 decision of an item that reached stage 2 but got no decision there',
      { stages: [[r('Approve')], []], expected: { decision: 'Approve', source: 'reviewer' } },
    ],
    [
      'keeps an earlier recorded decision over the default decision when later stages recorded nothing',
      {
        options: { defaultDecisionEnabled: true, defaultDecision: 'Deny' },
        stages: [[r('Approve')], [], []],
        expected: { decision: 'Approve', source: 'reviewer' },
      },
    ],
    [
      "keeps stage 2's decision when stage 3 recorded nothing",
      { stages: [[r('Approve')], [r('Deny')], []], expected: { decision: 'Deny', source: 'reviewer' } },
    ],
    [
      "lets a later stage's DontKnow overwrite an earlier Deny",
      { stages: [[r('Deny')], [r('DontKnow')]], expected: { decision: 'DontKnow', source: 'reviewer' } },
    ],
    [
      'gives the default Deny to an item no stage decided',
      {
        options: { defaultDecisionEnabled: true, defaultDecision: 'Deny' },
        stages: [[], [], []],
        expected: { decision: 'Deny', source: 'defaultDecision' },
      },
    ],
    [
      'gives the default Approve to an item nobody decided',
      {
        options: { defaultDecisionEnabled: true, defaultDecision: 'Approve' },
        stages: [[]],
        expected: { decision: 'Approve', source: 'defaultDecision' },
      },
    ],
    [
      'ignores defaultDecision when defaultDecisionEnabled is false',
      {
        options: { defaultDecisionEnabled: false, defaultDecision: 'Deny' },
        stages: [[]],
        expected: { decision: 'NotReviewed', source: 'none' },
      },
    ],
    [
      'takes a Deny recommendation as the default decision',
      {
        options: { defaultDecisionEnabled: true, defaultDecision: 'Recommendation' },
        stages: [[]],
        recommendations: ['Deny'],
        expected: { decision: 'Deny', source: 'defaultDecision' },
      },
    ],
    [
      'takes an Approve recommendation as the default decision',
      {
        options: { defaultDecisionEnabled: true, defaultDecision: 'Recommendation' },
        stages: [[]],
        recommendations: ['Approve'],
        expected: { decision: 'Approve', source: 'defaultDecision' },
      },
    ],
    [
      'leaves NotReviewed when the recommendation default finds NoInfoAvailable',
      {
        options: { defaultDecisionEnabled: true, defaultDecision: 'Recommendation' },
        stages: [[]],
        recommendations: ['NoInfoAvailable'],
        expected: { decision: 'NotReviewed', source: 'none' },
      },
    ],
    [
      'leaves NotReviewed when the recommendation default finds no recommendation',
      {
        options: { defaultDecisionEnabled: true, defaultDecision: 'Recommendation' },
        stages: [[]],
        expected: { decision: 'NotReviewed', source: 'none' },
      },
    ],
    [
      'uses the recommendation of the last stage the item reached for the default',
      {
        options: { defaultDecisionEnabled: true, defaultDecision: 'Recommendation' },
        stages: [[], []],
        recommendations: ['Approve', 'Deny'],
        expected: { decision: 'Deny', source: 'defaultDecision' },
      },
    ],
    [
      'keeps DontKnow (no change at apply) even with a default decision',
      {
        options: { defaultDecisionEnabled: true, defaultDecision: 'Deny' },
        stages: [[r('DontKnow')]],
        expected: { decision: 'DontKnow', source: 'reviewer' },
      },
    ],
    [
      'records an accepted recommendation with source recommendation',
      {
        stages: [[['Deny', 'recommendation']]],
        recommendations: ['Deny'],
        expected: { decision: 'Deny', source: 'recommendation' },
      },
    ],
    [
      "keeps a reviewer's decision over an earlier accepted recommendation in the same stage",
      {
        stages: [[['Deny', 'recommendation'], r('Approve')]],
        recommendations: ['Deny'],
        expected: { decision: 'Approve', source: 'reviewer' },
      },
    ],
  ])('%s', (_name, c) => {
    const b = new ReviewBuilder(planWith({ filters: [null, null, null], ...c.options }));
    b.start(['ann']);
    c.stages.forEach((decisions, i) => {
      if (!decisions) return;
      const rec = c.recommendations?.[i];
      b.startStage(i, { principals: ['ann'], shared: [`r${i}`], recommendations: rec ? { ann: rec } : {} });
      for (const [d, source] of decisions) b.decide('ann', d, `r${i}`, { source, justification: 'because' });
      b.completeStage();
    });
    b.completeInstance();
    expect(b.finalOf('ann')).toEqual(c.expected);
    expect(b.state.status).toBe('Completed');
  });

  it('keeps the decision of the stage where an item stopped when it did not move on', () => {
    const b = new ReviewBuilder(
      planWith({ filters: [['Deny'], undefined], defaultDecisionEnabled: true, defaultDecision: 'Deny' }),
    );
    b.start(['ann', 'ben']).startStage(0, { principals: ['ann', 'ben'], shared: ['r1'] });
    b.decide('ann', 'Approve', 'r1').decide('ben', 'Deny', 'r1').completeStage();
    b.startStageWithItems(1, itemsMovingOn(b.state, 0), { shared: ['r2'] });
    b.decide('ben', 'Approve', 'r2').completeStage().completeInstance();
    expect(b.finalOf('ann')).toEqual({ decision: 'Approve', source: 'reviewer' });
    expect(b.finalOf('ben')).toEqual({ decision: 'Approve', source: 'reviewer' });
  });

  it('uses the decisions of the stage in progress when the instance is stopped early', () => {
    const b = new ReviewBuilder(planWith({ filters: [null, undefined] }));
    b.start(['ann', 'ben']).startStage(0, { principals: ['ann', 'ben'], shared: ['r1'] });
    b.decide('ann', 'Deny', 'r1').completeStage('instanceStopped').completeInstance('stoppedByAdmin');
    expect(b.finalOf('ann')).toEqual({ decision: 'Deny', source: 'reviewer' });
    expect(b.finalOf('ben')).toEqual({ decision: 'NotReviewed', source: 'none' });
    expect(b.state.stages[1]?.status).toBe('NotStarted');
  });

  it("falls back to the stage-1 decision when stage 2's decisions are reset", () => {
    const b = new ReviewBuilder(planWith({ filters: [null, undefined] }));
    b.start(['ann'])
      .startStage(0, { principals: ['ann'], shared: ['r1'] })
      .decide('ann', 'Deny', 'r1');
    b.completeStage()
      .startStage(1, { principals: ['ann'], shared: ['r2'] })
      .decide('ann', 'Approve', 'r2');
    b.resetDecisions().completeStage().completeInstance();
    expect(b.finalOf('ann')).toEqual({ decision: 'Deny', source: 'reviewer' });
  });

  it('applies the default to reviewees of an instance stopped before any stage started', () => {
    const b = new ReviewBuilder(
      planWith({ filters: [undefined], defaultDecisionEnabled: true, defaultDecision: 'Approve' }),
    );
    b.start(['ann']).completeInstance('stoppedByAdmin');
    expect(b.finalOf('ann')).toEqual({ decision: 'Approve', source: 'defaultDecision' });
  });

  it('shows the final decision at instance level and the stage decision at stage level', () => {
    const b = new ReviewBuilder(planWith({ filters: [null, undefined] }));
    b.start(['ann'])
      .startStage(0, { principals: ['ann'], shared: ['r1'] })
      .decide('ann', 'Deny', 'r1');
    b.completeStage()
      .startStage(1, { principals: ['ann'], shared: ['r2'] })
      .decide('ann', 'Approve', 'r2');
    b.completeStage().completeInstance();
    const decisionsOf = (stageId?: string) => {
      const page = listDecisions(b.state, { viewer: admin, stageId, skip: 0, top: 10 });
      if ('code' in page) throw new Error(page.message);
      return page.value.map((v) => v.decision);
    };
    expect(decisionsOf()).toEqual(['Approve']);
    expect(decisionsOf('1')).toEqual(['Deny']);
    expect(decisionsOf('2')).toEqual(['Approve']);
    expect(instanceView(b.state).counts).toMatchObject({ Approve: 1, Deny: 0, total: 1 });
  });

  it('finalDecisionOf takes the latest decision of the stages the item took part in', () => {
    const plan = planWith({
      filters: [null, null],
      defaultDecisionEnabled: true,
      defaultDecision: 'Approve',
    });
    const item = (lastStage: number, decisions: Record<number, ReviewerDecision>): ItemState => ({
      id: 'i',
      principal: principal('ann'),
      lastStage,
      stageDecisions: Object.fromEntries(
        Object.entries(decisions).map(([k, d]) => [
          k,
          {
            decision: d,
            justification: '',
            reviewerId: 'r',
            reviewedDateTime: '',
            source: 'reviewer' as const,
          },
        ]),
      ),
    });
    expect(finalDecisionOf(item(0, { 0: 'Deny', 1: 'DontKnow' }), plan)).toEqual({
      decision: 'Deny',
      source: 'reviewer',
    });
    expect(finalDecisionOf(item(1, { 0: 'Deny' }), plan)).toEqual({ decision: 'Deny', source: 'reviewer' });
    expect(finalDecisionOf(item(2, { 0: 'Approve', 1: 'Deny' }), plan)).toEqual({
      decision: 'Deny',
      source: 'reviewer',
    });
    expect(finalDecisionOf(item(-1, {}), plan)).toEqual({ decision: 'Approve', source: 'defaultDecision' });
  });
});

describe('listDecisions: decision history visibility (R7)', () => {
  /**
   * Stage 1: m1 reviews p1 and p2, m2 reviews p3; m1 approves p1 ("still needed"), denies p2, m2 approves p3.
   * Stage 2 (everyone moves on, now in progress): o1 reviews p1 and p3, m1 reviews p2 and p3.
   */
  function twoStageReview(historiesEnabled: boolean, finishStage2 = false) {
    const b = new ReviewBuilder(
      planWith({ filters: [null, undefined], decisionHistoriesForReviewersEnabled: historiesEnabled }),
    );
    b.start(['p1', 'p2', 'p3']).startStage(0, {
      principals: ['p1', 'p2', 'p3'],
      byPrincipal: { p1: ['m1'], p2: ['m1'], p3: ['m2'] },
    });
    b.decide('p1', 'Approve', 'm1', { justification: 'still needed' })
      .decide('p2', 'Deny', 'm1', { justification: 'left the team' })
      .decide('p3', 'Approve', 'm2', { justification: 'on call' })
      .completeStage();
    b.startStageWithItems(1, itemsMovingOn(b.state, 0), {
      byPrincipal: { p1: ['o1'], p2: ['m1'], p3: ['o1', 'm1'] },
    });
    if (finishStage2) b.completeStage().completeInstance();
    return b;
  }

  const list = (b: ReviewBuilder, viewer: Viewer, stageId?: string): DecisionItemView[] => {
    const page = listDecisions(b.state, { viewer, stageId, skip: 0, top: 100 });
    if ('code' in page) throw new Error(`unexpected ${page.code}`);
    expect(page.total).toBe(page.value.length);
    return page.value;
  };
  const principalIds = (views: DecisionItemView[]) => views.map((v) => v.principal.id).sort();

  it.each<[string, boolean, Viewer, string | undefined, string[]]>([
    [
      "hides earlier stages' decisions from a later-stage reviewer when histories are disabled",
      false,
      reviewer('o1'),
      '1',
      [],
    ],
    [
      'shows a stage-1 reviewer their own stage-1 items when histories are disabled',
      false,
      reviewer('m1'),
      '1',
      ['p1', 'p2'],
    ],
    ['shows another stage-1 reviewer only their own stage-1 items', false, reviewer('m2'), '1', ['p3']],
    [
      'shows a later-stage reviewer the earlier decisions of their current items when enabled',
      true,
      reviewer('o1'),
      '1',
      ['p1', 'p3'],
    ],
    [
      'shows a reviewer their own earlier items plus their current items when enabled',
      true,
      reviewer('m1'),
      '1',
      ['p1', 'p2', 'p3'],
    ],
    [
      'shows nothing of stage 1 to someone who reviews nothing, even when enabled',
      true,
      reviewer('mallory'),
      '1',
      [],
    ],
    ['shows admins every stage-1 item when histories are disabled', false, admin, '1', ['p1', 'p2', 'p3']],
    ['shows a stage-2 reviewer their stage-2 items', false, reviewer('o1'), '2', ['p1', 'p3']],
    [
      'shows a reviewer only their current items at instance level',
      false,
      reviewer('m1'),
      undefined,
      ['p2', 'p3'],
    ],
    ['shows admins every item at instance level', false, admin, undefined, ['p1', 'p2', 'p3']],
  ])('%s', (_name, enabled, viewer, stageId, expected) => {
    expect(principalIds(list(twoStageReview(enabled), viewer, stageId))).toEqual(expected);
  });

  it("shows the stage-1 decision and justification, not the current one, in a later reviewer's history", () => {
    const views = list(twoStageReview(true), reviewer('o1'), '1');
    expect(views.map((v) => [v.principal.id, v.decision, v.justification, v.reviewedBy?.id])).toEqual([
      ['p1', 'Approve', 'still needed', 'm1'],
      ['p3', 'Approve', 'on call', 'm2'],
    ]);
  });

  it('does not leak stage-1 justifications to a later-stage reviewer at instance level', () => {
    const views = list(twoStageReview(false), reviewer('o1'));
    expect(views.map((v) => [v.decision, v.justification, v.reviewedBy])).toEqual([
      ['NotReviewed', null, null],
      ['NotReviewed', null, null],
    ]);
  });

  it('refuses a single earlier-stage decision to a later-stage reviewer when histories are disabled', () => {
    const b = twoStageReview(false);
    expect(getDecision(b.state, reviewer('o1'), b.item('p1'), '1')).toMatchObject({
      code: 'review.not_a_reviewer',
      status: 403,
    });
    expect(getDecision(b.state, reviewer('o1'), b.item('p1'), '2')).toMatchObject({
      decision: 'NotReviewed',
    });
  });

  it('returns 404 stage.not_found for a stage the review does not have', () => {
    expect(
      listDecisions(twoStageReview(true).state, { viewer: admin, stageId: '3', skip: 0, top: 10 }),
    ).toMatchObject({ code: 'stage.not_found', status: 404 });
  });

  it('filters by decision and pages with skip/top, counting every match in total', () => {
    const b = twoStageReview(false);
    const page = listDecisions(b.state, {
      viewer: admin,
      stageId: '1',
      decision: 'Approve',
      skip: 1,
      top: 1,
    });
    if ('code' in page) throw new Error(page.code);
    expect(page.total).toBe(2);
    expect(page.value.map((v) => v.principal.id)).toEqual(['p3']);
  });
});

describe('recommendationDecisions (R8, acceptRecommendations)', () => {
  function stage2() {
    const b = new ReviewBuilder(planWith({ filters: [null, undefined] }));
    const everyone = ['ann', 'ben', 'cat', 'dan', 'eve'];
    b.start(everyone).startStage(0, { principals: everyone, shared: ['r1'] });
    b.decide('ann', 'Approve', 'r1').completeStage();
    b.startStageWithItems(1, itemsMovingOn(b.state, 0), {
      byPrincipal: { ann: ['o1'], ben: ['o1'], cat: ['o1'], dan: ['o2'], eve: ['o1'] },
      recommendations: { ann: 'Deny', ben: 'Approve', cat: 'NoInfoAvailable', dan: 'Deny', eve: 'Deny' },
    });
    b.decide('eve', 'Approve', 'o1');
    return b;
  }
  const pick = (b: ReviewBuilder, viewer: Viewer) =>
    recommendationDecisions(b.state, viewer)
      .map((d) => [b.state.items.get(d.itemId)?.principal.id, d.decision, d.justification])
      .sort();

  it("fills only the viewer's undecided items that have an Approve or Deny recommendation", () => {
    expect(pick(stage2(), reviewer('o1'))).toEqual([
      ['ann', 'Deny', 'Accepted recommendation'],
      ['ben', 'Approve', 'Accepted recommendation'],
    ]);
  });

  it('fills every undecided recommended item of the stage for an admin', () => {
    expect(pick(stage2(), admin).map(([p, d]) => [p, d])).toEqual([
      ['ann', 'Deny'],
      ['ben', 'Approve'],
      ['dan', 'Deny'],
    ]);
  });

  it('returns nothing to a reviewer without items, or when no stage is in progress', () => {
    expect(pick(stage2(), reviewer('r1'))).toEqual([]);
    expect(pick(stage2().completeStage(), admin)).toEqual([]);
  });
});

describe('reviewersWithPendingItems (reminders)', () => {
  function stage1() {
    const b = new ReviewBuilder(planWith({ filters: [undefined] }));
    b.start(['ann', 'ben', 'cat']).startStage(0, {
      principals: ['ann', 'ben', 'cat'],
      shared: ['auditor'],
      byPrincipal: { ann: ['m1'], ben: ['m1'], cat: ['m2'] },
    });
    return b;
  }
  const pending = (b: ReviewBuilder) => reviewersWithPendingItems(b.state).sort();

  it('lists every reviewer while all items are undecided', () => {
    expect(pending(stage1())).toEqual(['auditor', 'm1', 'm2']);
  });

  it('drops a reviewer once all their items are decided, by anyone', () => {
    const b = stage1().decide('cat', 'Deny', 'auditor');
    expect(pending(b)).toEqual(['auditor', 'm1']);
    b.decide('ann', 'Approve', 'm1');
    expect(pending(b)).toEqual(['auditor', 'm1']);
    b.decide('ben', 'DontKnow', 'm1');
    expect(pending(b)).toEqual([]);
  });

  it('lists reviewers again after their decisions are reset', () => {
    const b = stage1()
      .decide('ann', 'Approve', 'm1')
      .decide('ben', 'Approve', 'm1')
      .decide('cat', 'Approve', 'm2');
    expect(pending(b)).toEqual([]);
    b.resetDecisions();
    expect(pending(b)).toEqual(['auditor', 'm1', 'm2']);
  });

  it('lists nobody when no stage is in progress', () => {
    expect(pending(stage1().completeStage())).toEqual([]);
  });
});

describe('replay', () => {
  it('rebuilds the same decisions and final results as the step-by-step fold', () => {
    const b = new ReviewBuilder(planWith({ filters: [['Deny'], undefined] }));
    b.start(['ann', 'ben']).startStage(0, { principals: ['ann', 'ben'], shared: ['r1'] });
    b.decide('ann', 'Deny', 'r1').decide('ben', 'Approve', 'r1').completeStage();
    b.startStageWithItems(1, itemsMovingOn(b.state, 0), { shared: ['r2'] });
    b.decide('ann', 'Approve', 'r2').completeStage().completeInstance();
    const replayed = replay(b.instanceId, b.plan, b.events);
    expect(instanceView(replayed)).toEqual(instanceView(b.state));
    expect([...replayed.items.values()].map((i) => i.final)).toEqual([
      { decision: 'Approve', source: 'reviewer' },
      { decision: 'Approve', source: 'reviewer' },
    ]);
  });
});
