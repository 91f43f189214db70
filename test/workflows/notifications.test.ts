import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { SmtpMailer } from '../../src/notifications/smtp';
import { refusalOf } from '../../src/services/temporal-errors';
import type { ReassignInput } from '../../src/workflows';
import { reassignDecisionsUpdate, sendReminderUpdate } from '../../src/workflows';
import { stage } from '../helpers/guest-fixtures';
import type { ReviewRun } from '../helpers/review-harness';
import { applied, enterStage, group, until, user, withReview } from '../helpers/review-harness';
import type { ReceivedMail, SmtpTestServer } from '../helpers/smtp-server';
import { mailerFor, startSmtpServer } from '../helpers/smtp-server';
import { MANAGERS, OWNERS } from '../helpers/team-review';
import { createTimeSkippingEnv } from '../helpers/temporal';

// Reviews that tell their reviewers by e-mail, through a real SMTP server (smtp-server in this process):
// stage start, the halfway reminder, reminderDaysBeforeDue, escalation to managers, reassignment and the
// end-of-review notice; separation of duties; a mail server that is down. Timers are crossed on the
// time-skipping server.

let env: TestWorkflowEnvironment;
let smtp: SmtpTestServer;
let mailer: SmtpMailer;
beforeAll(async () => {
  env = await createTimeSkippingEnv();
  smtp = await startSmtpServer();
  mailer = mailerFor(smtp);
});
afterAll(async () => {
  await mailer?.close();
  await smtp?.stop();
  await env?.teardown();
});
beforeEach(() => smtp.clear());

/** u00–u02 report to mgrA, u03–u05 to mgrB, both managers to boss; o1 owns `team` and is a member of it. */
function tenant() {
  const members = ['u00', 'u01', 'u02', 'u03', 'u04', 'u05'];
  return {
    users: [
      ...members.map((id, i) => user(id, { displayName: `User ${id}`, managerId: i < 3 ? 'mgrA' : 'mgrB' })),
      user('mgrA', { displayName: 'Manager A', managerId: 'boss' }),
      user('mgrB', { displayName: 'Manager B', managerId: 'boss' }),
      user('boss', { displayName: 'The Boss' }),
      user('o1', { displayName: 'Owner One', managerId: 'boss' }),
      user('auditor', { displayName: 'Auditor' }),
      user('cfo', { displayName: 'Chief Financial Officer', mail: 'cfo@finance.contoso.test' }),
    ],
    groups: [group('team', members, ['o1']), group('owners-too', [...members.slice(0, 2), 'o1'], ['o1'])],
  };
}

/** Six days of the managers, escalated to their managers two days before the end. */
const ESCALATING_MANAGER_STAGE = stage(1, [MANAGERS], {
  durationInDays: 6,
  escalation: { daysBeforeEnd: 2, escalateTo: 'managers' },
});

const definitionIdOf = (run: ReviewRun) => run.handle.workflowId.split('/')[1]!;
const linkOf = (run: ReviewRun) =>
  `https://stagecoach.test/v1.0/identityGovernance/accessReviews/definitions/${definitionIdOf(run)}/instances/${run.instanceId}/decisions/filterByCurrentUser(on='reviewer')`;
const to = (m: ReceivedMail) => m.to[0]?.address;
const summary = (messages: ReceivedMail[]) => messages.map((m) => `${to(m)}: ${m.subject}`).sort();
const arrived = (count: number) => smtp.waitFor(count, 30_000);
/**
 * Ends a review a test leaves running: its stage timer would otherwise fire on the time-skipping server
 * after its worker is gone, and the pending workflow task would hold the clock of the next test still.
 */
const done = (run: ReviewRun) => run.handle.terminate('test over');

async function reassign(run: ReviewRun, input: Omit<ReassignInput, 'people'>) {
  const holder = await run.holderOf('u00');
  try {
    return await holder.executeUpdate(reassignDecisionsUpdate, { args: [{ ...input, people: {} }] });
  } catch (err) {
    const refusal = refusalOf(err);
    if (refusal) return { code: refusal.code, status: refusal.status };
    throw err;
  }
}

describe('review notifications through a real SMTP server', () => {
  it('tells reviewers at stage start, reminds them halfway and a day before the end, escalates to managers and tells the additional recipients at the end', async () => {
    await withReview(
      env,
      tenant(),
      {
        displayName: 'Quarterly team review',
        descriptionForReviewers: 'Check who still needs <team> access',
        scope: { query: '/groups/team/transitiveMembers', queryType: 'MicrosoftGraph' },
        settings: { autoApplyDecisionsEnabled: true, reminderDaysBeforeDue: [1] },
        additionalNotificationRecipients: [
          {
            notificationTemplateType: 'CompletedAdditionalRecipients',
            notificationRecipientScope: { query: '/users/cfo', queryType: 'MicrosoftGraph' },
          },
        ],
        stageSettings: [ESCALATING_MANAGER_STAGE],
      },
      async (run) => {
        await enterStage(run, '1');
        const started = await arrived(2);
        expect(summary(started)).toEqual([
          expect.stringMatching(/^mgrA@contoso\.test: Please review access to team: 3 items due /),
          expect.stringMatching(/^mgrB@contoso\.test: Please review access to team: 3 items due /),
        ]);
        for (const m of started) {
          expect(m.text).toContain('Check who still needs <team> access');
          expect(m.text).toContain(linkOf(run));
          expect(m.html).toContain('Check who still needs &lt;team&gt; access');
          expect(m.html).toContain(linkOf(run).replace(/'/g, '&#39;'));
          // No reviewee data beyond names: no user ids or principal names of the members in the body.
          expect(m.text).not.toMatch(/u0\d@contoso\.test/);
        }
        for (const id of ['u00', 'u01', 'u02'])
          expect(await run.decide('mgrA', id, 'Approve')).toMatchObject({ ok: true });

        // Halfway (day 3): only mgrB has undecided items.
        await env.sleep('3 days');
        const halfway = (await arrived(3)).slice(2);
        expect(summary(halfway)).toEqual([expect.stringMatching(/^mgrB@contoso\.test: Reminder: .*3 items/)]);

        // Day 4, two days before the end: mgrB's undecided items get mgrB's manager, who is told so.
        await env.sleep('1 day');
        const escalated = (await arrived(4)).slice(3);
        expect(summary(escalated)).toEqual([
          expect.stringMatching(/^boss@contoso\.test: .*escalated to you.*3 items/),
        ]);
        expect(escalated[0]!.text).toContain('Manager B');
        expect(await run.decide('boss', 'u03', 'Deny')).toMatchObject({ ok: true });

        // Day 5, one day before the end: both reviewers of u04 and u05 are reminded.
        await env.sleep('1 day');
        const lastCall = (await arrived(6)).slice(4);
        expect(summary(lastCall)).toEqual([
          expect.stringMatching(/^boss@contoso\.test: Reminder: .*2 items/),
          expect.stringMatching(/^mgrB@contoso\.test: Reminder: .*2 items/),
        ]);

        // The end: the additional recipient hears how it came out.
        await env.sleep('1 day');
        await applied(run);
        const done = (await arrived(7)).slice(6);
        expect(summary(done)).toEqual([
          expect.stringMatching(/^cfo@finance\.contoso\.test: The access review .* has completed/),
        ]);
        expect(done[0]!.text).toContain("Approved: 3. Denied: 1. Don't know: 0. Not reviewed: 2.");

        const view = await run.instance();
        expect(view.notifications.map((n) => [n.kind, n.sent, n.failed])).toEqual([
          ['stageStarted', 2, 0],
          ['reminder', 1, 0],
          ['escalation', 1, 0],
          ['reminder', 2, 0],
          ['reviewCompleted', 1, 0],
        ]);
        expect(view.reminders.map((r) => r.by)).toEqual(['system', 'system']);
        // Every message is its own: no recipient got the same one twice.
        expect(new Set(smtp.messages.map((m) => m.messageId)).size).toBe(7);
      },
      { mailer },
    );
  });

  it('sends one message per reviewer across the shards of a large review: stage start, reminders and escalation', async () => {
    await withReview(
      env,
      tenant(),
      {
        displayName: 'Sharded team review',
        scope: { query: '/groups/team/transitiveMembers', queryType: 'MicrosoftGraph' },
        settings: { autoApplyDecisionsEnabled: true },
        stageSettings: [ESCALATING_MANAGER_STAGE],
      },
      async (run) => {
        await enterStage(run, '1');
        expect((await run.instance()).shards).toBe(3);
        expect(summary(await arrived(2))).toEqual([
          expect.stringMatching(/^mgrA@contoso\.test: .*3 items/),
          expect.stringMatching(/^mgrB@contoso\.test: .*3 items/),
        ]);
        for (const id of ['u00', 'u01', 'u02', 'u03']) {
          expect(await run.decide(id < 'u03' ? 'mgrA' : 'mgrB', id, 'Approve')).toMatchObject({ ok: true });
        }
        // An administrator's reminder: one message to the one reviewer with undecided items.
        await run.handle.executeUpdate(sendReminderUpdate, { args: [{ by: 'admin', stageId: '1' }] });
        expect(summary((await arrived(3)).slice(2))).toEqual([
          expect.stringMatching(/^mgrB@contoso\.test: Reminder: .*2 items/),
        ]);
        await env.sleep('3 days');
        expect(summary((await arrived(4)).slice(3))).toEqual([
          expect.stringMatching(/^mgrB@contoso\.test: Reminder: .*2 items/),
        ]);
        await env.sleep('1 day');
        expect(summary((await arrived(5)).slice(4))).toEqual([
          expect.stringMatching(/^boss@contoso\.test: .*escalated to you.*2 items/),
        ]);
        expect(await run.decide('boss', 'u04', 'Deny')).toMatchObject({ ok: true });
        await env.sleep('2 days');
        await applied(run);
        const view = await run.instance();
        expect(view.notifications.map((n) => [n.kind, n.sent])).toEqual([
          ['stageStarted', 2],
          ['reminder', 1],
          ['reminder', 1],
          ['escalation', 1],
        ]);
        expect(view.reminders.map((r) => [r.by, r.reviewerIds])).toEqual([
          ['admin', ['mgrB']],
          ['system', ['mgrB']],
        ]);
      },
      { mailer, input: { shardSize: 2 } },
    );
  });

  it('routes a reviewer’s own item to the fallback reviewer and refuses their decision on it with 403', async () => {
    await withReview(
      env,
      tenant(),
      {
        displayName: 'Owners review their group',
        scope: { query: '/groups/owners-too/transitiveMembers', queryType: 'MicrosoftGraph' },
        stageSettings: [
          stage(1, [{ query: '/groups/owners-too/owners', queryType: 'MicrosoftGraph' }], {
            fallbackReviewers: [{ query: '/users/auditor', queryType: 'MicrosoftGraph' }],
          }),
        ],
      },
      async (run) => {
        await enterStage(run, '1');
        expect(await run.decide('o1', 'o1', 'Approve')).toMatchObject({
          ok: false,
          violation: { code: 'review.own_access', status: 403 },
        });
        expect(await run.decide('o1', 'u00', 'Approve')).toMatchObject({ ok: true });
        expect(await run.decide('auditor', 'u00', 'Approve')).toMatchObject({ ok: false });
        expect(await run.decide('auditor', 'o1', 'Approve')).toMatchObject({ ok: true });
        const messages = await arrived(2);
        expect(summary(messages)).toEqual([
          expect.stringMatching(/^auditor@contoso\.test: .*: 1 item due/),
          expect.stringMatching(/^o1@contoso\.test: .*: 2 items due/),
        ]);
        await done(run);
      },
      { mailer },
    );
  });

  it("sends a reviewer's own item to their manager when the stage has no fallback reviewers; self-review stages and a switched-off rule allow it", async () => {
    const owners = [{ query: '/groups/owners-too/owners', queryType: 'MicrosoftGraph' }];
    const scope = { query: '/groups/owners-too/transitiveMembers', queryType: 'MicrosoftGraph' };
    await withReview(
      env,
      tenant(),
      { displayName: 'To the manager', scope, stageSettings: [stage(1, owners)] },
      async (run) => {
        await enterStage(run, '1');
        expect(await run.decide('o1', 'o1', 'Approve')).toMatchObject({
          ok: false,
          violation: { code: 'review.own_access' },
        });
        expect(await run.decide('boss', 'o1', 'Approve')).toMatchObject({ ok: true });
        await done(run);
      },
    );
    await withReview(
      env,
      tenant(),
      { displayName: 'Self', scope, stageSettings: [stage(1, [])] },
      async (run) => {
        await enterStage(run, '1');
        expect(await run.decide('o1', 'o1', 'Approve')).toMatchObject({ ok: true });
        await done(run);
      },
    );
    await withReview(
      env,
      tenant(),
      {
        displayName: 'Off',
        scope,
        settings: { separationOfDutiesEnabled: false },
        stageSettings: [stage(1, owners)],
      },
      async (run) => {
        await enterStage(run, '1');
        expect(await run.decide('o1', 'o1', 'Approve')).toMatchObject({ ok: true });
        await done(run);
      },
    );
  });

  it('hands items to another reviewer for the current stage only, tells them, and keeps the history', async () => {
    await withReview(
      env,
      tenant(),
      {
        displayName: 'Two owner stages',
        scope: { query: '/groups/team/transitiveMembers', queryType: 'MicrosoftGraph' },
        stageSettings: [stage(1, [OWNERS]), stage(2, [OWNERS])],
        settings: { mailNotificationsEnabled: true, reminderNotificationsEnabled: false },
      },
      async (run) => {
        await enterStage(run, '1');
        await arrived(1);
        smtp.clear();
        const outcome = await reassign(run, {
          viewer: { kind: 'reviewer', userId: 'o1' },
          itemIds: [run.itemId('u00')],
          fromReviewerId: 'o1',
          toReviewerId: 'mgrA',
          justification: 'Manager A knows what u00 works on',
        });
        expect(outcome).toEqual({ ok: true, stageId: '1', reassigned: 1 });
        const [told] = await arrived(1);
        expect(to(told!)).toBe('mgrA@contoso.test');
        expect(told!.subject).toMatch(/reassigned to you by Owner One/);
        expect(told!.text).toContain('User u00');
        expect(told!.text).toContain('Manager A knows what u00 works on');
        expect(await run.decide('o1', 'u00', 'Approve')).toMatchObject({
          ok: false,
          violation: { code: 'review.not_a_reviewer' },
        });
        expect(await run.decide('mgrA', 'u00', 'Approve')).toMatchObject({ ok: true });
        // Refusals (not the caller's item, to the reviewee) are the rules' and the API tests' business.
        const [item] = (await run.items('1')).filter((i) => i.principal.id === 'u00');
        expect(item!.reassignments).toEqual([
          expect.objectContaining({
            stageId: '1',
            reassignedBy: expect.objectContaining({ id: 'o1' }),
            from: expect.objectContaining({ id: 'o1' }),
            to: expect.objectContaining({ id: 'mgrA' }),
            justification: 'Manager A knows what u00 works on',
          }),
        ]);

        // Stage 2: the item is the owner's again; the reviewer it was handed to no longer decides it.
        await env.sleep('3 days');
        await enterStage(run, '2');
        expect(await run.decide('mgrA', 'u00', 'Deny')).toMatchObject({
          ok: false,
          violation: { code: 'review.not_a_reviewer' },
        });
        expect(await run.decide('o1', 'u00', 'Deny')).toMatchObject({ ok: true });
        // An administrator takes an item from every reviewer it has.
        expect(
          await reassign(run, {
            viewer: { kind: 'admin', userId: 'admin' },
            itemIds: [run.itemId('u00')],
            fromReviewerId: null,
            toReviewerId: 'mgrB',
            justification: 'Owner is away',
          }),
        ).toEqual({ ok: true, stageId: '2', reassigned: 1 });
        expect(await run.decide('o1', 'u00', 'Approve')).toMatchObject({ ok: false });
        expect(await run.decide('mgrB', 'u00', 'Approve')).toMatchObject({ ok: true });
        await done(run);
      },
      { mailer },
    );
  });

  /** A 7-day manager review of the team while the mail server is down (it comes back up after `fn`). */
  const whileMailIsDown = async (displayName: string, fn: (run: ReviewRun) => Promise<void>) => {
    await smtp.down();
    try {
      await withReview(
        env,
        tenant(),
        {
          displayName,
          scope: { query: '/groups/team/transitiveMembers', queryType: 'MicrosoftGraph' },
          stageSettings: [stage(1, [MANAGERS], { durationInDays: 7 })],
        },
        async (run) => {
          await enterStage(run, '1');
          await fn(run);
          await done(run);
        },
        { mailer },
      );
    } finally {
      await smtp.up();
    }
  };

  it('opens the stage while the mail server is down, retries the send with backoff and reports it', () =>
    whileMailIsDown('Mail server down', async (run) => {
      expect(await run.decide('mgrA', 'u00', 'Approve')).toMatchObject({ ok: true });
      await env.sleep('2 minutes');
      const pending = await until(
        async () => (await run.handle.describe()).raw.pendingActivities ?? [],
        (list) => list.some((a) => (a.attempt ?? 0) >= 2),
        'a retried send',
      );
      expect(pending[0]!.activityType?.name).toBe('sendNotifications');
      expect(pending[0]!.lastFailure?.message).toMatch(/SMTP_HOST/);
      expect((await run.instance()).notifications).toEqual([]);

      await smtp.up();
      await env.sleep('1 hour');
      const messages = await arrived(2);
      expect(summary(messages)).toEqual([
        expect.stringMatching(/^mgrA@contoso\.test: .*3 items/),
        expect.stringMatching(/^mgrB@contoso\.test: .*3 items/),
      ]);
      const view = await until(
        () => run.instance(),
        (v) => v.notifications.length > 0,
        'the send',
      );
      const [sent] = view.notifications;
      expect(sent).toMatchObject({ kind: 'stageStarted', sent: 2, failed: 0 });
      expect(sent!.attempts).toBeGreaterThanOrEqual(2);
    }));

  it('reports a send that failed after every retry, and the review goes on', () =>
    whileMailIsDown('Mail server gone', async (run) => {
      for (let day = 0; day < 3; day++) await env.sleep('1 day');
      const view = await until(
        () => run.instance(),
        (v) => v.notifications.length > 0,
        'the report',
        60_000,
      );
      expect(view.notifications).toEqual([
        expect.objectContaining({
          kind: 'stageStarted',
          sent: 0,
          failed: 2,
          error: expect.stringMatching(/SMTP_HOST/),
        }),
      ]);
      expect(view.currentStageId).toBe('1');
      expect(await run.decide('mgrB', 'u03', 'Approve')).toMatchObject({ ok: true });
    }));
});
