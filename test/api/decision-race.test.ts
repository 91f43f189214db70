import { group, user } from '../helpers/review-harness';
import type { DecisionItem } from '../helpers/api-fixtures';
import { Api, DEMO } from '../helpers/api-fixtures';
import type { Stack } from '../helpers/stack';
import { startStack } from '../helpers/stack';

// Decisions in flight while an administrator stops the stage they name. The same reviewer reviews every
// stage, so a decision meant for stage 1 could land in stage 2 if the stage were not checked by the
// workflow itself. Every PATCH answered 204 must be recorded in exactly the stage its path names; every
// other answer must be a 409; nothing else may change.

const REVIEWER = 'rev';
const members = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(2, '0')}`);
const BIG = members('b', 24); // 3 shards of 8
const SMALL = members('s', 8); // held by the instance itself
const SHARD_SIZE = 8;
const IN_FLIGHT = 16;
/** The decision each stage's requests carry, so a stray one shows in the wrong stage. */
const DECISION_OF: Record<string, string> = { '1': 'Approve', '2': 'Deny', '3': 'DontKnow' };

let stack: Stack;
let api: Api;

beforeAll(async () => {
  stack = await startStack(
    {
      users: [...BIG, ...SMALL, REVIEWER, DEMO.PATTI].map((id) => user(id)),
      groups: [group('big', BIG, []), group('small', SMALL, [])],
      applications: [],
    },
    { shardSize: SHARD_SIZE },
  );
  api = new Api(stack);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

const threeStages = (groupId: string) => ({
  displayName: `Race review of ${groupId}`,
  scope: { query: `/groups/${groupId}/transitiveMembers`, queryType: 'MicrosoftGraph' },
  stageSettings: ['1', '2', '3'].map((stageId, i) => ({
    stageId,
    ...(i > 0 ? { dependsOn: [String(i)] } : {}),
    durationInDays: 1,
    reviewers: [{ query: `/users/${REVIEWER}`, queryType: 'MicrosoftGraph' }],
  })),
  settings: { instanceDurationInDays: 0, autoApplyDecisionsEnabled: false },
});

interface Sent {
  stageId: string;
  principalId: string;
  status: number;
  code?: string;
}

/**
 * Sends IN_FLIGHT decisions for `stageId` without waiting, the stop (of the stage, or of the whole review
 * for the last stage) after the first third, and a last third once the stop was answered.
 */
async function raceStage(base: string, stageId: string, items: DecisionItem[], last: boolean) {
  const reviewer = await api.as(REVIEWER);
  const admin = await api.admin();
  const patch = async (item: DecisionItem): Promise<Sent> => {
    const res = await api
      .http()
      .patch(`${base}/stages/${stageId}/decisions/${item.id}`)
      .set(reviewer)
      .send({ decision: DECISION_OF[stageId], justification: `stage ${stageId}` });
    return { stageId, principalId: item.principal.id, status: res.status, code: res.body?.error?.code };
  };
  const chosen = items.slice(0, IN_FLIGHT);
  const third = Math.ceil(IN_FLIGHT / 3);
  const first = chosen.slice(0, third).map(patch);
  // Decisions wait up to 5 ms in the dispatcher to travel together, the stop goes straight to the
  // workflow: sent a moment later, it mostly arrives after the first third and before the middle one.
  await new Promise((resolve) => setTimeout(resolve, 20));
  const stop = api
    .http()
    .post(last ? `${base}/stop` : `${base}/stages/${stageId}/stop`)
    .set(admin)
    .then((r) => r.status);
  const middle = chosen.slice(third, 2 * third).map(patch);
  expect(await stop).toBe(204);
  const after = chosen.slice(2 * third).map(patch);
  return Promise.all([...first, ...middle, ...after]);
}

/** Runs a three-stage review with a race at every stop; returns every decision request's outcome. */
async function raceReview(groupId: string): Promise<{ sent: Sent[]; base: string }> {
  const { base } = await api.startReview(threeStages(groupId));
  const sent: Sent[] = [];
  for (const stageId of ['1', '2', '3']) {
    await api.untilStage(base, stageId, 'InProgress');
    const items = Object.values(await api.decisionsByPrincipal(base, stageId));
    // A different slice of reviewees each stage, so earlier stages' decisions are not overwritten.
    const offset = (Number(stageId) - 1) * 4;
    const rotated = [...items.slice(offset), ...items.slice(0, offset)];
    sent.push(...(await raceStage(base, stageId, rotated, stageId === '3')));
  }
  await api.untilInstance(base, 'Completed');
  return { sent, base };
}

async function expectRecordedExactly(base: string, sent: Sent[]) {
  for (const stageId of ['1', '2', '3']) {
    const recorded = await api.decisionsByPrincipal(base, stageId);
    const acknowledged = new Set(
      sent.filter((s) => s.stageId === stageId && s.status === 204).map((s) => s.principalId),
    );
    const wrong = Object.values(recorded).flatMap((item) => {
      const expected = acknowledged.has(item.principal.id) ? DECISION_OF[stageId] : 'NotReviewed';
      const reviewedBy = acknowledged.has(item.principal.id) ? REVIEWER : undefined;
      return item.decision === expected && item.reviewedBy?.id === reviewedBy
        ? []
        : [{ stageId, principal: item.principal.id, decision: item.decision, expected }];
    });
    expect(wrong).toEqual([]);
  }
}

describe.each([
  ['a sharded review (3 shards)', 'big'],
  ['an unsharded review', 'small'],
])('decisions in flight while the stage they name is stopped, in %s', (_name, groupId) => {
  const all: Sent[] = [];

  it.each([1, 2])(
    'records every 204 in the stage it named and answers 409 otherwise (round %i)',
    async () => {
      const { sent, base } = await raceReview(groupId);
      all.push(...sent);
      const refused = sent.filter((s) => s.status !== 204);
      expect(refused.filter((s) => s.status !== 409 || s.code !== 'review.stage_not_in_progress')).toEqual(
        [],
      );
      expect(sent).toHaveLength(3 * Math.min(IN_FLIGHT, groupId === 'big' ? BIG.length : SMALL.length));
      await expectRecordedExactly(base, sent);
    },
    120_000,
  );

  it('saw both outcomes of the race', () => {
    // Otherwise the stops did not fall among the decisions and the rounds proved nothing.
    expect(all.some((s) => s.status === 204)).toBe(true);
    expect(all.some((s) => s.status === 409)).toBe(true);
    process.stdout.write(
      `[decision-race] ${groupId}: ${all.filter((s) => s.status === 204).length} recorded, ${all.filter((s) => s.status === 409).length} refused with 409\n`,
    );
  });
});

it('refuses a decision naming a stage that does not exist with 404', async () => {
  const { base } = await api.startReview(threeStages('small'));
  const [item] = Object.values(await api.decisionsByPrincipal(base, '1'));
  const res = await api
    .http()
    .patch(`${base}/stages/7/decisions/${item!.id}`)
    .set(await api.as(REVIEWER))
    .send({ decision: 'Approve' });
  expect({ status: res.status, code: res.body.error?.code }).toEqual({
    status: 404,
    code: 'stage.not_found',
  });
  await api
    .http()
    .post(`${base}/stop`)
    .set(await api.admin())
    .expect(204);
});
