import express from 'express';
import type { Router } from 'express';
import type { JWK } from 'jose';
import Provider, { errors } from 'oidc-provider';
import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from 'pino';
import { randomBytes } from 'node:crypto';
import type { DirectoryUser } from '../../directory/port';
import { escapeHtml } from './pages';

/** Where the embedded OpenID provider is mounted, below the API's own address. */
export const LOCAL_PROVIDER_PATH = '/auth/local/oidc';
/** The portal's client id at the embedded provider. */
export const LOCAL_PORTAL_CLIENT = 'stagecoach-portal';
/** Scope of the API at the embedded provider; its access tokens are for this audience. */
const API_SCOPE = 'access_reviews';

export interface LocalProviderOptions {
  /** The API's own address as browsers reach it (PUBLIC_BASE_URL or http://localhost:PORT). */
  baseUrl: string;
  /** The local issuer's key: the provider signs ID and access tokens with it. */
  signingKey: JWK;
  /** The audience the API expects (LOCAL_AUDIENCE). */
  audience: string;
  adminRole: string;
  getUser: (id: string) => Promise<DirectoryUser | undefined>;
  /** The users offered on the sign-in page; without it the page asks for a user id. */
  listUsers?: () => Promise<DirectoryUser[]>;
  logger: Logger;
}

/** An account id says who signed in and whether they chose the administrator role: `<user id>` or `<user id>#admin`. */
const ADMIN_SUFFIX = '#admin';
const userOf = (accountId: string) =>
  accountId.endsWith(ADMIN_SUFFIX) ? accountId.slice(0, -ADMIN_SUFFIX.length) : accountId;

function loginPage(uid: string, users: DirectoryUser[] | undefined, error?: string): string {
  const action = `${LOCAL_PROVIDER_PATH}/interaction/${encodeURIComponent(uid)}/login`;
  const chooser = users?.length
    ? `<label for="user">User</label>
<select id="user" name="userId" required>${users
        .filter((u) => u.accountEnabled)
        .map(
          (u) =>
            `<option value="${escapeHtml(u.id)}">${escapeHtml(u.displayName)} (${escapeHtml(u.mail ?? u.userPrincipalName)})</option>`,
        )
        .join('')}</select>`
    : `<label for="user">User id</label><input id="user" name="userId" required autocomplete="username">`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · Stagecoach demo tenant</title></head>
<body><main>
<h1>Sign in to the demo tenant</h1>
<p>This is the embedded identity provider of a local Stagecoach (AUTH_MODE=local). Pick the person to act as; no password is asked.</p>
${error ? `<p role="alert"><strong>${escapeHtml(error)}</strong></p>` : ''}
<form method="post" action="${action}">
<p>${chooser}</p>
<p><input type="checkbox" id="admin" name="admin" value="true"><label for="admin">Access review administrator</label></p>
<p><button type="submit">Sign in</button></p>
</form>
</main></body></html>`;
}

/**
 * The embedded default's identity provider: a certified OpenID provider (oidc-provider) whose sign-in
 * page lets you pick a demo user. It issues ES256 JWT access tokens for the API's audience with the
 * local issuer's key, so the API verifies them like any other issuer's. Loopback only, as AUTH_MODE=local.
 */
export async function createLocalProvider(
  opts: LocalProviderOptions,
): Promise<{ issuer: string; router: Router }> {
  const base = opts.baseUrl.replace(/\/+$/, '');
  const issuer = `${base}${LOCAL_PROVIDER_PATH}`;
  const configuration: Configuration = {
    clients: [
      {
        client_id: LOCAL_PORTAL_CLIENT,
        token_endpoint_auth_method: 'none',
        redirect_uris: [`${base}/portal/auth/callback`],
        post_logout_redirect_uris: [`${base}/portal/signed-out`],
        response_types: ['code'],
        grant_types: ['authorization_code'],
        id_token_signed_response_alg: 'ES256',
      },
    ],
    jwks: { keys: [opts.signingKey] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    pkce: { required: () => true },
    scopes: ['openid', 'profile', 'email'],
    claims: { openid: ['sub'], profile: ['name'], email: ['email'] },
    findAccount: async (_ctx: KoaContextWithOIDC, id: string) => {
      const user = await opts.getUser(userOf(id));
      if (!user) return undefined;
      return {
        accountId: id,
        claims: async () => ({ sub: id, name: user.displayName, email: user.mail ?? user.userPrincipalName }),
      };
    },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          // The provider's own form, with a button: no script runs under the API's content security policy.
          ctx.type = 'html';
          ctx.body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Sign out · Stagecoach demo tenant</title></head><body><main><h1>Sign out of the demo tenant</h1>${form.replace('</form>', '<input type="hidden" name="logout" value="yes"><button type="submit">Sign out</button></form>')}</main></body></html>`;
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => opts.audience,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator) => {
          if (indicator !== opts.audience) throw new errors.InvalidTarget();
          return {
            scope: API_SCOPE,
            audience: opts.audience,
            accessTokenTTL: 8 * 3600,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'ES256' } },
          };
        },
      },
    },
    extraTokenClaims: async (_ctx, token) => {
      if (token.kind !== 'AccessToken' || !token.accountId) return undefined;
      return {
        oid: userOf(token.accountId),
        roles: token.accountId.endsWith(ADMIN_SUFFIX) ? [opts.adminRole] : [],
      };
    },
    interactions: { url: (_ctx, interaction) => `${LOCAL_PROVIDER_PATH}/interaction/${interaction.uid}` },
    ttl: { Session: 8 * 3600, Grant: 8 * 3600, Interaction: 600, AuthorizationCode: 60, IdToken: 3600 },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign-in error</title></head><body><main><h1>Sign-in error</h1><p>${escapeHtml(String(out.error))}: ${escapeHtml(String(out.error_description ?? ''))}</p><p><a href="/portal/">Back to the portal</a></p></main></body></html>`;
    },
  };
  const provider = new Provider(issuer, configuration);
  provider.on('server_error', (_ctx, err) => opts.logger.error({ err }, 'embedded OpenID provider error'));

  const router = express.Router();
  const interaction = `${LOCAL_PROVIDER_PATH}/interaction/:uid`;
  router.get(interaction, async (req, res, next) => {
    try {
      const details = await provider.interactionDetails(req, res);
      if (details.uid !== req.params.uid) throw new errors.SessionNotFound('interaction mismatch');
      res.setHeader('cache-control', 'no-store');
      res.type('html').send(loginPage(details.uid, await opts.listUsers?.()));
    } catch (err) {
      next(err);
    }
  });
  router.post(
    `${interaction}/login`,
    express.urlencoded({ extended: false, limit: '4kb' }),
    async (req, res, next) => {
      try {
        const details = await provider.interactionDetails(req, res);
        const body = req.body as { userId?: unknown; admin?: unknown };
        const userId = typeof body.userId === 'string' ? body.userId.trim() : '';
        const user = userId ? await opts.getUser(userId) : undefined;
        if (!user || !user.accountEnabled) {
          res
            .status(400)
            .type('html')
            .send(
              loginPage(
                details.uid,
                await opts.listUsers?.(),
                user ? 'That account is disabled.' : 'There is no such user in the directory.',
              ),
            );
          return;
        }
        const accountId = body.admin === 'true' ? `${user.id}${ADMIN_SUFFIX}` : user.id;
        const grant = new provider.Grant({ accountId, clientId: String(details.params.client_id) });
        grant.addOIDCScope('openid profile email');
        grant.addResourceScope(opts.audience, API_SCOPE);
        const grantId = await grant.save();
        await provider.interactionFinished(
          req,
          res,
          { login: { accountId }, consent: { grantId } },
          { mergeWithLastSubmission: false },
        );
      } catch (err) {
        next(err);
      }
    },
  );
  router.use(LOCAL_PROVIDER_PATH, provider.callback());
  opts.logger.debug({ issuer }, 'embedded OpenID provider ready');
  return { issuer, router };
}
