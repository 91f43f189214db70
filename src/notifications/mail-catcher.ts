import type { MailAddress, SmtpSettings } from './settings';

/** npm start's local mail catcher: an SMTP server that keeps every message, and a web page showing them. */
export interface MailCatcher {
  /** What the SMTP mailer needs to send to it (plain SMTP on loopback, no sign-in). */
  smtp: SmtpSettings;
  webUrl: string;
  stop(): Promise<void>;
}

/** Where the catcher listens and keeps its messages. */
export interface MailCatcherOptions {
  smtpPort: number;
  webPort: number;
  /** Messages are kept here as .eml files and shown again after a restart. */
  dir: string;
  from: MailAddress;
}

/** At most this many messages are kept; the oldest go first. */
const MAX_MESSAGES = 1000;

/**
 * Starts maildev on 127.0.0.1 only (nothing it holds leaves the machine). Throws an Error naming
 * MAIL_CATCHER_SMTP_PORT / MAIL_CATCHER_WEB_PORT when it cannot listen.
 */
export async function startMailCatcher(options: MailCatcherOptions): Promise<MailCatcher> {
  // maildev is an ES module only (and a development dependency: npm start, not the production image).
  const { MailDev } = await import('maildev');
  const maildev = new MailDev({
    smtp: options.smtpPort,
    ip: '127.0.0.1',
    web: options.webPort,
    webIp: '127.0.0.1',
    mailDirectory: options.dir,
    maxEmails: MAX_MESSAGES,
    silent: true,
  });
  try {
    await maildev.start();
  } catch (err) {
    await maildev.stop().catch(() => undefined);
    throw new Error(
      `Cannot start the mail catcher on MAIL_CATCHER_SMTP_PORT=${options.smtpPort} MAIL_CATCHER_WEB_PORT=${options.webPort} ` +
        `(${(err as Error).message}); set other ports, or START_MAIL_CATCHER=false`,
    );
  }
  return {
    smtp: {
      host: '127.0.0.1',
      port: options.smtpPort,
      secure: false,
      requireTls: false,
      from: options.from,
      timeoutMs: 10_000,
      maxConnections: 2,
    },
    webUrl: `http://localhost:${options.webPort}`,
    stop: () => maildev.stop(),
  };
}
