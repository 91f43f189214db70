import { z } from 'zod';
import { graphEnvSchema } from './directory/graph/settings';
import { ldapEnvSchema } from './directory/ldap/settings';
import { scimEnvSchema } from './directory/scim/settings';
import { isLoopbackHost } from './loopback';
import { mailCatcherEnvSchema, smtpEnvSchema, smtpIssues } from './notifications/settings';
import { portalEnvSchema } from './portal/server/settings';

export { isLoopbackHost };

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** Requests per client IP and minute that do not authenticate, unless RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE says. */
export const DEFAULT_UNAUTHENTICATED_PER_MINUTE = 60;

/** Every setting Stagecoach reads, with its default. Entry points parse `process.env` through it once. */
export const configSchema = z.object({
  TEMPORAL_ADDRESS: z.string().min(1).default('localhost:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  // TLS to the Temporal frontend (API and worker); unset: on when a file or an API key below is set.
  TEMPORAL_TLS: bool.optional(),
  TEMPORAL_TLS_CA_FILE: z.string().min(1).optional(),
  TEMPORAL_TLS_CERT_FILE: z.string().min(1).optional(),
  TEMPORAL_TLS_KEY_FILE: z.string().min(1).optional(),
  TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
  TEMPORAL_API_KEY: z.string().min(1).optional(),
  TEMPORAL_API_KEY_FILE: z.string().min(1).optional(),
  TASK_QUEUE: z.string().min(1).default('stagecoach'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** Default: 127.0.0.1 with AUTH_MODE=local (see localIssuerHost), 0.0.0.0 otherwise. */
  HOST: z.string().min(1).optional(),
  WORKER_HEALTH_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  PUBLIC_BASE_URL: z.url().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /**
   * embedded: a JSON tenant file (demo, tests); ldap: OpenLDAP / 389 DS / Active Directory (LDAP_* settings);
   * scim: a SCIM 2.0 service provider (SCIM_* settings); graph: Microsoft Entra ID through Microsoft Graph
   * (GRAPH_* settings).
   */
  DIRECTORY: z.enum(['embedded', 'ldap', 'scim', 'graph']).default('embedded'),
  DIRECTORY_FILE: z.string().min(1).default('.stagecoach/directory.json'),
  DIRECTORY_SEED: z.string().min(1).default('data/demo-tenant.json'),
  /** PostgreSQL for review records and the apply ledger; required by the API and the worker. */
  DATABASE_URL: z
    .url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// or postgresql:// URL' })
    .optional(),
  /**
   * Days the review records of a finished review are kept after its last change; unset keeps them for
   * ever. The worker deletes older ones once an hour.
   */
  RECORDS_RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).optional(),
  /** npm start without DATABASE_URL: the embedded server's cluster, password and log. */
  EMBEDDED_POSTGRES_DIR: z.string().min(1).default('.stagecoach/postgres'),
  EMBEDDED_POSTGRES_PORT: z.coerce.number().int().min(0).max(65535).default(5433),
  AUTH_MODE: z.enum(['jwt', 'local']).default('jwt'),
  AUTH_ISSUER: z.string().min(1).optional(),
  AUTH_AUDIENCE: z.string().min(1).optional(),
  AUTH_JWKS_URL: z.url().optional(),
  AUTH_USER_CLAIM: z.string().min(1).default('oid'),
  AUTH_ROLES_CLAIM: z.string().min(1).default('roles'),
  AUTH_ADMIN_ROLE: z.string().min(1).default('AccessReview.ReadWrite.All'),
  AUTH_ADMINS: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    ),
  AUTH_LOCAL_KEY_FILE: z.string().min(1).default('.stagecoach/local-signing-key.json'),
  AUTH_LOCAL_ALLOW_REMOTE: bool.default(false),
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(600),
  RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: z.coerce
    .number()
    .int()
    .min(1)
    .default(DEFAULT_UNAUTHENTICATED_PER_MINUTE),
  BODY_LIMIT: z.string().min(1).default('1mb'),
  TEMPORAL_CLI_PATH: z.string().min(1).optional(),
  TEMPORAL_DB_FILE: z.string().min(1).default('.stagecoach/temporal.sqlite'),
  TEMPORAL_UI_PORT: z.coerce.number().int().min(1).max(65535).default(8233),
  TEMPORAL_DEV_PORT: z.coerce.number().int().min(1).max(65535).default(7233),
  START_DEV_SERVER: bool.default(true),
  REVIEW_SHARD_SIZE: z.coerce.number().int().min(1).max(5000).default(500),
  ...ldapEnvSchema.shape,
  ...scimEnvSchema.shape,
  ...graphEnvSchema.shape,
  ...smtpEnvSchema.shape,
  ...mailCatcherEnvSchema.shape,
  ...portalEnvSchema.shape,
});

/**
 * The parsed settings; TEMPORAL_TLS is resolved (explicit, or implied by TLS files and API keys), and so
 * is HOST (its default depends on AUTH_MODE).
 */
export type Config = Omit<z.infer<typeof configSchema>, 'TEMPORAL_TLS' | 'HOST'> & {
  TEMPORAL_TLS: boolean;
  HOST: string;
};

/** The settings of a connection to the Temporal frontend. */
export type TemporalConnectionSettings = Pick<Config, 'TEMPORAL_ADDRESS'> &
  Partial<
    Pick<
      Config,
      | 'TEMPORAL_TLS'
      | 'TEMPORAL_TLS_CA_FILE'
      | 'TEMPORAL_TLS_CERT_FILE'
      | 'TEMPORAL_TLS_KEY_FILE'
      | 'TEMPORAL_TLS_SERVER_NAME'
      | 'TEMPORAL_API_KEY'
      | 'TEMPORAL_API_KEY_FILE'
    >
  >;

const tlsImpliers = [
  'TEMPORAL_TLS_CA_FILE',
  'TEMPORAL_TLS_CERT_FILE',
  'TEMPORAL_TLS_KEY_FILE',
  'TEMPORAL_TLS_SERVER_NAME',
  'TEMPORAL_API_KEY',
  'TEMPORAL_API_KEY_FILE',
] as const;

/** Whether to use TLS: TEMPORAL_TLS when set, otherwise on as soon as any TLS file or an API key is set. */
export function temporalTlsEnabled(settings: Omit<TemporalConnectionSettings, 'TEMPORAL_ADDRESS'>): boolean {
  return settings.TEMPORAL_TLS ?? tlsImpliers.some((key) => settings[key] !== undefined);
}

/** Contradictions between the Temporal connection settings, one line each. */
function temporalConnectionIssues(config: z.infer<typeof configSchema>): string[] {
  const issues: string[] = [];
  if (!config.TEMPORAL_TLS_CERT_FILE !== !config.TEMPORAL_TLS_KEY_FILE) {
    issues.push(
      'TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE go together (client certificate and its key)',
    );
  }
  if (config.TEMPORAL_API_KEY && config.TEMPORAL_API_KEY_FILE) {
    issues.push('set TEMPORAL_API_KEY or TEMPORAL_API_KEY_FILE, not both');
  }
  const needTls = tlsImpliers.filter((key) => config[key] !== undefined);
  if (config.TEMPORAL_TLS === false && needTls.length) {
    // An API key or a client certificate sent without TLS would travel in clear text.
    issues.push(`TEMPORAL_TLS=false conflicts with ${needTls.join(', ')}, which are only used over TLS`);
  }
  return issues;
}

/** Why AUTH_MODE=local may not listen on HOST, or undefined when it may (see localIssuerHost). */
function localIssuerIssue(config: Pick<Config, 'AUTH_MODE' | 'HOST' | 'AUTH_LOCAL_ALLOW_REMOTE'>) {
  if (config.AUTH_MODE !== 'local' || isLoopbackHost(config.HOST) || config.AUTH_LOCAL_ALLOW_REMOTE) {
    return undefined;
  }
  return (
    `HOST=${config.HOST} is not a loopback address, and AUTH_MODE=local issues admin tokens ` +
    'to anyone who can reach the API. Use HOST=127.0.0.1 (the default with AUTH_MODE=local), AUTH_MODE=jwt, ' +
    'or set AUTH_LOCAL_ALLOW_REMOTE=true to serve the local issuer on the network anyway'
  );
}

/**
 * The local issuer hands out admin tokens to anyone who asks, so AUTH_MODE=local may only listen on
 * loopback unless AUTH_LOCAL_ALLOW_REMOTE=true says otherwise. Returns 'remote' when that opt-in is
 * what lets it start (the caller warns), 'loopback' when it needs none, undefined for jwt mode.
 */
export function localIssuerHost(
  config: Pick<Config, 'AUTH_MODE' | 'HOST' | 'AUTH_LOCAL_ALLOW_REMOTE'>,
): 'loopback' | 'remote' | undefined {
  const issue = localIssuerIssue(config);
  if (issue) throw new Error(`Invalid configuration:\n  ${issue}`);
  if (config.AUTH_MODE !== 'local') return undefined;
  return isLoopbackHost(config.HOST) ? 'loopback' : 'remote';
}

/** Settings a role cannot start without, one line each. */
function roleIssues(config: Config, role: 'api' | 'worker' | 'all'): string[] {
  const issues: string[] = [];
  if (role !== 'all' && !config.DATABASE_URL) {
    issues.push(
      'DATABASE_URL is required: the API and the worker keep review records and the apply ledger in ' +
        'PostgreSQL (postgres://user:password@host:5432/database); only npm start runs an embedded server without it',
    );
  }
  if (role === 'worker') return issues;
  if (config.AUTH_MODE === 'jwt' && (!config.AUTH_ISSUER || !config.AUTH_AUDIENCE || !config.AUTH_JWKS_URL)) {
    issues.push(
      'AUTH_MODE=jwt needs AUTH_ISSUER, AUTH_AUDIENCE and AUTH_JWKS_URL (or set AUTH_MODE=local for a demo tenant)',
    );
  }
  const local = localIssuerIssue(config);
  if (local) issues.push(local);
  return issues;
}

/**
 * Parses the environment; throws an Error whose message lists every bad setting by name. The worker
 * neither listens nor authenticates callers, so only the API roles check HOST and the AUTH_* settings;
 * the API and the worker need DATABASE_URL, the all-in-one start (`all`) runs an embedded server without it.
 */
export function parseConfig(
  env: Record<string, string | undefined>,
  role: 'api' | 'worker' | 'all' = 'api',
): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = configSchema.safeParse(cleaned);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const parsed = result.data;
  const issues = [...temporalConnectionIssues(parsed), ...smtpIssues(parsed)];
  if (issues.length) throw new Error(`Invalid configuration:\n${issues.map((i) => `  ${i}`).join('\n')}`);
  const config: Config = {
    ...parsed,
    TEMPORAL_TLS: temporalTlsEnabled(parsed),
    HOST: parsed.HOST ?? (parsed.AUTH_MODE === 'local' ? '127.0.0.1' : '0.0.0.0'),
  };
  const missing = roleIssues(config, role);
  if (missing.length) throw new Error(`Invalid configuration:\n${missing.map((i) => `  ${i}`).join('\n')}`);
  return config;
}
