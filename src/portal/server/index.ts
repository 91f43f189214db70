import { readFile } from 'node:fs/promises';
import type { Router } from 'express';
import type { Logger } from 'pino';
import type { AuthSettings, LocalIssuer } from '../../api/auth';
import { callerFromClaims, LOCAL_AUDIENCE } from '../../api/auth';
import type { Directory, DirectoryUser } from '../../directory/port';
import { OidcClient } from './oidc-client';
import type { PortalDeps } from './routes';
import { Sealer } from './sealer';
import type { PortalEnv } from './settings';

export { portalEnvSchema } from './settings';
export type { PortalEnv } from './settings';

export interface PortalSetup {
  deps: PortalDeps;
  routers: Router[];
  /** Where people sign in: the embedded provider's address, or the configured issuer. */
  issuer?: string;
}

/**
 * Runs `fn` with oidc-provider's console notices sent to the log at debug level. It warns of its in-memory
 * storage, which the embedded provider means to use (a loopback demo whose sign-ins end with the
 * process), and of Node.js 20, which its engines field supports; neither belongs on stderr.
 */
async function libraryNotices<T>(logger: Logger, fn: () => Promise<T>): Promise<T> {
  /* eslint-disable no-console -- the library writes to console.warn; this routes it to the log */
  const original = console.warn;
  console.warn = (...args: unknown[]) => {
    const text = args.map(String).join(' ');
    if (text.startsWith('oidc-provider ')) logger.debug({ notice: text }, 'embedded OpenID provider notice');
    else original(...args);
  };
  try {
    return await fn();
  } finally {
    console.warn = original;
  }
  /* eslint-enable no-console */
}

/**
 * The portal's sign-in and pages, wired from the settings: with AUTH_MODE=local an embedded OpenID
 * provider (loaded only then) signs in demo users; with AUTH_MODE=jwt the portal is a client of the
 * configured issuer, or, without PORTAL_CLIENT_ID, serves its pages but says sign-in is not configured.
 */
export async function createPortal(
  config: PortalEnv & {
    AUTH_MODE: 'jwt' | 'local';
    AUTH_ISSUER?: string;
    AUTH_ADMIN_ROLE: string;
    TEMPORAL_NAMESPACE: string;
  },
  deps: {
    auth: AuthSettings;
    localIssuer?: LocalIssuer;
    directory: Directory;
    listUsers?: () => Promise<DirectoryUser[]>;
    /** The API's address as browsers reach it. */
    baseUrl: string;
    logger: Logger;
  },
): Promise<PortalSetup | undefined> {
  if (!config.PORTAL_ENABLED) return undefined;
  const base = deps.baseUrl.replace(/\/+$/, '');
  const routers: Router[] = [];
  let client: { issuer: string; clientId: string; secret?: string; resource?: string } | undefined;
  const localIssuer = deps.localIssuer;
  if (config.AUTH_MODE === 'local' && localIssuer) {
    const { createLocalProvider, LOCAL_PORTAL_CLIENT } = await libraryNotices(
      deps.logger,
      () => import('./local-provider'),
    );
    const local = await libraryNotices(deps.logger, () =>
      createLocalProvider({
        baseUrl: base,
        signingKey: localIssuer.signingKey(),
        audience: LOCAL_AUDIENCE,
        adminRole: config.AUTH_ADMIN_ROLE,
        getUser: (id) => deps.directory.getUser(id),
        listUsers: deps.listUsers,
        logger: deps.logger,
      }),
    );
    localIssuer.trustIssuer(local.issuer);
    routers.push(local.router);
    client = { issuer: local.issuer, clientId: LOCAL_PORTAL_CLIENT, resource: LOCAL_AUDIENCE };
  } else if (config.PORTAL_CLIENT_ID) {
    const issuer = config.PORTAL_ISSUER ?? config.AUTH_ISSUER;
    if (!issuer) throw new Error('PORTAL_CLIENT_ID needs PORTAL_ISSUER or AUTH_ISSUER');
    const secret =
      config.PORTAL_CLIENT_SECRET ??
      (config.PORTAL_CLIENT_SECRET_FILE && (await readFile(config.PORTAL_CLIENT_SECRET_FILE, 'utf8')).trim());
    client = {
      issuer,
      clientId: config.PORTAL_CLIENT_ID,
      secret: secret || undefined,
      resource: config.PORTAL_RESOURCE,
    };
  }
  const scopes = config.AUTH_MODE === 'local' ? 'openid profile email' : config.PORTAL_SCOPES;
  const oidc =
    client &&
    new OidcClient({
      issuer: client.issuer,
      clientId: client.clientId,
      clientSecret: client.secret,
      scopes,
      resource: client.resource,
      redirectUri: `${base}/portal/auth/callback`,
      postLogoutRedirectUri: `${base}/portal/signed-out`,
    });
  return {
    issuer: client?.issuer,
    routers,
    deps: {
      oidc,
      sealer: await Sealer.open(config.PORTAL_SESSION_KEY_FILE),
      identify: async (token) => callerFromClaims(await deps.auth.verifier.verify(token), deps.auth),
      displayName: async (id) => (await deps.directory.getUser(id))?.displayName,
      sessionHours: config.PORTAL_SESSION_HOURS,
      secure: base.startsWith('https:'),
      temporalUi: config.TEMPORAL_UI_URL
        ? { url: config.TEMPORAL_UI_URL, namespace: config.TEMPORAL_NAMESPACE }
        : undefined,
      logger: deps.logger,
    },
  };
}
