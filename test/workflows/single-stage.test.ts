import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createTimeSkippingEnv } from '../helpers/temporal';
import { group, until, user, withReview } from '../helpers/review-harness';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createTimeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

const tenant = () => ({
  users: [user('ann'), user('bob'), user('cy')],
  groups: [group('team', ['ann', 'bob', 'cy'], ['ann'])],
});

const selfReview = (extra: Record<string, unknown> = {}) => ({
  displayName: 'Team self-review',
  scope: { query: '/groups/team/transitiveMembers', queryType: 'MicrosoftGraph' },
  settings: { instanceDurationInDays: 7, autoApplyDecisionsEnabled: true, ...extra },
});

describe('a single-stage self-review', () => {
  it('stays open for its whole duration, then removes the denied member when the stage timer fires', async () => {
    await withReview(env, tenant(), selfReview(), async (run) => {
      await until(
        () => run.instance(),
        (v) => v.currentStageId === '1',
        'stage 1',
      );
      await run.decide('bob', 'bob', 'Deny');
      await run.decide('ann', 'ann', 'Approve');
      await env.sleep('6 days');
      const midway = await run.instance();
      expect(midway.status).toBe('InProgress');
      expect(await run.directory.listGroupTransitiveMembers('team')).toHaveLength(3);

      await env.sleep('1 day');
      const done = await run.handle.result();
      expect(done.status).toBe('Applied');
      expect(done.stages[0]?.status).toBe('Completed');
      const members = (await run.directory.listGroupTransitiveMembers('team'))!.map((u) => u.id).sort();
      expect(members).toEqual(['ann', 'cy']);
      const items = await run.items();
      const bob = items.find((i) => i.principal.id === 'bob')!;
      expect(bob.decision).toBe('Deny');
      expect(bob.applyResult).toBe('AppliedSuccessfully');
      expect(items.find((i) => i.principal.id === 'cy')!.applyResult).toBe('New');
    });
  });

  it('lets a reviewee decide only their own item', async () => {
    await withReview(env, tenant(), selfReview(), async (run) => {
      await until(
        () => run.instance(),
        (v) => v.currentStageId === '1',
        'stage 1',
      );
      await run.decide('ann', 'bob', 'Deny');
      await run.decide('bob', 'bob', 'Approve');
      expect(await run.decisions()).toEqual({ ann: 'NotReviewed', bob: 'Approve', cy: 'NotReviewed' });
      await run.stop();
      await run.handle.result();
      expect((await run.directory.listGroupTransitiveMembers('team'))!.map((u) => u.id).sort()).toEqual([
        'ann',
        'bob',
        'cy',
      ]);
    });
  });

  it('ends early and applies when an admin stops the instance', async () => {
    await withReview(env, tenant(), selfReview(), async (run) => {
      await until(
        () => run.instance(),
        (v) => v.currentStageId === '1',
        'stage 1',
      );
      await run.decide('cy', 'cy', 'Deny');
      await run.stop();
      const done = await run.handle.result();
      expect(done.status).toBe('Applied');
      expect(Date.parse(done.endDateTime) - Date.parse(done.startDateTime)).toBeLessThan(86_400_000);
      expect((await run.directory.listGroupTransitiveMembers('team'))!.map((u) => u.id)).not.toContain('cy');
    });
  });

  it('waits for an admin to apply when auto-apply is off', async () => {
    await withReview(env, tenant(), selfReview({ autoApplyDecisionsEnabled: false }), async (run) => {
      await until(
        () => run.instance(),
        (v) => v.currentStageId === '1',
        'stage 1',
      );
      await run.decide('cy', 'cy', 'Deny');
      await env.sleep('8 days');
      const completed = await until(
        () => run.instance(),
        (v) => v.status === 'Completed',
        'Completed',
      );
      expect(completed.appliedDateTime).toBeNull();
      expect((await run.directory.listGroupTransitiveMembers('team'))!.map((u) => u.id)).toContain('cy');
      const { applyDecisionsSignal } = await import('../../src/workflows');
      await run.handle.signal(applyDecisionsSignal, { by: 'admin' });
      const done = await run.handle.result();
      expect(done.status).toBe('Applied');
      expect((await run.directory.listGroupTransitiveMembers('team'))!.map((u) => u.id)).not.toContain('cy');
    });
  });

  it('resolves a review larger than one activity page (2,500 reviewees in pages of 1,000)', async () => {
    const ids = Array.from({ length: 2500 }, (_, i) => `p${String(i).padStart(4, '0')}`);
    const big = { users: ids.map((id) => user(id)), groups: [group('big', ids)] };
    const review = {
      ...selfReview(),
      scope: { query: '/groups/big/transitiveMembers', queryType: 'MicrosoftGraph' },
    };
    await withReview(
      env,
      big,
      review,
      async (run) => {
        const view = await until(
          () => run.instance(),
          (v) => v.currentStageId === '1',
          'stage 1',
        );
        expect(view.counts.total).toBe(2500);
        await run.decide('p2499', 'p2499', 'Deny');
        await run.stop();
        await until(
          () => run.instance(),
          (v) => v.status === 'Applied',
          'Applied',
        );
        const members = (await run.directory.listGroupTransitiveMembers('big'))!;
        expect(members).toHaveLength(2499);
        expect(members.map((u) => u.id)).not.toContain('p2499');
      },
      { input: { shardSize: 5000 } },
    );
  });
});
