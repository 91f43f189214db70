import { parseConfig } from '../../src/config';
import {
  describeSmtp,
  parseMailbox,
  resolveSmtpSettings,
  smtpEnvSchema,
} from '../../src/notifications/settings';

const base = { SMTP_HOST: 'smtp.example.com', MAIL_FROM: 'Stagecoach <access-reviews@example.com>' };
const files = (content: Record<string, string>) => ({
  read: async (p: string) => {
    if (!(p in content)) throw Object.assign(new Error('nope'), { code: 'ENOENT' });
    return content[p]!;
  },
});
const resolve = (env: Record<string, string>, f = files({})) =>
  resolveSmtpSettings(smtpEnvSchema.parse(env), f);
/** The lines parseConfig reports for these settings (the worker role, with a database). */
const issues = (env: Record<string, string>) => {
  try {
    parseConfig({ DATABASE_URL: 'postgres://db/stagecoach', ...env }, 'worker');
    return [];
  } catch (err) {
    return (err as Error).message.split('\n').slice(1);
  }
};

describe('SMTP settings', () => {
  it('is off without SMTP_HOST', async () => {
    expect(await resolve({})).toBeUndefined();
    expect(await resolve({ MAIL_FROM: 'Stagecoach <stagecoach@localhost>' })).toBeUndefined();
  });

  it('defaults to port 587 with STARTTLS required, a 30 s timeout and 5 pooled connections', async () => {
    expect(await resolve(base)).toEqual({
      host: 'smtp.example.com',
      port: 587,
      secure: false,
      requireTls: true,
      from: { name: 'Stagecoach', address: 'access-reviews@example.com' },
      timeoutMs: 30_000,
      maxConnections: 5,
    });
  });

  it.each([
    [{ SMTP_SECURE: 'true' }, 465, true, false],
    [{ SMTP_PORT: '465' }, 465, true, false],
    [{ SMTP_PORT: '2525', SMTP_REQUIRE_TLS: 'false' }, 2525, false, false],
    [{ SMTP_HOST: '127.0.0.1', SMTP_PORT: '25' }, 25, false, false],
    [{ SMTP_HOST: 'localhost', SMTP_REQUIRE_TLS: 'true' }, 587, false, true],
  ])('%j: port %d, implicit TLS %s, STARTTLS required %s', async (env, port, secure, requireTls) => {
    expect(await resolve({ ...base, ...env })).toMatchObject({ port, secure, requireTls });
  });

  it('reads the password from SMTP_PASSWORD_FILE without its newline, and the CA file', async () => {
    const f = files({ '/run/secrets/smtp': 'hunter2\n', '/etc/ca.pem': 'PEM' });
    const settings = await resolve(
      {
        ...base,
        SMTP_USER: 'mailer',
        SMTP_PASSWORD_FILE: '/run/secrets/smtp',
        SMTP_TLS_CA_FILE: '/etc/ca.pem',
      },
      f,
    );
    expect(settings).toMatchObject({ auth: { user: 'mailer', pass: 'hunter2' }, ca: 'PEM' });
    expect(describeSmtp(settings!)).toBe(
      'smtp://smtp.example.com:587 (STARTTLS required, signed in as mailer, from access-reviews@example.com)',
    );
    await expect(resolve({ ...base, SMTP_USER: 'mailer', SMTP_PASSWORD_FILE: '/missing' })).rejects.toThrow(
      'SMTP_PASSWORD_FILE=/missing: cannot read the file (ENOENT)',
    );
  });

  it('reports each contradiction on its own line, naming the settings', () => {
    expect(issues({ SMTP_HOST: 'smtp.example.com' })).toEqual([
      '  MAIL_FROM is required with SMTP_HOST: the sender of review notifications, e.g. Stagecoach <access-reviews@example.com>',
    ]);
    expect(issues({ ...base, SMTP_PASSWORD: 'a', SMTP_PASSWORD_FILE: '/b' })).toEqual([
      '  set SMTP_PASSWORD or SMTP_PASSWORD_FILE, not both',
      '  SMTP_PASSWORD(_FILE) needs SMTP_USER, the account that signs in',
    ]);
    expect(issues({ ...base, SMTP_USER: 'mailer' })).toEqual([
      '  SMTP_USER needs SMTP_PASSWORD or SMTP_PASSWORD_FILE',
    ]);
    expect(issues({ ...base, SMTP_SECURE: 'true', SMTP_REQUIRE_TLS: 'false' })).toEqual([
      '  SMTP_REQUIRE_TLS=false conflicts with SMTP_SECURE (implicit TLS always encrypts)',
    ]);
    expect(issues({ SMTP_USER: 'mailer', SMTP_PASSWORD: 'hunter2' })).toEqual([
      '  SMTP_USER, SMTP_PASSWORD are set but SMTP_HOST is not (no mail server)',
    ]);
  });

  it('rejects a MAIL_FROM that is not an address, and a port out of range', () => {
    expect(issues({ ...base, MAIL_FROM: 'Stagecoach', SMTP_PORT: '70000' })).toEqual([
      '  SMTP_PORT: Too big: expected number to be <=65535',
      '  MAIL_FROM: must be an address, optionally with a display name: Stagecoach <access-reviews@example.com>',
    ]);
  });

  it('never puts the password in an error or the description', async () => {
    const lines = issues({ SMTP_USER: 'mailer', SMTP_PASSWORD: 'hunter2-secret' });
    expect(lines.join('\n')).not.toContain('hunter2-secret');
    const settings = await resolve({ ...base, SMTP_USER: 'mailer', SMTP_PASSWORD: 'hunter2-secret' });
    expect(describeSmtp(settings!)).not.toContain('hunter2-secret');
  });

  it.each([
    ['access-reviews@example.com', { address: 'access-reviews@example.com' }],
    ['Stagecoach <stagecoach@localhost>', { name: 'Stagecoach', address: 'stagecoach@localhost' }],
    ['"Reviews, Contoso" <r@contoso.com>', { name: 'Reviews, Contoso', address: 'r@contoso.com' }],
    ['<r@contoso.com>', { address: 'r@contoso.com' }],
    ['no address', undefined],
    ['a@b <c@d>', undefined],
  ])('parses the mailbox %s', (text, expected) => {
    expect(parseMailbox(text)).toEqual(expected);
  });
});
