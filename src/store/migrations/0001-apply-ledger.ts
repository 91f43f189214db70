import type { Kysely } from 'kysely';
import { sql } from 'kysely';

/** The apply ledger: one row per decision item, Pending while its directory write may be under way. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('apply_ledger')
    .addColumn('key', 'text', (col) => col.primaryKey())
    .addColumn('entry', 'text', (col) => col.notNull())
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('apply_ledger').execute();
}
