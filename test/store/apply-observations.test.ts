import type { Kysely } from 'kysely';
import type { ApplyObservation } from '../../src/domain/apply-observations';
import { readBack, recordReadBack } from '../../src/activities/read-back';
import { EmbeddedDirectory } from '../../src/directory/embedded';
import type { ApplyObservationStore } from '../../src/store/apply-observations';
import { InMemoryApplyObservations } from '../../src/store/apply-observations';
import { createDatabase } from '../../src/store/database';
import { migrateToLatest } from '../../src/store/migrations';
import { PostgresApplyObservations } from '../../src/store/postgres-apply-observations';
import type { Database } from '../../src/store/schema';
import type { TestDatabase } from '../helpers/postgres';
import { createTestDatabase } from '../helpers/postgres';
import { application, group, user } from '../helpers/review-harness';

let database: TestDatabase;
let db: Kysely<Database>;
beforeAll(async () => {
  database = await createTestDatabase();
  db = createDatabase(database.url);
  await migrateToLatest(db);
});
afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});

const AT = '2025-03-01T10:00:00.000Z';
const seen = (directMember: boolean, at = AT): ApplyObservation => ({
  check: 'groupMembership',
  groupId: 'team',
  groupFound: true,
  directMember,
  transitiveMember: directMember,
  observedDateTime: at,
});

describe.each([
  ['in memory', () => new InMemoryApplyObservations()],
  ['in PostgreSQL', () => new PostgresApplyObservations(db)],
] as const)('apply observations %s', (_label, create) => {
  let store: ApplyObservationStore;
  let instanceId: string;
  let n = 0;
  beforeEach(() => {
    store = create();
    instanceId = `instance-${_label}-${++n}`;
  });

  it('keeps the first observation of an item: a retry adds nothing and replaces nothing', async () => {
    await store.add(instanceId, [{ itemId: 'a', observation: seen(false) }]);
    await store.add(instanceId, [
      { itemId: 'a', observation: seen(true, '2025-03-02T00:00:00.000Z') },
      { itemId: 'b', observation: seen(true) },
    ]);
    expect(await store.get(instanceId, ['a', 'b', 'c'])).toEqual(
      new Map([
        ['a', seen(false)],
        ['b', seen(true)],
      ]),
    );
    expect(await store.missing(instanceId, ['c', 'a', 'd', 'b'])).toEqual(['c', 'd']);
    expect(await store.missing(`${instanceId}-other`, ['a'])).toEqual(['a']);
  });
});

const fail = (err: unknown) => {
  throw err;
};

describe('reading the directory back after apply', () => {
  const tenant = () =>
    EmbeddedDirectory.inMemory({
      users: [user('ann'), user('bob'), user('cy', { userType: 'Guest' })],
      groups: [group('team', ['ann', 'inner']), group('inner', ['bob'])],
      applications: [application('app', ['ann'])],
    });
  const items = ['ann', 'bob', 'cy', 'gone'].map((p) => ({
    itemId: `item-${p}`,
    principalId: p,
    decision: 'Deny' as const,
  }));

  it('tells direct from transitive membership, assignments, and blocked or missing accounts', async () => {
    const directory = tenant();
    await directory.setAccountEnabled('cy', false);
    const group = await readBack(
      directory,
      { resource: { type: 'group', id: 'team' }, denyAction: 'removeAccess' },
      items,
      AT,
    );
    expect(group.map((o) => o.observation)).toEqual([
      {
        check: 'groupMembership',
        groupId: 'team',
        groupFound: true,
        directMember: true,
        transitiveMember: true,
        observedDateTime: AT,
      },
      {
        check: 'groupMembership',
        groupId: 'team',
        groupFound: true,
        directMember: false,
        transitiveMember: true,
        observedDateTime: AT,
      },
      {
        check: 'groupMembership',
        groupId: 'team',
        groupFound: true,
        directMember: false,
        transitiveMember: false,
        observedDateTime: AT,
      },
      {
        check: 'groupMembership',
        groupId: 'team',
        groupFound: true,
        directMember: false,
        transitiveMember: false,
        observedDateTime: AT,
      },
    ]);
    const app = await readBack(
      directory,
      { resource: { type: 'application', id: 'app' }, denyAction: 'removeAccess' },
      items.slice(0, 2),
      AT,
    );
    expect(
      app.map((o) => [o.itemId, o.observation.check === 'applicationAssignment' && o.observation.assigned]),
    ).toEqual([
      ['item-ann', true],
      ['item-bob', false],
    ]);
    const accounts = await readBack(
      directory,
      { resource: { type: 'group', id: 'team' }, denyAction: 'disableAndDeleteUser' },
      items.slice(2),
      AT,
    );
    expect(accounts.map((o) => o.observation)).toEqual([
      { check: 'account', userId: 'cy', userFound: true, accountEnabled: false, observedDateTime: AT },
      { check: 'account', userId: 'gone', userFound: false, accountEnabled: null, observedDateTime: AT },
    ]);
    const missingGroup = await readBack(
      directory,
      { resource: { type: 'group', id: 'nope' }, denyAction: 'removeAccess' },
      items.slice(0, 1),
      AT,
    );
    expect(missingGroup[0]!.observation).toMatchObject({
      groupFound: false,
      directMember: false,
      transitiveMember: false,
    });
  });

  it('reads again only for the items a retried apply has no observation of yet', async () => {
    const directory = tenant();
    const store = new PostgresApplyObservations(db);
    const input = {
      instanceId: 'readback-retry',
      resource: { type: 'group' as const, id: 'team' },
      denyAction: 'removeAccess' as const,
      items,
    };
    await store.add(input.instanceId, [{ itemId: 'item-ann', observation: seen(false) }]);
    expect(await recordReadBack(directory, store, input, () => AT, fail)).toBe(3);
    expect(await recordReadBack(directory, store, input, () => AT, fail)).toBe(0);
    const kept = await store.get(
      input.instanceId,
      items.map((i) => i.itemId),
    );
    expect(kept.get('item-ann')).toEqual(seen(false));
    expect(kept.get('item-bob')).toMatchObject({ directMember: false, transitiveMember: true });
  });
});
