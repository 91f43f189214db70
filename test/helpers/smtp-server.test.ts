import net from 'node:net';
import fs from 'node:fs';
import nodemailer from 'nodemailer';
import type { SmtpTestServer } from './smtp-server';
import { startSmtpServer } from './smtp-server';

// The harness's own checks, with nodemailer as a plain client (no Stagecoach code).

const send = (server: SmtpTestServer, extra: Record<string, unknown> = {}, to = 'ada@example.com') =>
  nodemailer.createTransport({ host: server.host, port: server.port, ignoreTLS: true, ...extra }).sendMail({
    from: 'Stagecoach <reviews@example.com>',
    to: { name: 'Ada Lovelace', address: to },
    subject: 'Hello',
    text: 'plain body',
    html: '<p>html body</p>',
    messageId: '<harness-1@stagecoach.test>',
  });

const refused = (port: number) =>
  new Promise<string>((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
  });

describe('the test SMTP server', () => {
  let server: SmtpTestServer;
  beforeAll(async () => {
    server = await startSmtpServer({ rejectRecipients: (a) => a.startsWith('nobody@') });
  });
  afterAll(() => server.stop());
  beforeEach(() => server.clear());

  it('parses what arrives: envelope, headers, both bodies and the Message-ID', async () => {
    await send(server);
    const [mail] = await server.waitFor(1);
    expect(mail).toMatchObject({
      envelope: { from: 'reviews@example.com', to: ['ada@example.com'] },
      to: [{ address: 'ada@example.com', name: 'Ada Lovelace' }],
      from: { address: 'reviews@example.com', name: 'Stagecoach' },
      subject: 'Hello',
      text: 'plain body',
      html: '<p>html body</p>',
      messageId: '<harness-1@stagecoach.test>',
      secure: false,
    });
    expect(mail!.headers.get('subject')).toBe('Hello');
  });

  it('answers 550 to the recipients it rejects and keeps nothing', async () => {
    await expect(send(server, {}, 'nobody@example.com')).rejects.toMatchObject({ responseCode: 550 });
    expect(server.messages).toEqual([]);
  });

  it('refuses connections while down and accepts them again on the same port', async () => {
    await server.down();
    expect(await refused(server.port)).toBe('ECONNREFUSED');
    await server.up();
    await send(server);
    expect(await server.waitFor(1)).toHaveLength(1);
  });

  it('rejects waitFor when too few messages arrive in time', async () => {
    await expect(server.waitFor(1, 50)).rejects.toThrow('0 of 1 messages arrived within 50 ms');
  });
});

describe('the test SMTP server with AUTH and STARTTLS', () => {
  let server: SmtpTestServer;
  beforeAll(async () => {
    server = await startSmtpServer({ auth: { user: 'mailer', pass: 'right' }, tls: true });
  });
  afterAll(() => server.stop());

  it('takes mail over STARTTLS from the signed-in user, trusting its own CA', async () => {
    const tls = { ca: fs.readFileSync(server.caFile!) };
    await send(server, { requireTLS: true, ignoreTLS: false, tls, auth: { user: 'mailer', pass: 'right' } });
    const [mail] = await server.waitFor(1);
    expect(mail).toMatchObject({ secure: true, user: 'mailer' });
  });

  it('answers 535 to a wrong password', async () => {
    const tls = { ca: fs.readFileSync(server.caFile!) };
    await expect(
      send(server, { requireTLS: true, ignoreTLS: false, tls, auth: { user: 'mailer', pass: 'wrong' } }),
    ).rejects.toMatchObject({ responseCode: 535 });
  });

  it('removes its certificates when stopped', async () => {
    const other = await startSmtpServer({ tls: true });
    await other.stop();
    expect(fs.existsSync(other.caFile!)).toBe(false);
  });
});
