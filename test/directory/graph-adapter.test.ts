import { parseConfig } from '../../src/config';
import { GraphDirectory } from '../../src/directory/graph/graph-directory';
import { openDirectory } from '../../src/directory/open';
import { DirectoryUnavailableError } from '../../src/directory/port';
import { applyDecisionItems } from '../../src/activities/apply';
import { InMemoryApplyLedger } from '../../src/store/apply-ledger';
import { GraphServer } from '../helpers/graph-server';
import { contractTenant } from './contract-tenant';
import { graphEnv, graphSettings } from './graph-fixture';

describe('Microsoft Graph adapter against the reproduction', () => {
  let server: GraphServer;
  const opened: GraphDirectory[] = [];
  // Without the read cache unless a test asks: these tests look at what goes over the wire.
  const connect = async (extra: Record<string, string> = {}, url?: string) => {
    const settings = await graphSettings(server, { GRAPH_CACHE_SECONDS: '0', ...extra }, url);
    const d = await GraphDirectory.connect(settings);
    opened.push(d);
    return d;
  };
  const since = (mark: number) => server.log.slice(mark);
  const extra = (n: number) => Array.from({ length: n }, (_, i) => server.idOf(`extra-${i}`));

  beforeAll(async () => {
    const tenant = contractTenant({ bulk: false });
    // More users than one JSON batch holds.
    for (let i = 0; i < 25; i++) {
      tenant.users.push({ key: `extra-${i}`, displayName: `Extra ${i}`, upn: `extra-${i}@stagecoach.test` });
    }
    server = await GraphServer.start(tenant);
  });
  afterAll(async () => {
    await Promise.all(opened.map((d) => d.close()));
    await server?.stop();
  });

  describe('throttling', () => {
    it('waits out 429 and 503 with Retry-After, then succeeds', async () => {
      const d = await connect();
      const mark = server.log.length;
      server.throttleNext(1, 1, 429);
      server.throttleNext(1, 1, 503);
      const started = Date.now();
      await expect(d.getUser(server.idOf('adele'))).resolves.toMatchObject({ displayName: 'Adele Vance' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
      expect(since(mark).map((r) => r.status)).toEqual([429, 503, 200]);
    });

    it('retries throttled requests inside a $batch after their Retry-After', async () => {
      const d = await connect();
      const mark = server.log.length;
      server.throttleNext(2, 1, 429, 'batchItem');
      const ids = ['adele', 'megan', 'lynne'].map((k) => server.idOf(k));
      expect((await d.getUsers(ids)).map((u) => u.id)).toEqual(ids);
      const batches = since(mark).filter((r) => r.path === '/v1.0/$batch');
      expect(batches.map((b) => b.batchSize)).toEqual([3, 2]);
    });

    it('is DirectoryUnavailableError when throttling outlasts GRAPH_RETRIES or GRAPH_MAX_RETRY_AFTER_SECONDS', async () => {
      const d = await connect({ GRAPH_RETRIES: '1', GRAPH_MAX_RETRY_AFTER_SECONDS: '5' });
      server.throttleNext(2, 1);
      await expect(d.getUser(server.idOf('adele'))).rejects.toBeInstanceOf(DirectoryUnavailableError);
      server.throttleNext(1, 120);
      const started = Date.now();
      await expect(d.getUser(server.idOf('adele'))).rejects.toThrow(/429.*Retry-After 120/);
      expect(Date.now() - started).toBeLessThan(3000);
      server.throttleNext(2, 1, 429, 'batchItem');
      await expect(d.getUsers([server.idOf('adele')])).rejects.toBeInstanceOf(DirectoryUnavailableError);
      await expect(d.getUser(server.idOf('adele'))).resolves.toBeDefined();
    });
  });

  describe('refusals', () => {
    it('a 403 on a read is DirectoryUnavailableError; on a write only that item fails', async () => {
      const d = await connect();
      server.denyNext(1);
      await expect(d.getUser(server.idOf('adele'))).rejects.toBeInstanceOf(DirectoryUnavailableError);
      server.denyNext(1, 'batchItem');
      await expect(d.getUsers([server.idOf('adele')])).rejects.toBeInstanceOf(DirectoryUnavailableError);
      const group = server.idOf('payroll-users');
      server.denyNext(1);
      const write = d.removeGroupMember(group, server.idOf('grady'));
      await expect(write).rejects.toThrow(/403 Authorization_RequestDenied/);
      await expect(write).rejects.not.toBeInstanceOf(DirectoryUnavailableError);
      // In a batch: the other removal is made, and applying one by one gives each its own result.
      server.denyNext(1, 'batchItem');
      const ledger = new InMemoryApplyLedger();
      const { results } = await applyDecisionItems(
        d,
        ledger,
        {
          instanceId: 'graph-403',
          resource: { type: 'group', id: group },
          denyAction: 'removeAccess',
          items: [
            { itemId: 'a', principalId: server.idOf('adele'), decision: 'Deny' },
            { itemId: 'g', principalId: server.idOf('grady'), decision: 'Deny' },
          ],
        },
        () => undefined,
      );
      expect(results.map((r) => r.result)).toEqual(['AppliedSuccessfully', 'AppliedSuccessfully']);
      expect(server.readGroupMemberIds('payroll-users')).not.toContain(server.idOf('adele'));
      expect(server.readGroupMemberIds('payroll-users')).not.toContain(server.idOf('grady'));
      server.denyNext(1);
      const denied = await applyDecisionItems(
        d,
        ledger,
        {
          instanceId: 'graph-403-single',
          resource: { type: 'group', id: server.idOf('sales') },
          denyAction: 'disableAndDeleteUser',
          items: [{ itemId: 'x', principalId: server.idOf('gina'), decision: 'Deny' }],
        },
        () => undefined,
      );
      expect(denied.results.map((r) => r.result)).toEqual(['AppliedWithUnknownFailure']);
    });
  });

  describe('credentials', () => {
    it('signs in with the certificate credential (a client assertion)', async () => {
      const mark = server.log.length;
      const d = await connect({
        GRAPH_CLIENT_SECRET: '',
        GRAPH_CLIENT_CERTIFICATE_FILE: server.certificateFile,
      });
      expect(await d.getUser(server.idOf('megan'))).toMatchObject({ displayName: 'Megan Bowen' });
      const token = since(mark).find((r) => r.path.includes('/oauth2/v2.0/token'));
      expect(token).toMatchObject({ status: 200, clientCredential: 'assertion' });
    });

    it('stops the start naming GRAPH_CLIENT_SECRET, GRAPH_CLIENT_ID or GRAPH_TENANT_ID when the tenant refuses them', async () => {
      const base = { DIRECTORY: 'graph', AUTH_MODE: 'local', ...graphEnv(server) };
      await expect(
        openDirectory(parseConfig({ ...base, GRAPH_CLIENT_SECRET: 'wrong' }, 'all')),
      ).rejects.toThrow(/^GRAPH_CLIENT_SECRET: the tenant refused .*AADSTS7000215/);
      await expect(
        openDirectory(
          parseConfig({ ...base, GRAPH_CLIENT_ID: '00000000-0000-4000-8000-00000000000a' }, 'all'),
        ),
      ).rejects.toThrow(/^GRAPH_CLIENT_ID: .*AADSTS700016/);
      await expect(
        openDirectory(
          parseConfig({ ...base, GRAPH_TENANT_ID: '00000000-0000-4000-8000-00000000000b' }, 'all'),
        ),
      ).rejects.toThrow(/^GRAPH_TENANT_ID: .*AADSTS90002/);
      const ok = await openDirectory(parseConfig(base, 'all'));
      try {
        expect(ok.description).toContain(server.url);
        expect(ok.description).toContain(server.tenantId);
        expect(ok.description).toContain(server.clientId);
        expect(ok.description).not.toContain(server.clientSecret);
      } finally {
        await ok.close();
      }
    });

    it('trusts the reproduction only through GRAPH_CA_FILE: without it the start fails naming the authority', async () => {
      const started = Date.now();
      await expect(connect({ GRAPH_CA_FILE: '' })).rejects.toThrow(
        /^GRAPH_AUTHORITY_HOST=https:\/\/127\.0\.0\.1:\d+: could not get a token .*certificate/,
      );
      expect(Date.now() - started).toBeLessThan(60_000);
    });

    it('re-acquires a token Graph no longer accepts, and reports a credential the tenant refuses', async () => {
      const d = await connect();
      await d.getUser(server.idOf('adele'));
      const mark = server.log.length;
      server.revokeTokens();
      const keys = ['adele', 'megan', 'lynne', 'patti', 'diego'];
      const users = await Promise.all(keys.map((k) => d.getUser(server.idOf(k))));
      expect(users.map((u) => u?.id)).toEqual(keys.map((k) => server.idOf(k)));
      const after = since(mark);
      expect(after.filter((r) => r.status === 401).length).toBeGreaterThan(0);
      // Five calls refused at once sign in again once.
      expect(after.filter((r) => r.path.includes('/oauth2/v2.0/token') && r.status === 200)).toHaveLength(1);
      const secret = server.clientSecret;
      server.rotateSecret();
      server.revokeTokens();
      try {
        await expect(d.getUser(server.idOf('adele'))).rejects.toBeInstanceOf(DirectoryUnavailableError);
      } finally {
        server.authority.app.secret = secret;
      }
      await expect(d.getUser(server.idOf('adele'))).resolves.toBeDefined();
    });
  });

  describe('the calls it makes', () => {
    it('sends ConsistencyLevel: eventual and $count=true with the user cast on transitiveMembers', async () => {
      const d = await connect();
      const mark = server.log.length;
      expect(await d.listGroupTransitiveMembers(server.idOf('sales'))).toHaveLength(7);
      const casts = since(mark).filter((r) => r.path.includes('/transitiveMembers/microsoft.graph.user'));
      expect(casts.length).toBeGreaterThan(0);
      for (const c of casts) {
        expect(c).toMatchObject({ consistencyLevel: 'eventual', status: 200 });
        expect(c.path).toContain('$count=true');
      }
    });

    it('reads users and removes members in $batch requests of at most 20', async () => {
      const d = await connect();
      const ids = [...server.state.transitiveUserIds(server.idOf('sales')), ...extra(21)];
      let mark = server.log.length;
      const many = [...ids, ids[0]!]; // 28 users, one of them twice: two batches, each user asked once
      expect((await d.getUsers(many)).map((u) => u.id)).toEqual(many);
      let batches = since(mark).filter((r) => r.path === '/v1.0/$batch');
      expect(batches.map((b) => b.batchSize)).toEqual([20, 8]);
      expect(since(mark).filter((r) => !r.inBatch && r.path.startsWith('/v1.0/users/'))).toEqual([]);
      mark = server.log.length;
      const group = server.idOf('sales-emea-north');
      expect(await d.removeGroupMembers(group, [server.idOf('isaiah'), server.idOf('diego')])).toEqual([
        'done',
        'done',
      ]);
      batches = since(mark).filter((r) => r.path === '/v1.0/$batch');
      expect(batches).toHaveLength(1);
      expect(
        since(mark)
          .filter((r) => r.inBatch)
          .map((r) => r.method),
      ).toEqual(['DELETE', 'DELETE']);
      expect(server.readGroupMemberIds('sales-emea-north')).toEqual([]);
    });

    it('reuses users, groups and transitive members for GRAPH_CACHE_SECONDS until its own write', async () => {
      const d = await connect({ GRAPH_CACHE_SECONDS: '60' });
      const megan = server.idOf('megan');
      await d.getUser(megan);
      const before = server.log.length;
      expect((await d.getUsers([megan, megan])).map((u) => u.id)).toEqual([megan, megan]);
      expect((await d.getManager(server.idOf('adele')))?.id).toBe(megan);
      // adele herself was read; megan came from the cache.
      expect(since(before).map((r) => r.path.split('?')[0])).toEqual([`/v1.0/users/${server.idOf('adele')}`]);
      const group = server.idOf('finance');
      expect(await d.listGroupTransitiveMembers(group)).toHaveLength(2);
      let mark = server.log.length;
      expect(await d.listGroupTransitiveMembers(group)).toHaveLength(2);
      expect(since(mark)).toEqual([]);
      expect(await d.removeGroupMember(group, server.idOf('patti'))).toBe('done');
      mark = server.log.length;
      expect((await d.listGroupTransitiveMembers(group))?.map((u) => u.id)).toEqual([server.idOf('diego')]);
      expect(since(mark).length).toBeGreaterThan(0);
    });

    it('leaves signInActivity out of its queries when GRAPH_SIGN_IN_ACTIVITY=false', async () => {
      const d = await connect({ GRAPH_SIGN_IN_ACTIVITY: 'false' });
      const mark = server.log.length;
      expect(await d.getUser(server.idOf('adele'))).toMatchObject({ lastSignInDateTime: null });
      expect(since(mark).some((r) => /signInActivity/i.test(r.path))).toBe(false);
    });

    it('calls the configured authority and Graph hosts, with the scope of GRAPH_BASE_URL', async () => {
      const authority = `https://localhost:${server.port}`;
      const mark = server.log.length;
      const d = await connect({ GRAPH_AUTHORITY_HOST: authority, GRAPH_BASE_URL: server.url });
      await d.getUser(server.idOf('adele'));
      const calls = since(mark);
      const auth = calls.filter((r) => /oauth2|openid-configuration|discovery/.test(r.path));
      expect(auth.length).toBeGreaterThan(0);
      expect(new Set(auth.map((r) => r.host))).toEqual(new Set([`localhost:${server.port}`]));
      expect(auth.find((r) => r.scope)?.scope).toBe(`${server.url}/.default`);
      expect(calls.some((r) => r.path.includes('/common/discovery/instance'))).toBe(false);
      const graph = calls.filter((r) => r.path.startsWith('/v1.0/'));
      expect(new Set(graph.map((r) => r.host))).toEqual(new Set([`127.0.0.1:${server.port}`]));
    });
  });
});

describe('Microsoft Graph adapter: an application assigned to groups', () => {
  let server: GraphServer;
  let d: GraphDirectory;
  beforeAll(async () => {
    server = await GraphServer.start(contractTenant({ bulk: false }), { assignAs: 'groups' });
    d = await GraphDirectory.connect(await graphSettings(server));
  });
  afterAll(async () => {
    await d?.close();
    await server?.stop();
  });

  it("resolves group assignments to the groups' transitive users; a user assigned only through one is notFound", async () => {
    const assignees = (await d.listApplicationAssignees(server.idOf('payroll')))!.map((u) => u.id).sort();
    expect(assignees).toEqual(
      ['adele', 'grady', 'isaiah', 'diego', 'megan'].map((k) => server.idOf(k)).sort(),
    );
    expect(await d.removeApplicationAssignment(server.idOf('payroll'), server.idOf('adele'))).toBe(
      'notFound',
    );
    expect((await d.getApplication(server.idOf('payroll')))?.assignedUserIds).toContain(server.idOf('adele'));
  });
});

describe('Microsoft Graph adapter: a tenant without Entra ID P1', () => {
  let server: GraphServer;
  beforeAll(async () => {
    server = await GraphServer.start(contractTenant({ bulk: false }), { premium: false });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('stops the start naming GRAPH_SIGN_IN_ACTIVITY, and reads users without sign-ins when it is false', async () => {
    await expect(GraphDirectory.connect(await graphSettings(server))).rejects.toThrow(
      /^GRAPH_SIGN_IN_ACTIVITY=true: Microsoft Graph refused signInActivity.*Authentication_RequestFromNonPremiumTenantOrB2CTenant/,
    );
    const d = await GraphDirectory.connect(await graphSettings(server, { GRAPH_SIGN_IN_ACTIVITY: 'false' }));
    try {
      expect(await d.getUser(server.idOf('adele'))).toMatchObject({
        managerId: server.idOf('megan'),
        lastSignInDateTime: null,
      });
      expect(await d.listGroupTransitiveMembers(server.idOf('sales'))).toHaveLength(7);
    } finally {
      await d.close();
    }
  });
});
