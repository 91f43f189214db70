import http from 'node:http';
import { DirectoryUnavailableError } from '../../src/directory/port';
import { ScimDirectory } from '../../src/directory/scim/scim-directory';
import { HttpFaultRelay } from '../helpers/http-fault-relay';
import { portOf } from '../helpers/ports';
import type { ScimTestServer } from '../helpers/scim-server';
import { startScimServer } from '../helpers/scim-server';
import { contractTenant } from './contract-tenant';
import { scimSettings } from './scim-fixture';

/**
 * An OAuth 2.0 token endpoint (RFC 6749 §4.4, client_secret_basic) for one client, handing out the SCIM
 * server's token; `stale` first hands out tokens the server refuses, as after a key rotation.
 */
async function startTokenEndpoint(accessToken: string, options: { expiresIn: number; stale?: number }) {
  const grants: { clientId: string; scope: string | null }[] = [];
  let stale = options.stale ?? 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const [id, secret] = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64')
        .toString()
        .split(':')
        .map(decodeURIComponent);
      const form = new URLSearchParams(body);
      res.setHeader('content-type', 'application/json');
      if (req.method !== 'POST' || form.get('grant_type') !== 'client_credentials') {
        res.writeHead(400).end(JSON.stringify({ error: 'unsupported_grant_type' }));
      } else if (id !== 'stagecoach' || secret !== 'client-secret') {
        res.writeHead(401).end(JSON.stringify({ error: 'invalid_client' }));
      } else {
        grants.push({ clientId: id, scope: form.get('scope') });
        const token = stale-- > 0 ? 'revoked-token' : accessToken;
        res.end(JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: options.expiresIn }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${portOf(server)}/oauth2/token`,
    grants,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const oauthEnv = (tokenUrl: string, secret = 'client-secret') => ({
  SCIM_TOKEN: undefined as unknown as string,
  SCIM_OAUTH_TOKEN_URL: tokenUrl,
  SCIM_OAUTH_CLIENT_ID: 'stagecoach',
  SCIM_OAUTH_CLIENT_SECRET: secret,
  SCIM_OAUTH_SCOPE: 'scim.read scim.write',
});

describe('the SCIM adapter against scim2-server', () => {
  let server: ScimTestServer;
  let relay: HttpFaultRelay;
  let base: string;
  const id = (key: string) => server.idOf(key);
  const settings = (extra: Record<string, string> = {}) =>
    scimSettings(server, { SCIM_RETRIES: '2', SCIM_MAX_RETRY_AFTER_SECONDS: '5', ...extra }, base);

  beforeAll(async () => {
    server = await startScimServer(contractTenant({ bulk: false }));
    relay = await HttpFaultRelay.start(new URL(server.baseUrl).origin);
    base = relay.origin + new URL(server.baseUrl).pathname;
  }, 120_000);
  afterAll(async () => {
    await relay?.stop();
    await server?.stop();
  });

  describe('OAuth client credentials', () => {
    it('fetches a token once, sends it, and fetches a new one when it expires', async () => {
      const idp = await startTokenEndpoint(server.token, { expiresIn: 61 });
      const d = await ScimDirectory.connect(await settings(oauthEnv(idp.url)));
      try {
        expect((await d.getUser(id('adele')))?.displayName).toBe('Adele Vance');
        expect((await d.getManager(id('adele')))?.id).toBe(id('megan'));
        expect(idp.grants).toEqual([{ clientId: 'stagecoach', scope: 'scim.read scim.write' }]);
        expect(relay.log.at(-1)?.headers.authorization).toBe(`Bearer ${server.token}`);
        // expires_in 61 leaves one second before the adapter's 60-second margin.
        await new Promise((r) => setTimeout(r, 1_100));
        await d.getUser(id('megan'));
        expect(idp.grants).toHaveLength(2);
      } finally {
        await d.close();
        await idp.stop();
      }
    });

    it('a token the server refuses is fetched again once; a refused client secret stops the start naming the client', async () => {
      const idp = await startTokenEndpoint(server.token, { expiresIn: 3600, stale: 1 });
      const d = await ScimDirectory.connect(await settings(oauthEnv(idp.url)));
      try {
        expect(idp.grants).toHaveLength(2);
        expect(relay.log.filter((r) => r.status === 401)).not.toHaveLength(0);
        expect(await d.getUser(id('megan'))).toBeDefined();
      } finally {
        await d.close();
        await idp.stop();
      }
      const wrong = await startTokenEndpoint(server.token, { expiresIn: 3600 });
      try {
        await expect(ScimDirectory.connect(await settings(oauthEnv(wrong.url, 'guessed')))).rejects.toThrow(
          `SCIM_OAUTH_CLIENT_ID=stagecoach: the token request to ${wrong.url} failed (invalid_client)`,
        );
      } finally {
        await wrong.stop();
      }
    });
  });

  describe('throttling', () => {
    let d: ScimDirectory;
    beforeAll(async () => {
      d = await ScimDirectory.connect(await settings());
    });
    afterAll(async () => {
      await d?.close();
    });

    it('waits out 429 and 503 for as long as Retry-After says, then succeeds', async () => {
      relay.throttleNext(1, '1', 429);
      relay.throttleNext(1, '1', 503);
      const from = relay.log.length;
      const started = Date.now();
      expect((await d.getUser(id('lynne')))?.displayName).toBe('Lynne Robbins');
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
      expect(relay.log.slice(from).map((r) => r.status)).toEqual([429, 503, 200]);
    });

    it('throttling that outlasts the retries, or a Retry-After past the limit, is DirectoryUnavailableError', async () => {
      relay.throttleNext(3, '0');
      await expect(d.getUser(id('lynne'))).rejects.toThrow(DirectoryUnavailableError);
      relay.throttleNext(1, '3600');
      const started = Date.now();
      await expect(d.removeGroupMember(id('sales'), id('adele'))).rejects.toThrow(/HTTP 429 after 1 attempt/);
      expect(Date.now() - started).toBeLessThan(1_000);
      expect((await server.readGroup('sales')).memberIds).toContain(id('adele'));
    });
  });

  describe('ETags', () => {
    it("sends the group's version as If-Match, and reads again when someone else changed the group meanwhile", async () => {
      const d = await ScimDirectory.connect(await settings());
      try {
        relay.beforeNext(
          (r) => r.method === 'PATCH',
          async () => {
            // Another administrator removes gina between our read and our PATCH: the version moves on.
            const res = await server.request('PATCH', `/Groups/${id('sales')}`, {
              schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
              Operations: [{ op: 'remove', path: `members[value eq "${id('gina')}"]` }],
            });
            expect(res.status).toBe(204);
          },
        );
        const from = relay.log.length;
        expect(await d.removeGroupMembers(id('sales'), [id('alex'), id('gina')])).toEqual([
          'done',
          'notFound',
        ]);
        const patches = relay.log.slice(from).filter((r) => r.method === 'PATCH');
        expect(patches.map((p) => p.status)).toEqual([412, 204]);
        expect(patches[0]?.headers['if-match']).toMatch(/^W\/"\d+"$/);
        const members = (await server.readGroup('sales')).memberIds;
        expect(members).not.toContain(id('alex'));
        expect(members).not.toContain(id('gina'));
        expect(members).toContain(id('adele'));
      } finally {
        await d.close();
      }
    });
  });
});
