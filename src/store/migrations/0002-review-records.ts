import type { Kysely } from 'kysely';
import { sql } from 'kysely';

/**
 * The review records: every event of every review stream once, and the latest record of each instance,
 * decision item and stream's contacted reviewers (a row only moves to a later version).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('review_events')
    .addColumn('stream_id', 'text', (col) => col.notNull())
    .addColumn('seq', 'integer', (col) => col.notNull())
    .addColumn('instance_id', 'text', (col) => col.notNull())
    .addColumn('event', 'jsonb', (col) => col.notNull())
    .addColumn('recorded_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('review_events_pk', ['stream_id', 'seq'])
    .execute();
  await db.schema.createIndex('review_events_instance').on('review_events').column('instance_id').execute();
  await db.schema
    .createTable('review_instances')
    .addColumn('instance_id', 'text', (col) => col.primaryKey())
    .addColumn('definition_id', 'text', (col) => col.notNull())
    .addColumn('version', 'integer', (col) => col.notNull())
    .addColumn('histories_for_reviewers', 'boolean', (col) => col.notNull())
    .addColumn('view', 'jsonb', (col) => col.notNull())
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('review_instances_definition')
    .on('review_instances')
    .column('definition_id')
    .execute();
  await db.schema
    .createTable('review_items')
    .addColumn('instance_id', 'text', (col) => col.notNull())
    .addColumn('item_id', 'text', (col) => col.notNull())
    .addColumn('version', 'integer', (col) => col.notNull())
    .addColumn('holder', 'integer', (col) => col.notNull())
    .addColumn('position', 'integer', (col) => col.notNull())
    .addColumn('principal_id', 'text', (col) => col.notNull())
    .addColumn('current_reviewer_ids', sql`text[]`, (col) => col.notNull())
    .addColumn('record', 'jsonb', (col) => col.notNull())
    .addPrimaryKeyConstraint('review_items_pk', ['instance_id', 'item_id'])
    .execute();
  // Decision items in review order, page by page (lists, reports, evidence).
  await db.schema
    .createIndex('review_items_order')
    .on('review_items')
    .columns(['instance_id', 'holder', 'position', 'item_id'])
    .execute();
  // The reviewer inbox: the items someone reviews now, across every review.
  await db.schema
    .createIndex('review_items_current_reviewers')
    .on('review_items')
    .using('gin')
    .column('current_reviewer_ids')
    .execute();
  await db.schema
    .createTable('review_definitions')
    .addColumn('definition_id', 'text', (col) => col.primaryKey())
    .addColumn('version', 'integer', (col) => col.notNull())
    .addColumn('ended', 'boolean', (col) => col.notNull())
    .addColumn('created_date_time', 'text', (col) => col.notNull())
    .addColumn('record', 'jsonb', (col) => col.notNull())
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  // The admin list: definitions still defined, oldest first.
  await db.schema
    .createIndex('review_definitions_listed')
    .on('review_definitions')
    .columns(['ended', 'created_date_time', 'definition_id'])
    .execute();
  await db.schema
    .createTable('review_contacted')
    .addColumn('instance_id', 'text', (col) => col.notNull())
    .addColumn('stream_id', 'text', (col) => col.notNull())
    .addColumn('version', 'integer', (col) => col.notNull())
    .addColumn('reviewers', 'jsonb', (col) => col.notNull())
    .addPrimaryKeyConstraint('review_contacted_pk', ['instance_id', 'stream_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'review_contacted',
    'review_definitions',
    'review_items',
    'review_instances',
    'review_events',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
