import type { Server } from 'node:http';
import { createServer } from 'node:http';
import { Writable } from 'node:stream';
import type { JWTPayload, KeyLike } from 'jose';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import pino from 'pino';
import request from 'supertest';
import { remoteJwksVerifier } from '../../src/api/auth';
import { DEMO, expectError } from '../helpers/api-fixtures';
import { freePort, portOf } from '../helpers/process-stack';
import type { Stack } from '../helpers/stack';
import { startStack } from '../helpers/stack';

// Stagecoach against an identity provider's JWKS served over HTTP by this test, as Entra ID, Okta or
// Keycloak serve theirs: what a token must carry, and what callers get while the JWKS cannot be fetched.
const ISSUER = 'https://idp.example.test/';
const AUDIENCE = 'api://stagecoach-test';
const KID = 'test-key-1';

let stack: Stack;
let signingKey: KeyLike;
let otherKey: KeyLike;
let jwks: object;
beforeAll(async () => {
  stack = await startStack();
  const pair = await generateKeyPair('RS256');
  signingKey = pair.privateKey;
  otherKey = (await generateKeyPair('RS256')).privateKey;
  jwks = { keys: [{ ...(await exportJWK(pair.publicKey)), kid: KID, alg: 'RS256', use: 'sig' }] };
});
afterAll(async () => {
  await stack?.stop();
});

/** An HTTP server answering every request with `answer` (or never, for `hang`). */
async function jwksServer(answer: 'keys' | 500 | 'hang'): Promise<{ url: string; stop(): Promise<void> }> {
  const server: Server = createServer((_req, res) => {
    if (answer === 'hang') return;
    if (answer === 500) res.writeHead(500).end('upstream trouble');
    else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${portOf(server)}/discovery/keys`,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An API of the stack that verifies tokens against `jwksUrl`, and what it logs. */
async function apiFor(jwksUrl: string) {
  const logs: { level: number; msg: string; jwksUrl?: string }[] = [];
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      raw.push(chunk.toString());
      logs.push(JSON.parse(chunk.toString()) as (typeof logs)[number]);
      done();
    },
  });
  const verifier = remoteJwksVerifier({ jwksUrl, issuer: ISSUER, audience: AUDIENCE, timeoutMs: 300 });
  const baseUrl = await stack.serveApi({ auth: { verifier }, logger: pino({ level: 'info' }, stream) });
  const me = (token: string) =>
    request(baseUrl).get(`/v1.0/users/${DEMO.LEE}`).set('authorization', `Bearer ${token}`);
  return { me, logs, raw };
}

interface Sign {
  expiresIn?: string | null;
  issuedAt?: number;
  key?: KeyLike;
}

function sign(claims: JWTPayload = { oid: DEMO.LEE }, opts: Sign = {}): Promise<string> {
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: KID })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(opts.issuedAt);
  if (opts.expiresIn !== null) jwt.setExpirationTime(opts.expiresIn ?? '1h');
  return jwt.sign(opts.key ?? signingKey);
}

const now = () => Math.floor(Date.now() / 1000);

describe('tokens verified against a remote JWKS', () => {
  let idp: Awaited<ReturnType<typeof jwksServer>>;
  let api: Awaited<ReturnType<typeof apiFor>>;
  beforeAll(async () => {
    idp = await jwksServer('keys');
    api = await apiFor(idp.url);
  });
  afterAll(async () => {
    await idp.stop();
  });

  it('accepts a token with exp from the JWKS key, also one issued a few seconds "in the future"', async () => {
    const res = await api.me(await sign());
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(DEMO.LEE);
    expect((await api.me(await sign(undefined, { issuedAt: now() + 30 }))).status).toBe(200);
  });

  it('rejects a token without exp with 401 saying that exp is required', async () => {
    const res = await api.me(await sign(undefined, { expiresIn: null }));
    expectError(res, 401, 'auth.invalid_token');
    expect(res.body.error.message).toMatch(/exp .*required/);
  });

  it('rejects a token issued more than 60 s in the future, and an expired one, with 401', async () => {
    const future = await api.me(await sign(undefined, { issuedAt: now() + 300 }));
    expectError(future, 401, 'auth.invalid_token');
    expect(future.body.error.message).toContain('iat');
    const expired = await api.me(await sign(undefined, { issuedAt: now() - 7200, expiresIn: '-1h' }));
    expectError(expired, 401, 'auth.invalid_token');
    expect(expired.body.error.message).toContain('expired');
  });

  it('rejects a token signed with a key the JWKS does not hold with 401', async () => {
    expectError(await api.me(await sign(undefined, { key: otherKey })), 401, 'auth.invalid_token');
  });
});

describe('when the JWKS cannot be fetched', () => {
  /** 503 auth.unavailable with Retry-After, and the cause logged at error level without the token. */
  async function expectUnavailable(api: Awaited<ReturnType<typeof apiFor>>, jwksUrl: string) {
    const token = await sign();
    const res = await api.me(token);
    expectError(res, 503, 'auth.unavailable');
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    const errors = api.logs.filter((l) => l.level >= 50);
    expect(errors).toEqual([expect.objectContaining({ jwksUrl, msg: expect.stringContaining('JWKS') })]);
    expect(api.raw.join('\n')).not.toContain(token.split('.')[2]);
  }

  it('answers 503 while the JWKS server is stopped, and 200 once it is back', async () => {
    const port = await freePort();
    const jwksUrl = `http://127.0.0.1:${port}/discovery/keys`;
    const api = await apiFor(jwksUrl);
    await expectUnavailable(api, jwksUrl);

    const back: Server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
    });
    await new Promise<void>((resolve) => back.listen(port, '127.0.0.1', resolve));
    try {
      expect((await api.me(await sign())).status).toBe(200);
    } finally {
      back.closeAllConnections();
      await new Promise((resolve) => back.close(resolve));
    }
  });

  it('answers 503 when the JWKS answers 500 or does not answer in time', async () => {
    for (const answer of [500, 'hang'] as const) {
      const idp = await jwksServer(answer);
      try {
        await expectUnavailable(await apiFor(idp.url), idp.url);
      } finally {
        await idp.stop();
      }
    }
  });

  it('still answers 401 for a malformed token: there is nothing to ask the JWKS about', async () => {
    const jwksUrl = `http://127.0.0.1:${await freePort()}/discovery/keys`;
    const api = await apiFor(jwksUrl);
    expectError(await api.me('not-a-jwt'), 401, 'auth.invalid_token');
    expectError(await api.me('a.b.c'), 401, 'auth.invalid_token');
    expect(api.logs.filter((l) => l.level >= 50)).toEqual([]);
  });
});
