import fs from 'node:fs';
import {
  Attribute,
  Change,
  Client,
  InsufficientAccessError,
  InvalidCredentialsError,
  SizeLimitExceededError,
} from 'ldapts';
import { BULK_MEMBERS, contractTenant } from '../directory/contract-tenant';
import type { Slapd } from './slapd';
import { parseLdif, startSlapd } from './slapd';

const asService = async <T>(server: Slapd, fn: (client: Client) => Promise<T>): Promise<T> => {
  const client = new Client({ url: server.url, timeout: 60_000 });
  try {
    await client.bind(server.bindDN, server.bindPassword);
    return await fn(client);
  } finally {
    await client.unbind();
  }
};

describe('the slapd harness', () => {
  let server: Slapd;

  beforeAll(async () => {
    server = await startSlapd(contractTenant());
  }, 60_000);

  afterAll(async () => {
    const dir = server?.dataDir;
    await server?.stop();
    if (dir) expect(fs.existsSync(dir)).toBe(false);
  });

  it('pages the service account through all members of bulk, and refuses it an unpaged search', async () => {
    const filter = `(memberOf=${server.dnOf('bulk')})`;
    await asService(server, async (client) => {
      const { searchEntries } = await client.search(server.usersDN, {
        filter,
        attributes: ['uid'],
        paged: { pageSize: 500 },
      });
      expect(searchEntries).toHaveLength(BULK_MEMBERS);
      await expect(client.search(server.usersDN, { filter, attributes: ['uid'] })).rejects.toBeInstanceOf(
        SizeLimitExceededError,
      );
    });
    const [bulk] = await server.cliSearch(server.dnOf('bulk'), '(objectClass=*)', ['member'], 'base');
    expect(bulk?.member).toHaveLength(BULK_MEMBERS);
  });

  it('loads users, nested groups, owners, uniqueMember groups and entryUUIDs', async () => {
    const [sales] = await server.cliSearch(
      server.dnOf('sales'),
      '(objectClass=*)',
      ['member', 'owner', 'description', 'displayName', 'entryUUID'],
      'base',
    );
    expect(sales?.member).toEqual(expect.arrayContaining([server.dnOf('sales-emea'), server.dnOf('adele')]));
    expect(sales?.owner).toEqual([server.dnOf('megan')]);
    expect(sales?.description).toEqual(['Everyone in sales']);
    expect(sales?.displayname).toEqual(['Sales']);
    expect(sales?.entryuuid).toEqual([server.idOf('sales')]);
    const [north] = await server.cliSearch(
      server.dnOf('sales-emea-north'),
      '(objectClass=*)',
      ['memberOf'],
      'base',
    );
    expect(north?.memberof?.sort()).toEqual([server.dnOf('payroll-users'), server.dnOf('sales-emea')].sort());
    const [diego] = await server.cliSearch(
      server.dnOf('diego'),
      '(objectClass=*)',
      ['memberOf', 'manager', 'employeeType', 'mail'],
      'base',
    );
    expect(diego?.memberof).toEqual(
      expect.arrayContaining([server.dnOf('finance'), server.dnOf('sales-emea-north')]),
    );
    expect(diego?.manager).toEqual([server.dnOf('patti')]);
    expect(diego?.employeetype).toEqual(['Member']);
    const [grady] = await server.cliSearch(
      server.dnOf('grady'),
      '(objectClass=*)',
      ['employeeType', 'authTimestamp'],
      'base',
    );
    expect(grady?.employeetype).toEqual(['Guest']);
    expect(grady?.authtimestamp).toEqual(['20260105120000Z']);
    const [empty] = await server.cliSearch(server.dnOf('empty'), '(objectClass=*)', ['member'], 'base');
    expect(empty?.member).toEqual(['']);
    expect(server.idOf('megan')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it('refuses a bind by a locked user, and records a sign-in in authTimestamp', async () => {
    await expect(server.signIn('isaiah')).rejects.toBeInstanceOf(InvalidCredentialsError);
    const read = async () =>
      (await server.cliSearch(server.dnOf('adele'), '(objectClass=*)', ['authTimestamp'], 'base'))[0]
        ?.authtimestamp;
    expect(await read()).toEqual(['20261128093000Z']);
    const before = Date.now();
    await server.signIn('adele');
    const [stamp] = (await read()) ?? [];
    const m = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(stamp ?? '');
    expect(m).not.toBeNull();
    const written = Date.UTC(+m![1]!, +m![2]! - 1, +m![3]!, +m![4]!, +m![5]!, +m![6]!);
    expect(written).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
  });

  it('lets the service account remove members (memberof follows), lock and unlock, delete users; not rename them', async () => {
    const members = (key: string) =>
      server.cliSearch(server.dnOf(key), '(objectClass=*)', ['member', 'uniqueMember'], 'base');
    const memberOf = async (key: string) =>
      (await server.cliSearch(server.dnOf(key), '(objectClass=*)', ['memberOf'], 'base'))[0]?.memberof ?? [];
    expect(await memberOf('alex')).toContain(server.dnOf('sales'));
    await asService(server, async (client) => {
      const change = (operation: 'add' | 'delete' | 'replace', type: string, values: string[]) =>
        new Change({ operation, modification: new Attribute({ type, values }) });
      await client.modify(server.dnOf('sales'), change('delete', 'member', [server.dnOf('alex')]));
      expect(await memberOf('alex')).not.toContain(server.dnOf('sales'));
      await client.modify(server.dnOf('finance'), change('delete', 'uniqueMember', [server.dnOf('patti')]));
      expect(await memberOf('patti')).not.toContain(server.dnOf('finance'));

      await client.modify(server.dnOf('lynne'), change('replace', 'pwdAccountLockedTime', ['000001010000Z']));
      await expect(server.signIn('lynne')).rejects.toBeInstanceOf(InvalidCredentialsError);
      await client.modify(server.dnOf('lynne'), change('delete', 'pwdAccountLockedTime', []));
      await server.signIn('lynne');

      await expect(
        client.modify(server.dnOf('nestor'), change('replace', 'cn', ['Renamed'])),
      ).rejects.toBeInstanceOf(InsufficientAccessError);
      await expect(
        client.modify(server.dnOf('sales'), change('replace', 'description', ['x'])),
      ).rejects.toBeInstanceOf(InsufficientAccessError);

      // diego is in a groupOfNames (sales-emea-north) and a groupOfUniqueNames (finance): refint cleans both.
      await client.del(server.dnOf('diego'));
    });
    expect(await server.cliSearch(server.dnOf('diego'), '(objectClass=*)', ['uid'], 'base')).toEqual([]);
    expect((await members('sales-emea-north'))[0]?.member).toEqual([server.dnOf('isaiah')]);
    expect((await members('finance'))[0]?.uniquemember ?? []).not.toContain(server.dnOf('diego'));
  });
});

describe('the slapd harness with TLS', () => {
  let server: Slapd;

  beforeAll(async () => {
    server = await startSlapd(contractTenant({ bulk: false }), { tls: true });
  }, 60_000);

  afterAll(() => server?.stop());

  it('serves LDAPS and StartTLS with a certificate from its CA file', async () => {
    const ca = fs.readFileSync(server.caFile!);
    const ldaps = new Client({ url: server.ldapsUrl!, tlsOptions: { ca } });
    await ldaps.bind(server.bindDN, server.bindPassword);
    await ldaps.unbind();
    const startTls = new Client({ url: server.url });
    await startTls.startTLS({ ca });
    await startTls.bind(server.bindDN, server.bindPassword);
    await startTls.unbind();
    const untrusted = new Client({ url: server.ldapsUrl!, connectTimeout: 5000 });
    await expect(untrusted.bind(server.bindDN, server.bindPassword)).rejects.toThrow();
  });
});

describe('parseLdif', () => {
  it('decodes base64 values and lowercases attribute names', () => {
    expect(parseLdif('dn: cn=a\ncn: a\nDescription:: w6k=\nmember:\n\ndn: cn=b\n')).toEqual([
      { dn: ['cn=a'], cn: ['a'], description: ['é'], member: [''] },
      { dn: ['cn=b'] },
    ]);
  });
});
