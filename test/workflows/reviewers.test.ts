import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { ReviewerDecision } from '../../src/domain/review-events';
import { checkDecisionsQuery } from '../../src/workflows';
import { withCleanReview } from '../helpers/cleanup';
import { GrowingOwnersDirectory } from '../helpers/directory-fakes';
import { stage } from '../helpers/guest-fixtures';
import type { ReviewOptions, ReviewRun } from '../helpers/review-harness';
import { application, group, until, user } from '../helpers/review-harness';
import { createTimeSkippingEnv } from '../helpers/temporal';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createTimeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

const REVIEWEES = ['ann', 'bob', 'cy', 'dee', 'eve'];

/**
 * ann and bob report to mgr1, cy to mgr2, eve to the disabled mgr3, dee has no manager. The group res
 * (the resource) is owned by o1 and the disabled dis; the app is owned by o2; auditors holds a1, a2 and,
 * through the nested group seniors, a3. rev and fb are plain users, out reviews nothing.
 */
const tenant = () => ({
  users: [
    user('ann', { managerId: 'mgr1' }),
    user('bob', { managerId: 'mgr1' }),
    user('cy', { managerId: 'mgr2' }),
    user('dee'),
    user('eve', { managerId: 'mgr3' }),
    user('mgr1'),
    user('mgr2'),
    user('mgr3', { accountEnabled: false }),
    user('o1'),
    user('o2'),
    user('o3'),
    user('dis', { accountEnabled: false }),
    user('rev'),
    user('fb'),
    user('out'),
    user('a1'),
    user('a2'),
    user('a3'),
  ],
  groups: [
    group('res', REVIEWEES, ['o1', 'dis']),
    group('auditors', ['a1', 'a2', 'seniors', 'dis']),
    group('seniors', ['a3']),
  ],
  applications: [application('app', REVIEWEES, ['o2'])],
});

/** A review over this file's tenant, terminated afterwards if still running. */
const withTenantReview = (
  definition: Record<string, unknown>,
  fn: (run: ReviewRun) => Promise<void>,
  options?: ReviewOptions,
) => withCleanReview(env, tenant(), definition, fn, options);

const scope = { query: '/groups/res/transitiveMembers', queryType: 'MicrosoftGraph' };
const q = (query: string) => ({ query, queryType: 'MicrosoftGraph' });
const MANAGERS = { query: './manager', queryType: 'MicrosoftGraph', queryRoot: 'decisions' };

const review = (stages: object[]) => ({
  displayName: 'Reviewer assignment',
  scope,
  stageSettings: stages,
  settings: { autoApplyDecisionsEnabled: true },
});
const oneStage = (reviewers: object[], fallbackReviewers: object[] = []) =>
  review([stage(1, reviewers, { fallbackReviewers })]);

const enterStage = (run: ReviewRun, stageId: string) =>
  until(
    () => run.instance(),
    (v) => v.currentStageId === stageId,
    `stage ${stageId}`,
  );

/** The reviewees whose item `reviewerId` may decide now, by the workflow's own dry run (checkDecisions). */
async function mayDecide(run: ReviewRun, reviewerId: string): Promise<string[]> {
  const verdicts = await violations(run, reviewerId, REVIEWEES);
  return REVIEWEES.filter((_, i) => verdicts[i] === null);
}

/** The violation code (or null) the dry run reports for each reviewee's item. */
async function violations(
  run: ReviewRun,
  reviewerId: string,
  principals: string[],
  decision: ReviewerDecision = 'Approve',
): Promise<(string | null)[]> {
  const verdicts = await run.handle.query(checkDecisionsQuery, {
    reviewerId,
    decisions: principals.map((p) => ({ itemId: run.itemId(p), decision, justification: 'checked' })),
  });
  return verdicts.map((v) => v?.code ?? null);
}

/** Signals a decision that must be recorded and waits until it shows: every earlier signal was handled too. */
async function decideAndSee(run: ReviewRun, stageId: string, reviewerId: string, principal: string) {
  await run.decide(reviewerId, principal, 'DontKnow');
  await until(
    () => run.decisions(stageId),
    (d) => d[principal] === 'DontKnow',
    `${reviewerId}'s decision on ${principal}`,
  );
}

const sorted = (ids: string[]) => [...ids].sort();

describe('reviewers of a stage (R4)', () => {
  it.each([
    ['a named user', '/users/rev', ['rev']],
    [
      'every transitive member of a group (nested groups included, disabled accounts left out)',
      '/groups/auditors/transitiveMembers',
      ['a1', 'a2', 'a3'],
    ],
    ['the enabled owners of a group', '/groups/res/owners', ['o1']],
    ['the owners of an application', '/servicePrincipals/app/owners', ['o2']],
  ])('assigns %s to every item and nobody else', async (_what, query, expected) => {
    await withTenantReview(oneStage([q(query)]), async (run) => {
      await enterStage(run, '1');
      const view = await run.instance();
      expect(sorted(view.reviewerIds)).toEqual(expected);
      expect(view.stages[0]?.noReviewerCount).toBe(0);
      for (const reviewer of expected) expect(await mayDecide(run, reviewer)).toEqual(REVIEWEES);
      for (const other of ['out', 'dis', 'o3', 'mgr1', 'ann'].filter((u) => !expected.includes(u)))
        expect(await mayDecide(run, other)).toEqual([]);

      await run.decide(expected[0]!, 'bob', 'Deny');
      await until(
        () => run.decisions('1'),
        (d) => d.bob === 'Deny',
        'the reviewer decision',
      );
    });
  });

  it("assigns each reviewee's enabled manager, and reports reviewees without one, who stay NotReviewed", async () => {
    await withTenantReview(oneStage([MANAGERS]), async (run) => {
      await enterStage(run, '1');
      expect(await mayDecide(run, 'mgr1')).toEqual(['ann', 'bob']);
      expect(await mayDecide(run, 'mgr2')).toEqual(['cy']);
      expect(await mayDecide(run, 'mgr3')).toEqual([]);
      const view = await run.instance();
      expect(sorted(view.reviewerIds)).toEqual(['mgr1', 'mgr2']);
      expect(view.stages[0]?.noReviewerCount).toBe(2);

      await run.decide('mgr1', 'ann', 'Approve');
      await run.decide('mgr2', 'cy', 'Deny');
      await run.stop();
      await until(
        () => run.instance(),
        (v) => v.status === 'Applied',
        'Applied',
      );
      const items = await run.items();
      const byPrincipal = Object.fromEntries(items.map((i) => [i.principal.id, i]));
      expect(await run.decisions()).toEqual({
        ann: 'Approve',
        bob: 'NotReviewed',
        cy: 'Deny',
        dee: 'NotReviewed',
        eve: 'NotReviewed',
      });
      expect(byPrincipal.dee?.applyResult).toBe('New');
      expect(byPrincipal.eve?.applyResult).toBe('New');
      const members = (await run.directory.listGroupTransitiveMembers('res'))!.map((u) => u.id);
      expect(sorted(members)).toEqual(['ann', 'bob', 'dee', 'eve']);
    });
  });

  it('gives the fallback reviewers exactly the reviewees whose manager is missing or disabled', async () => {
    await withTenantReview(oneStage([MANAGERS], [q('/users/fb')]), async (run) => {
      await enterStage(run, '1');
      expect(await mayDecide(run, 'fb')).toEqual(['dee', 'eve']);
      expect(await mayDecide(run, 'mgr1')).toEqual(['ann', 'bob']);
      expect(await mayDecide(run, 'mgr2')).toEqual(['cy']);
      const view = await run.instance();
      expect(view.stages[0]?.noReviewerCount).toBe(0);
      expect(sorted(view.reviewerIds)).toEqual(['fb', 'mgr1', 'mgr2']);
    });
  });

  it('treats a disabled named reviewer as missing: the fallback reviewers review every item instead', async () => {
    await withTenantReview(oneStage([q('/users/dis')], [q('/users/fb')]), async (run) => {
      await enterStage(run, '1');
      expect(await mayDecide(run, 'dis')).toEqual([]);
      expect(await mayDecide(run, 'fb')).toEqual(REVIEWEES);
      expect((await run.instance()).reviewerIds).toEqual(['fb']);
    });
  });

  it('reports every item as unreviewable when the only named reviewer is disabled and there is no fallback', async () => {
    await withTenantReview(oneStage([q('/users/dis')]), async (run) => {
      await enterStage(run, '1');
      const view = await run.instance();
      expect(view.reviewerIds).toEqual([]);
      expect(view.stages[0]?.noReviewerCount).toBe(REVIEWEES.length);
      expect(await violations(run, 'dis', REVIEWEES)).toEqual(REVIEWEES.map(() => 'review.not_a_reviewer'));
    });
  });

  it('lets a self-reviewer decide only their own item', async () => {
    await withTenantReview(oneStage([]), async (run) => {
      await enterStage(run, '1');
      for (const reviewee of REVIEWEES) expect(await mayDecide(run, reviewee)).toEqual([reviewee]);
      await run.decide('ann', 'bob', 'Deny');
      await decideAndSee(run, '1', 'bob', 'bob');
      expect((await run.decisions('1')).ann).toBe('NotReviewed');
    });
  });

  it('rejects every decision of a user who reviews nothing, in the dry run and in the signal', async () => {
    await withTenantReview(oneStage([q('/users/rev')]), async (run) => {
      await enterStage(run, '1');
      expect(await violations(run, 'out', REVIEWEES, 'Deny')).toEqual(
        REVIEWEES.map(() => 'review.not_a_reviewer'),
      );
      for (const reviewee of REVIEWEES) await run.decide('out', reviewee, 'Deny');
      await decideAndSee(run, '1', 'rev', 'ann');
      expect(await run.decisions('1')).toEqual({
        ann: 'DontKnow',
        bob: 'NotReviewed',
        cy: 'NotReviewed',
        dee: 'NotReviewed',
        eve: 'NotReviewed',
      });
    });
  });

  it('does not let a stage 1 reviewer decide in stage 2', async () => {
    const definition = review([stage(1, [MANAGERS]), stage(2, [q('/groups/res/owners')])]);
    await withTenantReview(definition, async (run) => {
      await enterStage(run, '1');
      await run.decide('mgr1', 'ann', 'Approve');
      await env.sleep('3 days');
      await enterStage(run, '2');

      expect(await mayDecide(run, 'mgr1')).toEqual([]);
      expect(await violations(run, 'mgr1', ['ann'], 'Deny')).toEqual(['review.not_a_reviewer']);
      await run.decide('mgr1', 'ann', 'Deny');
      await decideAndSee(run, '2', 'o1', 'bob');
      expect((await run.decisions('2')).ann).toBe('NotReviewed');
      expect((await run.decisions('1')).ann).toBe('Approve');
      expect((await run.decisions()).ann).toBe('Approve');
    });
  });

  it('snapshots reviewers when a stage starts: directory changes reach only the next stage', async () => {
    let directory!: GrowingOwnersDirectory;
    const owners = q('/groups/res/owners');
    const definition = review([stage(1, [owners]), stage(2, [owners])]);
    const wrapDirectory = (d: ConstructorParameters<typeof GrowingOwnersDirectory>[0]) =>
      (directory = new GrowingOwnersDirectory(d));
    await withTenantReview(
      definition,
      async (run) => {
        await enterStage(run, '1');
        directory.addGroupOwner('res', 'o3');
        await run.directory.setAccountEnabled('o1', false);

        // Stage 1 keeps its snapshot: the new owner cannot decide, the disabled one still can.
        expect(await mayDecide(run, 'o3')).toEqual([]);
        await run.decide('o3', 'cy', 'Deny');
        await decideAndSee(run, '1', 'o1', 'ann');
        expect((await run.decisions('1')).cy).toBe('NotReviewed');
        expect((await run.instance()).reviewerIds).toEqual(['o1']);

        await env.sleep('3 days');
        await enterStage(run, '2');
        expect((await run.instance()).reviewerIds).toEqual(['o3']);
        expect(await mayDecide(run, 'o3')).toEqual(REVIEWEES);
        expect(await mayDecide(run, 'o1')).toEqual([]);
      },
      { wrapDirectory },
    );
  });
});
