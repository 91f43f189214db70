import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MailRejectedError, MailUnavailableError } from '../../src/notifications/port';
import type { OutgoingMail } from '../../src/notifications/port';
import type { SmtpSettings } from '../../src/notifications/settings';
import { checkMailer, openMailer, SmtpMailer } from '../../src/notifications/smtp';
import { renderNotification } from '../../src/notifications/templates';
import type { SmtpTestServer } from '../helpers/smtp-server';
import { startSmtpServer } from '../helpers/smtp-server';

// SmtpMailer against a real SMTP server (smtp-server on loopback): what arrives, sign-in, STARTTLS, and
// how each failure reaches the port.

const rendered = renderNotification({
  kind: 'stageStarted',
  reviewName: 'Quarterly review',
  resourceName: 'Finance Team',
  stageId: '1',
  stageCount: 1,
  dueDateTime: '2026-12-14T17:00:00Z',
  recipientName: 'Ada Lovelace',
  itemCount: 2,
  link: 'http://localhost:3000/v1.0/identityGovernance/accessReviews/definitions/d1',
});
const mail = (address = 'ada@example.com', id = 'stageStarted.d1.1.ada@stagecoach'): OutgoingMail => ({
  to: { address, name: 'Ada Lovelace' },
  ...rendered,
  messageId: id,
});
const settingsFor = (server: SmtpTestServer, extra: Partial<SmtpSettings> = {}): SmtpSettings => ({
  host: server.host,
  port: server.port,
  secure: false,
  requireTls: false,
  from: { name: 'Stagecoach', address: 'access-reviews@example.com' },
  timeoutMs: 5_000,
  maxConnections: 2,
  ...extra,
});

const mailers: SmtpMailer[] = [];
const mailerFor = (server: SmtpTestServer, extra: Partial<SmtpSettings> = {}) => {
  const mailer = new SmtpMailer(settingsFor(server, extra));
  mailers.push(mailer);
  return mailer;
};
afterEach(async () => {
  await Promise.all(mailers.splice(0).map((m) => m.close()));
});

describe('SmtpMailer', () => {
  let server: SmtpTestServer;
  beforeAll(async () => {
    server = await startSmtpServer({
      rejectRecipients: (a) => a.startsWith('gone@'),
      deferRecipients: (a) => a.startsWith('busy@'),
    });
  });
  afterAll(() => server.stop());
  beforeEach(() => server.clear());

  it('delivers the rendered message to the recipient with its subject, both parts and Message-ID', async () => {
    await mailerFor(server).send(mail());
    const [got] = await server.waitFor(1);
    expect(got).toMatchObject({
      envelope: { from: 'access-reviews@example.com', to: ['ada@example.com'] },
      to: [{ address: 'ada@example.com', name: 'Ada Lovelace' }],
      from: { address: 'access-reviews@example.com', name: 'Stagecoach' },
      subject: 'Please review access to Finance Team: 2 items due 14 Dec 2026',
      messageId: '<stageStarted.d1.1.ada@stagecoach>',
    });
    expect(got!.text.trim()).toBe(rendered.text);
    expect(got!.html.trim()).toBe(rendered.html);
    expect(got!.html).toContain(
      'href="http://localhost:3000/v1.0/identityGovernance/accessReviews/definitions/d1"',
    );
  });

  it('keeps a Message-ID that already has its angle brackets', async () => {
    await mailerFor(server).send(mail('ada@example.com', '<given@stagecoach>'));
    expect((await server.waitFor(1))[0]!.messageId).toBe('<given@stagecoach>');
  });

  it('refuses a recipient the server answers with 550 as MailRejectedError', async () => {
    const sent = mailerFor(server).send(mail('gone@example.com'));
    await expect(sent).rejects.toThrow(MailRejectedError);
    await expect(sent).rejects.toThrow(/refused the message for good \(550 No such mailbox/);
  });

  it('treats a 450 for the recipient as MailUnavailableError (retry later)', async () => {
    await expect(mailerFor(server).send(mail('busy@example.com'))).rejects.toThrow(MailUnavailableError);
  });

  it('fails with MailUnavailableError naming SMTP_HOST and SMTP_PORT while the server is down, and recovers', async () => {
    const mailer = mailerFor(server);
    await mailer.send(mail());
    await server.down();
    try {
      const sent = mailer.send(mail());
      await expect(sent).rejects.toThrow(MailUnavailableError);
      await expect(sent).rejects.toThrow(
        `SMTP_HOST / SMTP_PORT: cannot reach the mail server at 127.0.0.1:${server.port} (ECONNREFUSED`,
      );
    } finally {
      await server.up();
    }
    await mailer.send(mail());
    expect(await server.waitFor(2)).toHaveLength(2);
  });

  it('fails with MailUnavailableError naming SMTP_REQUIRE_TLS when the server offers no STARTTLS', async () => {
    const sent = mailerFor(server, { requireTls: true }).send(mail());
    await expect(sent).rejects.toThrow(MailUnavailableError);
    await expect(sent).rejects.toThrow(/^SMTP_REQUIRE_TLS: 127\.0\.0\.1:\d+ does not offer STARTTLS/);
  });
});

describe('SmtpMailer with sign-in and STARTTLS', () => {
  let server: SmtpTestServer;
  let env: Record<string, string>;
  let dir: string;
  beforeAll(async () => {
    server = await startSmtpServer({ auth: { user: 'mailer', pass: 'hunter2-right' }, tls: true });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stagecoach-smtp-'));
    fs.writeFileSync(path.join(dir, 'password'), 'hunter2-right\n');
    env = {
      SMTP_HOST: server.host,
      SMTP_PORT: String(server.port),
      SMTP_USER: 'mailer',
      SMTP_PASSWORD_FILE: path.join(dir, 'password'),
      SMTP_TLS_CA_FILE: server.caFile!,
      SMTP_REQUIRE_TLS: 'true',
      MAIL_FROM: 'Stagecoach <access-reviews@example.com>',
    };
  });
  afterAll(async () => {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const open = async (extra: Record<string, string> = {}) => {
    const { parseConfig } = await import('../../src/config');
    const config = parseConfig({ DATABASE_URL: 'postgres://db/x', ...env, ...extra }, 'worker');
    const mailer = await openMailer(config);
    if (mailer) mailers.push(mailer);
    return mailer;
  };

  it('signs in over STARTTLS, trusting SMTP_TLS_CA_FILE, and delivers', async () => {
    const mailer = await open();
    expect(mailer!.description).toBe(
      `smtp://127.0.0.1:${server.port} (STARTTLS required, signed in as mailer, from access-reviews@example.com)`,
    );
    await mailer!.send(mail());
    expect((await server.waitFor(1))[0]).toMatchObject({ secure: true, user: 'mailer' });
  });

  it('stops the start with one line naming SMTP_USER / SMTP_PASSWORD for a wrong password, without it', async () => {
    fs.writeFileSync(path.join(dir, 'wrong'), 'hunter2-wrong');
    const failed = open({ SMTP_PASSWORD_FILE: path.join(dir, 'wrong') });
    await expect(failed).rejects.toThrow(
      `Cannot send mail: SMTP_USER / SMTP_PASSWORD: 127.0.0.1:${server.port} refused the sign-in as mailer (535`,
    );
    await expect(failed).rejects.not.toThrow('hunter2');
  });

  it('sends a wrong password to the port as MailUnavailableError', async () => {
    const mailer = mailerFor(server, {
      requireTls: true,
      ca: fs.readFileSync(server.caFile!, 'utf8'),
      auth: { user: 'mailer', pass: 'hunter2-wrong' },
    });
    await expect(mailer.send(mail())).rejects.toThrow(MailUnavailableError);
  });

  it('names SMTP_TLS_CA_FILE when the certificate is not trusted', async () => {
    const failed = open({ SMTP_TLS_CA_FILE: '', SMTP_PASSWORD_FILE: path.join(dir, 'password') });
    await expect(failed).rejects.toThrow(
      new RegExp(
        `^Cannot send mail: SMTP_TLS_CA_FILE: the certificate of 127\\.0\\.0\\.1:${server.port} is not trusted`,
      ),
    );
  });

  it('names SMTP_SECURE when implicit TLS meets a plain SMTP port', async () => {
    const mailer = mailerFor(server, { secure: true, ca: fs.readFileSync(server.caFile!, 'utf8') });
    await expect(checkMailer(mailer)).rejects.toThrow(/^Cannot send mail: SMTP_SECURE: /);
  });
});

describe('openMailer', () => {
  it('returns no mailer without SMTP_HOST', async () => {
    expect(await openMailer({ SMTP_TIMEOUT_MS: 1000, SMTP_MAX_CONNECTIONS: 1 })).toBeUndefined();
  });

  it('starts without a reachable server, naming SMTP_HOST / SMTP_PORT, and sends once it answers', async () => {
    const server = await startSmtpServer();
    await server.down();
    const problems: string[] = [];
    const mailer = await openMailer(
      {
        SMTP_HOST: '127.0.0.1',
        SMTP_PORT: server.port,
        MAIL_FROM: 'a@example.com',
        SMTP_TIMEOUT_MS: 2000,
        SMTP_MAX_CONNECTIONS: 1,
      },
      (problem) => problems.push(problem),
    );
    try {
      expect(mailer).toBeDefined();
      expect(problems).toEqual([
        expect.stringContaining(
          `SMTP_HOST / SMTP_PORT: cannot reach the mail server at 127.0.0.1:${server.port} (ECONNREFUSED`,
        ),
      ]);
      await server.up();
      await mailer!.send(mail());
      expect((await server.waitFor(1))[0]!.to[0]!.address).toBe('ada@example.com');
    } finally {
      await mailer?.close();
      await server.stop();
    }
  });
});
