import type { Kysely } from 'kysely';
import { sql } from 'kysely';

/** Out-of-office delegations: while one lasts, the stages that start give the user's items to the delegate. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('review_delegations')
    .addColumn('user_id', 'text', (col) => col.primaryKey())
    .addColumn('end_date_time', 'timestamptz', (col) => col.notNull())
    .addColumn('delegation', 'jsonb', (col) => col.notNull())
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('review_delegations').execute();
}
