import { createHash, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import { importPKCS8, SignJWT } from 'jose';
import { Agent, fetch } from 'undici';
import { contractTenant } from '../directory/contract-tenant';
import { GraphServer } from './graph-server';

interface Answer {
  status: number;
  headers: { get(name: string): string | null };
  body: Record<string, unknown> & { error?: { code: string; message: string }; value?: { id: string }[] };
}

describe('the Microsoft Graph reproduction', () => {
  let server: GraphServer;
  let agent: Agent;
  let token: string;

  const call = async (
    method: string,
    path: string,
    options: { headers?: Record<string, string>; body?: string } = {},
  ): Promise<Answer> => {
    const res = await fetch(path.startsWith('https://') ? path : `${server.url}${path}`, {
      method,
      headers: options.headers,
      body: options.body,
      dispatcher: agent,
    });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      body: (text ? JSON.parse(text) : {}) as Answer['body'],
    };
  };
  const tokenRequest = (form: Record<string, string>) =>
    call('POST', `/${server.tenantId}/oauth2/v2.0/token`, {
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: server.clientId,
        scope: `${server.url}/.default`,
        ...form,
      }).toString(),
    });
  const get = (path: string, headers: Record<string, string> = {}) =>
    call('GET', `/v1.0${path}`, { headers: { Authorization: `Bearer ${token}`, ...headers } });

  beforeAll(async () => {
    server = await GraphServer.start(contractTenant());
    agent = new Agent({ connect: { ca: fs.readFileSync(server.caFile, 'utf8') } });
    const answer = await tokenRequest({ client_secret: server.clientSecret });
    token = answer.body.access_token as string;
  });
  afterAll(async () => {
    await agent?.close();
    await server?.stop();
  });

  describe('the authority', () => {
    it('publishes the OpenID configuration with the tenant token endpoint', async () => {
      const { status, body } = await call('GET', `/${server.tenantId}/v2.0/.well-known/openid-configuration`);
      expect(status).toBe(200);
      expect(body.token_endpoint).toBe(`${server.url}/${server.tenantId}/oauth2/v2.0/token`);
      expect(body.issuer).toBe(`${server.url}/${server.tenantId}/v2.0`);
    });

    it('issues a bearer token for a client secret', async () => {
      const { status, body } = await tokenRequest({ client_secret: server.clientSecret });
      expect(status).toBe(200);
      expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3599 });
    });

    it('answers a wrong secret 401 invalid_client AADSTS7000215, an unknown tenant and client 400', async () => {
      const wrong = await tokenRequest({ client_secret: 'not-the-secret' });
      expect(wrong.status).toBe(401);
      expect(wrong.body).toMatchObject({ error: 'invalid_client', error_codes: [7000215] });
      expect(wrong.body.error_description).toMatch(/^AADSTS7000215: Invalid client secret/);
      const tenant = await call('POST', '/00000000-0000-4000-8000-000000000001/oauth2/v2.0/token', {
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
      });
      expect(tenant.status).toBe(400);
      expect(tenant.body.error_codes).toEqual([90002]);
      const client = await tokenRequest({
        client_id: '00000000-0000-4000-8000-000000000002',
        client_secret: 'x',
      });
      expect(client.body).toMatchObject({ error: 'unauthorized_client', error_codes: [700016] });
      const scope = await tokenRequest({ client_secret: server.clientSecret, scope: 'User.Read.All' });
      expect(scope.body).toMatchObject({ error: 'invalid_scope' });
    });

    it('accepts a client assertion signed by the registered certificate and refuses another thumbprint', async () => {
      const pem = fs.readFileSync(server.certificateFile, 'utf8');
      const key = await importPKCS8(
        /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----/.exec(pem)![0],
        'RS256',
      );
      const cert = new X509Certificate(
        /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)![0],
      );
      const assertion = (x5t: string) =>
        new SignJWT({})
          .setProtectedHeader({ alg: 'RS256', typ: 'JWT', x5t })
          .setIssuer(server.clientId)
          .setSubject(server.clientId)
          .setAudience(`${server.url}/${server.tenantId}/oauth2/v2.0/token`)
          .setJti('a')
          .setIssuedAt()
          .setExpirationTime('10m')
          .sign(key);
      const form = async (x5t: string) => ({
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await assertion(x5t),
      });
      const sha1 = createHash('sha1').update(cert.raw).digest('base64url');
      expect((await tokenRequest(await form(sha1))).status).toBe(200);
      const other = await tokenRequest(await form(createHash('sha1').update('other').digest('base64url')));
      expect(other.status).toBe(401);
      expect(other.body).toMatchObject({ error: 'invalid_client', error_codes: [700027] });
    });
  });

  describe('Graph v1.0', () => {
    it('answers 401 InvalidAuthenticationToken without a token, with a revoked one, or for another audience', async () => {
      const none = await call('GET', '/v1.0/users');
      expect(none.status).toBe(401);
      expect(none.body.error).toMatchObject({ code: 'InvalidAuthenticationToken' });
      expect(none.headers.get('request-id')).toMatch(/^[0-9a-f-]{36}$/);
      const other = await tokenRequest({
        client_secret: server.clientSecret,
        scope: 'https://graph.microsoft.com/.default',
      });
      const wrongAudience = await call('GET', '/v1.0/users', {
        headers: { Authorization: `Bearer ${other.body.access_token as string}` },
      });
      expect(wrongAudience.body.error?.message).toMatch(/Invalid audience/);
      server.revokeTokens();
      const revoked = await get('/users?$top=1');
      expect(revoked.status).toBe(401);
      expect(revoked.body.error).toMatchObject({ code: 'InvalidAuthenticationToken' });
      token = (await tokenRequest({ client_secret: server.clientSecret })).body.access_token as string;
      expect((await get('/users?$top=1')).status).toBe(200);
    });

    it('pages with $top (default 100, at most 999) and @odata.nextLink carrying $skiptoken', async () => {
      const first = await get('/users?$select=id,displayName');
      expect(first.body.value).toHaveLength(100);
      const next = first.body['@odata.nextLink'] as string;
      expect(next).toMatch(
        /^https:\/\/127\.0\.0\.1:\d+\/v1\.0\/users\?\$select=id%2CdisplayName&\$skiptoken=/,
      );
      const second = await call('GET', next, { headers: { Authorization: `Bearer ${token}` } });
      expect(second.body.value).toHaveLength(100);
      expect(second.body.value![0]!.id).not.toBe(first.body.value![0]!.id);
      const big = await get(`/groups/${server.idOf('bulk')}/members?$top=999&$select=id`);
      expect(big.body.value).toHaveLength(999);
      for (const top of ['1000', '0']) {
        const refused = await get(`/users?$top=${top}`);
        expect(refused.status).toBe(400);
        expect(refused.body.error).toMatchObject({ code: 'Request_BadRequest' });
        expect(refused.body.error!.message).toMatch(/between 1 and 999/);
      }
    });

    it('lists only the default properties without $select, userType and sign-in only when selected', async () => {
      const adele = await get(`/users/${server.idOf('adele')}`);
      expect(Object.keys(adele.body).sort()).toEqual([
        '@odata.context',
        '@odata.type',
        'displayName',
        'id',
        'mail',
        'userPrincipalName',
      ]);
      const selected = await get(
        `/users/${server.idOf('adele')}?$select=id,userType,signInActivity&$expand=manager($select=id)`,
      );
      expect(selected.body).toMatchObject({
        userType: 'Member',
        signInActivity: { lastSignInDateTime: '2026-11-28T09:30:00Z' },
        manager: { id: server.idOf('megan') },
      });
    });

    it('refuses signInActivity on member lists, casts without ConsistencyLevel and $count, and $count alone', async () => {
      const group = server.idOf('sales');
      const signIns = await get(`/groups/${group}/transitiveMembers?$select=id,signInActivity`);
      expect(signIns.status).toBe(400);
      expect(signIns.body.error).toMatchObject({ code: 'Request_UnsupportedQuery' });
      const cast = await get(`/groups/${group}/transitiveMembers/microsoft.graph.user?$select=id`);
      expect(cast.body.error).toMatchObject({ code: 'Request_UnsupportedQuery' });
      const count = await get(`/groups/${group}/members?$count=true`);
      expect(count.body.error).toMatchObject({
        code: 'Request_BadRequest',
        message: '$count is not currently supported.',
      });
      const ok = await get(`/groups/${group}/transitiveMembers/microsoft.graph.user?$select=id&$count=true`, {
        ConsistencyLevel: 'eventual',
      });
      expect(ok.status).toBe(200);
      expect(ok.body['@odata.count']).toBe(7);
    });

    it('answers 404 Request_ResourceNotFound for unknown objects and 400 for malformed ids', async () => {
      const unknown = await get('/groups/0badc0de-0000-4000-8000-000000000000');
      expect(unknown.status).toBe(404);
      expect(unknown.body.error).toMatchObject({ code: 'Request_ResourceNotFound' });
      const malformed = await get('/groups/not-an-id');
      expect(malformed.status).toBe(400);
      expect(malformed.body.error).toMatchObject({ code: 'Request_BadRequest' });
    });

    it('refuses to remove a member that is one only through a nested group', async () => {
      const res = await call(
        'DELETE',
        `/v1.0/groups/${server.idOf('sales')}/members/${server.idOf('nestor')}/$ref`,
        {
          headers: { Authorization: `Bearer ${token}` },
        },
      );
      expect(res.status).toBe(400);
      expect(res.body.error!.message).toMatch(/object references do not exist/);
      expect(server.readGroupMemberIds('sales-emea')).toContain(server.idOf('nestor'));
    });

    it('throttles with 429 or 503 and Retry-After, at the top level and inside $batch', async () => {
      server.throttleNext(1, 7);
      const throttled = await get('/users?$top=1');
      expect(throttled.status).toBe(429);
      expect(throttled.headers.get('retry-after')).toBe('7');
      expect(throttled.body.error).toMatchObject({ code: 'TooManyRequests' });
      server.throttleNext(1, 2, 503);
      expect((await get('/users?$top=1')).status).toBe(503);
      expect((await get('/users?$top=1')).status).toBe(200);
      server.throttleNext(1, 3, 429, 'batchItem');
      const batch = await call('POST', '/v1.0/$batch', {
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({
          requests: [
            { id: '1', method: 'GET', url: `/users/${server.idOf('adele')}?$select=id` },
            { id: '2', method: 'GET', url: `/users/${server.idOf('megan')}?$select=id` },
            { id: '3', method: 'GET', url: '/users/0badc0de-0000-4000-8000-000000000000' },
          ],
        }),
      });
      const responses = batch.body.responses as {
        id: string;
        status: number;
        headers: Record<string, string>;
      }[];
      expect(responses.map((r) => [r.id, r.status])).toEqual([
        ['1', 429],
        ['2', 200],
        ['3', 404],
      ]);
      expect(responses[0]!.headers['Retry-After']).toBe('3');
    });

    it('answers 400 for a $batch of 21 requests', async () => {
      const requests = Array.from({ length: 21 }, (_, i) => ({
        id: String(i),
        method: 'GET',
        url: '/users?$top=1',
      }));
      const res = await call('POST', '/v1.0/$batch', {
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ requests }),
      });
      expect(res.status).toBe(400);
      expect(res.body.error!.message).toMatch(/limited to 20/);
    });
  });
});
