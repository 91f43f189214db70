import type { Kysely, RawBuilder } from 'kysely';
import { sql } from 'kysely';
import type { ContactedReviewerView } from '../domain/graph-resources';
import type {
  DefinitionBatch,
  DefinitionRecord,
  InstanceRecord,
  ItemRecord,
  RecordBatch,
} from '../domain/review-records';
import { getRecordedDecision } from '../domain/review-records';
import type { RuleViolation, Viewer } from '../domain/review-rules';
import type { DecisionItemView, DecisionPage, InstanceView } from '../domain/review-views';
import { filterSql, orderSql } from './odata-sql';
import type {
  DefinitionListQuery,
  DefinitionPage,
  RecordedDecisionQuery,
  ReviewRecordStore,
} from './review-records';
import { FINISHED, firstContacted, instanceNotFound } from './review-records';
import type { Database } from './schema';

/**
 * The review records in PostgreSQL, for any number of workers and API servers. A batch is one
 * transaction: its events are kept once per (stream, seq), the latest write's, and each other row moves
 * only to a later version, so retries and replays leave the same rows.
 */
export class PostgresReviewRecords implements ReviewRecordStore {
  constructor(private readonly db: Kysely<Database>) {}

  async write(batch: RecordBatch): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      // A write that waits on a lock gives up soon; the workflow retries it without holding up its reviews.
      await sql`set local statement_timeout = '5s'`.execute(tx);
      // A worker writes a batch before its workflow task is saved; when that task fails, the workflow goes
      // on from its last saved task and numbers its events from there again. Its events replace what the
      // failed task wrote at the same numbers, and any it numbered beyond the stream's count are dropped.
      await tx
        .deleteFrom('review_events')
        .where('stream_id', '=', batch.streamId)
        .where('seq', '>', batch.version)
        .execute();
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
          .onConflict((oc) =>
            oc.columns(['stream_id', 'seq']).doUpdateSet((eb) => ({
              event: eb.ref('excluded.event'),
              recorded_at: sql`now()`,
            })),
          )
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

  async writeDefinition(batch: DefinitionBatch): Promise<void> {
    await this.db
      .insertInto('review_definitions')
      .values({
        definition_id: batch.definitionId,
        version: batch.version,
        ended: batch.record.ended,
        created_date_time: batch.record.definition.createdDateTime,
        record: JSON.stringify(batch.record),
      })
      .onConflict((oc) =>
        oc
          .column('definition_id')
          .doUpdateSet((eb) => ({
            version: eb.ref('excluded.version'),
            ended: eb.ref('excluded.ended'),
            record: eb.ref('excluded.record'),
            updated_at: sql`now()`,
          }))
          .where('review_definitions.version', '<=', (eb) => eb.ref('excluded.version')),
      )
      .execute();
  }

  async definition(definitionId: string): Promise<DefinitionRecord | undefined> {
    const row = await this.db
      .selectFrom('review_definitions')
      .select('record')
      .where('definition_id', '=', definitionId)
      .executeTakeFirst();
    return row?.record as DefinitionRecord | undefined;
  }

  async definitions(q: DefinitionListQuery): Promise<DefinitionPage> {
    const doc = sql`(review_definitions.record -> 'definition')`;
    let base = this.db.selectFrom('review_definitions').where('ended', '=', false);
    if (q.filter) base = base.where(filterSql(doc, q.filter));
    if (q.reviewerId !== undefined) {
      const reviewer = q.reviewerId;
      base = base.where((eb) =>
        eb.exists(
          eb
            .selectFrom('review_items')
            .innerJoin('review_instances', 'review_instances.instance_id', 'review_items.instance_id')
            .select(sql`1`.as('one'))
            .whereRef('review_instances.definition_id', '=', 'review_definitions.definition_id')
            .where(sql<boolean>`review_items.current_reviewer_ids @> ARRAY[${reviewer}]::text[]`),
        ),
      );
    }
    let page = base.select('record');
    for (const [expr, dir] of orderSql(doc, q.orderBy ?? [])) page = page.orderBy(expr, dir);
    page = page.orderBy('created_date_time').orderBy('definition_id').offset(q.skip).limit(q.top);
    const [rows, count] = await Promise.all([
      page.execute(),
      base.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { total: Number(count.n), value: rows.map((row) => row.record as DefinitionRecord) };
  }

  async reviews(instanceId: string, userId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('review_items')
      .select(sql`1`.as('one'))
      .where('instance_id', '=', instanceId)
      .where(sql<boolean>`current_reviewer_ids @> ARRAY[${userId}]::text[]`)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  async prune(before: Date): Promise<number> {
    return this.db.transaction().execute(async (tx) => {
      const gone = await tx
        .deleteFrom('review_instances')
        .where('updated_at', '<', before)
        .where(sql<boolean>`view ->> 'status' = any(${[...FINISHED]}::text[])`)
        .returning('instance_id')
        .execute();
      const ids = gone.map((r) => r.instance_id);
      if (ids.length > 0) {
        for (const table of ['review_items', 'review_contacted', 'review_events'] as const) {
          await tx.deleteFrom(table).where('instance_id', 'in', ids).execute();
        }
      }
      await tx
        .deleteFrom('review_definitions')
        .where('ended', '=', true)
        .where((eb) =>
          eb.not(
            eb.exists(
              eb
                .selectFrom('review_instances')
                .select(sql`1`.as('one'))
                .whereRef('review_instances.definition_id', '=', 'review_definitions.definition_id'),
            ),
          ),
        )
        .execute();
      return ids.length;
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

  /**
   * Decision items as the viewer may see them, entirely in SQL: which items they see (the rules of
   * `listRecordedDecisions`), $filter over the view they get, $orderby, the count and the page.
   */
  async decisions(instanceId: string, q: RecordedDecisionQuery): Promise<DecisionPage | RuleViolation> {
    const instance = await this.instance(instanceId);
    if (!instance) return instanceNotFound(instanceId);
    const { stageId, viewer } = q;
    if (stageId !== undefined && !instance.view.stages.some((s) => s.id === stageId)) {
      return { code: 'stage.not_found', status: 404, message: `No stage '${stageId}' in this review` };
    }
    const histories = instance.decisionHistoriesForReviewersEnabled;
    const reviewsNow = sql<boolean>`(review_items.current_reviewer_ids @> ARRAY[${viewer.userId}]::text[])`;
    let view: RawBuilder<unknown>;
    let visible: RawBuilder<boolean>;
    if (stageId === undefined) {
      view = sql`(review_items.record -> ${viewer.kind === 'admin' || histories ? 'view' : 'reviewerView'}::text)`;
      visible = viewer.kind === 'admin' ? sql<boolean>`true` : reviewsNow;
    } else {
      const vars = JSON.stringify({ s: stageId, u: viewer.userId });
      view = sql`(jsonb_path_query_first(review_items.record, '$.stages[*] ? (@.stageId == $s).view', ${vars}::jsonb))`;
      const inStage = sql<boolean>`(${view} is not null)`;
      if (viewer.kind === 'admin') visible = inStage;
      else {
        // R7: the current stage's reviewers see earlier stages' decisions of their items when enabled.
        const order = instance.view.stages.map((s) => s.id);
        const current = instance.view.currentStageId;
        const earlier = current !== null && order.indexOf(stageId) < order.indexOf(current);
        const reviewedThere = sql<boolean>`jsonb_path_exists(review_items.record, '$.stages[*] ? (@.stageId == $s && @.reviewerIds[*] == $u)', ${vars}::jsonb)`;
        visible =
          histories && earlier
            ? sql<boolean>`(${inStage} and (${reviewedThere} or ${reviewsNow}))`
            : sql<boolean>`(${inStage} and ${reviewedThere})`;
      }
    }
    let base = this.db
      .selectFrom('review_items')
      .where('review_items.instance_id', '=', instanceId)
      .where(visible);
    if (q.principalId !== undefined) base = base.where('principal_id', '=', q.principalId);
    if (q.decision !== undefined)
      base = base.where(sql<boolean>`(${view} ->> 'decision') = ${q.decision}::text`);
    if (q.filter) base = base.where(filterSql(view, q.filter));
    const count = base.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    if (q.top === 0) return { total: Number((await count).n), value: [] };
    let page = base.select(view.as('view'));
    for (const [expr, dir] of orderSql(view, q.orderBy ?? [])) page = page.orderBy(expr, dir);
    page = page.orderBy('holder').orderBy('position').offset(q.skip).limit(q.top);
    const [rows, n] = await Promise.all([page.execute(), count]);
    return { total: Number(n.n), value: rows.map((row) => row.view as DecisionItemView) };
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
