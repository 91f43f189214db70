import { readFile } from 'node:fs/promises';
import nodemailer from 'nodemailer';
import type { NodemailerError, SMTPPoolOptions, Transporter } from 'nodemailer';
import type { SmtpEnv, SmtpSettings } from './settings';
import { describeSmtp, resolveSmtpSettings } from './settings';
import type { Mailer, OutgoingMail } from './port';
import { MailRejectedError, MailUnavailableError } from './port';

// Node's codes for a certificate the client does not trust (or that names another host).
const UNTRUSTED = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ALTNAME/;
// OpenSSL's complaint when one side speaks TLS and the other plain SMTP.
const TLS_MISMATCH = /wrong version number|packet length too long|unexpected eof|ssl3_get_record/i;

const oneLine = (text: string | undefined) => (text ?? '').replace(/\s+/g, ' ').trim().slice(0, 200);

/** Message-ID headers are `<id@domain>`; the port's id may come without the brackets. */
const bracketed = (id: string) => (id.startsWith('<') ? id : `<${id}>`);

/**
 * The port's error for a nodemailer failure: MailRejectedError when the server refused this recipient or
 * message for good (5xx to RCPT TO or DATA), MailUnavailableError for everything a later attempt or a
 * fixed setting can cure; the message names the setting to check and never a secret.
 */
export function mailError(err: unknown, settings: SmtpSettings): MailRejectedError | MailUnavailableError {
  const e = err as NodemailerError;
  const where = `${settings.host}:${settings.port}`;
  const code = e.responseCode;
  const reply = oneLine(e.response) || oneLine(e.message);
  const command = (e.command ?? '').toUpperCase();
  if (code !== undefined && code >= 500 && code !== 503 && /^(RCPT|DATA)/.test(command)) {
    return new MailRejectedError(`${where} refused the message for good (${reply})`);
  }
  if (e.code === 'EENVELOPE' && code !== undefined && code >= 500 && !command) {
    return new MailRejectedError(`${where} refused the message for good (${reply})`);
  }
  if (e.code === 'EAUTH' || code === 535 || code === 534) {
    const account = settings.auth ? ` as ${settings.auth.user}` : '';
    return new MailUnavailableError(
      `SMTP_USER / SMTP_PASSWORD: ${where} refused the sign-in${account} (${reply})`,
    );
  }
  if (code === 530) {
    return new MailUnavailableError(`SMTP_USER: ${where} requires a sign-in (${reply})`);
  }
  if (e.code === 'ETLS' && command === 'STARTTLS' && code !== undefined) {
    return new MailUnavailableError(
      `SMTP_REQUIRE_TLS: ${where} does not offer STARTTLS (${reply}); use SMTP_SECURE for implicit TLS, ` +
        'or SMTP_REQUIRE_TLS=false to send without encryption',
    );
  }
  const cause = `${e.originalCode ?? ''} ${e.message}`;
  if (UNTRUSTED.test(e.originalCode ?? '') || /certificate/i.test(e.message)) {
    return new MailUnavailableError(
      `SMTP_TLS_CA_FILE: the certificate of ${where} is not trusted (${oneLine(e.message)})`,
    );
  }
  if (TLS_MISMATCH.test(cause)) {
    return new MailUnavailableError(
      `SMTP_SECURE: ${where} and Stagecoach disagree on implicit TLS (${oneLine(e.message)})`,
    );
  }
  if (/^MAIL/.test(command) && code !== undefined && code >= 500) {
    return new MailUnavailableError(`MAIL_FROM: ${where} refused the sender (${reply})`);
  }
  if (code !== undefined) return new MailUnavailableError(`${where} answered ${reply}`);
  const detail = e.originalCode ?? e.code ?? 'error';
  return new MailServerUnreachableError(
    `SMTP_HOST / SMTP_PORT: cannot reach the mail server at ${where} (${detail}: ${oneLine(e.message)})`,
  );
}

/** Nothing answers at SMTP_HOST:SMTP_PORT (refused, timed out, unknown host): a later attempt may succeed. */
export class MailServerUnreachableError extends MailUnavailableError {}

/** The Mailer over SMTP: a nodemailer connection pool, STARTTLS or implicit TLS, optional sign-in. */
export class SmtpMailer implements Mailer {
  readonly description: string;
  private readonly transport: Transporter;

  constructor(private readonly settings: SmtpSettings) {
    this.description = describeSmtp(settings);
    const options: SMTPPoolOptions = {
      pool: true,
      host: settings.host,
      port: settings.port,
      secure: settings.secure,
      requireTLS: settings.requireTls,
      maxConnections: settings.maxConnections,
      connectionTimeout: settings.timeoutMs,
      greetingTimeout: settings.timeoutMs,
      socketTimeout: settings.timeoutMs,
      ...(settings.auth ? { auth: { user: settings.auth.user, pass: settings.auth.pass } } : {}),
      ...(settings.ca ? { tls: { ca: settings.ca } } : {}),
    };
    this.transport = nodemailer.createTransport(options);
  }

  async send(mail: OutgoingMail): Promise<void> {
    try {
      await this.transport.sendMail({
        from: this.settings.from,
        to: mail.to.name ? { name: mail.to.name, address: mail.to.address } : mail.to.address,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        messageId: bracketed(mail.messageId),
      });
    } catch (err) {
      throw mailError(err, this.settings);
    }
  }

  /** Connects, upgrades to TLS and signs in once, as sending would; rejects with the port's errors. */
  async verify(): Promise<void> {
    try {
      await this.transport.verify();
    } catch (err) {
      throw mailError(err, this.settings);
    }
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}

/**
 * The worker's start check: one connection with TLS and sign-in, so that a wrong setting stops the start
 * with one line naming it instead of failing the first notification.
 */
export async function checkMailer(mailer: SmtpMailer): Promise<void> {
  try {
    await mailer.verify();
  } catch (err) {
    throw new Error(`Cannot send mail: ${(err as Error).message}`);
  }
}

/**
 * The configured mailer, checked: undefined when SMTP_HOST is unset (notifications are then recorded as
 * not sent); throws an Error naming the setting when the settings contradict each other or the server
 * refuses them. A server that cannot be reached now does not stop the start (`unreachable` hears why):
 * reviews run on, and their sends are retried until it answers.
 */
export async function openMailer(
  config: SmtpEnv,
  unreachable: (problem: string) => void = () => undefined,
): Promise<SmtpMailer | undefined> {
  const settings = await resolveSmtpSettings(config, { read: (p) => readFile(p, 'utf8') });
  if (!settings) return undefined;
  const mailer = new SmtpMailer(settings);
  try {
    await mailer.verify();
  } catch (err) {
    if (err instanceof MailServerUnreachableError) {
      unreachable(err.message);
      return mailer;
    }
    await mailer.close();
    throw new Error(`Cannot send mail: ${(err as Error).message}`);
  }
  return mailer;
}
