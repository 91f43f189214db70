import type { Kysely, Selectable } from 'kysely';
import { sql } from 'kysely';
import type { HistoryDefinition, HistoryOccurrence } from '../domain/history-definitions';
import type { ReportedReview } from '../domain/history-csv';
import type { ReviewedDefinition } from '../domain/history-scopes';
import { canonicalScopeQuery } from '../domain/history-scopes';
import type { ItemRecord } from '../domain/review-records';
import type { ScopeSpec } from '../domain/review-plan';
import type { Database, ReviewHistoryInstancesTable } from './schema';

/** A materialised history instance as stored. */
export interface StoredHistoryInstance {
  instanceId: string;
  definitionId: string;
  occurrence: number;
  periodStart: string;
  periodEnd: string;
  runDateTime: string;
  download: { token: string; expiresAt: string } | null;
}

/** A review the records hold whose period overlaps a report's, with the definition it came from. */
export interface ReviewInPeriod extends ReportedReview {
  definition: ReviewedDefinition;
}

/** Items read per query while a report streams: a page is about a megabyte of records. */
export const ITEM_PAGE_SIZE = 500;

const iso = (d: Date) => d.toISOString();

function instanceOf(row: Selectable<ReviewHistoryInstancesTable>): StoredHistoryInstance {
  return {
    instanceId: row.instance_id,
    definitionId: row.definition_id,
    occurrence: row.occurrence,
    periodStart: iso(row.period_start),
    periodEnd: iso(row.period_end),
    runDateTime: iso(row.run_at),
    download:
      row.download_token && row.download_expires_at
        ? { token: row.download_token, expiresAt: iso(row.download_expires_at) }
        : null,
  };
}

/**
 * Review history reports in PostgreSQL: history definitions and their instances, and the report's rows read
 * from the review records (review_instances, review_items, the InstanceStarted event of review_events).
 */
export class HistoryReportStore {
  constructor(private readonly db: Kysely<Database>) {}

  async createDefinition(definition: HistoryDefinition): Promise<void> {
    await this.db
      .insertInto('review_history_definitions')
      .values({
        definition_id: definition.id,
        created_at: new Date(definition.createdDateTime),
        definition: JSON.stringify(definition),
      })
      .execute();
  }

  async definition(id: string): Promise<HistoryDefinition | undefined> {
    const row = await this.db
      .selectFrom('review_history_definitions')
      .select('definition')
      .where('definition_id', '=', id)
      .executeTakeFirst();
    return row?.definition as HistoryDefinition | undefined;
  }

  /** Definitions oldest first, `top` of them after `skip`. */
  async definitions(skip: number, top: number): Promise<HistoryDefinition[]> {
    const rows = await this.db
      .selectFrom('review_history_definitions')
      .select('definition')
      .orderBy('created_at')
      .orderBy('definition_id')
      .offset(skip)
      .limit(top)
      .execute();
    return rows.map((r) => r.definition as HistoryDefinition);
  }

  /** Adds the occurrences not yet materialised (by definition and occurrence index: idempotent). */
  async materialise(
    definitionId: string,
    occurrences: (HistoryOccurrence & { instanceId: string })[],
  ): Promise<void> {
    if (occurrences.length === 0) return;
    await this.db
      .insertInto('review_history_instances')
      .values(
        occurrences.map((o) => ({
          instance_id: o.instanceId,
          definition_id: definitionId,
          occurrence: o.index,
          period_start: new Date(o.periodStart),
          period_end: new Date(o.periodEnd),
          run_at: new Date(o.runDateTime),
        })),
      )
      .onConflict((oc) => oc.doNothing())
      .execute();
  }

  /** A definition's instances, oldest occurrence first. */
  async instances(definitionId: string): Promise<StoredHistoryInstance[]> {
    const rows = await this.db
      .selectFrom('review_history_instances')
      .selectAll()
      .where('definition_id', '=', definitionId)
      .orderBy('occurrence')
      .execute();
    return rows.map(instanceOf);
  }

  async instance(definitionId: string, instanceId: string): Promise<StoredHistoryInstance | undefined> {
    const row = await this.db
      .selectFrom('review_history_instances')
      .selectAll()
      .where('definition_id', '=', definitionId)
      .where('instance_id', '=', instanceId)
      .executeTakeFirst();
    return row && instanceOf(row);
  }

  /** Replaces the instance's download link: the one before stops working. */
  async setDownload(instanceId: string, token: string, expiresAt: string): Promise<void> {
    await this.db
      .updateTable('review_history_instances')
      .set({ download_token: token, download_expires_at: new Date(expiresAt) })
      .where('instance_id', '=', instanceId)
      .execute();
  }

  /**
   * The reviews whose period overlaps [start, end], oldest first. Their start and end are compared as the
   * records write them (UTC ISO strings with milliseconds), so the bounds are written the same way.
   */
  async reviewsInPeriod(start: string, end: string): Promise<ReviewInPeriod[]> {
    const from = new Date(start).toISOString();
    const to = new Date(end).toISOString();
    const { rows } = await sql<{
      instance_id: string;
      definition_id: string;
      display_name: string;
      status: string;
      start_date_time: string;
      end_date_time: string;
      started: { at: string; plan: { scope: ScopeSpec } } | null;
    }>`
      select i.instance_id, i.definition_id,
             i.view->>'displayName' as display_name, i.view->>'status' as status,
             i.view->>'startDateTime' as start_date_time, i.view->>'endDateTime' as end_date_time,
             (select e.event from review_events e
               where e.stream_id = 'access-review/' || i.definition_id || '/' || i.instance_id
                 and e.seq = 1 and e.event->>'type' = 'InstanceStarted') as started
        from review_instances i
       where i.view->>'startDateTime' <= ${to} and i.view->>'endDateTime' >= ${from}
       order by i.view->>'startDateTime', i.instance_id`.execute(this.db);
    return rows.map((r) => ({
      instanceId: r.instance_id,
      definitionId: r.definition_id,
      displayName: r.display_name,
      status: r.status,
      startDateTime: r.start_date_time,
      endDateTime: r.end_date_time,
      createdDateTime: r.started?.at ?? null,
      definition: {
        id: r.definition_id,
        displayName: r.display_name,
        // Without its start event a review cannot be matched on its scope, only on id and name.
        scope: r.started
          ? canonicalScopeQuery(r.started.plan.scope)
          : { '@odata.type': '#microsoft.graph.accessReviewQueryScope', query: '' },
      },
    }));
  }

  /**
   * A review's item records in review order (holder, position), a page at a time: keyset pagination over
   * the review_items_report_order index, so a page costs the same however far into the review it is and
   * no more than one page is held at once.
   */
  async *itemPages(instanceId: string, pageSize = ITEM_PAGE_SIZE): AsyncGenerator<ItemRecord[]> {
    let after: { holder: number; position: number; itemId: string } | undefined;
    for (;;) {
      let query = this.db
        .selectFrom('review_items')
        .select(['holder', 'position', 'item_id', 'record'])
        .where('instance_id', '=', instanceId);
      if (after) {
        const a = after;
        query = query.where(
          sql<boolean>`(holder, position, item_id) > (${a.holder}, ${a.position}, ${a.itemId})`,
        );
      }
      const rows = await query
        .orderBy('holder')
        .orderBy('position')
        .orderBy('item_id')
        .limit(pageSize)
        .execute();
      if (rows.length === 0) return;
      const last = rows[rows.length - 1]!;
      after = { holder: last.holder, position: last.position, itemId: last.item_id };
      yield rows.map((r) => r.record as ItemRecord);
      if (rows.length < pageSize) return;
    }
  }
}
