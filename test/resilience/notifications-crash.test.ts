import { instanceQuery } from '../../src/workflows';
import { pollUntil, ProcessStack, ResilienceApi, selfReviewOf } from '../helpers/process-stack';
import type { SmtpTestServer } from '../helpers/smtp-server';
import { startSmtpServer } from '../helpers/smtp-server';

// The worker process is SIGKILLed while it sends the stage-start messages of a 200-member self-review
// (one sendNotifications activity, 200 recipients) to a slow SMTP server. Temporal retries the activity on
// the restarted worker once its heartbeat times out (30 seconds); the notification ledger in PostgreSQL
// must make the retry skip every message the killed attempt sent, so nobody gets theirs twice.

const MEMBERS = 200;
let smtp: SmtpTestServer;
let stack: ProcessStack;
beforeAll(async () => {
  smtp = await startSmtpServer({ delayMs: 40 });
  stack = new ProcessStack({
    members: MEMBERS,
    name: 'mail-crash',
    workerEnv: {
      SMTP_HOST: smtp.host,
      SMTP_PORT: String(smtp.port),
      MAIL_FROM: 'Stagecoach <reviews@contoso.test>',
      PUBLIC_BASE_URL: 'https://reviews.contoso.test',
    },
  });
  await stack.start();
}, 120_000);
afterAll(async () => {
  await stack?.stop();
  await smtp?.stop();
}, 60_000);

const note = (line: string) => process.stdout.write(`[mail-crash] ${line}\n`);

it('sends none of 200 stage-start messages twice when the worker is killed halfway through the send', async () => {
  const api = new ResilienceApi(stack);
  const { instanceId, definitionId } = await api.startReview(
    selfReviewOf(stack.tenant.groupId, 'Mail crash review'),
  );
  await pollUntil(
    async () => smtp.messages.length,
    (n) => n >= 40,
    'the first 40 messages',
    { timeoutMs: 60_000, intervalMs: 20 },
  );
  await stack.killWorker();
  const before = smtp.messages.length;
  note(`worker killed after ${before} of ${MEMBERS} messages`);
  expect(before).toBeLessThan(MEMBERS);
  await stack.startWorker();

  const handle = stack.client!.workflow.getHandle(`access-review/${definitionId}/${instanceId}`);
  const view = await pollUntil(
    () => handle.query(instanceQuery),
    (v) => v.notifications.length > 0,
    'the send to be recorded',
    { timeoutMs: 120_000, intervalMs: 500 },
  );
  const [send] = view.notifications;
  note(`recorded: ${JSON.stringify(send)}; received ${smtp.messages.length}`);
  expect(send).toMatchObject({ kind: 'stageStarted', failed: 0, skipped: 0 });
  expect(send!.attempts).toBeGreaterThanOrEqual(2);
  // The retry found what the killed attempt sent; at most the one in flight when it died is unconfirmed.
  expect(send!.alreadySent).toBeGreaterThanOrEqual(before - 1);
  expect(send!.unconfirmed).toBeLessThanOrEqual(1);
  expect(send!.sent + send!.alreadySent + send!.unconfirmed).toBe(MEMBERS);

  const recipients = smtp.messages.map((m) => m.to[0]?.address);
  expect(new Set(recipients).size).toBe(recipients.length);
  expect(recipients.length).toBeGreaterThanOrEqual(MEMBERS - send!.unconfirmed);
  expect(recipients.length).toBeLessThanOrEqual(MEMBERS);
  expect(smtp.messages[0]!.text).toContain(
    `https://reviews.contoso.test/v1.0/identityGovernance/accessReviews/definitions/${definitionId}/instances/${instanceId}/`,
  );
}, 240_000);
