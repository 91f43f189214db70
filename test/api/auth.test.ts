import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { JWTPayload, KeyLike } from 'jose';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import request from 'supertest';
import type { AuthSettings } from '../../src/api/auth';
import { callerFromClaims, LOCAL_AUDIENCE, LOCAL_ISSUER, LocalIssuer } from '../../src/api/auth';
import { AppError } from '../../src/domain/errors';
import type { StartedReview } from '../helpers/api-fixtures';
import { Api, DEMO, expectError, REVIEWS, twoStageReview } from '../helpers/api-fixtures';
import type { Stack } from '../helpers/stack';
import { ADMIN_ROLE, startStack } from '../helpers/stack';

let stack: Stack;
let api: Api;
/** The stack's signing key: the test wrote the key file, so it can sign tokens the issuer never would. */
let signingKey: KeyLike;
let review: StartedReview;

beforeAll(async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'stagecoach-auth-'));
  const pair = await generateKeyPair('ES256', { extractable: true });
  signingKey = pair.privateKey;
  const keyFile = path.join(dir, 'key.json');
  writeFileSync(keyFile, JSON.stringify(await exportJWK(pair.privateKey)), { mode: 0o600 });
  stack = await startStack(undefined, { keyFile });
  api = new Api(stack);
  review = await api.startReview(twoStageReview(DEMO.DEBRA));
});
afterAll(async () => {
  await stack?.stop();
});

interface SignOptions {
  issuer?: string;
  audience?: string;
  /** null: no exp claim at all. */
  expiresIn?: string | null;
  notBefore?: string;
  /** iat in epoch seconds; default now. */
  issuedAt?: number;
  key?: KeyLike | Uint8Array;
  alg?: string;
}

/** A JWT with the given claims, signed with the stack's key unless told otherwise. */
function sign(claims: JWTPayload, opts: SignOptions = {}): Promise<string> {
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: opts.alg ?? 'ES256' })
    .setIssuer(opts.issuer ?? LOCAL_ISSUER)
    .setAudience(opts.audience ?? LOCAL_AUDIENCE)
    .setIssuedAt(opts.issuedAt);
  if (opts.expiresIn !== null) jwt.setExpirationTime(opts.expiresIn ?? '1h');
  if (opts.notBefore) jwt.setNotBefore(opts.notBefore);
  return jwt.sign(opts.key ?? signingKey);
}
const nowSeconds = () => Math.floor(Date.now() / 1000);

const USER = `/v1.0/users/${DEMO.LEE}`;
const withHeader = (authorization: string) => api.http().get(USER).set('authorization', authorization);
const withToken = (token: string) => withHeader(`Bearer ${token}`);

describe('bearer tokens', () => {
  it('accepts a token signed with the issuer key for the expected issuer and audience', async () => {
    const res = await withToken(await sign({ oid: DEMO.LEE }));
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(DEMO.LEE);
    const lowerCaseScheme = await withHeader(`bearer ${await sign({ oid: DEMO.LEE })}`);
    expect(lowerCaseScheme.status).toBe(200);
  });

  it('rejects a token signed by another key with 401 auth.invalid_token', async () => {
    const other = await LocalIssuer.open(
      path.join(mkdtempSync(path.join(os.tmpdir(), 'stagecoach-other-')), 'key.json'),
    );
    const res = await withToken(await other.issue(DEMO.LEE, { roles: [ADMIN_ROLE] }));
    expectError(res, 401, 'auth.invalid_token');
    expect(res.body).not.toHaveProperty('id');
  });

  it('rejects a wrong audience or a wrong issuer with 401', async () => {
    expectError(
      await withToken(await sign({ oid: DEMO.LEE }, { audience: 'api://someone-else' })),
      401,
      'auth.invalid_token',
    );
    expectError(
      await withToken(await sign({ oid: DEMO.LEE }, { issuer: 'https://login.example.com/' })),
      401,
      'auth.invalid_token',
    );
  });

  it('rejects an expired or not yet valid token with 401, saying when it expired', async () => {
    const expired = await withToken(await stack.issuer.issue(DEMO.LEE, { expiresIn: '-1m' }));
    expectError(expired, 401, 'auth.invalid_token');
    expect(expired.body.error.message).toContain('expired');
    expectError(
      await withToken(await sign({ oid: DEMO.LEE }, { notBefore: '10m' })),
      401,
      'auth.invalid_token',
    );
  });

  it('rejects a token without exp with 401 saying that exp is required', async () => {
    const res = await withToken(await sign({ oid: DEMO.LEE }, { expiresIn: null }));
    expectError(res, 401, 'auth.invalid_token');
    expect(res.body.error.message).toMatch(/exp .*required/);
    // The same token with exp is fine: the claim is what is missing.
    expect((await withToken(await sign({ oid: DEMO.LEE }))).status).toBe(200);
  });

  it('allows 60 s of clock skew for iat, and rejects a token issued further in the future with 401', async () => {
    expect((await withToken(await sign({ oid: DEMO.LEE }, { issuedAt: nowSeconds() + 30 }))).status).toBe(
      200,
    );
    const future = await withToken(await sign({ oid: DEMO.LEE }, { issuedAt: nowSeconds() + 300 }));
    expectError(future, 401, 'auth.invalid_token');
    expect(future.body.error.message).toContain('iat');
  });

  it('rejects unsigned, HMAC-signed and malformed tokens with 401', async () => {
    const unsigned = new UnsecuredJWT({ oid: DEMO.LEE, roles: [ADMIN_ROLE] })
      .setIssuer(LOCAL_ISSUER)
      .setAudience(LOCAL_AUDIENCE)
      .setExpirationTime('1h')
      .encode();
    const hmac = await sign(
      { oid: DEMO.LEE },
      { alg: 'HS256', key: new TextEncoder().encode('x'.repeat(32)) },
    );
    const valid = await sign({ oid: DEMO.LEE });
    const [header, payload] = valid.split('.');
    const forged = `${header}.${Buffer.from(JSON.stringify({ oid: DEMO.PATTI, roles: [ADMIN_ROLE] })).toString('base64url')}.${valid.split('.')[2]}`;
    for (const token of [unsigned, hmac, forged, `${header}.${payload}.`, 'not-a-jwt', 'a.b.c']) {
      expectError(await withToken(token), 401, 'auth.invalid_token');
    }
  });

  it('rejects a missing or malformed Authorization header with 401', async () => {
    const token = await sign({ oid: DEMO.LEE });
    expectError(await api.http().get(USER), 401, 'auth.invalid_token');
    for (const header of ['', 'Bearer', 'Bearer ', `Basic ${token}`, `Bearer ${token} extra`, token]) {
      expectError(await withHeader(header), 401, 'auth.invalid_token');
    }
  });

  it('rejects a verified token without a usable user claim with 401 naming the claim', async () => {
    for (const claims of [{}, { oid: '' }, { oid: 42 }, { oid: ['x'] }, { sub: DEMO.LEE }]) {
      const res = await withToken(await sign(claims));
      expectError(res, 401, 'auth.invalid_token');
      expect(res.body.error.message).toContain("'oid'");
    }
  });

  it('guards every /v1.0 route: without a token each answers 401 before anything else', async () => {
    const def = `${REVIEWS}/definitions/${review.definitionId}`;
    const routes: ['get' | 'post' | 'put' | 'delete' | 'patch', string][] = [
      ['get', `${REVIEWS}/definitions`],
      ['post', `${REVIEWS}/definitions`],
      ['put', def],
      ['delete', def],
      ['get', `${def}/instances`],
      ['get', review.base],
      ['post', `${review.base}/stop`],
      ['get', `${review.base}/stages`],
      ['post', `${review.base}/stages/1/stop`],
      ['get', `${review.base}/decisions`],
      ['patch', `${review.base}/decisions/anything`],
      ['post', `${review.base}/batchRecordDecisions`],
      ['patch', USER],
      ['get', `/v1.0/groups/${DEMO.FINANCE}/members`],
      ['get', '/v1.0/no-such-route'],
    ];
    for (const [method, route] of routes) {
      const res = await api.http()[method](route);
      expect({ method, route, status: res.status }).toEqual({ method, route, status: 401 });
    }
    const stage = await api
      .http()
      .get(`${review.base}/stages/1`)
      .set(await api.admin());
    expect(stage.body.status).toBe('InProgress');
  });
});

describe('authorization with a valid token', () => {
  it("gives a valid reviewer token 403 on someone else's decision item, and the reviewer's own item 200", async () => {
    const items = await api.decisionsByPrincipal(review.base);
    const diego = { authorization: `Bearer ${await sign({ oid: DEMO.DIEGO })}` };
    const read = await api.http().get(`${review.base}/decisions/${items[DEMO.LEE]!.id}`).set(diego);
    expectError(read, 403, 'review.not_a_reviewer');
    expect(JSON.stringify(read.body)).not.toContain('Lee Gu');
    expectError(
      await api
        .http()
        .patch(`${review.base}/decisions/${items[DEMO.LEE]!.id}`)
        .set(diego)
        .send({ decision: 'Deny', justification: 'not mine' }),
      403,
      'review.not_a_reviewer',
    );
    const debra = { authorization: `Bearer ${await sign({ oid: DEMO.DEBRA })}` };
    const own = await api.http().get(`${review.base}/decisions/${items[DEMO.LEE]!.id}`).set(debra);
    expect(own.status).toBe(200);
  });

  it('makes a caller an admin only through the admin role in the roles claim', async () => {
    const list = `${REVIEWS}/definitions`;
    const asAdmin = await api
      .http()
      .get(list)
      .set('authorization', `Bearer ${await sign({ oid: DEMO.PATTI, roles: [ADMIN_ROLE] })}`);
    expect(asAdmin.status).toBe(200);
    for (const roles of [[], ['AccessReview.Read.All'], ADMIN_ROLE, { role: ADMIN_ROLE }]) {
      const res = await api
        .http()
        .get(list)
        .set('authorization', `Bearer ${await sign({ oid: DEMO.PATTI, roles })}`);
      expectError(res, 403, 'auth.admin_required');
    }
  });

  it('issues demo tokens at /auth/local/token for directory users only', async () => {
    const issued = await api.http().post('/auth/local/token').send({ userId: DEMO.LEE });
    expect(issued.status).toBe(200);
    expect(issued.body).toMatchObject({ token_type: 'Bearer', expires_in: 8 * 3600 });
    const me = await withToken(issued.body.access_token as string);
    expect(me.status).toBe(200);
    const asLee = await api
      .http()
      .get(`${REVIEWS}/definitions`)
      .set('authorization', `Bearer ${issued.body.access_token as string}`);
    expectError(asLee, 403, 'auth.admin_required');

    const adminToken = await api.http().post('/auth/local/token').send({ userId: DEMO.PATTI, admin: true });
    const asAdmin = await api
      .http()
      .get(`${REVIEWS}/definitions`)
      .set('authorization', `Bearer ${adminToken.body.access_token as string}`);
    expect(asAdmin.status).toBe(200);

    expectError(
      await api.http().post('/auth/local/token').send({ userId: 'nobody' }),
      404,
      'directory.user_not_found',
    );
    expectError(
      await api
        .http()
        .post('/auth/local/token')
        .send({ userId: DEMO.LEE, roles: [ADMIN_ROLE] }),
      400,
      'request.invalid_body',
    );
  });
});

describe('callers the directory does not know', () => {
  it('answers a valid token for a user outside the directory with 403 auth.unknown_user, admin role or not', async () => {
    for (const roles of [[], [ADMIN_ROLE]]) {
      const token = await sign({ oid: 'someone-from-another-tenant', roles });
      for (const route of [USER, `${REVIEWS}/definitions`, `${review.base}/decisions`]) {
        const res = await api.http().get(route).set('authorization', `Bearer ${token}`);
        expectError(res, 403, 'auth.unknown_user');
        expect(res.body.error.message).toContain('someone-from-another-tenant');
      }
    }
  });

  it('lets a user listed in AUTH_ADMINS in without a directory entry', async () => {
    const baseUrl = await stack.serveApi({ auth: { admins: ['break-glass'] } });
    const token = `Bearer ${await sign({ oid: 'break-glass' })}`;
    const list = await request(baseUrl).get(`${REVIEWS}/definitions`).set('authorization', token);
    expect(list.status).toBe(200);
    expect(list.body.value.map((d: { id: string }) => d.id)).toContain(review.definitionId);
    const stranger = `Bearer ${await sign({ oid: 'not-listed', roles: [ADMIN_ROLE] })}`;
    expectError(
      await request(baseUrl).get(`${REVIEWS}/definitions`).set('authorization', stranger),
      403,
      'auth.unknown_user',
    );
  });
});

describe('rate limits', () => {
  /** Graph's 429: request.rate_limited with a Retry-After in seconds. */
  const expectLimited = (res: { status: number; body: unknown; headers: Record<string, string> }) => {
    expectError(res, 429, 'request.rate_limited');
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  };

  it('limits requests without a valid token per address, counting neither valid tokens nor public routes', async () => {
    const baseUrl = await stack.serveApi({ rateLimitUnauthenticatedPerMinute: 3 });
    const lee = `Bearer ${await sign({ oid: DEMO.LEE })}`;
    for (let i = 0; i < 10; i++) {
      expect((await request(baseUrl).get(USER).set('authorization', lee)).status).toBe(200);
      expect((await request(baseUrl).get('/health')).status).toBe(200);
    }
    expectError(await request(baseUrl).get(USER), 401, 'auth.invalid_token');
    expectError(
      await request(baseUrl).get(USER).set('authorization', 'Bearer not-a-jwt'),
      401,
      'auth.invalid_token',
    );
    const other = await LocalIssuer.open(
      path.join(mkdtempSync(path.join(os.tmpdir(), 'stagecoach-other-')), 'key.json'),
    );
    const forged = `Bearer ${await other.issue(DEMO.LEE)}`;
    expectError(await request(baseUrl).get(USER).set('authorization', forged), 401, 'auth.invalid_token');
    expectLimited(await request(baseUrl).get(USER));
    expectLimited(await request(baseUrl).get(USER).set('authorization', forged));
    // Once over the limit the address is refused before its token is looked at, valid or not.
    expectLimited(await request(baseUrl).get(USER).set('authorization', lee));
    // The limit is per API instance here; the stack's main API is untouched.
    expect((await api.http().get(USER).set('authorization', lee)).status).toBe(200);
  });

  it('limits the local token endpoint per address', async () => {
    const baseUrl = await stack.serveApi({ rateLimitUnauthenticatedPerMinute: 2 });
    const ask = () => request(baseUrl).post('/auth/local/token').send({ userId: DEMO.LEE });
    expect((await ask()).status).toBe(200);
    expect((await ask()).status).toBe(200);
    expectLimited(await ask());
  });

  it('limits authenticated requests per caller with the same Graph error', async () => {
    const baseUrl = await stack.serveApi({ rateLimitPerMinute: 2 });
    const lee = `Bearer ${await sign({ oid: DEMO.LEE })}`;
    const diego = `Bearer ${await sign({ oid: DEMO.DIEGO })}`;
    expect((await request(baseUrl).get(USER).set('authorization', lee)).status).toBe(200);
    expect((await request(baseUrl).get(USER).set('authorization', lee)).status).toBe(200);
    expectLimited(await request(baseUrl).get(USER).set('authorization', lee));
    // Diego reads himself: another caller, another budget.
    const own = await request(baseUrl).get(`/v1.0/users/${DEMO.DIEGO}`).set('authorization', diego);
    expect(own.status).toBe(200);
  });
});

describe('callerFromClaims', () => {
  const settings = (overrides: Partial<AuthSettings> = {}): AuthSettings => ({
    verifier: { verify: () => Promise.reject(new Error('unused')) },
    userClaim: 'oid',
    rolesClaim: 'roles',
    adminRole: ADMIN_ROLE,
    admins: [],
    ...overrides,
  });

  it("names the caller by the configured user claim, e.g. AUTH_USER_CLAIM='sub'", () => {
    expect(callerFromClaims({ sub: 'user-1', oid: 'object-1' }, settings({ userClaim: 'sub' }))).toEqual({
      userId: 'user-1',
      isAdmin: false,
    });
    expect(callerFromClaims({ sub: 'user-1', oid: 'object-1' }, settings())).toEqual({
      userId: 'object-1',
      isAdmin: false,
    });
  });

  it('throws a 401 auth.invalid_token naming the claim when the user claim is missing or not a string', () => {
    const payloads: JWTPayload[] = [{ oid: 'object-1' }, { sub: '' }, { sub: 7 } as unknown as JWTPayload];
    for (const payload of payloads) {
      let thrown: unknown;
      try {
        callerFromClaims(payload, settings({ userClaim: 'sub' }));
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(AppError);
      expect(thrown).toMatchObject({ status: 401, code: 'auth.invalid_token' });
      expect((thrown as Error).message).toContain("'sub'");
    }
  });

  it('makes a caller an admin by the admins list or by the admin role in the configured roles claim', () => {
    const s = settings({
      userClaim: 'sub',
      admins: ['boss'],
      rolesClaim: 'groups',
      adminRole: 'reviews-admins',
    });
    expect(callerFromClaims({ sub: 'boss' }, s).isAdmin).toBe(true);
    expect(callerFromClaims({ sub: 'someone', groups: ['reviews-admins'] }, s).isAdmin).toBe(true);
    expect(callerFromClaims({ sub: 'someone', roles: ['reviews-admins'] }, s).isAdmin).toBe(false);
    expect(callerFromClaims({ sub: 'someone', groups: 'reviews-admins' }, s).isAdmin).toBe(false);
    expect(callerFromClaims({ sub: 'someone' }, s).isAdmin).toBe(false);
  });
});
