import type { ContactedReviewerView } from '../domain/graph-resources';
import type {
  DefinitionBatch,
  DefinitionRecord,
  InstanceRecord,
  ItemRecord,
  RecordBatch,
} from '../domain/review-records';
import { getRecordedDecision, listRecordedDecisions } from '../domain/review-records';
import type { RuleViolation, Viewer } from '../domain/review-rules';
import type { DecisionItemView, DecisionPage, DecisionQuery } from '../domain/review-views';
import type { Filter, OrderKey } from '../domain/odata-filter';
import { comparator, matches } from '../domain/odata-filter';

/** A decision list request against the records. */
export type RecordedDecisionQuery = Omit<DecisionQuery, 'filter' | 'orderBy'> & {
  filter?: Filter;
  orderBy?: OrderKey[];
};

/** A definition list request against the records: $filter and $orderby over the Graph definition. */
export interface DefinitionListQuery {
  filter?: Filter;
  orderBy?: OrderKey[];
  skip: number;
  top: number;
  /** Only the definitions in which this user reviews something now (filterByCurrentUser). */
  reviewerId?: string;
}

/** A page of definitions; `total` counts every match. */
export interface DefinitionPage {
  value: DefinitionRecord[];
  total: number;
}

/**
 * The review records: written by the review workflows as they go (recordReview activity), read by the
 * API when a review's workflow cannot answer (deleted after Temporal's retention, or no worker running).
 * Writes are idempotent: an event is kept once per (stream, seq) (the latest write's; a write drops the
 * stream's events numbered beyond its count), and every other row only moves to a later version.
 */
export interface ReviewRecordStore {
  write(batch: RecordBatch): Promise<void>;
  writeDefinition(batch: DefinitionBatch): Promise<void>;
  /** A definition's record, also after it was deleted (`ended`). */
  definition(definitionId: string): Promise<DefinitionRecord | undefined>;
  /** The definitions not deleted, oldest first unless `orderBy` says otherwise. */
  definitions(q: DefinitionListQuery): Promise<DefinitionPage>;
  /** Whether the user reviews an item of the instance in its stage in progress. */
  reviews(instanceId: string, userId: string): Promise<boolean>;
  instance(instanceId: string): Promise<InstanceRecord | undefined>;
  instancesOf(definitionId: string): Promise<(InstanceRecord & { instanceId: string })[]>;
  decisions(instanceId: string, q: RecordedDecisionQuery): Promise<DecisionPage | RuleViolation>;
  decision(
    instanceId: string,
    itemId: string,
    viewer: Viewer,
    stageId?: string,
  ): Promise<DecisionItemView | RuleViolation>;
  contacted(instanceId: string): Promise<ContactedReviewerView[]>;
  /**
   * Deletes the records of instances that finished (Completed or Applied) and last changed before
   * `before`, and of deleted definitions with no records left; returns how many instances it deleted.
   */
  prune(before: Date): Promise<number>;
  /** Events of an instance (all its streams), in order within each stream. */
  events(instanceId: string): Promise<{ streamId: string; seq: number; event: unknown }[]>;
}

interface Versioned<T> {
  version: number;
  value: T;
  /** When it was written (ms). */
  at?: number;
}

/** Records in memory: for tests and single-process demos without a database. */
export class InMemoryReviewRecords implements ReviewRecordStore {
  private readonly instances = new Map<string, Versioned<InstanceRecord>>();
  private readonly items = new Map<string, Map<string, Versioned<ItemRecord>>>();
  private readonly definitionsById = new Map<string, Versioned<DefinitionRecord>>();
  /** The highest event number kept per stream. */
  private readonly lastSeq = new Map<string, number>();
  private readonly contactedBy = new Map<string, Map<string, Versioned<ContactedReviewerView[]>>>();
  private readonly log = new Map<
    string,
    { instanceId: string; streamId: string; seq: number; event: unknown }
  >();

  async write(batch: RecordBatch): Promise<void> {
    // As in PostgreSQL: the latest write of an event number wins, numbers beyond the batch's count go.
    const last = this.lastSeq.get(batch.streamId) ?? 0;
    for (let seq = batch.version + 1; seq <= last; seq++) this.log.delete(`${batch.streamId}#${seq}`);
    this.lastSeq.set(
      batch.streamId,
      Math.max(Math.min(last, batch.version), ...batch.events.map((e) => e.seq)),
    );
    for (const { seq, event } of batch.events) {
      this.log.set(`${batch.streamId}#${seq}`, {
        instanceId: batch.instanceId,
        streamId: batch.streamId,
        seq,
        event: structuredClone(event),
      });
    }
    const later = <T>(current: Versioned<T> | undefined) => !current || current.version <= batch.version;
    if (batch.instance && later(this.instances.get(batch.instanceId))) {
      this.instances.set(batch.instanceId, {
        version: batch.version,
        at: Date.now(),
        value: {
          definitionId: batch.definitionId,
          view: structuredClone(batch.instance),
          decisionHistoriesForReviewersEnabled: batch.decisionHistoriesForReviewersEnabled,
        },
      });
    }
    const items = this.items.get(batch.instanceId) ?? new Map<string, Versioned<ItemRecord>>();
    this.items.set(batch.instanceId, items);
    for (const item of batch.items) {
      if (later(items.get(item.itemId)))
        items.set(item.itemId, { version: batch.version, value: structuredClone(item) });
    }
    if (batch.contacted.length > 0) {
      const byStream =
        this.contactedBy.get(batch.instanceId) ?? new Map<string, Versioned<ContactedReviewerView[]>>();
      this.contactedBy.set(batch.instanceId, byStream);
      if (later(byStream.get(batch.streamId))) {
        byStream.set(batch.streamId, { version: batch.version, value: structuredClone(batch.contacted) });
      }
    }
  }

  async writeDefinition(batch: DefinitionBatch): Promise<void> {
    const current = this.definitionsById.get(batch.definitionId);
    if (current && current.version > batch.version) return;
    this.definitionsById.set(batch.definitionId, {
      version: batch.version,
      value: structuredClone(batch.record),
    });
  }

  async definition(definitionId: string) {
    return this.definitionsById.get(definitionId)?.value;
  }

  async definitions(q: DefinitionListQuery): Promise<DefinitionPage> {
    let all = [...this.definitionsById.values()]
      .map((r) => r.value)
      .filter((r) => !r.ended)
      .sort((a, b) =>
        a.definition.createdDateTime === b.definition.createdDateTime
          ? a.definition.id < b.definition.id
            ? -1
            : 1
          : a.definition.createdDateTime < b.definition.createdDateTime
            ? -1
            : 1,
      );
    if (q.reviewerId !== undefined) {
      const reviewer = q.reviewerId;
      const reviewed = new Set<string>();
      for (const [instanceId, instance] of this.instances) {
        if (!reviewed.has(instance.value.definitionId) && (await this.reviews(instanceId, reviewer)))
          reviewed.add(instance.value.definitionId);
      }
      all = all.filter((r) => reviewed.has(r.definition.id));
    }
    if (q.filter) {
      const filter = q.filter;
      all = all.filter((r) => matches(r.definition, filter));
    }
    if (q.orderBy?.length) {
      const compare = comparator(q.orderBy);
      all.sort((a, b) => compare(a.definition, b.definition));
    }
    return { total: all.length, value: all.slice(q.skip, q.skip + q.top) };
  }

  async reviews(instanceId: string, userId: string): Promise<boolean> {
    return this.itemsOf(instanceId).some((item) => item.currentReviewerIds.includes(userId));
  }

  async instance(instanceId: string) {
    return this.instances.get(instanceId)?.value;
  }

  async prune(before: Date): Promise<number> {
    let pruned = 0;
    for (const [instanceId, { value, at = 0 }] of this.instances) {
      if (!FINISHED.has(value.view.status) || at >= before.getTime()) continue;
      this.instances.delete(instanceId);
      this.items.delete(instanceId);
      this.contactedBy.delete(instanceId);
      for (const [key, e] of this.log) if (e.instanceId === instanceId) this.log.delete(key);
      pruned++;
    }
    const kept = new Set([...this.instances.values()].map((i) => i.value.definitionId));
    for (const [id, { value }] of this.definitionsById) {
      if (value.ended && !kept.has(id)) this.definitionsById.delete(id);
    }
    return pruned;
  }

  async instancesOf(definitionId: string) {
    return [...this.instances]
      .filter(([, r]) => r.value.definitionId === definitionId)
      .map(([instanceId, r]) => ({ instanceId, ...r.value }));
  }

  private itemsOf(instanceId: string): ItemRecord[] {
    return [...(this.items.get(instanceId)?.values() ?? [])].map((r) => r.value);
  }

  async decisions(instanceId: string, q: RecordedDecisionQuery) {
    const instance = this.instances.get(instanceId)?.value;
    if (!instance) return instanceNotFound(instanceId);
    return listRecordedDecisions(instance, this.itemsOf(instanceId), q);
  }

  async decision(instanceId: string, itemId: string, viewer: Viewer, stageId?: string) {
    const instance = this.instances.get(instanceId)?.value;
    if (!instance) return instanceNotFound(instanceId);
    return getRecordedDecision(instance, this.items.get(instanceId)?.get(itemId)?.value, viewer, stageId);
  }

  async contacted(instanceId: string) {
    return firstContacted([...(this.contactedBy.get(instanceId)?.values() ?? [])].map((r) => r.value));
  }

  async events(instanceId: string) {
    return [...this.log.values()]
      .filter((e) => e.instanceId === instanceId)
      .map(({ streamId, seq, event }) => ({ streamId, seq, event }))
      .sort((a, b) => (a.streamId === b.streamId ? a.seq - b.seq : a.streamId < b.streamId ? -1 : 1));
  }
}

/** Instance statuses after which nothing more happens to a review unless an admin applies it. */
export const FINISHED = new Set(['Completed', 'Applied']);

/** The answer for an instance the records do not know. */
export const instanceNotFound = (instanceId: string) =>
  ({ code: 'instance.not_found', status: 404, message: `Instance '${instanceId}' not found` }) as const;

/** Shards ask some reviewers each; a reviewer was first contacted when the first shard asked. */
export function firstContacted(lists: ContactedReviewerView[][]): ContactedReviewerView[] {
  const first = new Map<string, ContactedReviewerView>();
  for (const r of lists.flat()) {
    const seen = first.get(r.id);
    if (!seen || r.createdDateTime < seen.createdDateTime) first.set(r.id, r);
  }
  return [...first.values()];
}
