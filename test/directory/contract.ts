import { applyDecisionItems } from '../../src/activities/apply';
import type { Directory, DirectoryUser } from '../../src/directory/port';
import { DirectoryUnavailableError } from '../../src/directory/port';
import { InMemoryApplyLedger } from '../../src/store/apply-ledger';
import { BULK_MEMBERS, bulkUserKey } from './contract-tenant';

/** Network faults between the adapter and its server (a TcpFaultProxy in front of the real server). */
export interface ContractFaults {
  reset(): void;
  stall(): void;
  heal(): void;
  down(): Promise<void>;
  up(): Promise<void>;
}

/** A directory loaded with `contractTenant()`, and what the suite needs to know about it. */
export interface ContractFixture {
  directory: Directory;
  /** Id of the tenant object with this key. */
  idOf(key: string): string;
  /** Every owner of a group is kept (AD's managedBy holds one: the first). */
  multipleOwners: boolean;
  /** Binds as the user, as a sign-in would; absent where the directory has no sign-ins of its own. */
  signIn?(key: string): Promise<void>;
  /** Absent for an in-process directory, which has no connection to lose. */
  faults?: ContractFaults;
  /** The same directory with short timeouts, for the fault tests (default: `directory`). */
  faultDirectory?: Directory;
  stop(): Promise<void>;
}

/**
 * The fixture of a server reached through a fault proxy, with a second adapter for the fault tests;
 * `stop` closes both adapters, then the proxy, then the server.
 */
export function throughFaultProxy<D extends Directory>(
  parts: Pick<ContractFixture, 'idOf' | 'multipleOwners' | 'signIn'> & {
    directory: D;
    faultDirectory: Directory;
    proxy: ContractFaults & { stop(): Promise<void> };
    server: { stop(): Promise<void> };
  },
): ContractFixture & { directory: D } {
  const { directory, faultDirectory, proxy, server, ...rest } = parts;
  return {
    ...rest,
    directory,
    faults: proxy,
    faultDirectory,
    stop: async () => {
      await directory.close?.();
      await faultDirectory.close?.();
      await proxy.stop();
      await server.stop();
    },
  };
}

/** An id no directory has: a well-formed GUID, so the adapter has to ask its server. */
const UNKNOWN_ID = '0badc0de-0000-4000-8000-000000000000';

const ids = (users: readonly DirectoryUser[] | undefined) => (users ?? []).map((u) => u.id).sort();

/**
 * The behaviour every Directory adapter must have, written against the port alone. Reads run first on
 * the freshly loaded tenant; the writes after them change only what later tests expect changed.
 */
export function describeDirectoryContract(
  name: string,
  /** What the directory has: a network connection (fault tests), sign-ins of its own (binds), removeGroupMembers. */
  has: { network: boolean; signIns: boolean; batchRemoval: boolean },
  setup: () => Promise<ContractFixture>,
) {
  describe(`directory contract: ${name}`, () => {
    let f: ContractFixture;
    let d: Directory;
    const id = (key: string) => f.idOf(key);
    const keyIds = (...keys: string[]) => keys.map(id).sort();

    beforeAll(async () => {
      f = await setup();
      d = f.directory;
    }, 600_000);
    afterAll(async () => {
      await f?.stop();
    }, 120_000);

    describe('reads', () => {
      it('reads a user with Graph properties: type, enabled, manager, sign-in', async () => {
        const adele = await d.getUser(id('adele'));
        expect(adele).toMatchObject({
          id: id('adele'),
          displayName: 'Adele Vance',
          userPrincipalName: 'adele@stagecoach.test',
          userType: 'Member',
          accountEnabled: true,
          managerId: id('megan'),
          lastSignInDateTime: '2026-11-28T09:30:00Z',
        });
        expect(Date.parse(adele!.createdDateTime)).not.toBeNaN();
        expect(Date.parse(adele!.createdDateTime)).toBeLessThanOrEqual(Date.now() + 60_000);
        expect(await d.getUser(id('alex'))).toMatchObject({
          lastSignInDateTime: null,
          managerId: id('megan'),
        });
        expect(await d.getUser(id('megan'))).toMatchObject({ managerId: null });
      });

      it('tells guests and disabled accounts', async () => {
        expect(await d.getUser(id('grady'))).toMatchObject({ userType: 'Guest', accountEnabled: true });
        expect(await d.getUser(id('gina'))).toMatchObject({
          userType: 'Guest',
          lastSignInDateTime: '2026-11-25T16:45:00Z',
        });
        expect(await d.getUser(id('isaiah'))).toMatchObject({ userType: 'Member', accountEnabled: false });
      });

      it('returns undefined for unknown and malformed ids, and leaves them out of batch reads', async () => {
        expect(await d.getUser(UNKNOWN_ID)).toBeUndefined();
        expect(await d.getUser('not an id (*)')).toBeUndefined();
        expect(await d.getGroup(UNKNOWN_ID)).toBeUndefined();
        expect(await d.getApplication(UNKNOWN_ID)).toBeUndefined();
        expect(await d.listGroupTransitiveMembers(UNKNOWN_ID)).toBeUndefined();
        expect(await d.listGroupOwners(UNKNOWN_ID)).toBeUndefined();
        expect(await d.listApplicationAssignees(UNKNOWN_ID)).toBeUndefined();
        expect(await d.listApplicationOwners(UNKNOWN_ID)).toBeUndefined();
        const batch = await d.getUsers([id('nestor'), UNKNOWN_ID, id('adele'), id('megan')]);
        expect(batch.map((u) => u.id)).toEqual([id('nestor'), id('adele'), id('megan')]);
      });

      it("finds a user's manager", async () => {
        expect((await d.getManager(id('adele')))?.id).toBe(id('megan'));
        expect((await d.getManager(id('nestor')))?.id).toBe(id('lynne'));
        expect(await d.getManager(id('megan'))).toBeUndefined();
        expect(await d.getManager(UNKNOWN_ID)).toBeUndefined();
      });

      it('reads a group: its direct members (users and nested groups) and owners', async () => {
        const sales = await d.getGroup(id('sales'));
        expect(sales).toMatchObject({
          id: id('sales'),
          displayName: 'Sales',
          description: 'Everyone in sales',
        });
        expect([...sales!.memberIds].sort()).toEqual(keyIds('adele', 'alex', 'grady', 'gina', 'sales-emea'));
        expect(sales!.ownerIds).toEqual([id('megan')]);
        expect((await d.getGroup(id('empty')))?.memberIds).toEqual([]);
      });

      it('lists transitive members through nested groups, each user once', async () => {
        const members = await d.listGroupTransitiveMembers(id('sales'));
        expect(ids(members)).toEqual(keyIds('adele', 'alex', 'grady', 'gina', 'nestor', 'isaiah', 'diego'));
        expect(members!.find((u) => u.id === id('grady'))?.userType).toBe('Guest');
        expect(members!.find((u) => u.id === id('nestor'))?.managerId).toBe(id('lynne'));
        expect(ids(await d.listGroupTransitiveMembers(id('sales-emea')))).toEqual(
          keyIds('nestor', 'adele', 'isaiah', 'diego'),
        );
        expect(await d.listGroupTransitiveMembers(id('empty'))).toEqual([]);
        expect(ids(await d.listGroupTransitiveMembers(id('finance')))).toEqual(keyIds('diego', 'patti'));
      });

      it('lists group owners', async () => {
        expect(ids(await d.listGroupOwners(id('sales')))).toEqual(keyIds('megan'));
        expect(ids(await d.listGroupOwners(id('sales-emea')))).toEqual(keyIds('lynne'));
        expect(await d.listGroupOwners(id('sales-emea-north'))).toEqual([]);
      });

      it("lists an application's assignees (through its groups) and owners", async () => {
        const app = await d.getApplication(id('payroll'));
        expect(app).toMatchObject({ id: id('payroll'), displayName: 'Payroll' });
        const assignees = keyIds('adele', 'grady', 'isaiah', 'diego', 'megan');
        expect([...app!.assignedUserIds].sort()).toEqual(assignees);
        expect(ids(await d.listApplicationAssignees(id('payroll')))).toEqual(assignees);
        const owners = f.multipleOwners ? keyIds('patti', 'lynne') : keyIds('patti');
        expect([...app!.ownerIds].sort()).toEqual(owners);
        expect(ids(await d.listApplicationOwners(id('payroll')))).toEqual(owners);
      });

      it(`pages through ${BULK_MEMBERS.toLocaleString('en')} members`, async () => {
        const members = await d.listGroupTransitiveMembers(id('bulk'));
        expect(members).toHaveLength(BULK_MEMBERS);
        expect(new Set(ids(members)).size).toBe(BULK_MEMBERS);
        expect(members!.filter((u) => u.userType === 'Guest')).toHaveLength(Math.ceil(BULK_MEMBERS / 10));
        expect(members!.filter((u) => u.lastSignInDateTime === '2026-10-01T00:00:00Z')).toHaveLength(
          Math.ceil(BULK_MEMBERS / 3),
        );
        expect((await d.getGroup(id('bulk')))?.memberIds).toHaveLength(BULK_MEMBERS);
        const some = [7, 4321, 10_049, 0].map((i) => id(bulkUserKey(i)));
        expect((await d.getUsers(some)).map((u) => u.id)).toEqual(some);
      });

      (has.signIns ? it : it.skip)('records a sign-in', async () => {
        const before = Date.now() - 2_000;
        await f.signIn!('alex');
        const alex = await d.getUser(id('alex'));
        expect(Date.parse(alex!.lastSignInDateTime!)).toBeGreaterThanOrEqual(
          Math.floor(before / 1000) * 1000,
        );
      });
    });

    describe('writes', () => {
      it('removes a direct membership once; again it is notFound', async () => {
        expect(await d.removeGroupMember(id('sales'), id('alex'))).toBe('done');
        expect(ids(await d.listGroupTransitiveMembers(id('sales')))).not.toContain(id('alex'));
        expect((await d.getGroup(id('sales')))?.memberIds).not.toContain(id('alex'));
        expect(await d.removeGroupMember(id('sales'), id('alex'))).toBe('notFound');
        expect(await d.getUser(id('alex'))).toBeDefined();
      });

      (has.batchRemoval ? it : it.skip)(
        'removes several members with one call; gone ones are notFound',
        async () => {
          const [a, b] = [id(bulkUserKey(4)), id(bulkUserKey(5))];
          expect(await d.removeGroupMembers!(id('bulk'), [a, UNKNOWN_ID, b])).toEqual([
            'done',
            'notFound',
            'done',
          ]);
          expect(await d.removeGroupMembers!(id('bulk'), [b, id('nestor')])).toEqual([
            'notFound',
            'notFound',
          ]);
          expect(await d.removeGroupMembers!(UNKNOWN_ID, [a])).toEqual(['notFound']);
          const left = await d.getGroup(id('bulk'));
          expect(left?.memberIds).not.toContain(a);
          expect(left?.memberIds).toHaveLength(BULK_MEMBERS - 2);
        },
      );

      it('says notFound for a member through a nested group, an unknown group or user', async () => {
        expect(await d.removeGroupMember(id('sales'), id('nestor'))).toBe('notFound');
        expect(ids(await d.listGroupTransitiveMembers(id('sales')))).toContain(id('nestor'));
        expect(await d.removeGroupMember(UNKNOWN_ID, id('adele'))).toBe('notFound');
        expect(await d.removeGroupMember(id('sales'), UNKNOWN_ID)).toBe('notFound');
      });

      it('removes the last members of a group and of a uniqueMember group', async () => {
        expect(await d.removeGroupMember(id('sales-emea-north'), id('isaiah'))).toBe('done');
        expect(await d.removeGroupMember(id('sales-emea-north'), id('diego'))).toBe('done');
        expect(await d.listGroupTransitiveMembers(id('sales-emea-north'))).toEqual([]);
        expect((await d.getGroup(id('sales-emea-north')))?.memberIds).toEqual([]);
        expect(await d.removeGroupMember(id('finance'), id('patti'))).toBe('done');
        expect(await d.removeGroupMember(id('finance'), id('patti'))).toBe('notFound');
        expect(ids(await d.listGroupTransitiveMembers(id('finance')))).toEqual(keyIds('diego'));
      });

      it('removes an application assignment once', async () => {
        expect(await d.removeApplicationAssignment(id('payroll'), id('adele'))).toBe('done');
        expect(ids(await d.listApplicationAssignees(id('payroll')))).not.toContain(id('adele'));
        expect(await d.removeApplicationAssignment(id('payroll'), id('adele'))).toBe('notFound');
        expect(await d.removeApplicationAssignment(UNKNOWN_ID, id('megan'))).toBe('notFound');
      });

      it('blocks sign-in and restores it, each idempotent', async () => {
        expect(await d.setAccountEnabled(id('gina'), false)).toBe('done');
        expect((await d.getUser(id('gina')))?.accountEnabled).toBe(false);
        if (f.signIn) await expect(f.signIn('gina')).rejects.toThrow();
        expect(await d.setAccountEnabled(id('gina'), false)).toBe('done');
        expect((await d.getUser(id('gina')))?.accountEnabled).toBe(false);
        expect(await d.setAccountEnabled(id('gina'), true)).toBe('done');
        expect(await d.setAccountEnabled(id('gina'), true)).toBe('done');
        expect((await d.getUser(id('gina')))?.accountEnabled).toBe(true);
        if (f.signIn) await f.signIn('gina');
        expect(await d.setAccountEnabled(UNKNOWN_ID, false)).toBe('notFound');
      });

      it('deletes a user and every membership with it; again it is notFound', async () => {
        expect(await d.deleteUser(id('grady'))).toBe('done');
        expect(await d.getUser(id('grady'))).toBeUndefined();
        expect(ids(await d.listGroupTransitiveMembers(id('sales')))).not.toContain(id('grady'));
        expect((await d.getGroup(id('sales')))?.memberIds).not.toContain(id('grady'));
        expect(await d.deleteUser(id('grady'))).toBe('notFound');
      });

      it('maps a gone object to AppliedSuccessfullyButObjectNotFound when applying decisions', async () => {
        const ledger = new InMemoryApplyLedger();
        const before = (await d.getGroup(id('bulk')))!.memberIds.length;
        const { results } = await applyDecisionItems(
          d,
          ledger,
          {
            instanceId: 'contract-apply',
            resource: { type: 'group', id: id('bulk') },
            denyAction: 'removeAccess',
            items: [
              { itemId: 'i1', principalId: id(bulkUserKey(1)), decision: 'Deny' },
              { itemId: 'i2', principalId: UNKNOWN_ID, decision: 'Deny' },
              { itemId: 'i3', principalId: id(bulkUserKey(2)), decision: 'Approve' },
            ],
          },
          () => undefined,
        );
        expect(results.map((r) => r.result)).toEqual([
          'AppliedSuccessfully',
          'AppliedSuccessfullyButObjectNotFound',
          'AppliedSuccessfully',
        ]);
        expect((await d.getGroup(id('bulk')))?.memberIds).toHaveLength(before - 1);
      });
    });

    // An in-process directory has no connection to lose: these run for servers only.
    (has.network ? describe : describe.skip)('transient failures', () => {
      const unavailable = expect.any(DirectoryUnavailableError) as unknown;
      // Short timeouts, so a hung server fails fast even where reads need long ones.
      let d: Directory;
      beforeAll(() => {
        d = f.faultDirectory ?? f.directory;
      });

      it('a connection reset mid-call is DirectoryUnavailableError, and the next call reconnects', async () => {
        expect(await d.getUser(id('megan'))).toBeDefined(); // a pooled connection is open
        f.faults!.stall();
        const inFlight = d.getUser(id('megan'));
        await new Promise((r) => setTimeout(r, 200));
        f.faults!.reset();
        f.faults!.heal();
        await expect(inFlight).rejects.toEqual(unavailable);
        await expect(d.getUser(id('megan'))).resolves.toMatchObject({ id: id('megan') });
      });

      it('a server that stops answering times out as DirectoryUnavailableError', async () => {
        f.faults!.stall();
        try {
          await expect(d.getUser(id('megan'))).rejects.toEqual(unavailable);
        } finally {
          f.faults!.heal();
        }
        await expect(d.getUser(id('megan'))).resolves.toBeDefined();
      });

      it('a server that is down fails the apply as retryable, and the retry resumes from the ledger', async () => {
        const ledger = new InMemoryApplyLedger();
        const input = {
          instanceId: 'contract-outage',
          resource: { type: 'group' as const, id: id('bulk') },
          denyAction: 'removeAccess' as const,
          items: [{ itemId: 'o1', principalId: id(bulkUserKey(3)), decision: 'Deny' as const }],
        };
        await f.faults!.down();
        try {
          await expect(applyDecisionItems(d, ledger, input, () => undefined)).rejects.toEqual(unavailable);
          expect(await ledger.get('contract-outage/o1')).toBe('Pending');
        } finally {
          await f.faults!.up();
        }
        const { results } = await applyDecisionItems(d, ledger, input, () => undefined);
        expect(results[0]?.result).toBe('AppliedSuccessfully');
        expect(await ledger.get('contract-outage/o1')).toBe('AppliedSuccessfully');
        expect((await d.getGroup(id('bulk')))?.memberIds).not.toContain(id(bulkUserKey(3)));
      });
    });
  });
}
