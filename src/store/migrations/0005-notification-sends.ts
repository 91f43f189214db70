import type { Kysely } from 'kysely';
import { sql } from 'kysely';

/**
 * The notification ledger: one row per message a review sends (review, stage, recipient, kind), written
 * before the message goes out, so a retry, a crashed worker or a later run never sends it twice.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('notification_sends')
    .addColumn('key', 'text', (col) => col.primaryKey())
    .addColumn('state', 'text', (col) => col.notNull())
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('notification_sends').execute();
}
