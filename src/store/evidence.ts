import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { ApplyObservation } from '../domain/apply-observations';
import { applyObservationSchema } from '../domain/apply-observations';
import type { InstanceFacts, StreamTrail, TrailEvent } from '../domain/evidence-trail';
import { emptyTrail, foldTrail, TRAIL_EVENT_TYPES } from '../domain/evidence-trail';
import { instanceWorkflowId, shardWorkflowId } from '../domain/ids';
import type { ReviewedResource } from '../domain/review-events';
import type { ReviewPlan } from '../domain/review-plan';
import type { ItemRecord } from '../domain/review-records';
import type { InstanceView } from '../domain/review-views';
import type { Database } from './schema';

/** One decision item as the evidence needs it: its record, its stream's trail and its read-back. */
export interface EvidenceItem {
  record: ItemRecord;
  trail: StreamTrail;
  observation: ApplyObservation | undefined;
}

/** Where evidence comes from: the review records alone (no workflow, no worker needed). */
export interface EvidenceSource {
  /** What the records hold of an instance for its header; undefined when they do not know it. */
  instance(instanceId: string): Promise<InstanceFacts | undefined>;
  /** The instance's decision items in review order (holder, then position), read page by page. */
  items(instanceId: string, facts: InstanceFacts): AsyncIterable<EvidenceItem>;
}

/** Rows per query: a page of items or of events is a few hundred KB at most. */
const PAGE = 500;

/**
 * Evidence from the review records in PostgreSQL. Items are read in keyset order (holder, position,
 * item id) a page at a time, each page with its apply observations; the events of each stream are read
 * (a page at a time, projected to the few fields the trail needs) just before that stream's items, so
 * memory holds one stream's trail — at most a shard's items — never the whole instance.
 */
export class PostgresEvidence implements EvidenceSource {
  constructor(private readonly db: Kysely<Database>) {}

  async instance(instanceId: string): Promise<InstanceFacts | undefined> {
    const row = await this.db
      .selectFrom('review_instances')
      .select(['definition_id', 'view'])
      .where('instance_id', '=', instanceId)
      .executeTakeFirst();
    if (!row) return undefined;
    const streamId = instanceWorkflowId(row.definition_id, instanceId);
    const started = await this.db
      .selectFrom('review_events')
      .select(sql<ReviewPlan>`event->'plan'`.as('plan'))
      .where('stream_id', '=', streamId)
      .where(sql<string>`event->>'type'`, '=', 'InstanceStarted')
      .orderBy('seq')
      .limit(1)
      .executeTakeFirst();
    if (!started) return undefined;
    const resolved = await this.db
      .selectFrom('review_events')
      .select(sql<ReviewedResource>`event->'resource'`.as('resource'))
      .where('stream_id', '=', streamId)
      .where(sql<string>`event->>'type'`, '=', 'RevieweesResolved')
      .orderBy('seq')
      .limit(1)
      .executeTakeFirst();
    const changes = await this.db
      .selectFrom('review_events')
      .select([
        sql<string>`event->>'at'`.as('at'),
        sql<string>`event->>'by'`.as('by'),
        sql<number>`(event->>'stageIndex')::int`.as('stageIndex'),
        sql<InstanceFacts['reviewerChanges'][number]['reviewers']>`event->'reviewers'`.as('reviewers'),
        sql<InstanceFacts['reviewerChanges'][number]['reviewers']>`event->'fallbackReviewers'`.as(
          'fallbackReviewers',
        ),
      ])
      .where('stream_id', '=', streamId)
      .where(sql<string>`event->>'type'`, '=', 'StageReviewersChanged')
      .orderBy('seq')
      .execute();
    return {
      definitionId: row.definition_id,
      view: row.view as InstanceView,
      plan: started.plan,
      resource: resolved?.resource ?? undefined,
      reviewerChanges: changes,
    };
  }

  async *items(instanceId: string, facts: InstanceFacts): AsyncGenerator<EvidenceItem> {
    const instanceStream = instanceWorkflowId(facts.definitionId, instanceId);
    const holders = facts.view.shards > 0 ? Array.from({ length: facts.view.shards }, (_, k) => k + 1) : [0];
    for (const holder of holders) {
      const trail = await this.trail(
        holder === 0 ? instanceStream : shardWorkflowId(instanceStream, holder - 1),
      );
      let after: { position: number; itemId: string } | undefined;
      for (;;) {
        let query = this.db
          .selectFrom('review_items as i')
          .leftJoin('apply_observations as o', (join) =>
            join.onRef('o.instance_id', '=', 'i.instance_id').onRef('o.item_id', '=', 'i.item_id'),
          )
          .select(['i.item_id', 'i.position', 'i.record', 'o.observation'])
          .where('i.instance_id', '=', instanceId)
          .where('i.holder', '=', holder)
          .orderBy('i.position')
          .orderBy('i.item_id')
          .limit(PAGE);
        if (after) {
          const { position, itemId } = after;
          query = query.where(sql<boolean>`(i.position, i.item_id) > (${position}, ${itemId})`);
        }
        const rows = await query.execute();
        for (const row of rows) {
          yield {
            record: row.record as ItemRecord,
            trail,
            observation: row.observation === null ? undefined : applyObservationSchema.parse(row.observation),
          };
        }
        const last = rows.at(-1);
        if (!last || rows.length < PAGE) break;
        after = { position: last.position, itemId: last.item_id };
      }
    }
  }

  /** Folds the trail events of one stream, a page of events at a time, in order. */
  private async trail(streamId: string): Promise<StreamTrail> {
    const trail = emptyTrail();
    let after = 0;
    for (;;) {
      const rows = await this.db
        .selectFrom('review_events')
        .select([
          'seq',
          sql<string>`event->>'type'`.as('type'),
          sql<number | null>`(event->>'stageIndex')::int`.as('stageIndex'),
          sql<string | null>`event->>'itemId'`.as('itemId'),
          sql<string | null>`event->>'source'`.as('source'),
          sql<unknown>`coalesce(event->'people', event->'assignment'->'people')`.as('people'),
          sql<unknown>`event->'recommendations'`.as('recommendations'),
        ])
        .where('stream_id', '=', streamId)
        .where('seq', '>', after)
        .where(sql<string>`event->>'type'`, 'in', [...TRAIL_EVENT_TYPES])
        .orderBy('seq')
        .limit(PAGE)
        .execute();
      for (const row of rows) foldTrail(trail, trailEvent(row));
      const last = rows.at(-1);
      if (!last || rows.length < PAGE) return trail;
      after = last.seq;
    }
  }
}

type TrailRow = {
  type: string;
  stageIndex: number | null;
  itemId: string | null;
  source: string | null;
  people: unknown;
  recommendations: unknown;
};

function trailEvent(row: TrailRow): TrailEvent {
  const people = (row.people ?? null) as Record<
    string,
    { displayName: string; userPrincipalName: string }
  > | null;
  switch (row.type) {
    case 'StageStarted':
      return {
        type: 'StageStarted',
        stageIndex: row.stageIndex ?? 0,
        people: people ?? {},
        recommendations: (row.recommendations ?? {}) as Record<
          string,
          'Approve' | 'Deny' | 'NoInfoAvailable'
        >,
      };
    case 'StageReviewersChanged':
    case 'ReviewersEscalated':
    case 'ItemsReassigned':
      return { type: 'StageReviewersChanged', people };
    case 'DecisionRecorded':
      return {
        type: 'DecisionRecorded',
        itemId: row.itemId ?? '',
        source: row.source === 'recommendation' ? 'recommendation' : 'reviewer',
      };
    case 'DecisionsReset':
      return { type: 'DecisionsReset' };
    default:
      return { type: 'StageCompleted' };
  }
}
