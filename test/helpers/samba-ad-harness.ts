import fs from 'node:fs';
import { Attribute, Change, Client, InsufficientAccessError, InvalidCredentialsError } from 'ldapts';
import { BULK_MEMBERS, bulkUserKey, contractTenant } from '../directory/contract-tenant';
import type { LdapTestServer } from './ldap-test-server';
import { fileTime, startSambaAd } from './samba-ad';

const IN_CHAIN = '1.2.840.113556.1.4.1941';
// Samba evaluates the in-chain rule entry by entry (no index): with the 10,050 bulk users under OU=People a
// memberOf in-chain search takes ~10 s here, past ldapts's default time limit of 10 s, and Samba then
// answers operationsError (1), not timeLimitExceeded. 0: no limit.
const NO_TIME_LIMIT = 0;

/** The harness's own checks: the tenant as loaded, AD's paging and ranges, sign-ins, TLS and the service account's rights. */
export function describeSambaHarness() {
  describe('the Samba AD harness', () => {
    let ad: LdapTestServer & { dir: string; realm: string };

    beforeAll(async () => {
      ad = await startSambaAd(contractTenant());
    }, 10 * 60_000);

    afterAll(async () => {
      await ad?.stop();
    });

    async function asClient<T>(dn: string, password: string, use: (c: Client) => Promise<T>): Promise<T> {
      const client = new Client({ url: ad.url, timeout: 60_000 });
      try {
        await client.bind(dn, password);
        return await use(client);
      } finally {
        await client.unbind();
      }
    }
    const asAdmin = <T>(use: (c: Client) => Promise<T>) => asClient(ad.adminDN, ad.adminPassword, use);
    const asService = <T>(use: (c: Client) => Promise<T>) => asClient(ad.bindDN, ad.bindPassword, use);

    async function attr(dn: string, name: string): Promise<string[]> {
      const [entry] = await ad.cliSearch(dn, '(objectClass=*)', [name], 'base');
      return entry?.[name.toLowerCase()] ?? [];
    }

    const replace = (type: string, value: string) =>
      new Change({ operation: 'replace', modification: new Attribute({ type, values: [value] }) });

    it('serves the tenant with objectGUIDs, managers, managedBy and sign-in times', async () => {
      const [megan] = await ad.cliSearch(ad.usersDN, '(sAMAccountName=megan)', [
        'objectGUID',
        'employeeType',
      ]);
      expect(megan?.objectguid).toEqual([ad.idOf('megan')]);
      expect(ad.idOf('megan')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(megan?.employeetype).toEqual(['Member']);
      expect(await attr(ad.dnOf('grady'), 'employeeType')).toEqual(['Guest']);
      expect(await attr(ad.dnOf('adele'), 'manager')).toEqual([ad.dnOf('megan')]);
      expect(await attr(ad.dnOf('sales'), 'managedBy')).toEqual([ad.dnOf('megan')]);
      // Only the first owner: AD has one managedBy.
      expect(await attr(ad.dnOf('payroll-admins'), 'managedBy')).toEqual([ad.dnOf('patti')]);
      expect(await attr(ad.dnOf('adele'), 'lastLogonTimestamp')).toEqual([fileTime('2026-11-28T09:30:00Z')]);
      expect(await attr(ad.dnOf('isaiah'), 'userAccountControl')).toEqual(['514']);
      expect(await attr(ad.dnOf('sales'), 'groupType')).toEqual(['-2147483646']);
    });

    it('finds nested members with the in-chain matching rule, paged', async () => {
      const members = await asAdmin(async (c) => {
        const { searchEntries } = await c.search(ad.usersDN, {
          filter: `(&(objectClass=user)(memberOf:${IN_CHAIN}:=${ad.dnOf('sales')}))`,
          attributes: ['sAMAccountName'],
          paged: { pageSize: 500 },
          timeLimit: NO_TIME_LIMIT,
        });
        return searchEntries.map((e) => String(e.sAMAccountName)).sort();
      });
      expect(members).toEqual(['adele', 'alex', 'diego', 'gina', 'grady', 'isaiah', 'nestor']);
    });

    it('returns all 10,050 members of bulk through ranged retrieval and a paged in-chain search', async () => {
      const bulk = ad.dnOf('bulk');
      const { values, ranges } = await asAdmin(async (c) => {
        const all: string[] = [];
        let ranges = 0;
        for (let low = 0; ;) {
          // Ask for 1,500-value windows, as a client of a real DC receives them (MaxValRange).
          const { searchEntries } = await c.search(bulk, {
            scope: 'base',
            attributes: [`member;range=${low}-${low + 1499}`],
          });
          const entry = searchEntries[0]!;
          const name = Object.keys(entry).find((k) => k.toLowerCase().startsWith('member;range='));
          if (!name) throw new Error(`no ranged member attribute in ${Object.keys(entry).join(', ')}`);
          const got = entry[name];
          all.push(...(Array.isArray(got) ? got.map(String) : [String(got)]));
          ranges += 1;
          const end = name.split('-').pop();
          if (end === '*') break;
          low = Number(end) + 1;
        }
        return { values: all, ranges };
      });
      expect(new Set(values).size).toBe(BULK_MEMBERS);
      expect(ranges).toBe(Math.ceil(BULK_MEMBERS / 1500));

      const pages = await asAdmin(async (c) => {
        const sizes: number[] = [];
        for await (const page of c.searchPaginated(ad.usersDN, {
          filter: `(memberOf:${IN_CHAIN}:=${bulk})`,
          attributes: ['1.1'],
          paged: { pageSize: 1000 },
          timeLimit: NO_TIME_LIMIT,
        })) {
          sizes.push(page.searchEntries.length);
        }
        return sizes;
      });
      expect(pages.reduce((a, b) => a + b, 0)).toBe(BULK_MEMBERS);
      expect(pages.length).toBe(Math.ceil(BULK_MEMBERS / 1000));
    });

    it('lets enabled users sign in (bulk users too) and refuses a disabled one', async () => {
      expect(await attr(ad.dnOf('alex'), 'lastLogonTimestamp')).toEqual([]);
      await ad.signIn('alex');
      // Samba records a simple bind in lastLogonTimestamp (not in lastLogon).
      const [stamp] = await attr(ad.dnOf('alex'), 'lastLogonTimestamp');
      expect(
        Math.abs(Number(BigInt(stamp!) - BigInt(fileTime(new Date().toISOString()))) / 1e7),
      ).toBeLessThan(300);
      await ad.signIn(bulkUserKey(7));
      await expect(ad.signIn('isaiah')).rejects.toBeInstanceOf(InvalidCredentialsError);
    });

    it('serves LDAPS with a certificate that the CA file verifies for 127.0.0.1', async () => {
      const client = new Client({ url: ad.ldapsUrl!, tlsOptions: { ca: fs.readFileSync(ad.caFile!) } });
      try {
        await client.bind(ad.bindDN, ad.bindPassword);
      } finally {
        await client.unbind();
      }
    });

    it('gives the service account only the review rights', async () => {
      const sales = ad.dnOf('sales');
      const alex = ad.dnOf('alex');
      await asService(async (c) => {
        await c.modify(
          sales,
          new Change({
            operation: 'delete',
            modification: new Attribute({ type: 'member', values: [alex] }),
          }),
        );
        await c.modify(alex, replace('userAccountControl', '514'));
        expect(await attr(alex, 'userAccountControl')).toEqual(['514']);
        await c.modify(alex, replace('userAccountControl', '512'));
        await expect(c.modify(alex, replace('displayName', 'Someone else'))).rejects.toBeInstanceOf(
          InsufficientAccessError,
        );
        // Groups outside OU=Groups are not the tool's to change.
        await expect(
          c.modify(
            `CN=Domain Admins,CN=Users,${ad.baseDN}`,
            new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [alex] }) }),
          ),
        ).rejects.toBeInstanceOf(InsufficientAccessError);
        await expect(c.del(ad.dnOf('sales-emea'))).rejects.toBeInstanceOf(InsufficientAccessError);
        await c.del(ad.dnOf(bulkUserKey(BULK_MEMBERS - 1)));
      });
      expect(await attr(sales, 'member')).not.toContain(alex);
      expect(await attr(alex, 'userAccountControl')).toEqual(['512']);
      expect(await attr(alex, 'displayName')).toEqual(['Alex Wilber']);
      expect(
        await ad.cliSearch(ad.usersDN, `(sAMAccountName=${bulkUserKey(BULK_MEMBERS - 1)})`, ['dn']),
      ).toEqual([]);
    });
  });
}
