import fc from 'fast-check';
import { shardOf } from '../../src/domain/ids';
import { restoreState, snapshotState } from '../../src/domain/review-snapshot';
import { evolve } from '../../src/domain/review-state';
import { instanceView, listDecisions } from '../../src/domain/review-views';
import { itemOf, planWith, ReviewBuilder } from './review-fixtures';

const PEOPLE = Array.from({ length: 12 }, (_, i) => `p${i}`);
const DECISIONS = ['Approve', 'Deny', 'DontKnow'] as const;

/** A two-stage review after random decisions, stage 1 completed and stage 2 running. */
function reviewAfter(decisions: [number, number, number][], recommendations: boolean) {
  const b = new ReviewBuilder(planWith({ filters: [['Approve', 'NotReviewed'], undefined] }));
  b.start(PEOPLE);
  b.startStage(0, {
    principals: PEOPLE,
    shared: ['lead'],
    byPrincipal: { p0: ['mgr'], p1: ['mgr', 'p1'] },
    recommendations: recommendations ? { p0: 'Approve', p2: 'Deny', p3: 'NoInfoAvailable' } : {},
    noReviewer: ['p11'],
  });
  for (const [who, what, text] of decisions.slice(0, decisions.length / 2)) {
    b.decide(PEOPLE[who]!, DECISIONS[what]!, 'lead', { justification: `reason ${text}` });
  }
  b.completeStage('stoppedByAdmin');
  const moving = [...b.state.items.values()]
    .filter((i) => !i.stageDecisions[0] || i.stageDecisions[0].decision === 'Approve')
    .map((i) => i.id);
  b.startStageWithItems(1, moving, { shared: ['lead2'] });
  for (const [who, what, text] of decisions.slice(decisions.length / 2)) {
    if (moving.includes(b.item(PEOPLE[who]!)))
      b.decide(PEOPLE[who]!, DECISIONS[what]!, 'lead2', { justification: `r${text}` });
  }
  return b;
}

describe('review snapshots (continue-as-new)', () => {
  it('restores exactly the state it was taken from, for any decisions', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(11), fc.nat(2), fc.nat(3)), { maxLength: 40 }),
        fc.boolean(),
        (decisions, recommendations) => {
          const { state } = reviewAfter(decisions, recommendations);
          const restored = restoreState(JSON.parse(JSON.stringify(snapshotState(state))));
          expect(restored).toEqual(state);
          expect(instanceView(restored)).toEqual(instanceView(state));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('keeps folding events after a restore as the original state would', () => {
    const b = reviewAfter(
      [
        [0, 0, 1],
        [4, 1, 2],
        [5, 0, 3],
        [6, 2, 1],
      ],
      true,
    );
    const restored = restoreState(snapshotState(b.state));
    const next = {
      type: 'DecisionRecorded',
      at: '2025-03-04T00:00:00.000Z',
      itemId: itemOf('p5'),
      decision: 'Deny',
      justification: 'left the team',
      reviewerId: 'lead2',
      source: 'reviewer',
    } as const;
    evolve(b.state, next);
    evolve(restored, next);
    evolve(b.state, { type: 'StageCompleted', at: '2025-03-05T00:00:00.000Z', reason: 'durationElapsed' });
    evolve(restored, { type: 'StageCompleted', at: '2025-03-05T00:00:00.000Z', reason: 'durationElapsed' });
    evolve(b.state, {
      type: 'InstanceCompleted',
      at: '2025-03-05T00:00:00.000Z',
      reason: 'allStagesCompleted',
    });
    evolve(restored, {
      type: 'InstanceCompleted',
      at: '2025-03-05T00:00:00.000Z',
      reason: 'allStagesCompleted',
    });
    expect(restored).toEqual(b.state);
    const admin = { viewer: { kind: 'admin' as const, userId: 'a' }, skip: 0, top: 100 };
    expect(listDecisions(restored, admin)).toEqual(listDecisions(b.state, admin));
  });

  it('packs 500 reviewees with three decided stages well under 512 KB', () => {
    const people = Array.from(
      { length: 500 },
      (_, i) => `0b5c${String(i).padStart(4, '0')}-7e1f-4a51-9d7e-2f6a1c3e8b90`,
    );
    const b = new ReviewBuilder(planWith({ filters: [undefined, undefined, undefined] }));
    b.start(people);
    for (let stage = 0; stage < 3; stage++) {
      b.startStage(stage, {
        principals: people,
        byPrincipal: Object.fromEntries(
          people.map((p) => [p, [`mgr-${p.slice(0, 8)}-manager-of-this-person`]]),
        ),
      });
      for (const p of people)
        b.decide(p, 'Approve', `mgr-${p.slice(0, 8)}-manager-of-this-person`, {
          justification: 'still in the team',
        });
      b.completeStage();
    }
    const bytes = JSON.stringify(snapshotState(b.state)).length;
    expect(bytes).toBeLessThan(512 * 1024);
  });
});

describe('shardOf', () => {
  it('puts every item in exactly one shard and spreads items evenly', () => {
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 10_000; i++) {
      const shard = shardOf(itemOf(`user-${i}`), 10);
      expect(shard).toBeGreaterThanOrEqual(0);
      expect(shard).toBeLessThan(10);
      counts[shard]!++;
    }
    for (const c of counts) expect(c).toBeGreaterThan(850);
    expect(shardOf(itemOf('anyone'), 1)).toBe(0);
  });
});
