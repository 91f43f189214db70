// A standalone OpenID provider (oidc-provider) for tests of the portal as a client of an external issuer
// (AUTH_MODE=jwt): a confidential client, JWT access tokens for one API audience carrying `oid` and
// `roles`, and a sign-in form that takes a user id. Run: tsx test/helpers/oidc-test-provider.mts, with
// OIDC_PORT, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URI, OIDC_POST_LOGOUT_URI, OIDC_AUDIENCE,
// OIDC_ADMIN_ROLE; prints "listening <issuer>" when ready.
import http from 'node:http';
import { URLSearchParams } from 'node:url';
import Provider, { errors } from 'oidc-provider';

const env = (name: string) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
};
const port = Number(env('OIDC_PORT'));
const issuer = `http://127.0.0.1:${port}`;
const audience = env('OIDC_AUDIENCE');
const adminRole = env('OIDC_ADMIN_ROLE');

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: env('OIDC_CLIENT_ID'),
      client_secret: env('OIDC_CLIENT_SECRET'),
      redirect_uris: [env('OIDC_REDIRECT_URI')],
      post_logout_redirect_uris: [env('OIDC_POST_LOGOUT_URI')],
      response_types: ['code'],
      grant_types: ['authorization_code'],
    },
  ],
  pkce: { required: () => true },
  cookies: { keys: ['test-provider-cookie-key'] },
  findAccount: async (_ctx, id) => ({ accountId: id, claims: async () => ({ sub: id, name: `User ${id}` }) }),
  claims: { openid: ['sub'], profile: ['name'] },
  features: {
    devInteractions: { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => audience,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, indicator) => {
        if (indicator !== audience) throw new errors.InvalidTarget();
        return { scope: 'reviews', audience, accessTokenFormat: 'jwt', accessTokenTTL: 3600 };
      },
    },
  },
  extraTokenClaims: async (_ctx, token) =>
    token.kind === 'AccessToken' && token.accountId
      ? { oid: token.accountId, roles: token.accountId.startsWith('admin-') ? [adminRole] : [] }
      : undefined,
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
});

const readForm = (req: http.IncomingMessage) =>
  new Promise<URLSearchParams>((resolve) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => resolve(new URLSearchParams(body)));
  });

const callback = provider.callback();
const server = http.createServer((req, res) => {
  const match = /^\/interaction\/([^/]+)(\/login)?$/.exec(req.url ?? '');
  if (!match) return void callback(req, res);
  void (async () => {
    try {
      const details = await provider.interactionDetails(req, res);
      if (!match[2]) {
        res.setHeader('content-type', 'text/html');
        res.end(`<form method="post" action="/interaction/${details.uid}/login"><input name="login"></form>`);
        return;
      }
      const login = (await readForm(req)).get('login') ?? '';
      const grant = new provider.Grant({ accountId: login, clientId: String(details.params.client_id) });
      grant.addOIDCScope('openid profile');
      grant.addResourceScope(audience, 'reviews');
      await provider.interactionFinished(
        req,
        res,
        { login: { accountId: login }, consent: { grantId: await grant.save() } },
        { mergeWithLastSubmission: false },
      );
    } catch (err) {
      res.statusCode = 500;
      res.end(String(err));
    }
  })();
});
server.listen(port, '127.0.0.1', () => process.stdout.write(`listening ${issuer}\n`));
