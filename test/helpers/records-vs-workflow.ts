import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { Kysely } from 'kysely';
import { instanceWorkflowId, shardWorkflowId } from '../../src/domain/ids';
import type { ReviewEvent } from '../../src/domain/review-events';
import type { ItemRecord, RecordBatch } from '../../src/domain/review-records';
import { replay } from '../../src/domain/review-state';
import type { DecisionItemView, InstanceView } from '../../src/domain/review-views';
import { listDecisions } from '../../src/domain/review-views';
import type { Database } from '../../src/store/schema';
import { contactedReviewersQuery, decisionsQuery, instanceQuery } from '../../src/workflows';

// The review records of one instance (PostgreSQL rows) set side by side with what its workflows answer:
// their queries, and the recordReview batches their histories scheduled (the events they handed over).

/** A review instance as the tests address it. */
export interface ReviewRef {
  definitionId: string;
  instanceId: string;
}

/** What one stream's workflow (the instance holding its items, or a shard) says, every run of it. */
export interface StreamState {
  streamId: string;
  /** The events of every recordReview batch its runs scheduled, in the order scheduled. */
  handedOver: { seq: number; event: ReviewEvent }[];
  /** The version of the last batch scheduled: the stream's event count when it last flushed. */
  version: number;
  /** Its decision items as an administrator sees them, in review order; per stage too. */
  items: DecisionItemView[];
  stageItems: Map<string, DecisionItemView[]>;
  contacted: unknown[];
}

/** What the workflows of an instance say: the instance itself and the streams that hold its items. */
export interface WorkflowSide {
  instance: InstanceView;
  /** The instance's own stream (for a sharded instance, the coordinator's; it holds no items). */
  own: Pick<StreamState, 'streamId' | 'handedOver' | 'version'>;
  holders: StreamState[];
}

/** The records of an instance, as the tables hold them. */
export interface RecordsSide {
  instance: { version: number; view: InstanceView } | undefined;
  items: { version: number; holder: number; position: number; record: ItemRecord }[];
  events: Map<string, { seq: number; event: unknown }[]>;
  contacted: Map<string, { version: number; reviewers: unknown[] }>;
}

const ADMIN = { kind: 'admin', userId: 'records-crash-test' } as const;
const PAGE = 250;

/** Every run of a workflow, oldest first (continue-as-new chains runs through continuedExecutionRunId). */
async function historiesOf(client: Client, workflowId: string) {
  const histories = [];
  let runId: string | undefined;
  for (;;) {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    histories.unshift(history);
    const previous = history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
    if (!previous) return histories;
    runId = previous;
  }
}

/** The recordReview batches a workflow's runs scheduled, in order (a retried activity is scheduled once). */
async function scheduledBatches(client: Client, workflowId: string): Promise<RecordBatch[]> {
  const batches: RecordBatch[] = [];
  for (const history of await historiesOf(client, workflowId)) {
    for (const event of history.events ?? []) {
      const scheduled = event.activityTaskScheduledEventAttributes;
      if (scheduled?.activityType?.name !== 'recordReview') continue;
      batches.push(defaultPayloadConverter.fromPayload<RecordBatch>(scheduled.input!.payloads![0]!));
    }
  }
  return batches;
}

async function handedOverBy(client: Client, streamId: string) {
  const batches = await scheduledBatches(client, streamId);
  return { streamId, handedOver: batches.flatMap((b) => b.events), version: batches.at(-1)?.version ?? 0 };
}

async function listAll(client: Client, workflowId: string, stageId?: string): Promise<DecisionItemView[]> {
  const handle = client.workflow.getHandle(workflowId);
  const out: DecisionItemView[] = [];
  for (let skip = 0; ; skip += PAGE) {
    const page = await handle.query(decisionsQuery, { viewer: ADMIN, stageId, skip, top: PAGE });
    if ('code' in page) throw new Error(`decisions of ${workflowId}: ${page.code}`);
    out.push(...page.value);
    if (skip + PAGE >= page.total) return out;
  }
}

/** Reads everything the instance's workflows say (queries work on closed workflows too). */
export async function workflowSide(client: Client, ref: ReviewRef): Promise<WorkflowSide> {
  const workflowId = instanceWorkflowId(ref.definitionId, ref.instanceId);
  const instance = await client.workflow.getHandle(workflowId).query(instanceQuery);
  const holderIds =
    instance.shards > 0
      ? Array.from({ length: instance.shards }, (_, k) => shardWorkflowId(workflowId, k))
      : [workflowId];
  const holders = await Promise.all(
    holderIds.map(async (streamId): Promise<StreamState> => {
      const stageItems = new Map<string, DecisionItemView[]>();
      for (const stage of instance.stages)
        stageItems.set(stage.id, await listAll(client, streamId, stage.id));
      return {
        ...(await handedOverBy(client, streamId)),
        items: await listAll(client, streamId),
        stageItems,
        contacted: await client.workflow.getHandle(streamId).query(contactedReviewersQuery),
      };
    }),
  );
  const own = instance.shards > 0 ? await handedOverBy(client, workflowId) : holders[0]!;
  return { instance, own, holders };
}

/** Reads every row the record store keeps of the instance. */
export async function recordsSide(db: Kysely<Database>, instanceId: string): Promise<RecordsSide> {
  const instance = await db
    .selectFrom('review_instances')
    .select(['version', 'view'])
    .where('instance_id', '=', instanceId)
    .executeTakeFirst();
  const items = await db
    .selectFrom('review_items')
    .select(['version', 'holder', 'position', 'record'])
    .where('instance_id', '=', instanceId)
    .orderBy('holder')
    .orderBy('position')
    .execute();
  const events = new Map<string, { seq: number; event: unknown }[]>();
  const eventRows = await db
    .selectFrom('review_events')
    .select(['stream_id', 'seq', 'event'])
    .where('instance_id', '=', instanceId)
    .orderBy('stream_id')
    .orderBy('seq')
    .execute();
  for (const row of eventRows) {
    const list = events.get(row.stream_id) ?? [];
    events.set(row.stream_id, list);
    list.push({ seq: row.seq, event: row.event });
  }
  const contacted = new Map<string, { version: number; reviewers: unknown[] }>();
  const contactedRows = await db
    .selectFrom('review_contacted')
    .select(['stream_id', 'version', 'reviewers'])
    .where('instance_id', '=', instanceId)
    .execute();
  for (const row of contactedRows) {
    contacted.set(row.stream_id, { version: row.version, reviewers: row.reviewers as unknown[] });
  }
  return {
    instance: instance && { version: instance.version, view: instance.view as InstanceView },
    items: items.map((r) => ({ ...r, record: r.record as ItemRecord })),
    events,
    contacted,
  };
}

const seqsOf = (events: { seq: number }[]) => events.map((e) => e.seq);
const oneToN = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

/**
 * Every way the records can differ from the workflows, as readable lines (empty: they agree). Checked:
 * each stream's events are exactly the ones its workflow handed over, numbered 1..N without gaps or
 * repeats, N its event count at its last flush; folding them gives the items the workflow answers with;
 * each item's record (instance and stage views, place in the list) equals the workflow's; the instance
 * and contacted reviewers too.
 */
export function differences(wf: WorkflowSide, rec: RecordsSide): string[] {
  const out: string[] = [];
  const streams = wf.holders.some((h) => h.streamId === wf.own.streamId)
    ? wf.holders
    : [wf.own, ...wf.holders];
  for (const stream of streams) {
    const id = stream.streamId;
    const handed = seqsOf(stream.handedOver);
    if (handed.join() !== oneToN(stream.version).join()) {
      out.push(
        `${id}: the workflow handed over seqs ${summary(handed)}, its event count is ${stream.version}`,
      );
    }
    const recorded = rec.events.get(id) ?? [];
    if (seqsOf(recorded).join() !== oneToN(stream.version).join()) {
      out.push(`${id}: review_events holds seqs ${summary(seqsOf(recorded))}, expected 1..${stream.version}`);
    } else if (canon(recorded) !== canon(stream.handedOver)) {
      const at = recorded.findIndex((e, i) => canon(e) !== canon(stream.handedOver[i]));
      out.push(`${id}: review_events differs from what the workflow handed over at seq ${at + 1}`);
    }
  }
  const unknown = [...rec.events.keys()].filter((id) => !streams.some((s) => s.streamId === id));
  if (unknown.length > 0) out.push(`review_events of unknown streams: ${unknown.join(', ')}`);

  if (!rec.instance) out.push('no review_instances row');
  else {
    if (canon(rec.instance.view) !== canon(wf.instance)) {
      out.push(`review_instances view${diff(rec.instance.view, wf.instance)}`);
    }
    if (rec.instance.version !== wf.own.version) {
      out.push(
        `review_instances version ${rec.instance.version}, the instance's event count ${wf.own.version}`,
      );
    }
  }

  const records = new Map(rec.items.map((r) => [r.record.itemId, r]));
  const listed = wf.holders.flatMap((h) => h.items.map((v) => v.id));
  const order = rec.items.map((r) => r.record.itemId);
  if (order.join() !== listed.join()) {
    const missing = listed.filter((id) => !records.has(id)).length;
    out.push(
      `review_items: ${order.length} rows (${missing} missing) vs ${listed.length} items, or not in review order`,
    );
  }
  wf.holders.forEach((holder, h) => {
    const place = wf.instance.shards > 0 ? h + 1 : 0;
    holder.items.forEach((view, position) => {
      const row = records.get(view.id);
      if (!row) return;
      const r = row.record;
      const wrong: string[] = [];
      if (canon(r.view) !== canon(view)) wrong.push(`view ${diff(r.view, view)}`);
      if (r.principalId !== view.principal.id) wrong.push('principalId');
      if (row.holder !== place || row.position !== position || r.order.join() !== [place, position].join()) {
        wrong.push(`place ${row.holder}/${row.position}, expected ${place}/${position}`);
      }
      if (row.version > holder.version) wrong.push(`version ${row.version} > event count ${holder.version}`);
      for (const [stageId, views] of holder.stageItems) {
        const inStage = views.find((v) => v.id === view.id);
        const recorded = r.stages.find((s) => s.stageId === stageId);
        if (!inStage && !recorded) continue;
        if (!inStage || !recorded)
          wrong.push(`stage ${stageId}: in ${inStage ? 'the workflow' : 'the record'} only`);
        else if (canon(recorded.view) !== canon(inStage)) {
          wrong.push(`stage ${stageId} view ${diff(recorded.view, inStage)}`);
        }
      }
      if (wrong.length > 0) out.push(`item ${view.id} (${view.principal.displayName}): ${wrong.join('; ')}`);
    });
    const contacted = rec.contacted.get(holder.streamId)?.reviewers ?? [];
    if (canon(contacted) !== canon(holder.contacted)) {
      out.push(
        `${holder.streamId}: review_contacted differs (${contacted.length} vs ${holder.contacted.length})`,
      );
    }
    // The events alone rebuild the items the workflow holds: none lost, none applied twice.
    const events = (rec.events.get(holder.streamId) ?? []).map((e) => e.event as ReviewEvent);
    const started = events[0];
    if (started?.type === 'InstanceStarted') {
      const state = replay(wf.instance.id, structuredClone(started.plan), events);
      const page = listDecisions(state, { viewer: ADMIN, skip: 0, top: Number.MAX_SAFE_INTEGER });
      if ('code' in page || canon(page.value) !== canon(holder.items)) {
        out.push(`${holder.streamId}: folding review_events does not give the workflow's items`);
      }
    } else out.push(`${holder.streamId}: review_events does not start with InstanceStarted`);
  });
  return out;
}

/** JSON with keys sorted: jsonb keeps object keys in an order of its own. */
function canon(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** Where two JSON values first differ, shortly. */
function diff(a: unknown, b: unknown): string {
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const [x, y] = [(a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]];
      if (canon(x) !== canon(y)) return `.${key}: ${canon(x)} != ${canon(y)}`;
    }
  }
  return `${canon(a)} != ${canon(b)}`;
}

/** 1..5, 7, 9..12 */
function summary(seqs: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < seqs.length;) {
    let j = i;
    while (j + 1 < seqs.length && seqs[j + 1] === seqs[j]! + 1) j++;
    parts.push(i === j ? `${seqs[i]}` : `${seqs[i]}..${seqs[j]}`);
    i = j + 1;
  }
  return parts.length > 20
    ? `${parts.slice(0, 20).join(', ')}, … (${seqs.length})`
    : parts.join(', ') || 'none';
}
