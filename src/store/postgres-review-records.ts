import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { ContactedReviewerView } from '../domain/graph-resources';
import type { InstanceRecord, ItemRecord, RecordBatch } from '../domain/review-records';
import { getRecordedDecision, listRecordedDecisions } from '../domain/review-records';
import type { Viewer } from '../domain/review-rules';
import type { InstanceView } from '../domain/review-views';
import type { RecordedDecisionQuery, ReviewRecordStore } from './review-records';
import { firstContacted, instanceNotFound } from './review-records';
import type { Database } from './schema';

/**
 * The review records in PostgreSQL, for any number of workers and API servers. A batch is one
 * transaction: its events are inserted once per (stream, seq), and each row moves only to a later version,
 * so retries, replays and batches arriving out of order leave the same rows.
 */
export class PostgresReviewRecords implements ReviewRecordStore {
  constructor(private readonly db: Kysely<Database>) {}

  async write(batch: RecordBatch): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      if (batch.events.length > 0) {
        await tx
          .insertInto('review_events')
          .values(
            batch.events.map((e) => ({
              stream_id: batch.streamId,
              seq: e.seq,
              instance_id: batch.instanceId,
              event: JSON.stringify(e.event),
            })),
          )
          .onConflict((oc) => oc.columns(['stream_id', 'seq']).doNothing())
          .execute();
      }
      if (batch.instance) {
        await tx
          .insertInto('review_instances')
          .values({
            instance_id: batch.instanceId,
            definition_id: batch.definitionId,
            version: batch.version,
            histories_for_reviewers: batch.decisionHistoriesForReviewersEnabled,
            view: JSON.stringify(batch.instance),
          })
          .onConflict((oc) =>
            oc
              .column('instance_id')
              .doUpdateSet((eb) => ({
                version: eb.ref('excluded.version'),
                histories_for_reviewers: eb.ref('excluded.histories_for_reviewers'),
                view: eb.ref('excluded.view'),
                updated_at: sql`now()`,
              }))
              .where('review_instances.version', '<=', (eb) => eb.ref('excluded.version')),
          )
          .execute();
      }
      if (batch.items.length > 0) {
        await tx
          .insertInto('review_items')
          .values(
            batch.items.map((item) => ({
              instance_id: batch.instanceId,
              item_id: item.itemId,
              version: batch.version,
              holder: item.order[0],
              position: item.order[1],
              principal_id: item.principalId,
              current_reviewer_ids: item.currentReviewerIds,
              record: JSON.stringify(item),
            })),
          )
          .onConflict((oc) =>
            oc
              .columns(['instance_id', 'item_id'])
              .doUpdateSet((eb) => ({
                version: eb.ref('excluded.version'),
                holder: eb.ref('excluded.holder'),
                position: eb.ref('excluded.position'),
                current_reviewer_ids: eb.ref('excluded.current_reviewer_ids'),
                record: eb.ref('excluded.record'),
              }))
              .where('review_items.version', '<=', (eb) => eb.ref('excluded.version')),
          )
          .execute();
      }
      if (batch.contacted.length > 0) {
        await tx
          .insertInto('review_contacted')
          .values({
            instance_id: batch.instanceId,
            stream_id: batch.streamId,
            version: batch.version,
            reviewers: JSON.stringify(batch.contacted),
          })
          .onConflict((oc) =>
            oc
              .columns(['instance_id', 'stream_id'])
              .doUpdateSet((eb) => ({
                version: eb.ref('excluded.version'),
                reviewers: eb.ref('excluded.reviewers'),
              }))
              .where('review_contacted.version', '<=', (eb) => eb.ref('excluded.version')),
          )
          .execute();
      }
    });
  }

  async instance(instanceId: string): Promise<InstanceRecord | undefined> {
    const row = await this.db
      .selectFrom('review_instances')
      .select(['definition_id', 'view', 'histories_for_reviewers'])
      .where('instance_id', '=', instanceId)
      .executeTakeFirst();
    return (
      row && {
        definitionId: row.definition_id,
        view: row.view as InstanceView,
        decisionHistoriesForReviewersEnabled: row.histories_for_reviewers,
      }
    );
  }

  async instancesOf(definitionId: string) {
    const rows = await this.db
      .selectFrom('review_instances')
      .select(['instance_id', 'definition_id', 'view', 'histories_for_reviewers'])
      .where('definition_id', '=', definitionId)
      .execute();
    return rows.map((row) => ({
      instanceId: row.instance_id,
      definitionId: row.definition_id,
      view: row.view as InstanceView,
      decisionHistoriesForReviewersEnabled: row.histories_for_reviewers,
    }));
  }

  /** The items a viewer may see, narrowed in SQL: a reviewer outside a stage sees only what they review now. */
  private async items(instanceId: string, viewer: Viewer, stageId?: string, principalId?: string) {
    let query = this.db
      .selectFrom('review_items')
      .select('record')
      .where('instance_id', '=', instanceId)
      .orderBy('holder')
      .orderBy('position');
    if (principalId !== undefined) query = query.where('principal_id', '=', principalId);
    if (viewer.kind === 'reviewer' && stageId === undefined) {
      query = query.where(sql<boolean>`current_reviewer_ids @> ARRAY[${viewer.userId}]::text[]`);
    }
    return (await query.execute()).map((row) => row.record as ItemRecord);
  }

  async decisions(instanceId: string, q: RecordedDecisionQuery) {
    const instance = await this.instance(instanceId);
    if (!instance) return instanceNotFound(instanceId);
    return listRecordedDecisions(
      instance,
      await this.items(instanceId, q.viewer, q.stageId, q.principalId),
      q,
    );
  }

  async decision(instanceId: string, itemId: string, viewer: Viewer, stageId?: string) {
    const instance = await this.instance(instanceId);
    if (!instance) return instanceNotFound(instanceId);
    const row = await this.db
      .selectFrom('review_items')
      .select('record')
      .where('instance_id', '=', instanceId)
      .where('item_id', '=', itemId)
      .executeTakeFirst();
    return getRecordedDecision(instance, row?.record as ItemRecord | undefined, viewer, stageId);
  }

  async contacted(instanceId: string): Promise<ContactedReviewerView[]> {
    const rows = await this.db
      .selectFrom('review_contacted')
      .select('reviewers')
      .where('instance_id', '=', instanceId)
      .execute();
    return firstContacted(rows.map((row) => row.reviewers as ContactedReviewerView[]));
  }

  async events(instanceId: string) {
    const rows = await this.db
      .selectFrom('review_events')
      .select(['stream_id', 'seq', 'event'])
      .where('instance_id', '=', instanceId)
      .orderBy('stream_id')
      .orderBy('seq')
      .execute();
    return rows.map((row) => ({ streamId: row.stream_id, seq: row.seq, event: row.event }));
  }
}
