import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { ApplyLedger, LedgerEntry } from './apply-ledger';
import { ledgerEntrySchema } from './apply-ledger';
import type { Database } from './schema';

/**
 * The apply ledger in PostgreSQL (table `apply_ledger`): one ledger for any number of workers on any
 * number of hosts. Every put is committed before it resolves, so an entry the activity has seen written
 * survives a worker crash; a put for a known key overwrites it (Pending, then the result).
 */
export class PostgresApplyLedger implements ApplyLedger {
  constructor(private readonly db: Kysely<Database>) {}

  async get(key: string): Promise<LedgerEntry | undefined> {
    const row = await this.db
      .selectFrom('apply_ledger')
      .select('entry')
      .where('key', '=', key)
      .executeTakeFirst();
    return row === undefined ? undefined : ledgerEntrySchema.parse(row.entry);
  }

  async put(key: string, entry: LedgerEntry): Promise<void> {
    await this.db
      .insertInto('apply_ledger')
      .values({ key, entry })
      .onConflict((oc) => oc.column('key').doUpdateSet({ entry, updated_at: sql<Date>`now()` }))
      .execute();
  }
}
