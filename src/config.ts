import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** Every setting Stagecoach reads, with its default. Entry points parse `process.env` through it once. */
export const configSchema = z.object({
  TEMPORAL_ADDRESS: z.string().min(1).default('localhost:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TASK_QUEUE: z.string().min(1).default('stagecoach'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  PUBLIC_BASE_URL: z.url().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DIRECTORY: z.enum(['embedded']).default('embedded'),
  DIRECTORY_FILE: z.string().min(1).default('.stagecoach/directory.json'),
  DIRECTORY_SEED: z.string().min(1).default('data/demo-tenant.json'),
  APPLY_LEDGER_FILE: z.string().min(1).default('.stagecoach/apply-ledger.jsonl'),
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
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(600),
  BODY_LIMIT: z.string().min(1).default('1mb'),
  TEMPORAL_CLI_PATH: z.string().min(1).optional(),
  TEMPORAL_DB_FILE: z.string().min(1).default('.stagecoach/temporal.sqlite'),
  TEMPORAL_UI_PORT: z.coerce.number().int().min(1).max(65535).default(8233),
  TEMPORAL_DEV_PORT: z.coerce.number().int().min(1).max(65535).default(7233),
  START_DEV_SERVER: bool.default(true),
  REVIEW_SHARD_SIZE: z.coerce.number().int().min(1).max(5000).default(500),
});

export type Config = z.infer<typeof configSchema>;

/**
 * Parses the environment; throws an Error whose message lists every bad setting by name. The worker
 * does not authenticate callers, so only the API roles require the AUTH_* settings.
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
  const config = result.data;
  if (
    role !== 'worker' &&
    config.AUTH_MODE === 'jwt' &&
    (!config.AUTH_ISSUER || !config.AUTH_AUDIENCE || !config.AUTH_JWKS_URL)
  ) {
    throw new Error(
      'Invalid configuration:\n  AUTH_MODE=jwt needs AUTH_ISSUER, AUTH_AUDIENCE and AUTH_JWKS_URL (or set AUTH_MODE=local for a demo tenant)',
    );
  }
  return config;
}
