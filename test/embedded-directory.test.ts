import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EmbeddedDirectory } from '../src/directory/embedded';
import type { DirectoryUser, DirectoryWriteResult } from '../src/directory/port';
import { TenantFileError, tenantFileSchema } from '../src/directory/tenant-file';
import type { TenantFileInput } from '../src/directory/tenant-file';

const DEMO_TENANT = path.join(__dirname, '..', 'data', 'demo-tenant.json');
const tempRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'stagecoach-directory-'));
let tempCount = 0;

afterAll(() => fs.rmSync(tempRoot, { recursive: true, force: true }));

/** A state file path in a folder that does not exist yet, so open() has to create it. */
const freshStateFile = () => path.join(tempRoot, `case-${++tempCount}`, 'nested', 'directory.json');

const readJson = (file: string): unknown => JSON.parse(fs.readFileSync(file, 'utf8'));

const user = (id: string, extra: Partial<DirectoryUser> = {}): DirectoryUser => ({
  id,
  displayName: `User ${id}`,
  userPrincipalName: `${id}@contoso.com`,
  userType: 'Member',
  accountEnabled: true,
  createdDateTime: '2024-01-01T00:00:00Z',
  ...extra,
});

/** A small tenant: u1 manages u2 and u3; g1 has members u1,u2 and owner u1; app a1 is assigned u2,u3. */
const smallTenant = (): TenantFileInput => ({
  users: [user('u1'), user('u2', { managerId: 'u1' }), user('u3', { managerId: 'u1' }), user('u4')],
  groups: [
    { id: 'g1', displayName: 'Group 1', memberIds: ['u1', 'u2'], ownerIds: ['u1'] },
    { id: 'g2', displayName: 'Group 2', memberIds: ['u3', 'g1'], ownerIds: ['u4'] },
  ],
  applications: [{ id: 'a1', displayName: 'App 1', assignedUserIds: ['u2', 'u3'], ownerIds: ['u1'] }],
});

const ids = (users: DirectoryUser[] | undefined) => users?.map((u) => u.id);

const demoId = (displayName: string): string => {
  const tenant = tenantFileSchema.parse(readJson(DEMO_TENANT));
  const found = [...tenant.users, ...tenant.groups, ...tenant.applications].find(
    (o) => o.displayName === displayName,
  );
  if (found === undefined) throw new Error(`no demo object named ${displayName}`);
  return found.id;
};

describe('EmbeddedDirectory', () => {
  test('seeds the state file from the demo tenant on first open and keeps the demo cast intact', async () => {
    const stateFile = freshStateFile();
    const directory = await EmbeddedDirectory.open({ stateFile, seedFile: DEMO_TENANT });

    expect(readJson(stateFile)).toEqual(readJson(DEMO_TENANT));
    expect(await directory.snapshot()).toEqual({
      users: 50,
      members: 42,
      guests: 8,
      disabledUsers: 1,
      groups: 6,
      applications: 3,
    });

    const { users } = await directory.listUsers({ top: 1000, filter: 'Guest' });
    expect(users).toHaveLength(8);
    for (const guest of users) expect(guest.userPrincipalName).toMatch(/_.+#EXT#@contoso\.onmicrosoft\.com$/);

    const chain: string[] = [];
    let current = await directory.getUser(demoId('Lee Gu'));
    while (current !== undefined) {
      chain.push(current.displayName);
      current = await directory.getManager(current.id);
    }
    expect(chain).toEqual(['Lee Gu', 'Diego Siciliani', 'Debra Berger', 'Patti Fernandez']);

    // Finance Systems Users nests Finance Team (11) and Contoso Auditors (3) and adds Nestor and Debra.
    const financeSystems = await directory.listGroupTransitiveMembers(demoId('Finance Systems Users'));
    expect(financeSystems).toHaveLength(16);
    expect(ids(financeSystems)).toEqual(expect.arrayContaining([demoId('Ana Silva (Fabrikam)')]));

    const owners = await directory.listApplicationOwners(demoId('Salesforce'));
    expect(owners?.map((o) => o.displayName).sort()).toEqual(['Alex Wilber', 'Miriam Graham']);
  });

  test('the demo tenant has the inactive, never-signed-in, new, disabled and manager-less users the docs promise', () => {
    const { users } = tenantFileSchema.parse(readJson(DEMO_TENANT));
    const asOf = Date.parse('2026-11-01T00:00:00Z');
    const day = 24 * 60 * 60 * 1000;
    const names = (pick: (u: DirectoryUser) => boolean) => users.filter(pick).map((u) => u.displayName);
    const inactive = names(
      (u) => u.lastSignInDateTime != null && asOf - Date.parse(u.lastSignInDateTime) > 180 * day,
    );
    expect(inactive).toEqual(
      expect.arrayContaining(['Enrico Cattaneo', 'Pradeep Gupta', 'Omar Khalil', 'Chen Wei (Adatum)']),
    );
    expect(names((u) => u.lastSignInDateTime == null)).toEqual(
      expect.arrayContaining(['Sara Davis', 'Adele Vance', 'Dana Kowalski (Litware)']),
    );
    expect(names((u) => asOf - Date.parse(u.createdDateTime) < 30 * day)).toEqual(
      expect.arrayContaining(['Adele Vance', 'Joni Sherman', 'Priya Raman', 'Ben Carter (Northwind)']),
    );
    expect(names((u) => !u.accountEnabled)).toEqual(['Irvin Sayers']);
    expect(names((u) => u.userType === 'Member' && u.managerId == null)).toEqual([
      'Patti Fernandez',
      'Nestor Wilke',
      'Olivia Turner',
      'Backup Service Account',
    ]);
  });

  test('rejects a tenant whose managerId names no user, naming the id and where it is', () => {
    const tenant = { users: [user('u1'), user('u2', { managerId: 'ghost-manager' })] };
    expect(() => EmbeddedDirectory.inMemory(tenant)).toThrow(TenantFileError);
    expect(() => EmbeddedDirectory.inMemory(tenant)).toThrow(
      'users[1].managerId: managerId "ghost-manager" of user "u2" does not name a user',
    );
  });

  test.each([
    [
      'a group member that is neither user nor group',
      { users: [user('u1')], groups: [{ id: 'g1', displayName: 'G', memberIds: ['nobody'], ownerIds: [] }] },
      'groups[0].memberIds[0]: memberIds of group "g1" names "nobody", which is neither a user nor a group',
    ],
    [
      'a group owner that is a group',
      {
        users: [user('u1')],
        groups: [
          { id: 'g1', displayName: 'G1', memberIds: [], ownerIds: [] },
          { id: 'g2', displayName: 'G2', memberIds: [], ownerIds: ['g1'] },
        ],
      },
      'groups[1].ownerIds[0]: ownerIds of group "g2" names "g1", which is not a user',
    ],
    [
      'an assignment of an unknown user',
      { applications: [{ id: 'a1', displayName: 'A', assignedUserIds: ['u9'], ownerIds: [] }] },
      'applications[0].assignedUserIds[0]: assignedUserIds of application "a1" names "u9", which is not a user',
    ],
    [
      'an id used by a user and a group',
      { users: [user('x1')], groups: [{ id: 'x1', displayName: 'G', memberIds: [], ownerIds: [] }] },
      'groups[0].id: duplicate id "x1" (already used by users[0])',
    ],
    [
      'a misspelt property',
      { users: [{ ...user('u1'), managerID: 'u2' }] },
      'users[0]: Unrecognized key: "managerID"',
    ],
  ])('rejects %s', (_name, tenant, message) => {
    expect(() => EmbeddedDirectory.inMemory(tenant as TenantFileInput)).toThrow(message);
  });

  test('refuses to open a seed file with a dangling reference, naming the file and the id', async () => {
    const seedFile = path.join(tempRoot, 'bad-seed.json');
    fs.writeFileSync(seedFile, JSON.stringify({ users: [user('u1', { managerId: 'missing-boss' })] }));
    const stateFile = freshStateFile();
    await expect(EmbeddedDirectory.open({ stateFile, seedFile })).rejects.toThrow(
      new RegExp(`${seedFile}[\\s\\S]*"missing-boss"`),
    );
    expect(fs.existsSync(stateFile)).toBe(false);
  });

  test('lists transitive members through nested groups with a cycle, once each, users only', async () => {
    const directory = EmbeddedDirectory.inMemory({
      users: [user('u1'), user('u2'), user('u3'), user('u4')],
      groups: [
        { id: 'gA', displayName: 'A', memberIds: ['u1', 'gB'], ownerIds: [] },
        { id: 'gB', displayName: 'B', memberIds: ['u2', 'gC'], ownerIds: [] },
        { id: 'gC', displayName: 'C', memberIds: ['gA', 'u1', 'u3'], ownerIds: [] },
        { id: 'gSelf', displayName: 'Self', memberIds: ['gSelf', 'u4'], ownerIds: [] },
      ],
    });
    expect(ids(await directory.listGroupTransitiveMembers('gA'))?.sort()).toEqual(['u1', 'u2', 'u3']);
    expect(ids(await directory.listGroupTransitiveMembers('gC'))?.sort()).toEqual(['u1', 'u2', 'u3']);
    expect(ids(await directory.listGroupTransitiveMembers('gSelf'))).toEqual(['u4']);
    expect(await directory.listGroupTransitiveMembers('no-such-group')).toBeUndefined();
  });

  test('a removed group member stays removed after reopening the state file', async () => {
    const stateFile = freshStateFile();
    const first = await EmbeddedDirectory.open({ stateFile, seedFile: DEMO_TENANT });
    const finance = demoId('Finance Team');
    const ana = demoId('Ana Silva (Fabrikam)');

    expect(await first.removeGroupMember(finance, ana)).toBe('done');
    expect(await first.removeGroupMember(finance, ana)).toBe('notFound');

    const reopened = await EmbeddedDirectory.open({ stateFile, seedFile: DEMO_TENANT });
    expect((await reopened.getGroup(finance))?.memberIds).not.toContain(ana);
    expect((await reopened.getGroup(finance))?.memberIds).toHaveLength(10);
    expect(await reopened.getUser(ana)).toBeDefined();
  });

  test('concurrent writes all reach the state file and leave no temp files behind', async () => {
    const stateFile = freshStateFile();
    const directory = await EmbeddedDirectory.open({ stateFile, seedFile: DEMO_TENANT });
    const finance = await directory.getGroup(demoId('Finance Team'));
    const salesforce = await directory.getApplication(demoId('Salesforce'));
    if (finance === undefined || salesforce === undefined) throw new Error('demo tenant changed');
    const hana = demoId('Hana Sato (Proseware)');
    const lee = demoId('Lee Gu');

    // Issued a turn of the event loop apart, so later writes land while earlier saves are on disk.
    const writes: (() => Promise<DirectoryWriteResult>)[] = [
      ...finance.memberIds.map((id) => () => directory.removeGroupMember(finance.id, id)),
      ...salesforce.assignedUserIds.map(
        (id) => () => directory.removeApplicationAssignment(salesforce.id, id),
      ),
      () => directory.setAccountEnabled(lee, false),
      () => directory.deleteUser(hana),
    ];
    const pending: Promise<DirectoryWriteResult>[] = [];
    for (const write of writes) {
      pending.push(write());
      await new Promise((resolve) => setImmediate(resolve));
    }
    const results = await Promise.all(pending);
    expect(results.every((r) => r === 'done')).toBe(true);

    const reopened = await EmbeddedDirectory.open({ stateFile, seedFile: DEMO_TENANT });
    expect((await reopened.getGroup(finance.id))?.memberIds).toEqual([]);
    expect(await reopened.listApplicationAssignees(salesforce.id)).toEqual([]);
    expect((await reopened.getUser(lee))?.accountEnabled).toBe(false);
    expect(await reopened.getUser(hana)).toBeUndefined();
    expect(fs.readdirSync(path.dirname(stateFile))).toEqual(['directory.json']);
  });

  test('a write whose save failed reaches the state file on the next write, even an idempotent retry', async () => {
    const stateFile = freshStateFile();
    const folder = path.dirname(stateFile);
    const directory = await EmbeddedDirectory.open({ stateFile, seedFile: DEMO_TENANT });
    const lee = demoId('Lee Gu');

    fs.rmSync(folder, { recursive: true });
    fs.writeFileSync(folder, 'a file where the folder should be');
    await expect(directory.setAccountEnabled(lee, false)).rejects.toThrow();

    fs.rmSync(folder);
    expect(await directory.setAccountEnabled(lee, false)).toBe('done');
    const reopened = await EmbeddedDirectory.open({ stateFile, seedFile: DEMO_TENANT });
    expect((await reopened.getUser(lee))?.accountEnabled).toBe(false);
  });

  test('deleteUser removes the user from memberships, ownerships, assignments and reports, once', async () => {
    const directory = EmbeddedDirectory.inMemory(smallTenant());

    expect(await directory.deleteUser('u1')).toBe('done');

    expect(await directory.getUser('u1')).toBeUndefined();
    expect(await directory.getGroup('g1')).toMatchObject({ memberIds: ['u2'], ownerIds: [] });
    expect(ids(await directory.listGroupTransitiveMembers('g2'))?.sort()).toEqual(['u2', 'u3']);
    expect(await directory.listApplicationOwners('a1')).toEqual([]);
    expect((await directory.getUser('u2'))?.managerId).toBeNull();
    expect(await directory.getManager('u3')).toBeUndefined();
    expect(await directory.getUsers(['u1', 'u2'])).toHaveLength(1);

    expect(await directory.deleteUser('u1')).toBe('notFound');
    expect(await directory.removeApplicationAssignment('a1', 'u2')).toBe('done');
    expect(await directory.deleteUser('u2')).toBe('done');
    expect(ids(await directory.listApplicationAssignees('a1'))).toEqual(['u3']);
  });

  test('setAccountEnabled disables and re-enables an account, idempotently', async () => {
    const directory = EmbeddedDirectory.inMemory(smallTenant());
    expect(await directory.setAccountEnabled('u2', false)).toBe('done');
    expect((await directory.getUser('u2'))?.accountEnabled).toBe(false);
    expect(await directory.setAccountEnabled('u2', false)).toBe('done');
    expect((await directory.snapshot()).disabledUsers).toBe(1);
    expect(await directory.setAccountEnabled('u2', true)).toBe('done');
    expect((await directory.getUser('u2'))?.accountEnabled).toBe(true);
  });

  test('unknown ids read as undefined or are left out, and writes on them answer notFound', async () => {
    const directory = EmbeddedDirectory.inMemory(smallTenant());
    expect(await directory.getUser('nope')).toBeUndefined();
    expect(await directory.getManager('nope')).toBeUndefined();
    expect(await directory.getManager('u1')).toBeUndefined();
    expect(ids(await directory.getUsers(['u3', 'nope', 'u1']))).toEqual(['u3', 'u1']);
    expect(await directory.getGroup('nope')).toBeUndefined();
    expect(await directory.listGroupOwners('nope')).toBeUndefined();
    expect(await directory.getApplication('nope')).toBeUndefined();
    expect(await directory.listApplicationAssignees('nope')).toBeUndefined();
    expect(await directory.listApplicationOwners('nope')).toBeUndefined();

    expect(await directory.removeGroupMember('nope', 'u1')).toBe('notFound');
    expect(await directory.removeGroupMember('g1', 'nope')).toBe('notFound');
    // u2 belongs to g2 only through g1: there is no direct membership to remove.
    expect(await directory.removeGroupMember('g2', 'u2')).toBe('notFound');
    expect(await directory.removeApplicationAssignment('nope', 'u2')).toBe('notFound');
    expect(await directory.removeApplicationAssignment('a1', 'u1')).toBe('notFound');
    expect(await directory.setAccountEnabled('nope', false)).toBe('notFound');
    expect(await directory.deleteUser('nope')).toBe('notFound');
  });

  test('returned objects are copies: changing them does not change the directory', async () => {
    const directory = EmbeddedDirectory.inMemory(smallTenant());
    const u1 = await directory.getUser('u1');
    const g1 = await directory.getGroup('g1');
    if (u1 === undefined || g1 === undefined) throw new Error('missing');
    u1.accountEnabled = false;
    g1.memberIds.push('u4');
    expect((await directory.getUser('u1'))?.accountEnabled).toBe(true);
    expect((await directory.getGroup('g1'))?.memberIds).toEqual(['u1', 'u2']);
  });

  test('listUsers pages in tenant order and filters by userType with a total count', async () => {
    const directory = EmbeddedDirectory.inMemory({
      users: [
        user('m1'),
        user('x1', { userType: 'Guest' }),
        user('m2'),
        user('x2', { userType: 'Guest' }),
        user('m3'),
      ],
    });
    expect(await directory.listUsers({ skip: 1, top: 2 })).toMatchObject({ total: 5 });
    expect(ids((await directory.listUsers({ skip: 1, top: 2 })).users)).toEqual(['x1', 'm2']);
    expect(ids((await directory.listUsers({ skip: 1, top: 5, filter: 'Member' })).users)).toEqual([
      'm2',
      'm3',
    ]);
    expect((await directory.listUsers({ filter: 'Guest' })).total).toBe(2);
    expect((await directory.listUsers({ skip: 10 })).users).toEqual([]);
  });

  test('seedBulk adds objects that may reference loaded ones and refuses ids that already exist', async () => {
    const directory = EmbeddedDirectory.inMemory(smallTenant());
    await directory.seedBulk({
      users: [user('u5', { managerId: 'u1' })],
      groups: [{ id: 'g3', displayName: 'G3', memberIds: ['u5', 'g2'], ownerIds: ['u4'] }],
    });
    expect(ids(await directory.listGroupTransitiveMembers('g3'))?.sort()).toEqual(['u1', 'u2', 'u3', 'u5']);
    expect((await directory.getManager('u5'))?.id).toBe('u1');

    await expect(directory.seedBulk({ users: [user('u2')] })).rejects.toThrow(
      'duplicate id "u2" (already used by an existing object)',
    );
    await expect(
      directory.seedBulk({ groups: [{ id: 'g4', displayName: 'G4', memberIds: ['ghost'], ownerIds: [] }] }),
    ).rejects.toThrow('"ghost"');
    expect(await directory.getGroup('g4')).toBeUndefined();
  });

  test('a 100,000-member group loads, persists, reopens and lists every member once', async () => {
    const count = 100_000;
    const users = Array.from({ length: count }, (_, i) => user(`bulk-${i}`));
    const memberIds = users.map((u) => u.id);
    const stateFile = freshStateFile();
    const directory = await EmbeddedDirectory.open({ stateFile, seedFile: DEMO_TENANT });
    await directory.seedBulk({
      users,
      groups: [
        { id: 'bulk-all', displayName: 'Everyone (bulk)', memberIds: ['bulk-half'], ownerIds: [] },
        { id: 'bulk-half', displayName: 'Bulk', memberIds, ownerIds: [demoId('Patti Fernandez')] },
      ],
    });

    const reopened = await EmbeddedDirectory.open({ stateFile, seedFile: DEMO_TENANT });
    const members = await reopened.listGroupTransitiveMembers('bulk-all');
    expect(members).toHaveLength(count);
    expect(new Set(ids(members)).size).toBe(count);
    expect(ids(await reopened.getUsers(memberIds))).toEqual(memberIds);
    expect((await reopened.snapshot()).users).toBe(50 + count);

    expect(await reopened.removeGroupMember('bulk-half', 'bulk-99999')).toBe('done');
    expect(await reopened.listGroupTransitiveMembers('bulk-all')).toHaveLength(count - 1);
    expect((await reopened.listUsers({ skip: 50 + count - 1, top: 5 })).users.map((u) => u.id)).toEqual([
      'bulk-99999',
    ]);
  });
});
