import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { guestDeletionWorkflowId } from '../../src/domain/ids';
import { guestReview, guestTenant } from '../helpers/guest-fixtures';
import { applied, enterStage, withReview } from '../helpers/review-harness';
import { InMemoryReviewRecords } from '../../src/store/review-records';
import { createTimeSkippingEnv } from '../helpers/temporal';

// A file of its own: after another test's result waits, this env's clock stops skipping reliably.
let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createTimeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

describe('restoring a blocked guest', () => {
  it('never deletes a guest that an admin restored within the 30 days', async () => {
    const p = 'r';
    const records = new InMemoryReviewRecords();
    await withReview(
      env,
      guestTenant(p, await env.currentTimeMs()),
      guestReview(p),
      async (run) => {
        await enterStage(run, '1');
        await run.stop();
        await applied(run);
        expect((await run.directory.getUser(`${p}g2`))?.accountEnabled).toBe(false);
        await env.sleep('10 days');
        await run.directory.setAccountEnabled(`${p}g2`, true);
        // Re-enabling the account in the directory is what restoring means; the day-30 check sees it.
        const g2 = env.client.workflow.getHandle(guestDeletionWorkflowId(`${p}g2`));
        expect(await env.client.workflow.getHandle(guestDeletionWorkflowId(`${p}g1`)).result()).toBe(
          'deleted',
        );
        expect(await g2.result()).toBe('restored');
        expect(await run.directory.getUser(`${p}g2`)).toMatchObject({ accountEnabled: true });
        expect(await run.directory.getUser(`${p}g1`)).toBeUndefined();
        // The records say what became of each guest, in a stream of the guest's own.
        const guests = (await records.events(run.instanceId)).filter((e) => e.streamId.includes('guest'));
        const trail = guests.map(
          (e) => `${(e.event as { userId: string }).userId} ${(e.event as { type: string }).type}`,
        );
        expect(trail.sort()).toEqual(
          [
            `${p}g1 GuestDeletionScheduled`,
            `${p}g1 GuestDeleted`,
            `${p}g2 GuestDeletionScheduled`,
            `${p}g2 GuestRestored`,
          ].sort(),
        );
        expect(
          guests.find((e) => (e.event as { type: string }).type === 'GuestRestored')?.event,
        ).toMatchObject({ by: null });
      },
      { records },
    );
  });
});
