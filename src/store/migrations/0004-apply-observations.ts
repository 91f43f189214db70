import type { Kysely } from 'kysely';
import { sql } from 'kysely';

/**
 * The directory state read back after each applied decision item (apply activity), keyed like
 * `review_items`, so the evidence export joins it to the item it belongs to.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('apply_observations')
    .addColumn('instance_id', 'text', (col) => col.notNull())
    .addColumn('item_id', 'text', (col) => col.notNull())
    .addColumn('observation', 'jsonb', (col) => col.notNull())
    .addColumn('recorded_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('apply_observations_pk', ['instance_id', 'item_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('apply_observations').execute();
}
