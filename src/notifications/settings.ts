import { z } from 'zod';
import type { SettingsFiles } from '../directory/settings-files';
import { readSecret, readSetting } from '../directory/settings-files';
import { isLoopbackHost } from '../loopback';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const ADDRESS = /^[^\s<>@"]+@[^\s<>@"]+$/;
const MAILBOX = /^(?:"([^"]*)"|([^"<>@,;:]*?))\s*<([^\s<>@"]+@[^\s<>@"]+)>$/;

/** A sender or recipient: the address and an optional display name. */
export interface MailAddress {
  address: string;
  name?: string;
}

/** Parses `Name <address>`, `"Name, Inc." <address>` or a bare address; undefined when it is neither. */
export function parseMailbox(value: string): MailAddress | undefined {
  const text = value.trim();
  if (ADDRESS.test(text)) return { address: text };
  const m = MAILBOX.exec(text);
  if (!m) return undefined;
  const name = (m[1] ?? m[2] ?? '').trim();
  return name ? { address: m[3]!, name } : { address: m[3]! };
}

/** The SMTP_* and MAIL_FROM environment settings (see the README's "E-mail (SMTP)"). */
export const smtpEnvSchema = z.object({
  /** The mail server; unset: no mail server, notifications are recorded as not sent. */
  SMTP_HOST: z.string().trim().min(1).optional(),
  /** Default 587, or 465 with SMTP_SECURE. */
  SMTP_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  /** Implicit TLS from the first byte (port 465); unset: on when SMTP_PORT=465. */
  SMTP_SECURE: bool.optional(),
  /** Refuse to send unless the server upgrades with STARTTLS; unset: on unless SMTP_HOST is loopback. */
  SMTP_REQUIRE_TLS: bool.optional(),
  SMTP_USER: z.string().min(1).optional(),
  SMTP_PASSWORD: z.string().min(1).optional(),
  SMTP_PASSWORD_FILE: z.string().min(1).optional(),
  SMTP_TLS_CA_FILE: z.string().min(1).optional(),
  MAIL_FROM: z
    .string()
    .refine((v) => parseMailbox(v) !== undefined, {
      error: 'must be an address, optionally with a display name: Stagecoach <access-reviews@example.com>',
    })
    .optional(),
  SMTP_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  SMTP_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(100).default(5),
});

/** The SMTP_* settings as parsed from the environment. */
export type SmtpEnv = z.infer<typeof smtpEnvSchema>;

/** Everything the SMTP mailer needs, resolved from the SMTP_* settings. */
export interface SmtpSettings {
  host: string;
  port: number;
  /** Implicit TLS (SMTPS); otherwise plain SMTP upgraded with STARTTLS when the server offers it. */
  secure: boolean;
  /** Without implicit TLS: fail rather than send in clear text when STARTTLS is not offered. */
  requireTls: boolean;
  auth?: { user: string; pass: string };
  /** PEM text of extra CAs trusted for the server. */
  ca?: string;
  from: MailAddress;
  timeoutMs: number;
  maxConnections: number;
}

// Settings that mean nothing without SMTP_HOST (MAIL_FROM does: npm start's mail catcher uses it).
const needHost = [
  'SMTP_PORT',
  'SMTP_SECURE',
  'SMTP_REQUIRE_TLS',
  'SMTP_USER',
  'SMTP_PASSWORD',
  'SMTP_PASSWORD_FILE',
  'SMTP_TLS_CA_FILE',
] as const;

/** Contradictions between the SMTP settings, one line each (parseConfig reports them with the rest). */
export function smtpIssues(env: SmtpEnv): string[] {
  if (env.SMTP_HOST === undefined) {
    const set = needHost.filter((key) => env[key] !== undefined);
    return set.length
      ? [`${set.join(', ')} ${set.length > 1 ? 'are' : 'is'} set but SMTP_HOST is not (no mail server)`]
      : [];
  }
  const issues: string[] = [];
  if (env.MAIL_FROM === undefined) {
    issues.push(
      'MAIL_FROM is required with SMTP_HOST: the sender of review notifications, e.g. Stagecoach <access-reviews@example.com>',
    );
  }
  const password = env.SMTP_PASSWORD !== undefined || env.SMTP_PASSWORD_FILE !== undefined;
  if (env.SMTP_PASSWORD !== undefined && env.SMTP_PASSWORD_FILE !== undefined) {
    issues.push('set SMTP_PASSWORD or SMTP_PASSWORD_FILE, not both');
  }
  if (password && env.SMTP_USER === undefined) {
    issues.push('SMTP_PASSWORD(_FILE) needs SMTP_USER, the account that signs in');
  }
  if (env.SMTP_USER !== undefined && !password) {
    issues.push('SMTP_USER needs SMTP_PASSWORD or SMTP_PASSWORD_FILE');
  }
  if (smtpSecure(env) && env.SMTP_REQUIRE_TLS === false) {
    issues.push('SMTP_REQUIRE_TLS=false conflicts with SMTP_SECURE (implicit TLS always encrypts)');
  }
  return issues;
}

/** Implicit TLS: SMTP_SECURE when set, otherwise on for port 465 (SMTPS). */
function smtpSecure(env: SmtpEnv): boolean {
  return env.SMTP_SECURE ?? env.SMTP_PORT === 465;
}

/**
 * Resolves the SMTP settings: undefined without SMTP_HOST; files read, defaults applied (port 587, or 465
 * with SMTP_SECURE; STARTTLS required unless SMTP_HOST is a loopback address). Throws an Error whose
 * message names each bad setting.
 */
export async function resolveSmtpSettings(
  env: SmtpEnv,
  files: SettingsFiles,
): Promise<SmtpSettings | undefined> {
  const issues = smtpIssues(env);
  if (issues.length) throw new Error(`Invalid configuration:\n${issues.map((i) => `  ${i}`).join('\n')}`);
  if (env.SMTP_HOST === undefined) return undefined;
  const secure = smtpSecure(env);
  const pass =
    env.SMTP_PASSWORD ??
    (env.SMTP_PASSWORD_FILE && (await readSecret(files, 'SMTP_PASSWORD_FILE', env.SMTP_PASSWORD_FILE)));
  const ca = env.SMTP_TLS_CA_FILE && (await readSetting(files, 'SMTP_TLS_CA_FILE', env.SMTP_TLS_CA_FILE));
  return {
    host: env.SMTP_HOST,
    port: env.SMTP_PORT ?? (secure ? 465 : 587),
    secure,
    requireTls: !secure && (env.SMTP_REQUIRE_TLS ?? !isLoopbackHost(env.SMTP_HOST)),
    ...(env.SMTP_USER && pass ? { auth: { user: env.SMTP_USER, pass } } : {}),
    ...(ca ? { ca } : {}),
    from: parseMailbox(env.MAIL_FROM!)!,
    timeoutMs: env.SMTP_TIMEOUT_MS,
    maxConnections: env.SMTP_MAX_CONNECTIONS,
  };
}

/** Where mail goes, for the start log: server, TLS mode, account and sender (never the password). */
export function describeSmtp(settings: SmtpSettings): string {
  const tls = settings.secure
    ? 'implicit TLS'
    : settings.requireTls
      ? 'STARTTLS required'
      : 'STARTTLS when offered';
  const auth = settings.auth ? `, signed in as ${settings.auth.user}` : '';
  return `smtp://${settings.host}:${settings.port} (${tls}${auth}, from ${settings.from.address})`;
}

/** npm start's local mail catcher, which receives every message when SMTP_HOST is unset. */
export const mailCatcherEnvSchema = z.object({
  START_MAIL_CATCHER: bool.default(true),
  MAIL_CATCHER_SMTP_PORT: z.coerce.number().int().min(1).max(65535).default(1025),
  MAIL_CATCHER_WEB_PORT: z.coerce.number().int().min(1).max(65535).default(1080),
  /** The catcher's messages, kept across restarts. */
  MAIL_CATCHER_DIR: z.string().min(1).default('.stagecoach/mail'),
});
