import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { applyDecisionItems } from '../../src/activities/apply';
import type { ApplyInput } from '../../src/activities/apply';
import { EmbeddedDirectory } from '../../src/directory/embedded';
import type { ApplyLedger, LedgerEntry } from '../../src/store/apply-ledger';
import { createDatabase } from '../../src/store/database';
import { migrateToLatest } from '../../src/store/migrations';
import { PostgresApplyLedger } from '../../src/store/postgres-apply-ledger';
import type { TestDatabase } from '../helpers/postgres';
import { createTestDatabase } from '../helpers/postgres';
import { bigGroupTenant } from '../helpers/process-stack';

// apply-crash.test.ts kills the worker at a random moment of the apply; this file puts the kill at the one
// moment that matters for the ledger: after the directory saved a removal and before the ledger row for
// it got its result (src/activities/apply.ts: applyOne, then ledger.put). The retry on a restarted worker
// (new directory and ledger objects over the same file and database) must still report the item as
// applied once.

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stagecoach-ledger-window-'));
let database: TestDatabase;
const pools: ReturnType<typeof createDatabase>[] = [];
beforeAll(async () => {
  database = await createTestDatabase();
  const db = createDatabase(database.url);
  pools.push(db);
  await migrateToLatest(db);
});
afterAll(async () => {
  await Promise.all(pools.map((db) => db.destroy()));
  await database?.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A ledger over a connection pool of its own, as a freshly started worker has. */
function openLedger(): PostgresApplyLedger {
  const db = createDatabase(database.url);
  pools.push(db);
  return new PostgresApplyLedger(db);
}

class Crash extends Error {}

/** The ledger of a worker that dies before it records the result of `crashAt`: Pending stays. */
class CrashingLedger implements ApplyLedger {
  constructor(
    private readonly inner: ApplyLedger,
    private readonly crashAt: string,
  ) {}
  get(key: string) {
    return this.inner.get(key);
  }
  async put(key: string, entry: LedgerEntry) {
    // Dies after the directory write: Pending is recorded, the result never is.
    if (key === this.crashAt && entry !== 'Pending')
      throw new Crash(`worker killed before the ledger line of ${key}`);
    return this.inner.put(key, entry);
  }
}

describe('the apply ledger across a crash', () => {
  it('reports AppliedSuccessfully for a member removed just before the worker died, not ObjectNotFound', async () => {
    const { tenant, groupId, memberIds } = bigGroupTenant(5);
    const files = {
      seedFile: path.join(dir, 'tenant.json'),
      stateFile: path.join(dir, 'directory.json'),
    };
    fs.writeFileSync(files.seedFile, JSON.stringify(tenant));
    const input: ApplyInput = {
      instanceId: 'instance-1',
      resource: { type: 'group', id: groupId },
      denyAction: 'removeAccess',
      items: memberIds.slice(0, 3).map((principalId, i) => ({
        itemId: `item-${i}`,
        principalId,
        decision: 'Deny' as const,
      })),
    };

    // First attempt: item-1's member is removed and saved, then the worker dies.
    const killed = applyDecisionItems(
      await EmbeddedDirectory.open(files),
      new CrashingLedger(openLedger(), 'instance-1/item-1'),
      input,
      () => undefined,
    );
    await expect(killed).rejects.toBeInstanceOf(Crash);

    expect(await openLedger().get('instance-1/item-1')).toBe('Pending');

    // Retry on the restarted worker: fresh directory and ledger over the same file and database.
    const directory = await EmbeddedDirectory.open(files);
    const ledger = openLedger();
    const retry = await applyDecisionItems(directory, ledger, input, () => undefined);
    expect((await directory.getGroup(groupId))!.memberIds).toEqual(memberIds.slice(3));
    expect(retry.results).toEqual([
      { itemId: 'item-0', result: 'AppliedSuccessfully' },
      { itemId: 'item-1', result: 'AppliedSuccessfully' },
      { itemId: 'item-2', result: 'AppliedSuccessfully' },
    ]);
    expect(await ledger.get('instance-1/item-1')).toBe('AppliedSuccessfully');
  });
});
