import fc from 'fast-check';
import type { RecommendationValue } from '../../src/domain/recommendations';
import type { DecisionValue, ReviewerDecision } from '../../src/domain/review-events';
import type { MoveOnValue } from '../../src/domain/review-plan';
import type { Viewer } from '../../src/domain/review-rules';
import { checkDecision, itemsMovingOn, recommendationDecisions } from '../../src/domain/review-rules';
import type { ItemState } from '../../src/domain/review-state';
import { replay } from '../../src/domain/review-state';
import { listDecisions } from '../../src/domain/review-views';
import { planWith, ReviewBuilder } from './review-fixtures';

/**
 * Property tests of R5, R6 and R9: random multi-stage reviews are driven through the real fold, and an
 * independent model (a plain log of who decided what in which stage) predicts what the engine must do.
 */

const RUNS = 250;
const REVIEWERS = ['r0', 'r1', 'r2', 'r3'];
const MOVE_ON: MoveOnValue[] = ['Approve', 'Deny', 'NotReviewed', 'DontKnow', 'Recommendation'];

type Action =
  | {
      kind: 'decide';
      /** Mostly pick an item of the current stage and one of its assigned reviewers, sometimes anyone/anything. */
      assigned: boolean;
      reviewer: number;
      item: number;
      decision: ReviewerDecision;
      justification: string;
    }
  | { kind: 'accept'; viewer: number | 'admin' }
  | { kind: 'reset' };

interface StageInput {
  shared: number[];
  /** Per principal index: reviewer indexes assigned to that reviewee in this stage. */
  own: number[][];
  recommendations: (RecommendationValue | null)[];
  actions: Action[];
}

interface Scenario {
  principals: number;
  filters: (MoveOnValue[] | null)[];
  justificationRequiredOnApproval: boolean;
  defaultDecisionEnabled: boolean;
  defaultDecision: 'Approve' | 'Deny' | 'Recommendation';
  stages: StageInput[];
  /** Stop the instance during this stage (index), if set. */
  stopDuring: number | null;
}

const MAX_PRINCIPALS = 8;

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 16,
    arbitrary: fc.record({
      kind: fc.constant('decide' as const),
      assigned: fc.nat(9).map((n) => n < 8),
      reviewer: fc.nat(REVIEWERS.length - 1),
      item: fc.nat(MAX_PRINCIPALS - 1),
      decision: fc.constantFrom<ReviewerDecision>('Approve', 'Deny', 'DontKnow'),
      justification: fc.constantFrom('', '  ', 'needs access'),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('accept' as const),
      viewer: fc.oneof(fc.nat(REVIEWERS.length - 1), fc.constant('admin' as const)),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'reset' as const }) },
);

const stageArb: fc.Arbitrary<StageInput> = fc.record({
  shared: fc.subarray([0, 1, 2, 3], { maxLength: 1 }),
  own: fc.array(fc.subarray([0, 1, 2, 3], { maxLength: 2 }), {
    minLength: MAX_PRINCIPALS,
    maxLength: MAX_PRINCIPALS,
  }),
  recommendations: fc.array(
    fc.constantFrom<RecommendationValue | null>('Approve', 'Deny', 'NoInfoAvailable', null),
    { minLength: MAX_PRINCIPALS, maxLength: MAX_PRINCIPALS },
  ),
  actions: fc.array(actionArb, { maxLength: 50, size: 'large' }),
});

const scenarioArb: fc.Arbitrary<Scenario> = fc.integer({ min: 1, max: 3 }).chain((n) =>
  fc.record({
    principals: fc.integer({ min: 1, max: MAX_PRINCIPALS }),
    filters: fc.array(fc.option(fc.subarray(MOVE_ON), { nil: null }), { minLength: n, maxLength: n }),
    justificationRequiredOnApproval: fc.boolean(),
    defaultDecisionEnabled: fc.boolean(),
    defaultDecision: fc.constantFrom<'Approve' | 'Deny' | 'Recommendation'>(
      'Approve',
      'Deny',
      'Recommendation',
    ),
    stages: fc.array(stageArb, { minLength: n, maxLength: n }),
    stopDuring: fc.oneof(
      { weight: 4, arbitrary: fc.constant(null) },
      { weight: 1, arbitrary: fc.nat(n - 1) },
    ),
  }),
);

interface Recorded {
  decision: ReviewerDecision;
  source: 'reviewer' | 'recommendation';
}

/** What happened, as the model saw it, next to the engine's state. */
interface Run {
  builder: ReviewBuilder;
  scenario: Scenario;
  /** Item ids of each started stage, as the engine chose them. */
  stageItems: string[][];
  /** Item ids the model expects each started stage (after the first) to have. */
  expectedStageItems: (string[] | null)[];
  /** Model: last decision per stage per item. */
  model: Map<string, Recorded>[];
  /** Model: recommendation given per stage per item. */
  recs: Map<string, RecommendationValue>[];
  /** Engine vs model disagreements on checkDecision / acceptRecommendations. */
  ruleMismatches: string[];
  /** Per started stage: the engine's stage decision per item right after the stage closed. */
  stageDecisionsAtClose: Map<string, DecisionValue>[];
}

function modelMovesOn(filter: MoveOnValue[] | null, recorded: Recorded | undefined): boolean {
  if (filter === null) return true;
  if (recorded?.source === 'recommendation' && filter.includes('Recommendation')) return true;
  return filter.includes(recorded?.decision ?? 'NotReviewed');
}

function simulate(scenario: Scenario): Run {
  const plan = planWith({
    filters: scenario.filters,
    justificationRequiredOnApproval: scenario.justificationRequiredOnApproval,
    defaultDecisionEnabled: scenario.defaultDecisionEnabled,
    defaultDecision: scenario.defaultDecisionEnabled ? scenario.defaultDecision : 'None',
  });
  const b = new ReviewBuilder(plan);
  const principals = Array.from({ length: scenario.principals }, (_, i) => `p${i}`);
  b.start(principals);
  const allItems = principals.map((p) => b.item(p));
  const run: Run = {
    builder: b,
    scenario,
    stageItems: [],
    expectedStageItems: [],
    model: [],
    recs: [],
    ruleMismatches: [],
    stageDecisionsAtClose: [],
  };
  let stopped = false;

  for (let i = 0; i < scenario.stages.length && !stopped; i++) {
    const input = scenario.stages[i]!;
    const itemIds = i === 0 ? [...b.state.items.keys()] : itemsMovingOn(b.state, i - 1);
    run.expectedStageItems.push(
      i === 0
        ? null
        : run.stageItems[i - 1]!.filter((id) =>
            modelMovesOn(scenario.filters[i - 1]!, run.model[i - 1]!.get(id)),
          ),
    );
    run.stageItems.push(itemIds);
    const inStage = new Set(itemIds);
    const reviewersByItem: Record<string, string[]> = {};
    const recommendations: Record<string, RecommendationValue> = {};
    const stageRecs = new Map<string, RecommendationValue>();
    principals.forEach((p, k) => {
      const id = b.item(p);
      if (!inStage.has(id)) return;
      const own = input.own[k] ?? [];
      if (own.length > 0) reviewersByItem[id] = own.map((r) => REVIEWERS[r]!);
      const rec = input.recommendations[k];
      if (rec) {
        recommendations[id] = rec;
        stageRecs.set(id, rec);
      }
    });
    const shared = input.shared.map((r) => REVIEWERS[r]!);
    b.emit({
      type: 'StageStarted',
      at: new Date(Date.parse('2025-03-03T09:00:00Z') + (i + 1) * 3_600_000).toISOString(),
      stageIndex: i,
      itemIds,
      sharedReviewerIds: shared,
      reviewersByItem,
      noReviewerItemIds: itemIds.filter((id) => shared.length === 0 && !reviewersByItem[id]),
      recommendations,
      people: {},
    });
    const model = new Map<string, Recorded>();
    run.model.push(model);
    run.recs.push(stageRecs);
    const reviewersOfItem = (id: string) => [...shared, ...(reviewersByItem[id] ?? [])];

    for (const action of input.actions) {
      if (action.kind === 'reset') {
        b.resetDecisions();
        model.clear();
      } else if (action.kind === 'decide') {
        const pool = action.assigned && itemIds.length > 0 ? itemIds : allItems;
        const itemId = pool[action.item % pool.length]!;
        const candidates = action.assigned ? reviewersOfItem(itemId) : [];
        const reviewerId =
          candidates.length > 0
            ? candidates[action.reviewer % candidates.length]!
            : REVIEWERS[action.reviewer]!;
        const expectedCode = !inStage.has(itemId)
          ? 'review.not_a_reviewer'
          : !reviewersOfItem(itemId).includes(reviewerId)
            ? 'review.not_a_reviewer'
            : action.decision === 'Approve' &&
                scenario.justificationRequiredOnApproval &&
                action.justification.trim() === ''
              ? 'review.justification_required'
              : undefined;
        const violation = checkDecision(b.state, reviewerId, {
          itemId,
          decision: action.decision,
          justification: action.justification,
        });
        if (violation?.code !== expectedCode) {
          run.ruleMismatches.push(
            `checkDecision ${reviewerId} ${itemId}: ${violation?.code} vs ${expectedCode}`,
          );
        }
        if (violation) continue;
        b.decide(b.state.items.get(itemId)!.principal.id, action.decision, reviewerId, {
          justification: action.justification,
        });
        model.set(itemId, { decision: action.decision, source: 'reviewer' });
      } else {
        const viewer: Viewer =
          action.viewer === 'admin'
            ? { kind: 'admin', userId: 'admin' }
            : { kind: 'reviewer', userId: REVIEWERS[action.viewer]! };
        const expected = itemIds
          .filter((id) => viewer.kind === 'admin' || reviewersOfItem(id).includes(viewer.userId))
          .filter((id) => !model.has(id))
          .flatMap((id) => {
            const rec = stageRecs.get(id);
            return rec === 'Approve' || rec === 'Deny' ? [`${id}:${rec}`] : [];
          });
        const proposed = recommendationDecisions(b.state, viewer);
        const actual = proposed.map((d) => `${d.itemId}:${d.decision}`);
        if (JSON.stringify(actual) !== JSON.stringify(expected)) {
          run.ruleMismatches.push(
            `acceptRecommendations ${viewer.userId}: ${actual.join(',')} vs ${expected.join(',')}`,
          );
        }
        for (const d of proposed) {
          b.emit({
            type: 'DecisionRecorded',
            at: '2025-03-04T00:00:00.000Z',
            itemId: d.itemId,
            decision: d.decision,
            justification: d.justification ?? '',
            reviewerId: viewer.userId,
            source: 'recommendation',
          });
          model.set(d.itemId, { decision: d.decision, source: 'recommendation' });
        }
      }
    }

    stopped = scenario.stopDuring === i;
    b.completeStage(stopped ? 'instanceStopped' : 'durationElapsed');
    const page = listDecisions(b.state, {
      viewer: { kind: 'admin', userId: 'admin' },
      stageId: String(i + 1),
      skip: 0,
      top: 1000,
    });
    if ('code' in page) throw new Error(page.code);
    run.stageDecisionsAtClose.push(new Map(page.value.map((v) => [v.id, v.decision])));
  }
  b.completeInstance(stopped ? 'stoppedByAdmin' : 'allStagesCompleted');
  return run;
}

/**
 * R9 as the model states it (seed: "the last decision recorded for a reviewee is applied"): the decision
 * of the latest stage, among those the item took part in, that recorded one; else the default.
 */
function expectedFinal(run: Run, itemId: string): NonNullable<ItemState['final']> {
  let last = -1;
  run.stageItems.forEach((ids, i) => {
    if (ids.includes(itemId)) last = i;
  });
  let recorded: Recorded | undefined;
  for (let i = last; i >= 0 && !recorded; i--) recorded = run.model[i]!.get(itemId);
  if (recorded) return { decision: recorded.decision, source: recorded.source };
  const s = run.scenario;
  if (s.defaultDecisionEnabled) {
    if (s.defaultDecision !== 'Recommendation')
      return { decision: s.defaultDecision, source: 'defaultDecision' };
    const rec = last >= 0 ? run.recs[last]!.get(itemId) : undefined;
    if (rec === 'Approve' || rec === 'Deny') return { decision: rec, source: 'defaultDecision' };
  }
  return { decision: 'NotReviewed', source: 'none' };
}

const finals = (items: Map<string, ItemState>) =>
  [...items.values()].map((i) => ({
    id: i.id,
    final: i.final,
    lastStage: i.lastStage,
    stages: i.stageDecisions,
  }));

describe('multi-stage reviews driven by random decisions', () => {
  it('moves into stage N+1 exactly the reviewees whose stage-N decision is in decisionsThatWillMoveToNextStage', () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        const run = simulate(scenario);
        run.stageItems.forEach((ids, i) => {
          const expected = run.expectedStageItems[i];
          if (expected) expect(ids).toEqual(expected);
          // Nobody enters a stage without having been in the previous one.
          if (i > 0) for (const id of ids) expect(run.stageItems[i - 1]).toContain(id);
        });
        // The number of stages started respects the stop.
        const started = run.builder.state.stages.filter((s) => s.status !== 'NotStarted').length;
        expect(started).toBe(scenario.stopDuring === null ? scenario.stages.length : scenario.stopDuring + 1);
      }),
      { numRuns: RUNS },
    );
  });

  it('gives every item, on InstanceCompleted, its last recorded decision (later stages overwriting earlier ones) or the R9 default', () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        const run = simulate(scenario);
        expect(run.builder.state.status).toBe('Completed');
        for (const item of run.builder.state.items.values()) {
          expect({ id: item.id, final: item.final }).toEqual({
            id: item.id,
            final: expectedFinal(run, item.id),
          });
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('replays the recorded events into the same decisions as evolving step by step', () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        const run = simulate(scenario);
        const b = run.builder;
        const replayed = replay(b.instanceId, b.plan, b.events);
        expect(finals(replayed.items)).toEqual(finals(b.state.items));
        expect(replayed.stages).toEqual(b.state.stages);
        expect(replayed.status).toBe(b.state.status);
        // Replaying twice is deterministic too.
        expect(finals(replay(b.instanceId, b.plan, b.events).items)).toEqual(finals(replayed.items));
      }),
      { numRuns: RUNS },
    );
  });

  it('keeps, within a stage, only the last decision recorded for each item', () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        const run = simulate(scenario);
        run.stageItems.forEach((ids, i) => {
          const model = run.model[i]!;
          const seen = run.stageDecisionsAtClose[i]!;
          for (const id of ids) {
            const last = model.get(id);
            expect({ id, stage: i, decision: seen.get(id) }).toEqual({
              id,
              stage: i,
              decision: last?.decision ?? 'NotReviewed',
            });
            expect(run.builder.state.items.get(id)?.stageDecisions[i]?.source).toBe(last?.source);
          }
        });
      }),
      { numRuns: RUNS },
    );
  });

  it('lets only assigned reviewers of the current stage decide, and accepts recommendations only for undecided items', () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        expect(simulate(scenario).ruleMismatches).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  });
});
