import { z } from 'zod';
import type { SettingsFiles } from '../settings-files';
import { readSecret, readSetting } from '../settings-files';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const httpsUrl = (example: string) =>
  z
    .string()
    .trim()
    .regex(/^https:\/\/[^/\s?#]+\/?$/i, `must be an https:// origin without a path, e.g. ${example}`)
    .transform((v) => v.replace(/\/$/, ''));

const guidOrDomain = z
  .string()
  .trim()
  .regex(
    /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[a-z0-9][a-z0-9.-]*\.[a-z]{2,})$/i,
    'must be the tenant id (a GUID) or its domain, e.g. contoso.onmicrosoft.com',
  );

/** The public cloud's sign-in host; national clouds have their own (see the README's Entra ID section). */
export const PUBLIC_AUTHORITY_HOST = 'https://login.microsoftonline.com';
/** The public cloud's Microsoft Graph. */
export const PUBLIC_GRAPH_BASE_URL = 'https://graph.microsoft.com';

/** The GRAPH_* environment settings (strings from the environment; see the README's "Connect your directory"). */
export const graphEnvSchema = z.object({
  GRAPH_TENANT_ID: guidOrDomain.optional(),
  GRAPH_CLIENT_ID: z
    .string()
    .trim()
    .regex(
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
      'must be a GUID (the application id)',
    )
    .optional(),
  GRAPH_CLIENT_SECRET: z.string().min(1).optional(),
  GRAPH_CLIENT_SECRET_FILE: z.string().min(1).optional(),
  /** PEM holding the private key and the certificate registered on the application. */
  GRAPH_CLIENT_CERTIFICATE_FILE: z.string().min(1).optional(),
  GRAPH_AUTHORITY_HOST: httpsUrl(PUBLIC_AUTHORITY_HOST).default(PUBLIC_AUTHORITY_HOST),
  GRAPH_BASE_URL: httpsUrl(PUBLIC_GRAPH_BASE_URL).default(PUBLIC_GRAPH_BASE_URL),
  /** An extra CA (PEM) trusted for the authority and Graph, e.g. a TLS-inspecting proxy. */
  GRAPH_CA_FILE: z.string().min(1).optional(),
  /** false: the tenant has no Entra ID P1 / AuditLog.Read.All; last sign-ins are unknown. */
  GRAPH_SIGN_IN_ACTIVITY: bool.default(true),
  GRAPH_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  GRAPH_RETRIES: z.coerce.number().int().min(0).max(10).default(3),
  GRAPH_MAX_RETRY_AFTER_SECONDS: z.coerce.number().int().min(0).max(180).default(60),
  GRAPH_CONCURRENCY: z.coerce.number().int().min(1).max(32).default(4),
  GRAPH_PAGE_SIZE: z.coerce.number().int().min(1).max(999).default(999),
  /** How long users, groups and applications read are reused (the shards of a review ask in turn). */
  GRAPH_CACHE_SECONDS: z.coerce.number().int().min(0).max(3600).default(30),
});

/** The GRAPH_* settings as parsed from the environment. */
export type GraphEnv = z.infer<typeof graphEnvSchema>;

/** How the application proves who it is to the tenant. */
export type GraphCredentialSettings =
  | { kind: 'secret'; secret: string; setting: 'GRAPH_CLIENT_SECRET' | 'GRAPH_CLIENT_SECRET_FILE' }
  | { kind: 'certificate'; pem: string; setting: 'GRAPH_CLIENT_CERTIFICATE_FILE' };

/** Everything the Graph adapter needs, resolved from the GRAPH_* settings. */
export interface GraphSettings {
  tenantId: string;
  clientId: string;
  credential: GraphCredentialSettings;
  authorityHost: string;
  baseUrl: string;
  /** PEM text of an extra trusted CA; undefined: the system's trust store only. */
  ca?: string;
  signInActivity: boolean;
  timeoutMs: number;
  retries: number;
  maxRetryAfterSeconds: number;
  concurrency: number;
  pageSize: number;
  /** How long reads are reused between calls; writes by this process clear them. */
  cacheMs: number;
}

const CREDENTIALS = [
  'GRAPH_CLIENT_SECRET',
  'GRAPH_CLIENT_SECRET_FILE',
  'GRAPH_CLIENT_CERTIFICATE_FILE',
] as const;

/**
 * Resolves DIRECTORY=graph's settings: tenant, application and exactly one credential present, files
 * read. Throws an Error whose message names each bad setting.
 */
export async function resolveGraphSettings(env: GraphEnv, files: SettingsFiles): Promise<GraphSettings> {
  const missing: string[] = (['GRAPH_TENANT_ID', 'GRAPH_CLIENT_ID'] as const).filter(
    (k) => env[k] === undefined,
  );
  const given = CREDENTIALS.filter((k) => env[k] !== undefined);
  if (given.length === 0) missing.push(CREDENTIALS.join(' or '));
  if (missing.length) throw new Error(`DIRECTORY=graph needs ${missing.join(', ')}`);
  if (given.length > 1) throw new Error(`set exactly one credential: ${given.join(' and ')} are both set`);
  let credential: GraphCredentialSettings;
  if (env.GRAPH_CLIENT_SECRET !== undefined) {
    credential = { kind: 'secret', secret: env.GRAPH_CLIENT_SECRET, setting: 'GRAPH_CLIENT_SECRET' };
  } else if (env.GRAPH_CLIENT_SECRET_FILE !== undefined) {
    const secret = await readSecret(files, 'GRAPH_CLIENT_SECRET_FILE', env.GRAPH_CLIENT_SECRET_FILE);
    if (!secret)
      throw new Error(`GRAPH_CLIENT_SECRET_FILE=${env.GRAPH_CLIENT_SECRET_FILE}: the file is empty`);
    credential = { kind: 'secret', secret, setting: 'GRAPH_CLIENT_SECRET_FILE' };
  } else {
    const path = env.GRAPH_CLIENT_CERTIFICATE_FILE!;
    const pem = await readSetting(files, 'GRAPH_CLIENT_CERTIFICATE_FILE', path);
    if (!/-----BEGIN CERTIFICATE-----/.test(pem) || !/-----BEGIN (RSA |EC )?PRIVATE KEY-----/.test(pem)) {
      throw new Error(
        `GRAPH_CLIENT_CERTIFICATE_FILE=${path}: must be a PEM file holding the private key and the certificate`,
      );
    }
    credential = { kind: 'certificate', pem, setting: 'GRAPH_CLIENT_CERTIFICATE_FILE' };
  }
  let ca: string | undefined;
  if (env.GRAPH_CA_FILE) {
    ca = await readSetting(files, 'GRAPH_CA_FILE', env.GRAPH_CA_FILE);
    if (!/-----BEGIN CERTIFICATE-----/.test(ca)) {
      throw new Error(`GRAPH_CA_FILE=${env.GRAPH_CA_FILE}: not a PEM certificate`);
    }
  }
  return {
    tenantId: env.GRAPH_TENANT_ID!,
    clientId: env.GRAPH_CLIENT_ID!,
    credential,
    authorityHost: env.GRAPH_AUTHORITY_HOST,
    baseUrl: env.GRAPH_BASE_URL,
    ...(ca ? { ca } : {}),
    signInActivity: env.GRAPH_SIGN_IN_ACTIVITY,
    timeoutMs: env.GRAPH_TIMEOUT_MS,
    retries: env.GRAPH_RETRIES,
    maxRetryAfterSeconds: env.GRAPH_MAX_RETRY_AFTER_SECONDS,
    concurrency: env.GRAPH_CONCURRENCY,
    pageSize: env.GRAPH_PAGE_SIZE,
    cacheMs: env.GRAPH_CACHE_SECONDS * 1000,
  };
}
