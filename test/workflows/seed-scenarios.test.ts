import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { guestDeletionWorkflowId } from '../../src/domain/ids';
import { decisionsQuery } from '../../src/workflows';
import { guestReview, guestTenant, stage } from '../helpers/guest-fixtures';
import type { ReviewRun } from '../helpers/review-harness';
import { application, group, until, user, withReview } from '../helpers/review-harness';
import { createTimeSkippingEnv } from '../helpers/temporal';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createTimeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

/**
 * Waits for the instance to apply without awaiting its result: awaiting a result lets the
 * time-skipping server jump over the guests' 30-day deletion timer too.
 */
const applied = (run: ReviewRun) =>
  until(
    () => run.instance(),
    (v) => v.status === 'Applied',
    'Applied',
  );

/** ann and bob report to mgr1, cy to mgr2, dee has no manager; o1 owns the resource; a1, a2 audit. */
const tenant = () => ({
  users: [
    user('ann', { managerId: 'mgr1' }),
    user('bob', { managerId: 'mgr1' }),
    user('cy', { managerId: 'mgr2' }),
    user('dee'),
    user('mgr1'),
    user('mgr2'),
    user('o1'),
    user('a1'),
    user('a2'),
  ],
  groups: [group('res', ['ann', 'bob', 'cy', 'dee'], ['o1']), group('auditors', ['a1', 'a2'], ['a1'])],
  applications: [application('app', ['ann', 'bob', 'cy', 'dee'], ['o1'])],
});

const MANAGERS = { query: './manager', queryType: 'MicrosoftGraph', queryRoot: 'decisions' };

async function enterStage(run: ReviewRun, stageId: string, afterDays?: number) {
  if (afterDays) await env.sleep(`${afterDays} days`);
  await until(
    () => run.instance(),
    (v) => v.currentStageId === stageId,
    `stage ${stageId}`,
  );
}

const members = async (run: ReviewRun, groupId: string) =>
  (await run.directory.listGroupTransitiveMembers(groupId))!.map((u) => u.id).sort();

describe('the seed scenarios, configured as the seed document tables say', () => {
  it('reaches consensus across managers, group owners and auditors, with later decisions overwriting earlier ones', async () => {
    const definition = {
      displayName: 'Consensus review',
      scope: { query: '/groups/res/transitiveMembers', queryType: 'MicrosoftGraph' },
      stageSettings: [
        stage(1, [MANAGERS]),
        stage(2, [{ query: '/groups/res/owners', queryType: 'MicrosoftGraph' }]),
        stage(3, [{ query: '/groups/auditors/transitiveMembers', queryType: 'MicrosoftGraph' }]),
      ],
      settings: {
        decisionHistoriesForReviewersEnabled: true,
        defaultDecisionEnabled: true,
        defaultDecision: 'Deny',
        autoApplyDecisionsEnabled: true,
      },
    };
    await withReview(env, tenant(), definition, async (run) => {
      await enterStage(run, '1');
      await run.decide('mgr1', 'ann', 'Approve');
      await run.decide('mgr1', 'bob', 'Deny');
      await run.decide('mgr2', 'cy', 'Approve');
      await run.decide('o1', 'dee', 'Approve'); // not a stage 1 reviewer: ignored
      expect(await run.decisions('1')).toEqual({
        ann: 'Approve',
        bob: 'Deny',
        cy: 'Approve',
        dee: 'NotReviewed',
      });

      await enterStage(run, '2', 3);
      expect(await run.stageMembers('2')).toEqual(['ann', 'bob', 'cy', 'dee']);
      await run.decide('mgr1', 'ann', 'Deny'); // a stage 1 reviewer cannot decide in stage 2
      await run.decide('o1', 'bob', 'Approve');
      await run.decide('o1', 'cy', 'Deny');

      await enterStage(run, '3', 3);
      expect(await run.stageMembers('3')).toEqual(['ann', 'bob', 'cy', 'dee']);
      // Decision history is on: an auditor sees what the managers decided in stage 1.
      const history = await run.handle.query(decisionsQuery, {
        viewer: { kind: 'reviewer', userId: 'a2' },
        stageId: '1',
        skip: 0,
        top: 10,
      });
      expect('value' in history && history.value.map((d) => [d.principal.id, d.decision]).sort()).toEqual([
        ['ann', 'Approve'],
        ['bob', 'Deny'],
        ['cy', 'Approve'],
        ['dee', 'NotReviewed'],
      ]);
      await run.decide('a1', 'cy', 'Approve');

      await env.sleep('3 days');
      const done = await run.handle.result();
      expect(done.status).toBe('Applied');
      expect(await run.decisions()).toEqual({ ann: 'Approve', bob: 'Approve', cy: 'Approve', dee: 'Deny' });
      expect(await members(run, 'res')).toEqual(['ann', 'bob', 'cy']);
    });
  });

  it('sends only NotReviewed and DontKnow reviewees of the app owners on to the managers, and approves the silent', async () => {
    const definition = {
      displayName: 'Alternate reviewers',
      scope: { query: '/servicePrincipals/app/appRoleAssignedTo', queryType: 'MicrosoftGraph' },
      stageSettings: [
        stage(1, [{ query: '/servicePrincipals/app/owners', queryType: 'MicrosoftGraph' }], {
          decisionsThatWillMoveToNextStage: ['NotReviewed', 'DontKnow'],
        }),
        stage(2, [MANAGERS]),
      ],
      settings: {
        decisionHistoriesForReviewersEnabled: false,
        defaultDecisionEnabled: true,
        defaultDecision: 'Approve',
        autoApplyDecisionsEnabled: true,
      },
    };
    await withReview(env, tenant(), definition, async (run) => {
      await enterStage(run, '1');
      await run.decide('o1', 'ann', 'Approve');
      await run.decide('o1', 'bob', 'Deny');
      await run.decide('o1', 'cy', 'DontKnow');

      await enterStage(run, '2', 3);
      expect(await run.stageMembers('2')).toEqual(['cy', 'dee']);
      // History is off: the manager does not see what the owners said in stage 1.
      const history = await run.handle.query(decisionsQuery, {
        viewer: { kind: 'reviewer', userId: 'mgr2' },
        stageId: '1',
        skip: 0,
        top: 10,
      });
      expect('value' in history && history.value).toEqual([]);
      await run.decide('mgr2', 'cy', 'Deny');

      await env.sleep('3 days');
      await run.handle.result();
      expect(await run.decisions()).toEqual({ ann: 'Approve', bob: 'Deny', cy: 'Deny', dee: 'Approve' });
      const assignees = (await run.directory.listApplicationAssignees('app'))!.map((u) => u.id).sort();
      expect(assignees).toEqual(['ann', 'dee']);
    });
  });

  it('narrows self-approved reviewees stage by stage and removes everyone denied or silent', async () => {
    const approvedOnly = { decisionsThatWillMoveToNextStage: ['Approve'] };
    const definition = {
      displayName: 'IT exception',
      scope: { query: '/groups/res/transitiveMembers', queryType: 'MicrosoftGraph' },
      stageSettings: [
        stage(1, [], approvedOnly),
        stage(2, [MANAGERS], approvedOnly),
        stage(3, [{ query: '/groups/res/owners', queryType: 'MicrosoftGraph' }]),
      ],
      settings: {
        decisionHistoriesForReviewersEnabled: false,
        defaultDecisionEnabled: true,
        defaultDecision: 'Deny',
        autoApplyDecisionsEnabled: true,
      },
    };
    await withReview(env, tenant(), definition, async (run) => {
      await enterStage(run, '1');
      await run.decide('ann', 'ann', 'Approve');
      await run.decide('bob', 'bob', 'Approve');
      await run.decide('cy', 'cy', 'Deny');

      await enterStage(run, '2', 3);
      expect(await run.stageMembers('2')).toEqual(['ann', 'bob']);
      await run.decide('mgr1', 'ann', 'Approve');
      await run.decide('mgr1', 'bob', 'Deny');

      await enterStage(run, '3', 3);
      expect(await run.stageMembers('3')).toEqual(['ann']);
      await run.decide('o1', 'ann', 'Approve');

      await env.sleep('3 days');
      await run.handle.result();
      expect(await run.decisions()).toEqual({ ann: 'Approve', bob: 'Deny', cy: 'Deny', dee: 'Deny' });
      expect(await members(run, 'res')).toEqual(['ann']);
    });
  });
});

describe('guest user reviews with block-then-delete', () => {
  it('blocks denied inactive guests at once, keeps them 29 days and deletes them on day 30', async () => {
    const p = 'x';
    await withReview(env, guestTenant(p, await env.currentTimeMs()), guestReview(p), async (run) => {
      await enterStage(run, '1');
      expect(await run.stageMembers('1')).toEqual([`${p}g1`, `${p}g2`]);
      await run.decide(`${p}g1`, `${p}g1`, 'Approve', 'Still collaborating on the audit');
      await enterStage(run, '2', 3);
      expect(await run.stageMembers('2')).toEqual([`${p}g1`]);
      await run.decide(`${p}o1`, `${p}g1`, 'Deny');
      await env.sleep('3 days');
      await applied(run);
      expect(await run.decisions()).toEqual({ [`${p}g1`]: 'Deny', [`${p}g2`]: 'Deny' });
      for (const id of [`${p}g1`, `${p}g2`])
        expect((await run.directory.getUser(id))?.accountEnabled).toBe(false);
      expect((await run.directory.getUser(`${p}g3`))?.accountEnabled).toBe(true);

      await env.sleep('29 days');
      expect(await run.directory.getUser(`${p}g1`)).toBeDefined();
      await env.sleep('1 day');
      const outcome = await env.client.workflow.getHandle(guestDeletionWorkflowId(`${p}g1`)).result();
      expect(outcome).toBe('deleted');
      await env.client.workflow.getHandle(guestDeletionWorkflowId(`${p}g2`)).result();
      expect(await run.directory.getUser(`${p}g1`)).toBeUndefined();
      expect(await run.directory.getUser(`${p}g2`)).toBeUndefined();
    });
  });
});
