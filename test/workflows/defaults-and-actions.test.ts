import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { DecisionValue } from '../../src/domain/review-events';
import {
  acceptRecommendationsSignal,
  checkDecisionsQuery,
  resetDecisionsSignal,
  sendReminderSignal,
} from '../../src/workflows';
import { withCleanReview } from '../helpers/cleanup';
import { stage } from '../helpers/guest-fixtures';
import type { ReviewRun } from '../helpers/review-harness';
import { applied, enterStage, group, until, user } from '../helpers/review-harness';
import { createTimeSkippingEnv } from '../helpers/temporal';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createTimeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

const DAY = 86_400_000;
const REVIEWEES = ['ann', 'bob', 'cy', 'dee'];

/**
 * team = ann, bob, cy, dee. Sign-ins relative to the test server's clock give the recommendations:
 * ann and dee signed in lately (Approve), bob 100 days ago (Deny), cy never (NoInfoAvailable).
 * ann and bob report to mgr1, cy and dee to mgr2; rev is a named reviewer, o1 owns the team.
 */
async function tenant() {
  const now = await env.currentTimeMs();
  const ago = (days: number) => new Date(now - days * DAY).toISOString();
  return {
    users: [
      user('ann', { managerId: 'mgr1', lastSignInDateTime: ago(1) }),
      user('bob', { managerId: 'mgr1', lastSignInDateTime: ago(100) }),
      user('cy', { managerId: 'mgr2', lastSignInDateTime: null }),
      user('dee', { managerId: 'mgr2', lastSignInDateTime: ago(2) }),
      user('mgr1'),
      user('mgr2'),
      user('rev'),
      user('o1'),
    ],
    groups: [group('team', REVIEWEES, ['o1'])],
  };
}

const REV = { query: '/users/rev', queryType: 'MicrosoftGraph' };
const OWNERS = { query: '/groups/team/owners', queryType: 'MicrosoftGraph' };
const MANAGERS = { query: './manager', queryType: 'MicrosoftGraph', queryRoot: 'decisions' };

const review = (stages: object[], settings: Record<string, unknown> = {}) => ({
  displayName: 'Team review',
  scope: { query: '/groups/team/transitiveMembers', queryType: 'MicrosoftGraph' },
  stageSettings: stages,
  settings: { autoApplyDecisionsEnabled: true, ...settings },
});

const withTeamReview = async (definition: Record<string, unknown>, fn: (run: ReviewRun) => Promise<void>) =>
  withCleanReview(env, await tenant(), definition, fn);

const teamMembers = async (run: ReviewRun) =>
  (await run.directory.listGroupTransitiveMembers('team'))!.map((u) => u.id).sort();
const applyResults = async (run: ReviewRun) =>
  Object.fromEntries((await run.items()).map((i) => [i.principal.id, i.applyResult]));

/** Waits until a stage shows the given decision for a reviewee: every signal sent before it was handled too. */
const seeDecision = (
  run: ReviewRun,
  stageId: string | undefined,
  principal: string,
  decision: DecisionValue,
) =>
  until(
    () => run.decisions(stageId),
    (d) => d[principal] === decision,
    `${principal}: ${decision}`,
  );

describe('default decisions at the end of a review (R9)', () => {
  // dee is always decided DontKnow, so each row also shows that the default never overrides a decision.
  it.each([
    {
      defaultDecision: 'Approve',
      final: { ann: 'Approve', bob: 'Approve', cy: 'Approve' },
      kept: ['ann', 'bob', 'cy', 'dee'],
    },
    {
      defaultDecision: 'Deny',
      final: { ann: 'Deny', bob: 'Deny', cy: 'Deny' },
      kept: ['dee'],
    },
    {
      // Approve for ann (recent sign-in), Deny for bob (100 days ago), nothing for cy (no sign-in data).
      defaultDecision: 'Recommendation',
      final: { ann: 'Approve', bob: 'Deny', cy: 'NotReviewed' },
      kept: ['ann', 'cy', 'dee'],
    },
  ])(
    'applies defaultDecision $defaultDecision to the reviewees nobody decided, and keeps DontKnow access',
    async ({ defaultDecision, final, kept }) => {
      const settings = { defaultDecisionEnabled: true, defaultDecision, recommendationsEnabled: true };
      await withTeamReview(
        review([stage(1, [REV], { recommendationsEnabled: true })], settings),
        async (run) => {
          await enterStage(run, '1');
          await run.decide('rev', 'dee', 'DontKnow');
          await seeDecision(run, '1', 'dee', 'DontKnow');
          await run.stop();
          await applied(run);

          expect(await run.decisions()).toEqual({ ...final, dee: 'DontKnow' });
          expect(await teamMembers(run)).toEqual(kept);
          const results = await applyResults(run);
          for (const [principal, decision] of Object.entries(final))
            expect(results[principal]).toBe(decision === 'NotReviewed' ? 'New' : 'AppliedSuccessfully');
          expect(results.dee).toBe('New');
        },
      );
    },
  );

  it.each(['Approve', 'Deny', 'Recommendation'])(
    'applies nothing to undecided reviewees when defaultDecisionEnabled is false, even with defaultDecision %s',
    async (defaultDecision) => {
      const settings = { defaultDecisionEnabled: false, defaultDecision, recommendationsEnabled: true };
      await withTeamReview(
        review([stage(1, [REV], { recommendationsEnabled: true })], settings),
        async (run) => {
          await enterStage(run, '1');
          await run.stop();
          await applied(run);

          expect(await run.decisions()).toEqual({
            ann: 'NotReviewed',
            bob: 'NotReviewed',
            cy: 'NotReviewed',
            dee: 'NotReviewed',
          });
          expect(Object.values(await applyResults(run))).toEqual(['New', 'New', 'New', 'New']);
          expect(await teamMembers(run)).toEqual(REVIEWEES);
        },
      );
    },
  );
});

describe('decisions within and across stages (R5, R6)', () => {
  it('keeps the last decision recorded within a stage', async () => {
    await withTeamReview(review([stage(1, [REV])]), async (run) => {
      await enterStage(run, '1');
      await run.decide('rev', 'ann', 'Approve');
      await run.decide('rev', 'ann', 'Deny');
      await run.decide('rev', 'bob', 'Deny');
      await run.decide('rev', 'bob', 'DontKnow');
      await run.decide('rev', 'cy', 'Deny');
      await run.decide('rev', 'cy', 'Approve');
      await seeDecision(run, '1', 'cy', 'Approve');
      expect(await run.decisions('1')).toMatchObject({ ann: 'Deny', bob: 'DontKnow', cy: 'Approve' });
      await run.stop();
      await applied(run);
      expect(await teamMembers(run)).toEqual(['bob', 'cy', 'dee']);
    });
  });

  it('applies the stage 1 decision of reviewees that do not move on, and the default only to the undecided', async () => {
    const definition = review(
      [stage(1, [REV], { decisionsThatWillMoveToNextStage: ['Approve'] }), stage(2, [OWNERS])],
      { defaultDecisionEnabled: true, defaultDecision: 'Approve' },
    );
    await withTeamReview(definition, async (run) => {
      await enterStage(run, '1');
      await run.decide('rev', 'ann', 'Approve');
      await run.decide('rev', 'bob', 'Deny');
      await run.decide('rev', 'cy', 'DontKnow');
      await seeDecision(run, '1', 'cy', 'DontKnow');
      await env.sleep('3 days');
      await enterStage(run, '2');
      expect(await run.stageMembers('2')).toEqual(['ann']);
      await run.decide('o1', 'ann', 'Deny');
      await seeDecision(run, '2', 'ann', 'Deny');
      await env.sleep('3 days');
      await applied(run);

      expect(await run.decisions()).toEqual({ ann: 'Deny', bob: 'Deny', cy: 'DontKnow', dee: 'Approve' });
      expect(await teamMembers(run)).toEqual(['cy', 'dee']);
    });
  });
});

describe('admin actions (R3, R14)', () => {
  it.each([
    { mode: 'an instance holding its items', shardSize: undefined },
    { mode: 'a sharded instance', shardSize: 2 },
  ])(
    'ends without opening a stage when stopped before its reviewees are resolved ($mode)',
    async ({ shardSize }) => {
      // The instance's first resolveReviewees waits until the stop signal is in its history.
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let calls = 0;
      await withCleanReview(
        env,
        await tenant(),
        review([stage(1, [REV]), stage(2, [OWNERS])]),
        async (run) => {
          await until(
            async () => calls,
            (n) => n > 0,
            'the instance resolving its reviewees',
          );
          expect((await run.instance()).status).toBe('NotStarted');
          await run.stop();
          release();
          const view = await applied(run);

          expect(view.stages.map((s) => s.status)).toEqual(['NotStarted', 'NotStarted']);
          expect(view.shards).toBe(shardSize ? 2 : 0);
          expect(Object.values(await run.decisions())).toEqual(REVIEWEES.map(() => 'NotReviewed'));
          expect(await teamMembers(run)).toEqual(REVIEWEES);
        },
        {
          input: { shardSize },
          wrapActivities: (activities) => ({
            ...activities,
            resolveReviewees: async (input) => {
              if (calls++ === 0) await gate;
              return activities.resolveReviewees(input);
            },
          }),
        },
      );
    },
  );

  it('starts the next stage at once when an admin stops the current stage', async () => {
    await withTeamReview(review([stage(1, [REV]), stage(2, [OWNERS])]), async (run) => {
      await enterStage(run, '1');
      await run.decide('rev', 'bob', 'Deny');
      await run.stopStage();
      const view = await enterStage(run, '2');
      const [first, second] = view.stages;
      expect(first?.status).toBe('Completed');
      expect(second?.status).toBe('InProgress');
      // Stage 1 was planned for 3 days; stage 2 began within hours of stage 1.
      expect(Date.parse(second!.startDateTime!) - Date.parse(first!.startDateTime!)).toBeLessThan(DAY);
      expect(Date.parse(first!.endDateTime!) - Date.parse(first!.startDateTime!)).toBeLessThan(DAY);
      expect((await run.decisions('1')).bob).toBe('Deny');
      expect(await run.stageMembers('2')).toEqual(REVIEWEES);
      await run.decide('o1', 'bob', 'Approve');
      await seeDecision(run, '2', 'bob', 'Approve');
    });
  });

  it("puts the current stage's items back to NotReviewed on resetDecisions, leaving earlier stages alone", async () => {
    await withTeamReview(review([stage(1, [REV]), stage(2, [OWNERS])]), async (run) => {
      await enterStage(run, '1');
      await run.decide('rev', 'ann', 'Approve');
      await seeDecision(run, '1', 'ann', 'Approve');
      await run.stopStage();
      await enterStage(run, '2');
      await run.decide('o1', 'ann', 'Deny');
      await run.decide('o1', 'bob', 'Deny');
      await seeDecision(run, '2', 'bob', 'Deny');

      await run.handle.signal(resetDecisionsSignal, { by: 'admin' });
      await until(
        () => run.decisions('2'),
        (d) => Object.values(d).every((v) => v === 'NotReviewed'),
        'stage 2 reset',
      );
      expect((await run.decisions('1')).ann).toBe('Approve');
      expect((await run.decisions()).ann).toBe('Approve');
      expect((await run.decisions()).bob).toBe('NotReviewed');
    });
  });

  it("accepts recommendations only for the reviewer's own NotReviewed items that have one", async () => {
    const definition = review([stage(1, [MANAGERS], { recommendationsEnabled: true })], {
      recommendationsEnabled: true,
    });
    await withTeamReview(definition, async (run) => {
      await enterStage(run, '1');
      const recommendations = Object.fromEntries(
        (await run.items()).map((i) => [i.principal.id, i.recommendation]),
      );
      expect(recommendations).toEqual({ ann: 'Approve', bob: 'Deny', cy: 'NoInfoAvailable', dee: 'Approve' });
      // mgr1 already decided ann against the recommendation; mgr1 does not review cy or dee.
      await run.decide('mgr1', 'ann', 'Deny', 'moved to another team');
      await run.handle.signal(acceptRecommendationsSignal, { viewer: { kind: 'reviewer', userId: 'mgr1' } });
      await seeDecision(run, '1', 'bob', 'Deny');

      expect(await run.decisions('1')).toEqual({
        ann: 'Deny',
        bob: 'Deny',
        cy: 'NotReviewed',
        dee: 'NotReviewed',
      });
      const bob = (await run.items('1')).find((i) => i.principal.id === 'bob')!;
      expect(bob.reviewedBy?.id).toBe('mgr1');
      const ann = (await run.items('1')).find((i) => i.principal.id === 'ann')!;
      expect(ann.justification).toBe('moved to another team');
    });
  });

  it('records a reminder to the reviewers who still have NotReviewed items', async () => {
    await withTeamReview(review([stage(1, [MANAGERS])]), async (run) => {
      await enterStage(run, '1');
      expect((await run.instance()).reminders).toEqual([]);
      await run.decide('mgr2', 'cy', 'Approve');
      await run.decide('mgr2', 'dee', 'Approve');
      await run.handle.signal(sendReminderSignal, { by: 'admin' });
      const view = await until(
        () => run.instance(),
        (v) => v.reminders.length === 1,
        'a reminder',
      );
      expect(view.reminders[0]).toMatchObject({ by: 'admin', reviewerIds: ['mgr1'] });
    });
  });

  it('requires a justification to approve when justificationRequiredOnApproval is on', async () => {
    const definition = review([stage(1, [REV])], { justificationRequiredOnApproval: true });
    await withTeamReview(definition, async (run) => {
      await enterStage(run, '1');
      const verdicts = await run.handle.query(checkDecisionsQuery, {
        reviewerId: 'rev',
        decisions: [
          { itemId: run.itemId('ann'), decision: 'Approve' },
          { itemId: run.itemId('ann'), decision: 'Approve', justification: '   ' },
          { itemId: run.itemId('ann'), decision: 'Approve', justification: 'needs it for payroll' },
          { itemId: run.itemId('bob'), decision: 'Deny' },
        ],
      });
      expect(verdicts.map((v) => v?.code ?? null)).toEqual([
        'review.justification_required',
        'review.justification_required',
        null,
        null,
      ]);

      await run.decide('rev', 'ann', 'Approve', '');
      await run.decide('rev', 'bob', 'Approve', 'on call rota');
      await seeDecision(run, '1', 'bob', 'Approve');
      expect((await run.decisions('1')).ann).toBe('NotReviewed');
      await run.decide('rev', 'ann', 'Approve', 'needs it for payroll');
      await seeDecision(run, '1', 'ann', 'Approve');
    });
  });
});
