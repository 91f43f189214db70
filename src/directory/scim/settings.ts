import { z } from 'zod';
import type { SettingsFiles } from '../settings-files';
import { parseJson, readSecret, readSetting } from '../settings-files';

/** An "application" on SCIM: configured groups (ids or display names) whose transitive members are its assignees. */
export const scimApplicationSchema = z.strictObject({
  id: z.string().min(1),
  displayName: z.string().min(1),
  /** The groups that grant the application, by SCIM id or displayName; their owners own it. */
  groups: z.array(z.string().min(1)).min(1),
});

/** One configured application (see scimApplicationSchema). */
export type ScimApplication = z.infer<typeof scimApplicationSchema>;

/** How the adapter authenticates: a static bearer token, or OAuth 2.0 client credentials. */
export type ScimAuth =
  | { kind: 'bearer'; token: string }
  | { kind: 'oauth'; tokenUrl: string; clientId: string; clientSecret: string; scope?: string };

/** Everything the SCIM adapter needs, resolved from the SCIM_* settings. */
export interface ScimSettings {
  /** The service provider's base URL, without a trailing slash (…/scim/v2). */
  baseUrl: string;
  auth: ScimAuth;
  /** PEM text of extra CAs trusted for the server (and the OAuth token endpoint). */
  ca?: string;
  /** `userType` value that marks a guest (compared case-insensitively). */
  guestUserType: string;
  /** A group's owners are the members of the group named displayName + this suffix. */
  ownersGroupSuffix: string;
  /** Schema URN + ":" + attribute holding the last sign-in (dateTime); undefined: no sign-in data. */
  lastSignInAttribute?: { schema: string; attribute: string };
  /** Same, for a group's description; undefined: the core schema has none (null). */
  groupDescriptionAttribute?: { schema: string; attribute: string };
  applications: ScimApplication[];
  pageSize: number;
  timeoutMs: number;
  connectTimeoutMs: number;
  /** Retries of a throttled (429) or unavailable (503, other 5xx) request before giving up. */
  retries: number;
  maxRetryAfterSeconds: number;
  concurrency: number;
  /** Above this many ids, getUsers lists all users instead of reading them one by one. */
  listThreshold: number;
  /** How long a group's members, owners and nested members and the user list are reused in this process; its writes clear them. */
  cacheMs: number;
}

const extensionAttribute = z
  .string()
  .trim()
  .regex(
    /^urn:[^\s]+:[A-Za-z][\w.-]*$/,
    'must be the schema URN and the attribute, e.g. urn:ietf:params:scim:schemas:extension:acme:2.0:User:lastLogin',
  );

/** The SCIM_* environment settings (see the README's "Connect your directory"). */
export const scimEnvSchema = z.object({
  SCIM_BASE_URL: z
    .string()
    .regex(/^https?:\/\/[^\s]+$/i, 'must be an http(s) URL, e.g. https://idp.example.com/scim/v2')
    .optional(),
  SCIM_TOKEN: z.string().min(1).optional(),
  SCIM_TOKEN_FILE: z.string().min(1).optional(),
  SCIM_OAUTH_TOKEN_URL: z
    .string()
    .regex(/^https?:\/\/[^\s]+$/i, 'must be an http(s) URL')
    .optional(),
  SCIM_OAUTH_CLIENT_ID: z.string().min(1).optional(),
  SCIM_OAUTH_CLIENT_SECRET: z.string().min(1).optional(),
  SCIM_OAUTH_CLIENT_SECRET_FILE: z.string().min(1).optional(),
  SCIM_OAUTH_SCOPE: z.string().min(1).optional(),
  SCIM_TLS_CA_FILE: z.string().min(1).optional(),
  SCIM_GUEST_USER_TYPE: z.string().min(1).default('Guest'),
  SCIM_OWNERS_GROUP_SUFFIX: z.string().min(1).default(' Owners'),
  SCIM_LAST_SIGN_IN_ATTRIBUTE: extensionAttribute.optional(),
  SCIM_GROUP_DESCRIPTION_ATTRIBUTE: extensionAttribute.optional(),
  /** JSON array of {id, displayName, groups: [group id or displayName…]}, or the same in SCIM_APPLICATIONS_FILE. */
  SCIM_APPLICATIONS: z.string().min(1).optional(),
  SCIM_APPLICATIONS_FILE: z.string().min(1).optional(),
  SCIM_PAGE_SIZE: z.coerce.number().int().min(1).max(10_000).default(1000),
  SCIM_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  SCIM_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(5_000),
  SCIM_RETRIES: z.coerce.number().int().min(0).max(10).default(3),
  SCIM_MAX_RETRY_AFTER_SECONDS: z.coerce.number().int().min(0).max(3600).default(60),
  SCIM_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(8),
  SCIM_LIST_THRESHOLD: z.coerce.number().int().min(1).max(1_000_000).default(500),
  SCIM_CACHE_SECONDS: z.coerce.number().int().min(0).max(3600).default(30),
});

/** The SCIM_* settings as parsed from the environment. */
export type ScimEnv = z.infer<typeof scimEnvSchema>;

const splitAttribute = (value: string) => {
  const at = value.lastIndexOf(':');
  return { schema: value.slice(0, at), attribute: value.slice(at + 1) };
};

const both = (a: string, b: string) => new Error(`set ${a} or ${b}, not both`);

async function resolveAuth(env: ScimEnv, files: SettingsFiles): Promise<ScimAuth> {
  if (env.SCIM_TOKEN !== undefined && env.SCIM_TOKEN_FILE !== undefined)
    throw both('SCIM_TOKEN', 'SCIM_TOKEN_FILE');
  const bearer = env.SCIM_TOKEN !== undefined || env.SCIM_TOKEN_FILE !== undefined;
  const oauth = env.SCIM_OAUTH_TOKEN_URL !== undefined;
  if (bearer && oauth) throw new Error('set SCIM_TOKEN(_FILE) or SCIM_OAUTH_TOKEN_URL, not both');
  if (bearer) {
    return {
      kind: 'bearer',
      token: env.SCIM_TOKEN ?? (await readSecret(files, 'SCIM_TOKEN_FILE', env.SCIM_TOKEN_FILE!)),
    };
  }
  if (!oauth) throw new Error('DIRECTORY=scim needs SCIM_TOKEN, SCIM_TOKEN_FILE or SCIM_OAUTH_TOKEN_URL');
  if (env.SCIM_OAUTH_CLIENT_SECRET !== undefined && env.SCIM_OAUTH_CLIENT_SECRET_FILE !== undefined)
    throw both('SCIM_OAUTH_CLIENT_SECRET', 'SCIM_OAUTH_CLIENT_SECRET_FILE');
  const missing = [
    ...(env.SCIM_OAUTH_CLIENT_ID === undefined ? ['SCIM_OAUTH_CLIENT_ID'] : []),
    ...(env.SCIM_OAUTH_CLIENT_SECRET === undefined && env.SCIM_OAUTH_CLIENT_SECRET_FILE === undefined
      ? ['SCIM_OAUTH_CLIENT_SECRET or SCIM_OAUTH_CLIENT_SECRET_FILE']
      : []),
  ];
  if (missing.length) throw new Error(`SCIM_OAUTH_TOKEN_URL needs ${missing.join(', ')}`);
  return {
    kind: 'oauth',
    tokenUrl: env.SCIM_OAUTH_TOKEN_URL!,
    clientId: env.SCIM_OAUTH_CLIENT_ID!,
    clientSecret:
      env.SCIM_OAUTH_CLIENT_SECRET ??
      (await readSecret(files, 'SCIM_OAUTH_CLIENT_SECRET_FILE', env.SCIM_OAUTH_CLIENT_SECRET_FILE!)),
    ...(env.SCIM_OAUTH_SCOPE ? { scope: env.SCIM_OAUTH_SCOPE } : {}),
  };
}

/**
 * Resolves DIRECTORY=scim's settings: the base URL and one credential present, files read, JSON parsed.
 * Throws an Error whose message names each bad setting.
 */
export async function resolveScimSettings(env: ScimEnv, files: SettingsFiles): Promise<ScimSettings> {
  if (env.SCIM_BASE_URL === undefined) throw new Error('DIRECTORY=scim needs SCIM_BASE_URL');
  if (env.SCIM_APPLICATIONS !== undefined && env.SCIM_APPLICATIONS_FILE !== undefined)
    throw both('SCIM_APPLICATIONS', 'SCIM_APPLICATIONS_FILE');
  const auth = await resolveAuth(env, files);
  const ca = env.SCIM_TLS_CA_FILE && (await readSetting(files, 'SCIM_TLS_CA_FILE', env.SCIM_TLS_CA_FILE));
  const appsSetting = env.SCIM_APPLICATIONS ? 'SCIM_APPLICATIONS' : 'SCIM_APPLICATIONS_FILE';
  const appsText =
    env.SCIM_APPLICATIONS ??
    (env.SCIM_APPLICATIONS_FILE &&
      (await readSetting(files, 'SCIM_APPLICATIONS_FILE', env.SCIM_APPLICATIONS_FILE)));
  const applications = appsText ? parseJson(appsText, appsSetting, z.array(scimApplicationSchema)) : [];
  const seen = new Set<string>();
  for (const app of applications) {
    if (seen.has(app.id)) throw new Error(`${appsSetting}: the application id "${app.id}" is used twice`);
    seen.add(app.id);
  }
  return {
    baseUrl: env.SCIM_BASE_URL.replace(/\/+$/, ''),
    auth,
    ...(ca ? { ca } : {}),
    guestUserType: env.SCIM_GUEST_USER_TYPE,
    ownersGroupSuffix: env.SCIM_OWNERS_GROUP_SUFFIX,
    ...(env.SCIM_LAST_SIGN_IN_ATTRIBUTE
      ? { lastSignInAttribute: splitAttribute(env.SCIM_LAST_SIGN_IN_ATTRIBUTE) }
      : {}),
    ...(env.SCIM_GROUP_DESCRIPTION_ATTRIBUTE
      ? { groupDescriptionAttribute: splitAttribute(env.SCIM_GROUP_DESCRIPTION_ATTRIBUTE) }
      : {}),
    applications,
    pageSize: env.SCIM_PAGE_SIZE,
    timeoutMs: env.SCIM_TIMEOUT_MS,
    connectTimeoutMs: env.SCIM_CONNECT_TIMEOUT_MS,
    retries: env.SCIM_RETRIES,
    maxRetryAfterSeconds: env.SCIM_MAX_RETRY_AFTER_SECONDS,
    concurrency: env.SCIM_CONCURRENCY,
    listThreshold: env.SCIM_LIST_THRESHOLD,
    cacheMs: env.SCIM_CACHE_SECONDS * 1000,
  };
}
