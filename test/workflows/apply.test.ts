import { MockActivityEnvironment } from '@temporalio/testing';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Activities } from '../../src/activities';
import { createActivities } from '../../src/activities';
import type { ApplyInput, ApplyOutput } from '../../src/activities/apply';
import { EmbeddedDirectory } from '../../src/directory/embedded';
import { applyDecisionsSignal } from '../../src/workflows';
import { InMemoryApplyLedger } from '../../src/store/apply-ledger';
import { withCleanReview } from '../helpers/cleanup';
import { eventually, FlakyRemovalsDirectory } from '../helpers/directory-fakes';
import { stage } from '../helpers/guest-fixtures';
import type { ReviewOptions, ReviewRun } from '../helpers/review-harness';
import { application, applied, enterStage, group, until, user } from '../helpers/review-harness';
import { createTimeSkippingEnv } from '../helpers/temporal';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createTimeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

/** team = ann, bob, cy (rev reviews them); app is assigned to ann and bob; zed belongs to nothing. */
const tenant = () => ({
  users: [user('ann'), user('bob'), user('cy'), user('zed'), user('rev')],
  groups: [group('team', ['ann', 'bob', 'cy'])],
  applications: [application('app', ['ann', 'bob'])],
});

const review = (settings: Record<string, unknown> = {}) => ({
  displayName: 'Apply review',
  scope: { query: '/groups/team/transitiveMembers', queryType: 'MicrosoftGraph' },
  stageSettings: [stage(1, [{ query: '/users/rev', queryType: 'MicrosoftGraph' }])],
  settings: { autoApplyDecisionsEnabled: true, ...settings },
});

const withTeamReview = (
  definition: Record<string, unknown>,
  fn: (run: ReviewRun) => Promise<void>,
  options?: ReviewOptions,
) => withCleanReview(env, tenant(), definition, fn, options);

const members = async (directory: EmbeddedDirectory, groupId: string) =>
  (await directory.listGroupTransitiveMembers(groupId))!.map((u) => u.id).sort();
const applyResults = async (run: ReviewRun) =>
  Object.fromEntries((await run.items()).map((i) => [i.principal.id, i.applyResult]));

/** Waits until rev's decision on `principal` shows: every signal sent before it was handled too. */
async function decideAndSee(run: ReviewRun, principal: string, decision: 'Approve' | 'Deny' | 'DontKnow') {
  await run.decide('rev', principal, decision);
  await until(
    () => run.decisions('1'),
    (d) => d[principal] === decision,
    `rev's decision on ${principal}`,
  );
}

/** Runs the applyDecisions activity function outside a worker, in a mocked activity context. */
const applyOutsideWorker = (applyDecisions: Activities['applyDecisions'], input: ApplyInput) =>
  new MockActivityEnvironment().run<[ApplyInput], ApplyOutput, Activities['applyDecisions']>(
    applyDecisions,
    input,
  );

describe('the applyDecisions activity (R10)', () => {
  const item = (principalId: string, decision: 'Approve' | 'Deny') => ({
    itemId: `item-${principalId}`,
    principalId,
    decision,
  });

  it('changes nothing when the same batch is applied twice, and reports the same results', async () => {
    const directory = EmbeddedDirectory.inMemory(tenant());
    const counting = new FlakyRemovalsDirectory(directory, 0);
    const { applyDecisions } = createActivities({
      directory: counting,
      applyLedger: new InMemoryApplyLedger(),
    });
    const input: ApplyInput = {
      instanceId: 'instance-1',
      resource: { type: 'group', id: 'team' },
      denyAction: 'removeAccess',
      items: [item('ann', 'Deny'), item('bob', 'Approve'), item('cy', 'Deny'), item('zed', 'Deny')],
    };
    const expected = [
      { itemId: 'item-ann', result: 'AppliedSuccessfully' },
      { itemId: 'item-bob', result: 'AppliedSuccessfully' },
      { itemId: 'item-cy', result: 'AppliedSuccessfully' },
      { itemId: 'item-zed', result: 'AppliedSuccessfullyButObjectNotFound' },
    ];

    const first = await applyOutsideWorker(applyDecisions, input);
    expect(first.results).toEqual(expected);
    expect(counting.calls).toEqual(['ann', 'cy', 'zed']);
    expect(await members(directory, 'team')).toEqual(['bob']);

    const second = await applyOutsideWorker(applyDecisions, input);
    expect(second.results).toEqual(expected);
    expect(counting.calls).toEqual(['ann', 'cy', 'zed']);
    expect(await members(directory, 'team')).toEqual(['bob']);
  });

  it('removes the application assignment of a denied assignee of an application', async () => {
    const directory = EmbeddedDirectory.inMemory(tenant());
    const { applyDecisions } = createActivities({ directory, applyLedger: new InMemoryApplyLedger() });
    const { results } = await applyOutsideWorker(applyDecisions, {
      instanceId: 'instance-2',
      resource: { type: 'application', id: 'app' },
      denyAction: 'removeAccess',
      items: [item('ann', 'Deny'), item('cy', 'Deny')],
    });
    expect(results.map((r) => r.result)).toEqual([
      'AppliedSuccessfully',
      'AppliedSuccessfullyButObjectNotFound',
    ]);
    expect((await directory.listApplicationAssignees('app'))!.map((u) => u.id)).toEqual(['bob']);
    expect(await members(directory, 'team')).toEqual(['ann', 'bob', 'cy']);
  });
});

describe('applying a review (R10)', () => {
  it('reports AppliedSuccessfullyButObjectNotFound for a denied member removed from the group meanwhile', async () => {
    await withTeamReview(review(), async (run) => {
      await enterStage(run, '1');
      await run.decide('rev', 'bob', 'Deny');
      await decideAndSee(run, 'ann', 'Approve');
      await run.directory.removeGroupMember('team', 'bob');
      await run.stop();
      await applied(run);
      expect(await applyResults(run)).toEqual({
        ann: 'AppliedSuccessfully',
        bob: 'AppliedSuccessfullyButObjectNotFound',
        cy: 'New',
      });
      expect(await members(run.directory, 'team')).toEqual(['ann', 'cy']);
    });
  });

  it('retries a transient directory outage and removes each denied member exactly once', async () => {
    let directory!: FlakyRemovalsDirectory;
    const wrapDirectory: ReviewOptions['wrapDirectory'] = (d) =>
      (directory = new FlakyRemovalsDirectory(d, 2));
    await withTeamReview(
      review(),
      async (run) => {
        await enterStage(run, '1');
        await run.decide('rev', 'bob', 'Deny');
        await decideAndSee(run, 'cy', 'Deny');
        await run.stop();
        // Real seconds: the activity's retry backoff (2 s, then 4 s) is not skipped by the test server.
        await eventually(
          () => run.instance(),
          (v) => v.status === 'Applied',
          'Applied after retries',
          30_000,
        );
        expect(directory.calls).toEqual(['bob', 'bob', 'bob', 'cy']);
        expect(directory.removals).toEqual([
          { userId: 'bob', result: 'done' },
          { userId: 'cy', result: 'done' },
        ]);
        expect(await applyResults(run)).toEqual({
          ann: 'New',
          bob: 'AppliedSuccessfully',
          cy: 'AppliedSuccessfully',
        });
        expect(await members(run.directory, 'team')).toEqual(['ann']);
      },
      { wrapDirectory },
    );
  });

  it('ignores the applyDecisions admin action until the review is Completed', async () => {
    await withTeamReview(review({ autoApplyDecisionsEnabled: false }), async (run) => {
      await enterStage(run, '1');
      await run.handle.signal(applyDecisionsSignal, { by: 'early-admin' });
      await decideAndSee(run, 'cy', 'Deny');
      await env.sleep('3 days');
      const completed = await until(
        () => run.instance(),
        (v) => v.status === 'Completed',
        'Completed',
      );
      expect(completed.appliedDateTime).toBeNull();
      await env.sleep('1 day');
      expect((await run.instance()).status).toBe('Completed');
      expect(await members(run.directory, 'team')).toEqual(['ann', 'bob', 'cy']);
      expect((await applyResults(run)).cy).toBe('New');

      await run.handle.signal(applyDecisionsSignal, { by: 'admin' });
      const done = await applied(run);
      expect(done.appliedDateTime).not.toBeNull();
      expect(await members(run.directory, 'team')).toEqual(['ann', 'bob']);
      const cy = (await run.items()).find((i) => i.principal.id === 'cy')!;
      expect(cy.applyResult).toBe('AppliedSuccessfully');
      expect(cy.appliedBy?.id).toBe('admin');
    });
  });

  it('applies a 1,200-reviewee review in batches of at most 500', async () => {
    const ids = Array.from({ length: 1200 }, (_, i) => `u${String(i).padStart(4, '0')}`);
    const big = { users: ids.map((id) => user(id)), groups: [group('big', ids)] };
    const definition = {
      displayName: 'Big self-review',
      scope: { query: '/groups/big/transitiveMembers', queryType: 'MicrosoftGraph' },
      stageSettings: [stage(1, [])],
      settings: { autoApplyDecisionsEnabled: true, defaultDecisionEnabled: true, defaultDecision: 'Deny' },
    };
    const batches: number[] = [];
    const wrapActivities = (a: Activities): Activities => ({
      ...a,
      async applyDecisions(input) {
        batches.push(input.items.length);
        return a.applyDecisions(input);
      },
    });
    await withCleanReview(
      env,
      big,
      definition,
      async (run) => {
        await enterStage(run, '1');
        await run.stop();
        const done = await applied(run);
        expect(done.counts).toMatchObject({ Deny: 1200, total: 1200 });
        // Batches may run concurrently, so their order is not fixed.
        expect([...batches].sort((a, b) => b - a)).toEqual([500, 500, 200]);
        const results = await applyResults(run);
        expect(Object.keys(results)).toHaveLength(1200);
        expect(new Set(Object.values(results))).toEqual(new Set(['AppliedSuccessfully']));
        expect(await members(run.directory, 'big')).toEqual([]);
      },
      // One workflow holds all 1,200 items here, so its apply batches are the ones to count.
      { wrapActivities, input: { shardSize: 5000 } },
    );
  });
});
