import type { ChildProcess } from 'node:child_process';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import request from 'supertest';
import type { AppDeps } from '../../src/api/app';
import { createApp } from '../../src/api/app';
import { LocalIssuer, remoteJwksVerifier } from '../../src/api/auth';
import { AppError } from '../../src/domain/errors';
import type { DirectoryUser } from '../../src/directory/port';
import { createPortal } from '../../src/portal/server';
import { portalCsp, SESSION_COOKIE } from '../../src/portal/server/routes';
import { Sealer } from '../../src/portal/server/sealer';
import { portalEnvSchema } from '../../src/portal/server/settings';
import { freePort, portOf } from '../helpers/ports';

/** Every service call fails with this message: a request answered with it was authenticated and reached its handler. */
const REACHED = 'The route reached a service';
const reachedOnly = <T>(): T =>
  new Proxy({}, { get: () => async () => Promise.reject(new AppError('definition.invalid', REACHED)) }) as T;

const ADMIN_ROLE = 'AccessReview.ReadWrite.All';
const DEFINITIONS = '/v1.0/identityGovernance/accessReviews/definitions';
const logger = pino({ level: 'silent' });
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portal-server-'));
const webRoot = path.join(dir, 'web');
fs.mkdirSync(path.join(webRoot, 'assets'), { recursive: true });
fs.writeFileSync(
  path.join(webRoot, 'index.html'),
  '<!doctype html><meta name="csp-nonce" content="__CSP_NONCE__"><script type="module" src="/portal/assets/app.js"></script>',
);
fs.writeFileSync(path.join(webRoot, 'assets', 'app.js'), 'export {};');

function appDeps(auth: AppDeps['auth']): Omit<AppDeps, 'portal'> {
  return {
    definitions: reachedOnly(),
    instances: reachedOnly(),
    directory: reachedOnly(),
    health: async () => ({ reachable: true, answering: true, pollers: 1 }),
    access: reachedOnly(),
    auth,
    logger,
    bodyLimit: '1mb',
    rateLimitPerMinute: 100_000,
    rateLimitUnauthenticatedPerMinute: 100_000,
  };
}

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('the portal in the API process', () => {
  let issuer: LocalIssuer;
  let sealer: Sealer;
  let app: ReturnType<typeof createApp>;
  const user = 'user-1';

  beforeAll(async () => {
    issuer = await LocalIssuer.open(path.join(dir, 'key.json'));
    sealer = await Sealer.open(path.join(dir, 'session-key'));
    const auth = {
      verifier: issuer,
      userClaim: 'oid',
      rolesClaim: 'roles',
      adminRole: ADMIN_ROLE,
      admins: [user],
    };
    app = createApp({
      ...appDeps(auth),
      portal: {
        deps: {
          sealer,
          identify: async (token) => ({ userId: String((await issuer.verify(token)).oid), isAdmin: false }),
          displayName: async (id) => (id === user ? 'User One' : undefined),
          sessionHours: 8,
          secure: false,
          webRoot,
          logger,
        },
      },
    });
  });

  const sessionCookie = async (claims: Record<string, unknown> = {}) =>
    `${SESSION_COOKIE}=${encodeURIComponent(await sealer.seal('portal-session', { at: await issuer.issue(user), ...claims }, 600))}`;

  it('redirects / to the portal and serves every portal path as its page, with a fresh nonce in a strict CSP', async () => {
    expect((await request(app).get('/')).headers.location).toBe('/portal/');
    const a = await request(app).get('/portal/reviews/d1/i1').expect(200);
    const b = await request(app).get('/portal/').expect(200);
    const nonce = /'nonce-([^']+)'/.exec(String(a.headers['content-security-policy']))?.[1];
    expect(nonce).toBeDefined();
    expect(a.headers['content-security-policy']).toBe(portalCsp(nonce!));
    expect(a.headers['content-security-policy']).toContain("script-src 'self';");
    expect(a.text).toContain(`content="${nonce}"`);
    expect(a.text).not.toContain('__CSP_NONCE__');
    expect(b.headers['content-security-policy']).not.toBe(a.headers['content-security-policy']);
    const asset = await request(app).get('/portal/assets/app.js').expect(200);
    expect(asset.headers['cache-control']).toContain('immutable');
    await request(app).get('/portal/assets/missing.js').expect(404);
  });

  it('authenticates API calls by the session cookie only together with the portal header', async () => {
    const cookie = await sessionCookie();
    const withHeader = await request(app)
      .get(DEFINITIONS)
      .set('cookie', cookie)
      .set('x-stagecoach-portal', '1');
    expect(withHeader.body.error.message).toBe(REACHED);
    // A cross-site form or image can carry the cookie but not the header.
    const cookieOnly = await request(app).get(DEFINITIONS).set('cookie', cookie).expect(401);
    expect(cookieOnly.body.error.code).toBe('auth.invalid_token');
    const forged = cookie.slice(0, -4) + (cookie.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    await request(app).get(DEFINITIONS).set('cookie', forged).set('x-stagecoach-portal', '1').expect(401);
    // Sealed for another purpose (a sign-in in progress): not a session.
    const other = await sealer.seal('portal-login', { at: await issuer.issue(user) }, 600);
    await request(app)
      .get(DEFINITIONS)
      .set('cookie', `${SESSION_COOKIE}=${encodeURIComponent(other)}`)
      .set('x-stagecoach-portal', '1')
      .expect(401);
  });

  it('says who is signed in, and 401 auth.no_session without a session', async () => {
    const res = await request(app)
      .get('/portal/api/session')
      .set('cookie', await sessionCookie())
      .expect(200);
    expect(res.body).toEqual({ userId: user, displayName: 'User One', isAdmin: false, temporalUi: null });
    expect(res.headers['cache-control']).toBe('no-store');
    const none = await request(app).get('/portal/api/session').expect(401);
    expect(none.body.error.code).toBe('auth.no_session');
  });

  it('signs out only from its own pages, and clears the session cookie', async () => {
    const cookie = await sessionCookie();
    await request(app)
      .post('/portal/auth/logout')
      .set('cookie', cookie)
      .set('sec-fetch-site', 'cross-site')
      .expect(403);
    const out = await request(app)
      .post('/portal/auth/logout')
      .set('cookie', cookie)
      .set('sec-fetch-site', 'same-origin')
      .expect(303);
    expect(out.headers.location).toBe('/portal/signed-out');
    expect(String(out.headers['set-cookie'])).toMatch(
      new RegExp(`^${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict`),
    );
  });

  it("names each bad field of a refused body in Graph's details, which the review form shows at its field", async () => {
    const res = await request(app)
      .post(DEFINITIONS)
      .set('authorization', `Bearer ${await issuer.issue(user)}`)
      .send({
        displayName: 7,
        scope: { query: '/groups/g/transitiveMembers' },
        stageSettings: [{ stageId: '1', durationInDays: 0, reviewers: [] }],
      })
      .expect(400);
    expect(res.body.error.code).toBe('request.invalid_body');
    expect(res.body.error.message).toContain('stageSettings.0.durationInDays: ');
    expect(res.body.error.details).toEqual(
      expect.arrayContaining([
        { code: 'invalid_type', message: expect.any(String), target: 'displayName' },
        {
          code: 'too_small',
          message: expect.stringContaining('>=1'),
          target: 'stageSettings.0.durationInDays',
        },
      ]),
    );
    // A refusal without fields keeps Graph's plain shape.
    const plain = await request(app).get(DEFINITIONS).expect(401);
    expect(Object.keys(plain.body.error)).toEqual(['code', 'message', 'innerError']);
  });

  it('answers 503 with what to set when sign-in is not configured', async () => {
    const res = await request(app).get('/portal/auth/login').expect(503);
    expect(res.text).toContain('PORTAL_CLIENT_ID');
  });

  it('refuses a callback without the sign-in it belongs to', async () => {
    const res = await request(app).get('/portal/auth/callback?code=x&state=y').expect(400);
    expect(res.text).toContain('Sign-in expired');
  });
});

describe('Sealer', () => {
  it('keeps one key per file (mode 0600) and opens only what it sealed, for the same purpose, before expiry', async () => {
    const file = path.join(dir, 'sealer-key');
    const a = await Sealer.open(file);
    const b = await Sealer.open(file);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const sealed = await a.seal('p', { at: 'token' }, 60);
    expect(sealed).not.toContain('token');
    expect(await b.unseal('p', sealed)).toMatchObject({ at: 'token' });
    expect(await b.unseal('q', sealed)).toBeUndefined();
    expect(await (await Sealer.open(path.join(dir, 'other-key'))).unseal('p', sealed)).toBeUndefined();
    expect(await a.unseal('p', await a.seal('p', { at: 'token' }, -120))).toBeUndefined();
  });

  it('refuses a key file that does not hold 32 bytes', async () => {
    const file = path.join(dir, 'short-key');
    fs.writeFileSync(file, 'c2hvcnQ\n');
    await expect(Sealer.open(file)).rejects.toThrow(/must hold 32 bytes/);
  });
});

/** Cookies by name, as a browser would keep them for one host (paths and ports aside). */
class CookieJar {
  private readonly cookies = new Map<string, string>();
  take(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      if (
        attrs.some((a) => /^\s*max-age=0\s*$/i.test(a)) ||
        /^\s*expires=thu, 01 jan 1970/i.test(attrs.join(';'))
      ) {
        this.cookies.delete(name);
      } else {
        this.cookies.set(name, pair.slice(eq + 1).trim());
      }
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  has(name: string): boolean {
    return this.cookies.has(name);
  }
}

describe('the portal as a client of an external OpenID provider (AUTH_MODE=jwt)', () => {
  let provider: ChildProcess;
  let api: Server;
  let base = '';
  let issuerUrl = '';
  const audience = 'api://stagecoach-test';
  const secretFile = path.join(dir, 'client-secret');

  beforeAll(async () => {
    const [oidcPort, apiPort] = [await freePort(), await freePort()];
    base = `http://127.0.0.1:${apiPort}`;
    fs.writeFileSync(secretFile, 'portal-test-secret\n');
    provider = spawn(
      process.execPath,
      [require.resolve('tsx/cli'), path.join(__dirname, '..', 'helpers', 'oidc-test-provider.mts')],
      {
        env: {
          ...process.env,
          OIDC_PORT: String(oidcPort),
          OIDC_CLIENT_ID: 'portal-test',
          OIDC_CLIENT_SECRET: 'portal-test-secret',
          OIDC_REDIRECT_URI: `${base}/portal/auth/callback`,
          OIDC_POST_LOGOUT_URI: `${base}/portal/signed-out`,
          OIDC_AUDIENCE: audience,
          OIDC_ADMIN_ROLE: ADMIN_ROLE,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    issuerUrl = await new Promise<string>((resolve, reject) => {
      let out = '';
      provider.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /listening (\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      provider.once('exit', (code) => reject(new Error(`the test provider exited with ${code}`)));
    });
    const auth = {
      verifier: remoteJwksVerifier({ jwksUrl: `${issuerUrl}/jwks`, issuer: issuerUrl, audience }),
      userClaim: 'oid',
      rolesClaim: 'roles',
      adminRole: ADMIN_ROLE,
      admins: ['admin-7'],
    };
    const users: Record<string, DirectoryUser> = {};
    const portal = await createPortal(
      {
        ...portalEnvSchema.parse({
          PORTAL_CLIENT_ID: 'portal-test',
          PORTAL_CLIENT_SECRET_FILE: secretFile,
          PORTAL_RESOURCE: audience,
          PORTAL_SESSION_KEY_FILE: path.join(dir, 'jwt-session-key'),
        }),
        AUTH_MODE: 'jwt',
        AUTH_ISSUER: issuerUrl,
        AUTH_ADMIN_ROLE: ADMIN_ROLE,
        TEMPORAL_NAMESPACE: 'default',
      },
      { auth, directory: { getUser: async (id: string) => users[id] } as never, baseUrl: base, logger },
    );
    api = createApp({
      ...appDeps(auth),
      portal: portal && { deps: { ...portal.deps, webRoot }, routers: portal.routers },
    }).listen(apiPort, '127.0.0.1');
    await new Promise((r) => api.once('listening', r));
    expect(portOf(api)).toBe(apiPort);
  }, 60_000);

  afterAll(async () => {
    provider?.kill('SIGTERM');
    await new Promise((r) => api?.close(r));
  });

  /** Follows redirects by hand, keeping cookies, until a response that is not a redirect (or one to `stopAt`). */
  async function follow(jar: CookieJar, url: string, init: RequestInit = {}, stopAt?: string) {
    let next = url;
    let options = init;
    for (let hop = 0; hop < 10; hop++) {
      const res = await fetch(next, {
        ...options,
        redirect: 'manual',
        headers: { ...options.headers, cookie: jar.header() },
      });
      jar.take(res);
      const location = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || !location) return { res, url: next };
      next = new URL(location, next).toString();
      if (stopAt && next.startsWith(stopAt)) return { res, url: next };
      options = {};
    }
    throw new Error('too many redirects');
  }

  async function signIn(jar: CookieJar, login: string, returnTo = '/portal/reviews') {
    const { res: form, url } = await follow(
      jar,
      `${base}/portal/auth/login?returnTo=${encodeURIComponent(returnTo)}`,
    );
    const action = /action="([^"]+)"/.exec(await form.text())?.[1];
    expect(action).toBeDefined();
    return follow(
      jar,
      new URL(action!, url).toString(),
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `login=${login}`,
      },
      `${base}/portal/reviews`,
    );
  }

  it('signs in with the code flow and PKCE, keeps the tokens in a sealed HttpOnly cookie, and the API accepts it', async () => {
    const jar = new CookieJar();
    const login = await follow(jar, `${base}/portal/auth/login`, {}, issuerUrl);
    const authorize = new URL(login.url);
    expect(authorize.origin).toBe(issuerUrl);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(authorize.searchParams.get('resource')).toBe(audience);
    expect(login.res.headers.getSetCookie().join()).toMatch(/stagecoach_login=.*HttpOnly; SameSite=Lax/);

    const done = await signIn(jar, 'admin-7');
    expect(done.url).toBe(`${base}/portal/reviews`);
    expect(jar.has(SESSION_COOKIE)).toBe(true);
    expect(jar.has('stagecoach_login')).toBe(false);
    // Sealed (a JWE for this server's key), not a readable token.
    const sealed = decodeURIComponent(/stagecoach_session=([^;]+)/.exec(jar.header())![1]!).split('.');
    expect(sealed).toHaveLength(5);
    expect(JSON.parse(Buffer.from(sealed[0]!, 'base64url').toString())).toEqual({
      alg: 'dir',
      enc: 'A256GCM',
    });
    const session = await (
      await fetch(`${base}/portal/api/session`, { headers: { cookie: jar.header() } })
    ).json();
    expect(session).toEqual({ userId: 'admin-7', displayName: 'admin-7', isAdmin: true, temporalUi: null });
    const call = await fetch(`${base}${DEFINITIONS}`, {
      headers: { cookie: jar.header(), 'x-stagecoach-portal': '1' },
    });
    expect(((await call.json()) as { error: { message: string } }).error.message).toBe(REACHED);
  });

  it('a user without the admin role is signed in as a reviewer', async () => {
    const jar = new CookieJar();
    await signIn(jar, 'user-8');
    const session = await (
      await fetch(`${base}/portal/api/session`, { headers: { cookie: jar.header() } })
    ).json();
    expect(session).toMatchObject({ userId: 'user-8', isAdmin: false });
  });

  it('signs out at the provider too (RP-initiated logout with the ID token)', async () => {
    const jar = new CookieJar();
    await signIn(jar, 'user-8');
    const out = await fetch(`${base}/portal/auth/logout`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: jar.header(), origin: base },
    });
    jar.take(out);
    expect(out.status).toBe(303);
    const end = new URL(out.headers.get('location')!);
    expect(`${end.origin}${end.pathname}`).toBe(`${issuerUrl}/session/end`);
    expect(end.searchParams.get('post_logout_redirect_uri')).toBe(`${base}/portal/signed-out`);
    expect(end.searchParams.get('id_token_hint')).toMatch(/^eyJ/);
    expect(jar.has(SESSION_COOKIE)).toBe(false);
    await expect(
      fetch(`${base}/portal/api/session`, { headers: { cookie: jar.header() } }),
    ).resolves.toHaveProperty('status', 401);
  });

  it('shows what the provider said when it refuses, and a replayed callback is refused', async () => {
    const jar = new CookieJar();
    const refused = await fetch(
      `${base}/portal/auth/callback?error=access_denied&error_description=User%20cancelled`,
      {
        headers: { cookie: jar.header() },
      },
    );
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('access_denied: User cancelled');
  });
});

describe('the typed API client of the portal', () => {
  it('is generated from the OpenAPI document the API serves (scripts/generate-portal-client.ts --check)', () => {
    const run = spawnSync(
      process.execPath,
      [require.resolve('tsx/cli'), 'scripts/generate-portal-client.ts', '--check'],
      {
        cwd: path.join(__dirname, '..', '..'),
        encoding: 'utf8',
      },
    );
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });
});
