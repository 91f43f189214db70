import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import express from 'express';
import type { Request, Response, Router } from 'express';
import type { Logger } from 'pino';
import type { Caller } from '../../services/caller';
import { clearCookie, readCookies, setCookie } from './cookies';
import type { OidcClient } from './oidc-client';
import { OidcProviderError } from './oidc-client';
import type { Sealer } from './sealer';
import { messagePage } from './pages';

/** The cookie that carries a signed-in browser's sealed tokens. */
export const SESSION_COOKIE = 'stagecoach_session';
const LOGIN_COOKIE = 'stagecoach_login';
const SESSION_PURPOSE = 'portal-session';
const LOGIN_PURPOSE = 'portal-login';
/** Requests the portal's pages make to the API carry this header; a cookie alone authenticates nothing. */
export const PORTAL_HEADER = 'x-stagecoach-portal';
/** Browsers cap cookies near 4 KB; past this the ID token (only needed to sign out) stays behind. */
const COOKIE_BUDGET = 3_800;

/** The folder the portal's pages are built into (`npm install` builds them; scripts/build-portal.mjs). */
export const PORTAL_WEB_ROOT = path.resolve(__dirname, '..', '..', '..', 'dist', 'portal-web');

export interface PortalDeps {
  /** Undefined when sign-in is not configured (AUTH_MODE=jwt without PORTAL_CLIENT_ID). */
  oidc?: OidcClient;
  sealer: Sealer;
  /** Checks an access token the way the API does and names the caller. */
  identify: (accessToken: string) => Promise<Caller>;
  displayName: (userId: string) => Promise<string | undefined>;
  sessionHours: number;
  /** Secure cookies: the portal is served over https. */
  secure: boolean;
  webRoot?: string;
  temporalUi?: { url: string; namespace: string };
  logger: Logger;
}

interface Session {
  at: string;
  it?: string;
}

/** The access token of the browser's portal session, if it has one that this server sealed. */
export async function sessionToken(req: Request, sealer: Sealer): Promise<string | undefined> {
  const value = readCookies(req).get(SESSION_COOKIE);
  if (!value) return undefined;
  const session = (await sealer.unseal(SESSION_PURPOSE, value)) as Partial<Session> | undefined;
  return typeof session?.at === 'string' ? session.at : undefined;
}

/** A path inside the portal to come back to after signing in; anything else becomes the portal's start. */
function safeReturnTo(value: unknown): string {
  return typeof value === 'string' && /^\/portal(\/[^\\]*)?$/.test(value) && !value.startsWith('//')
    ? value
    : '/portal/';
}

/** Whether a state-changing request comes from the portal's own pages (not from another site's form). */
function sameOrigin(req: Request): boolean {
  const site = req.get('sec-fetch-site');
  if (site) return site === 'same-origin';
  const origin = req.get('origin');
  return origin !== undefined && origin === `${req.protocol}://${req.get('host')}`;
}

/** The portal's content security policy: nothing inline except styles carrying this response's nonce. */
export function portalCsp(nonce: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    `style-src 'self' 'nonce-${nonce}'`,
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * The web portal: sign-in (authorization code flow with PKCE, tokens sealed in an HttpOnly cookie),
 * sign-out, who is signed in, and the pages themselves under /portal (`/` redirects there).
 */
export function portalRouter(deps: PortalDeps): Router {
  const router = express.Router();
  const webRoot = deps.webRoot ?? PORTAL_WEB_ROOT;
  const cookie = (p: string, sameSite: 'Strict' | 'Lax') => ({ path: p, sameSite, secure: deps.secure });
  let indexHtml: string | undefined;
  const index = () => {
    indexHtml ??= readFileSync(path.join(webRoot, 'index.html'), 'utf8');
    return indexHtml;
  };

  router.get('/', (_req, res) => res.redirect(302, '/portal/'));
  // Exactly /portal (Express's lenient routing would also match /portal/ and loop).
  router.get('/portal', (req, res, next) =>
    req.path === '/portal' ? res.redirect(302, '/portal/') : next(),
  );

  router.get('/portal/auth/login', async (req, res, next) => {
    try {
      if (!deps.oidc) {
        res
          .status(503)
          .type('html')
          .send(
            messagePage(
              'Sign-in is not configured',
              'Set PORTAL_CLIENT_ID (and PORTAL_SCOPES for your identity provider) so the portal can sign people in.',
            ),
          );
        return;
      }
      const request = await deps.oidc.authorizationRequest();
      const sealed = await deps.sealer.seal(
        LOGIN_PURPOSE,
        {
          state: request.state,
          nonce: request.nonce,
          verifier: request.codeVerifier,
          returnTo: safeReturnTo(req.query.returnTo),
        },
        600,
      );
      // Lax: the provider sends the browser back with a top-level GET from its own site.
      setCookie(res, LOGIN_COOKIE, sealed, { ...cookie('/portal/auth', 'Lax'), maxAgeSeconds: 600 });
      res.redirect(302, request.url);
    } catch (err) {
      next(err);
    }
  });

  router.get('/portal/auth/callback', async (req, res, next) => {
    try {
      const raw = readCookies(req).get(LOGIN_COOKIE);
      const login = raw ? await deps.sealer.unseal(LOGIN_PURPOSE, raw) : undefined;
      clearCookie(res, LOGIN_COOKIE, cookie('/portal/auth', 'Lax'));
      const q = req.query as Record<string, unknown>;
      if (typeof q.error === 'string') {
        const said = typeof q.error_description === 'string' ? `: ${q.error_description}` : '';
        res
          .status(400)
          .type('html')
          .send(
            messagePage('Sign-in did not complete', `The identity provider said ${q.error}${said}.`, true),
          );
        return;
      }
      if (!login || typeof q.code !== 'string' || q.state !== login.state || !deps.oidc) {
        res
          .status(400)
          .type('html')
          .send(
            messagePage(
              'Sign-in expired',
              'This sign-in is unknown or older than 10 minutes. Please sign in again.',
              true,
            ),
          );
        return;
      }
      const signedIn = await deps.oidc.redeem(q.code, {
        codeVerifier: String(login.verifier),
        nonce: String(login.nonce),
      });
      let caller: Caller;
      try {
        caller = await deps.identify(signedIn.accessToken);
      } catch (err) {
        deps.logger.warn(
          { err: (err as Error).message },
          'portal sign-in: the access token is not one the API accepts',
        );
        res
          .status(403)
          .type('html')
          .send(
            messagePage(
              'Signed in, but not for Stagecoach',
              `The identity provider signed you in, but the API does not accept its token (${(err as Error).message}). Check PORTAL_SCOPES / PORTAL_RESOURCE against AUTH_AUDIENCE.`,
              true,
            ),
          );
        return;
      }
      const ttl = Math.min(signedIn.expiresIn ?? Infinity, deps.sessionHours * 3600);
      let sealed = await deps.sealer.seal(
        SESSION_PURPOSE,
        { at: signedIn.accessToken, it: signedIn.idToken },
        ttl,
      );
      if (sealed.length > COOKIE_BUDGET)
        sealed = await deps.sealer.seal(SESSION_PURPOSE, { at: signedIn.accessToken }, ttl);
      setCookie(res, SESSION_COOKIE, sealed, { ...cookie('/', 'Strict'), maxAgeSeconds: ttl });
      deps.logger.info({ userId: caller.userId, admin: caller.isAdmin }, 'portal sign-in');
      res.redirect(302, safeReturnTo(login.returnTo));
    } catch (err) {
      if (err instanceof OidcProviderError) {
        deps.logger.warn({ err: err.message }, 'portal sign-in failed at the identity provider');
        res
          .status(502)
          .type('html')
          .send(messagePage('Sign-in failed', err.message, true));
        return;
      }
      next(err);
    }
  });

  router.post('/portal/auth/logout', async (req, res, next) => {
    try {
      if (!sameOrigin(req)) {
        res.status(403).type('html').send(messagePage('Not signed out', 'Sign out from the portal itself.'));
        return;
      }
      const value = readCookies(req).get(SESSION_COOKIE);
      const session = value
        ? ((await deps.sealer.unseal(SESSION_PURPOSE, value)) as Partial<Session> | undefined)
        : undefined;
      clearCookie(res, SESSION_COOKIE, cookie('/', 'Strict'));
      const end = deps.oidc && (await deps.oidc.endSessionUrl(session?.it));
      res.redirect(303, end ?? '/portal/signed-out');
    } catch (err) {
      next(err);
    }
  });

  router.get('/portal/api/session', async (req, res, next) => {
    try {
      res.setHeader('cache-control', 'no-store');
      const token = await sessionToken(req, deps.sealer);
      let caller: Caller | undefined;
      if (token) caller = await deps.identify(token).catch(() => undefined);
      if (!caller) {
        res.status(401).json({ error: { code: 'auth.no_session', message: 'Not signed in to the portal' } });
        return;
      }
      res.json({
        userId: caller.userId,
        displayName: (await deps.displayName(caller.userId)) ?? caller.userId,
        isAdmin: caller.isAdmin,
        temporalUi: deps.temporalUi ?? null,
      });
    } catch (err) {
      next(err);
    }
  });

  router.use(
    '/portal/assets',
    express.static(path.join(webRoot, 'assets'), {
      immutable: true,
      maxAge: '365d',
      index: false,
    }),
    (_req: Request, res: Response) => {
      res
        .status(404)
        .json({ error: { code: 'request.unknown_route', message: 'There is no such file of the portal' } });
    },
  );

  // Every other page of the portal is the same document; its script routes on the path.
  router.get(/^\/portal\/.*/, (_req: Request, res: Response) => {
    if (!existsSync(path.join(webRoot, 'index.html'))) {
      res
        .status(503)
        .type('html')
        .send(
          messagePage(
            'The portal is not built',
            'Its pages are built by npm install; run `npm run build:portal` to build them now.',
          ),
        );
      return;
    }
    const nonce = randomBytes(16).toString('base64');
    res.setHeader('content-security-policy', portalCsp(nonce));
    res.setHeader('cache-control', 'no-store');
    res.type('html').send(index().replaceAll('__CSP_NONCE__', nonce));
  });

  return router;
}
