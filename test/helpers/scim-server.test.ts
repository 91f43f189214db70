import { alive } from './processes';
import { BULK_MEMBERS, bulkUserKey, contractTenant } from '../directory/contract-tenant';
import type { ScimResource, ScimTestServer } from './scim-server';
import {
  SCIM_ENTERPRISE_USER_SCHEMA,
  SCIM_GROUP_DESCRIPTION_SCHEMA,
  SCIM_PATCH_SCHEMA,
  SCIM_SIGN_IN_SCHEMA,
  scimApplicationGroups,
  startScimServer,
} from './scim-server';

// The harness's own checks, and the server facts the comment at the top of scim-server.ts records.

interface ListResponse {
  totalResults: number;
  itemsPerPage: number;
  startIndex: number;
  Resources?: ScimResource[];
}

const TENANT_USERS = 10 + BULK_MEMBERS;
/** 8 tenant groups, 7 owners groups (every group with owners), Payroll and Payroll Owners. */
const TENANT_GROUPS = 8 + 7 + 2;

describe('the scim2-server harness', () => {
  let server: ScimTestServer;
  const list = async (p: string): Promise<ListResponse> => {
    const res = await server.request('GET', p);
    expect(res.status).toBe(200);
    return (await res.json()) as ListResponse;
  };
  const patch = (key: string, operations: unknown[], headers?: Record<string, string>) =>
    server.request(
      'PATCH',
      `/Groups/${server.idOf(key)}`,
      { schemas: [SCIM_PATCH_SCHEMA], Operations: operations },
      headers,
    );
  const removeMember = (id: string) => ({ op: 'remove', path: `members[value eq "${id}"]` });

  beforeAll(async () => {
    const started = Date.now();
    server = await startScimServer(contractTenant());
    process.stdout.write(
      `[scim2-server] started and loaded ${TENANT_USERS} users in ${Date.now() - started} ms ` +
        `(loading: ${server.loadMs} ms)\n`,
    );
  }, 120_000);

  afterAll(async () => {
    const pid = server?.pid;
    await server?.stop();
    if (pid !== undefined) expect(alive(pid)).toBe(false);
  });

  test('requires the bearer token', async () => {
    const url = `${server.baseUrl}/Users?count=1`;
    expect((await fetch(url)).status).toBe(401);
    const wrong = await fetch(url, { headers: { authorization: 'Bearer not-the-token' } });
    expect(wrong.status).toBe(401);
    expect((await fetch(url, { headers: { authorization: `Bearer ${server.token}` } })).status).toBe(200);
  });

  test('the tenant is loaded: counts', async () => {
    expect((await list('/Users?count=0')).totalResults).toBe(TENANT_USERS);
    expect((await list('/Groups?count=0')).totalResults).toBe(TENANT_GROUPS);
    const bulk = await server.readGroup('bulk');
    expect(bulk.displayName).toBe('All bulk users');
    expect(bulk.memberIds).toHaveLength(BULK_MEMBERS);
    expect(new Set(bulk.memberIds).size).toBe(BULK_MEMBERS);
  });

  test('users: userName, emails, userType, active, manager and sign-in extensions', async () => {
    const adele = await server.readUser('adele');
    expect(adele).toMatchObject({
      id: server.idOf('adele'),
      userName: 'adele@stagecoach.test',
      displayName: 'Adele Vance',
      emails: [{ value: 'adele@stagecoach.test', type: 'work', primary: true }],
      userType: 'Member',
      active: true,
      [SCIM_ENTERPRISE_USER_SCHEMA]: { manager: { value: server.idOf('megan') } },
      [SCIM_SIGN_IN_SCHEMA]: { lastSignInDateTime: '2026-11-28T09:30:00Z' },
    });
    expect(adele.schemas).toEqual(expect.arrayContaining([SCIM_ENTERPRISE_USER_SCHEMA, SCIM_SIGN_IN_SCHEMA]));
    // By id as well as by key.
    expect((await server.readUser(server.idOf('grady'))).userType).toBe('Guest');
    const isaiah = await server.readUser('isaiah');
    expect(isaiah.active).toBe(false);
    // Never signed in, no manager: neither extension.
    expect(isaiah[SCIM_SIGN_IN_SCHEMA]).toBeUndefined();
    expect(isaiah[SCIM_ENTERPRISE_USER_SCHEMA]).toBeUndefined();
    // The extension is registered: the server lists it.
    const schema = await server.request('GET', `/Schemas/${SCIM_SIGN_IN_SCHEMA}`);
    expect(schema.status).toBe(200);
  });

  test('groups: nested members, description extension, owners groups, the application', async () => {
    const sales = await server.readGroup('sales');
    expect(sales.displayName).toBe('Sales');
    expect(new Set(sales.memberIds)).toEqual(
      new Set(['adele', 'alex', 'grady', 'gina', 'sales-emea'].map((k) => server.idOf(k))),
    );
    const raw = (await (await server.request('GET', `/Groups/${server.idOf('sales')}`)).json()) as {
      members: { value: string; type: string; $ref: string }[];
      [SCIM_GROUP_DESCRIPTION_SCHEMA]: { description: string };
    };
    const nested = raw.members.find((m) => m.value === server.idOf('sales-emea'));
    expect(nested).toEqual({
      value: server.idOf('sales-emea'),
      type: 'Group',
      $ref: `${server.baseUrl}/Groups/${server.idOf('sales-emea')}`,
    });
    expect(raw.members.find((m) => m.value === server.idOf('adele'))?.type).toBe('User');
    expect(raw[SCIM_GROUP_DESCRIPTION_SCHEMA]).toEqual({ description: 'Everyone in sales' });

    const ownersId = server.ownersGroupIdOf('sales')!;
    const owners = (await (await server.request('GET', `/Groups/${ownersId}`)).json()) as ScimResource;
    expect(owners.displayName).toBe('Sales Owners');
    expect((owners.members as { value: string }[]).map((m) => m.value)).toEqual([server.idOf('megan')]);
    expect(server.ownersGroupIdOf('sales-emea-north')).toBeUndefined();

    const app = scimApplicationGroups(server, 'payroll');
    expect(app.groupIds).toEqual([server.idOf('payroll-users'), server.idOf('payroll-admins')]);
    expect(app.id).toBe(server.idOf('payroll'));
    const payroll = await server.readGroup('payroll');
    expect(payroll.displayName).toBe('Payroll');
    expect(payroll.memberIds).toEqual(app.groupIds);
    const appOwners = (await (
      await server.request('GET', `/Groups/${app.ownersGroupId}`)
    ).json()) as ScimResource;
    expect(appOwners.displayName).toBe('Payroll Owners');
    expect(new Set((appOwners.members as { value: string }[]).map((m) => m.value))).toEqual(
      new Set([server.idOf('patti'), server.idOf('lynne')]),
    );
    const byName = await list(`/Groups?filter=${encodeURIComponent('displayName eq "Payroll Owners"')}`);
    expect(byName.Resources?.map((g) => g.id)).toEqual([app.ownersGroupId]);
  });

  test('filters: userName eq, an extension attribute, a member value path', async () => {
    const eq = await list(`/Users?filter=${encodeURIComponent('userName eq "nestor@stagecoach.test"')}`);
    expect(eq.totalResults).toBe(1);
    expect(eq.Resources?.[0]?.id).toBe(server.idOf('nestor'));
    const signedIn = await list(
      `/Users?count=0&filter=${encodeURIComponent(`${SCIM_SIGN_IN_SCHEMA}:lastSignInDateTime gt "2026-11-26T00:00:00Z"`)}`,
    );
    // adele, lynne, patti.
    expect(signedIn.totalResults).toBe(3);
    const memberOf = await list(
      `/Groups?filter=${encodeURIComponent(`members[value eq "${server.idOf('megan')}"]`)}&attributes=displayName`,
    );
    expect(new Set(memberOf.Resources?.map((g) => g.displayName))).toEqual(
      new Set(['Payroll admins', 'Sales Owners', 'Nobody yet Owners', 'All bulk users Owners']),
    );
  });

  test('paging: startIndex/count, and the server caps count at 1,000', async () => {
    const capped = await list('/Users?startIndex=1&count=5000&attributes=userName');
    expect(capped.totalResults).toBe(TENANT_USERS);
    expect(capped.itemsPerPage).toBe(1000);
    expect(capped.Resources).toHaveLength(1000);
    const noCount = await list('/Users?attributes=userName');
    expect(noCount.Resources).toHaveLength(1000);
    const last = await list(`/Users?startIndex=10001&count=1000&attributes=userName`);
    expect(last.startIndex).toBe(10001);
    expect(last.Resources).toHaveLength(TENANT_USERS - 10000);
    // All pages together: every user once.
    const seen = new Set<string>();
    for (let start = 1; start <= TENANT_USERS; start += 1000) {
      const page = await list(`/Users?startIndex=${start}&count=1000&attributes=id`);
      for (const u of page.Resources ?? []) seen.add(u.id);
    }
    expect(seen.size).toBe(TENANT_USERS);
  });

  test('PATCH remove of members[value eq …], twice; PATCH of an unknown id; ETags', async () => {
    const diego = server.idOf('diego');
    const first = await patch('finance', [removeMember(diego)]);
    expect(first.status).toBe(204);
    expect(first.headers.get('etag')).toMatch(/^W\/"\d+"$/);
    expect((await server.readGroup('finance')).memberIds).toEqual([server.idOf('patti')]);
    const again = await patch('finance', [removeMember(diego)]);
    expect(again.status).toBe(204);
    expect((await server.readGroup('finance')).memberIds).toEqual([server.idOf('patti')]);

    const unknown = await server.request('PATCH', '/Groups/no-such-id', {
      schemas: [SCIM_PATCH_SCHEMA],
      Operations: [removeMember(diego)],
    });
    expect(unknown.status).toBe(404);

    // If-Match: the current version applies, a stale one is refused with 412.
    const current = await server.request('GET', `/Groups/${server.idOf('finance')}`);
    const etag = current.headers.get('etag')!;
    expect(etag).toBeTruthy();
    const stale = await patch('finance', [removeMember(diego)], { 'if-match': 'W/"1"' });
    expect(stale.status).toBe(412);
    const matching = await patch('finance', [removeMember(diego)], { 'if-match': etag });
    expect(matching.status).toBe(204);
  });

  test('PATCH active false; DELETE of a user leaves it in its groups', async () => {
    const alex = server.idOf('alex');
    const disabled = await server.request('PATCH', `/Users/${alex}`, {
      schemas: [SCIM_PATCH_SCHEMA],
      Operations: [{ op: 'replace', path: 'active', value: false }],
    });
    expect(disabled.status).toBe(204);
    expect((await server.readUser('alex')).active).toBe(false);

    const gina = server.idOf('gina');
    const deleted = await server.request('DELETE', `/Users/${gina}`);
    expect(deleted.status).toBe(204);
    expect((await server.request('GET', `/Users/${gina}`)).status).toBe(404);
    // No referential integrity: the deleted id stays a member of sales.
    expect((await server.readGroup('sales')).memberIds).toContain(gina);
    expect((await server.request('DELETE', `/Users/${gina}`)).status).toBe(404);
  });

  test('concurrent PATCHes of one group all apply', async () => {
    const keys = Array.from({ length: 50 }, (_, i) => bulkUserKey(100 + i));
    const created = await server.request('POST', '/Groups', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      displayName: 'Concurrency check',
      members: keys.map((k) => ({ value: server.idOf(k), type: 'User' })),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const statuses = await Promise.all(
      keys.map(async (k) => {
        const res = await server.request('PATCH', `/Groups/${id}`, {
          schemas: [SCIM_PATCH_SCHEMA],
          Operations: [removeMember(server.idOf(k))],
        });
        return res.status;
      }),
    );
    expect(statuses).toEqual(keys.map(() => 204));
    const after = (await (await server.request('GET', `/Groups/${id}`)).json()) as ScimResource;
    expect(after.members ?? []).toEqual([]);
    expect((await server.request('DELETE', `/Groups/${id}`)).status).toBe(204);
  });

  test('a PATCH of the 10,050-member group works, slowly', async () => {
    const k = bulkUserKey(0);
    const started = Date.now();
    expect((await patch('bulk', [removeMember(server.idOf(k))])).status).toBe(204);
    process.stdout.write(
      `[scim2-server] one member removed from the ${BULK_MEMBERS}-member group in ${Date.now() - started} ms\n`,
    );
    const bulk = await server.readGroup('bulk');
    expect(bulk.memberIds).toHaveLength(BULK_MEMBERS - 1);
    expect(bulk.memberIds).not.toContain(server.idOf(k));
  });
});
