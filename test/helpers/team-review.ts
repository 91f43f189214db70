import type { DecisionValue, ReviewerDecision } from '../../src/domain/review-events';
import type { ReviewRun } from './review-harness';
import { group, until, user } from './review-harness';

// A team of numbered members (u00, u01, …) for sharding and continue-as-new tests.

export const ids = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `u${String(from + i).padStart(2, '0')}`);
export const SELF: object[] = [];
export const MANAGERS = { query: './manager', queryType: 'MicrosoftGraph', queryRoot: 'decisions' };
export const OWNERS = { query: '/groups/team/owners', queryType: 'MicrosoftGraph' };

/** u00… in `team` (owner o1); u00–u11 report to mgrA, the rest to mgrB. */
export function tenant(count = 24) {
  const members = ids(0, count - 1);
  return {
    users: [
      ...members.map((id, i) => user(id, { managerId: i < 12 ? 'mgrA' : 'mgrB' })),
      user('mgrA'),
      user('mgrB'),
      user('o1'),
    ],
    groups: [group('team', members, ['o1'])],
  };
}

export const review = (stages: object[], settings: Record<string, unknown> = {}) => ({
  displayName: 'Sharded team review',
  scope: { query: '/groups/team/transitiveMembers', queryType: 'MicrosoftGraph' },
  stageSettings: stages,
  settings: { autoApplyDecisionsEnabled: true, ...settings },
});

export const decideAll = (
  run: ReviewRun,
  reviewer: (id: string) => string,
  who: string[],
  d: ReviewerDecision,
) => Promise.all(who.map((id) => run.decide(reviewer(id), id, d)));
export const managerOf = (id: string) => (Number(id.slice(1)) < 12 ? 'mgrA' : 'mgrB');
export const teamMembers = async (run: ReviewRun) =>
  (await run.directory.listGroupTransitiveMembers('team'))!.map((u) => u.id).sort();

/** Waits until every one of `who` shows `decision` in a stage: their signals have all been handled. */
export const seeDecisions = (run: ReviewRun, stageId: string, who: string[], decision: DecisionValue) =>
  until(
    () => run.decisions(stageId),
    (d) => who.every((id) => d[id] === decision),
    `${who.length} × ${decision} in stage ${stageId}`,
  );
