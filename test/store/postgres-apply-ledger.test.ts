import { spawn } from 'node:child_process';
import path from 'node:path';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { createDatabase } from '../../src/store/database';
import { migrateToLatest, migrations } from '../../src/store/migrations';
import { PostgresApplyLedger } from '../../src/store/postgres-apply-ledger';
import type { Database } from '../../src/store/schema';
import type { TestDatabase } from '../helpers/postgres';
import { createTestDatabase } from '../helpers/postgres';

// The apply ledger and the migrations against a real PostgreSQL (test/helpers/postgres.ts): every test
// that migrates gets an empty database of its own.

const projectRoot = path.resolve(__dirname, '..', '..');
const opened: Kysely<Database>[] = [];
const databases: TestDatabase[] = [];
afterAll(async () => {
  await Promise.all(opened.map((db) => db.destroy()));
  await Promise.all(databases.map((d) => d.drop()));
});

/** A new, empty database and `n` Kysely instances on it, each with a pool of its own. */
async function freshDatabase(n = 1): Promise<{ url: string; dbs: Kysely<Database>[] }> {
  const database = await createTestDatabase();
  databases.push(database);
  const dbs = Array.from({ length: n }, () => createDatabase(database.url));
  opened.push(...dbs);
  return { url: database.url, dbs };
}

async function migratedLedgers(n = 1) {
  const { dbs } = await freshDatabase(n);
  await migrateToLatest(dbs[0]!);
  return { dbs, ledgers: dbs.map((db) => new PostgresApplyLedger(db)) };
}

/** The migrations Kysely has recorded as applied, by name. */
async function appliedMigrations(db: Kysely<Database>): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db);
  return rows.map((r) => r.name);
}

describe('PostgresApplyLedger', () => {
  it('returns what was put and nothing for a key it never saw', async () => {
    const { ledgers } = await migratedLedgers();
    const [ledger] = ledgers;
    await ledger!.put('instance-1/item-1', 'AppliedSuccessfully');
    await ledger!.put('instance-1/item-2', 'AppliedSuccessfullyButObjectNotFound');
    expect(await ledger!.get('instance-1/item-1')).toBe('AppliedSuccessfully');
    expect(await ledger!.get('instance-1/item-2')).toBe('AppliedSuccessfullyButObjectNotFound');
    expect(await ledger!.get('instance-1/item-3')).toBeUndefined();
    expect(await ledger!.get('instance-2/item-1')).toBeUndefined();
  });

  it('overwrites Pending with the result in one row and moves updated_at on', async () => {
    const { dbs, ledgers } = await migratedLedgers();
    const [ledger] = ledgers;
    await ledger!.put('instance-1/item-1', 'Pending');
    expect(await ledger!.get('instance-1/item-1')).toBe('Pending');
    const before = await dbs[0]!.selectFrom('apply_ledger').selectAll().execute();
    await ledger!.put('instance-1/item-1', 'AppliedWithUnknownFailure');
    expect(await ledger!.get('instance-1/item-1')).toBe('AppliedWithUnknownFailure');
    const after = await dbs[0]!.selectFrom('apply_ledger').selectAll().execute();
    expect(after).toHaveLength(1);
    expect(before).toHaveLength(1);
    expect(after[0]!.entry).toBe('AppliedWithUnknownFailure');
    expect(after[0]!.updated_at.getTime()).toBeGreaterThan(before[0]!.updated_at.getTime());
  });

  it('shares its entries between ledgers on the same database (workers on other hosts)', async () => {
    const { ledgers } = await migratedLedgers(2);
    const [a, b] = ledgers;
    await a!.put('instance-1/item-1', 'Pending');
    expect(await b!.get('instance-1/item-1')).toBe('Pending');
    await b!.put('instance-1/item-1', 'AppliedSuccessfully');
    expect(await a!.get('instance-1/item-1')).toBe('AppliedSuccessfully');
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? a : b)!.put(`instance-2/item-${i}`, 'AppliedSuccessfully'),
      ),
    );
    const seen = await Promise.all(Array.from({ length: 20 }, (_, i) => a!.get(`instance-2/item-${i}`)));
    expect(seen).toEqual(Array(20).fill('AppliedSuccessfully'));
  });

  it('refuses an entry that is neither an apply result nor Pending', async () => {
    const { dbs, ledgers } = await migratedLedgers();
    await dbs[0]!.insertInto('apply_ledger').values({ key: 'instance-1/item-1', entry: 'Maybe' }).execute();
    await expect(ledgers[0]!.get('instance-1/item-1')).rejects.toThrow();
  });
});

describe('the migrations', () => {
  it('create the apply ledger on an empty database, and a second run changes nothing', async () => {
    const { dbs } = await freshDatabase();
    const [db] = dbs;
    expect(await migrateToLatest(db!)).toEqual(Object.keys(migrations));
    await new PostgresApplyLedger(db!).put('instance-1/item-1', 'AppliedSuccessfully');
    expect(await migrateToLatest(db!)).toEqual([]);
    expect(await appliedMigrations(db!)).toEqual(Object.keys(migrations));
    expect(await new PostgresApplyLedger(db!).get('instance-1/item-1')).toBe('AppliedSuccessfully');
  });

  it('apply each migration once when several instances migrate the same database at the same moment', async () => {
    const { dbs } = await freshDatabase(5);
    const applied = await Promise.all(dbs.map((db) => migrateToLatest(db)));
    expect(applied.flat()).toEqual(Object.keys(migrations));
    expect(await appliedMigrations(dbs[0]!)).toEqual(Object.keys(migrations));
    await new PostgresApplyLedger(dbs[1]!).put('k', 'Pending');
    expect(await new PostgresApplyLedger(dbs[4]!).get('k')).toBe('Pending');
  });

  it('apply each migration once when two processes start against an empty database at once', async () => {
    const { url, dbs } = await freshDatabase();
    const at = Date.now() + 5_000;
    const runs = await Promise.all(
      [1, 2].map(
        () =>
          new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
            const child = spawn(
              process.execPath,
              ['--import', 'tsx', 'test/fixtures/migrate-database.ts', url, String(at)],
              { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] },
            );
            let stdout = '';
            let stderr = '';
            child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
            child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
            child.once('exit', (code) => resolve({ code, stdout, stderr }));
          }),
      ),
    );
    expect(runs.map((r) => ({ code: r.code, stderr: r.stderr }))).toEqual([
      { code: 0, stderr: '' },
      { code: 0, stderr: '' },
    ]);
    const applied = runs.map((r) => JSON.parse(r.stdout) as string[]);
    expect(applied.flat()).toEqual(Object.keys(migrations));
    expect(await appliedMigrations(dbs[0]!)).toEqual(Object.keys(migrations));
  });
});
