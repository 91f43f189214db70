import type { Kysely } from 'kysely';
import { sql } from 'kysely';

/**
 * Review history reports: the history definitions, the instances materialised for them (one per
 * occurrence whose time has come) with their current download link, and an index on the reviews' periods.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('review_history_definitions')
    .addColumn('definition_id', 'text', (col) => col.primaryKey())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull())
    .addColumn('definition', 'jsonb', (col) => col.notNull())
    .execute();
  await db.schema
    .createIndex('review_history_definitions_created')
    .on('review_history_definitions')
    .columns(['created_at', 'definition_id'])
    .execute();
  await db.schema
    .createTable('review_history_instances')
    .addColumn('instance_id', 'text', (col) => col.primaryKey())
    .addColumn('definition_id', 'text', (col) =>
      col.notNull().references('review_history_definitions.definition_id').onDelete('cascade'),
    )
    .addColumn('occurrence', 'integer', (col) => col.notNull())
    .addColumn('period_start', 'timestamptz', (col) => col.notNull())
    .addColumn('period_end', 'timestamptz', (col) => col.notNull())
    .addColumn('run_at', 'timestamptz', (col) => col.notNull())
    .addColumn('download_token', 'text')
    .addColumn('download_expires_at', 'timestamptz')
    .addUniqueConstraint('review_history_instances_occurrence', ['definition_id', 'occurrence'])
    .execute();
  // Reviews whose period overlaps a report's, without reading every instance's view.
  await sql`create index review_instances_period on review_instances
    (((view->>'startDateTime')), ((view->>'endDateTime')))`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('review_instances_period').execute();
  await db.schema.dropTable('review_history_instances').execute();
  await db.schema.dropTable('review_history_definitions').execute();
}
