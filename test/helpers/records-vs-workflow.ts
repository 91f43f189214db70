import type { Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import { instanceWorkflowId, shardWorkflowId } from '../../src/domain/ids';
import type { ReviewEvent } from '../../src/domain/review-events';
import type { ItemRecord } from '../../src/domain/review-records';
import { replay } from '../../src/domain/review-state';
import type { DecisionItemView, InstanceView } from '../../src/domain/review-views';
import { instanceView, listDecisions } from '../../src/domain/review-views';
import type { Database } from '../../src/store/schema';
import { contactedReviewersQuery, decisionsQuery, instanceQuery, recordsQuery } from '../../src/workflows';
import { GiveUp, pollUntil } from './process-stack';

// The review records of one instance (PostgreSQL rows) set side by side with what its workflows answer
// once their records have caught up with them (records query): their event counts, items and reviewers.

/** A review instance as the tests address it. */
export interface ReviewRef {
  definitionId: string;
  instanceId: string;
}

/** What one stream's workflow (the instance holding its items, or a shard) says. */
export interface StreamState {
  streamId: string;
  /** Its event count, read when its records showed all of it (records query: recorded === eventCount). */
  eventCount: number;
  /** Its decision items as an administrator sees them, in review order; per stage too. */
  items: DecisionItemView[];
  stageItems: Map<string, DecisionItemView[]>;
  contacted: unknown[];
}

/** What the workflows of an instance say: the instance itself and the streams that hold its items. */
export interface WorkflowSide {
  instance: InstanceView;
  /** The instance's own stream (for a sharded instance, the coordinator's; it holds no items). */
  own: Pick<StreamState, 'streamId' | 'eventCount'>;
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

/**
 * A stream's event count once its records show all of it. A write in flight (or cut off by a dead
 * worker, until its workflow task times out and another worker writes it again) keeps `recorded` behind.
 */
export async function settledEventCount(client: Client, streamId: string, timeoutMs = 30_000) {
  const answer = await pollUntil(
    async () => {
      const r = await client.workflow.getHandle(streamId).query(recordsQuery);
      if (r.recorded === null) throw new GiveUp(`${streamId} keeps no records`);
      return r;
    },
    (r) => r.recorded === r.eventCount,
    `the records of ${streamId} to catch up with it`,
    { timeoutMs, intervalMs: 250 },
  );
  return answer.eventCount;
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

/**
 * Reads everything the instance's workflows say (queries work on closed workflows too), once each
 * stream's records have caught up with it; read again if a stream moved on while it was being read.
 */
export async function workflowSide(
  client: Client,
  ref: ReviewRef,
  timeoutMs = 30_000,
): Promise<WorkflowSide> {
  const workflowId = instanceWorkflowId(ref.definitionId, ref.instanceId);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = () => Math.max(1_000, deadline - Date.now());
    const shards = (await client.workflow.getHandle(workflowId).query(instanceQuery)).shards;
    const holderIds =
      shards > 0 ? Array.from({ length: shards }, (_, k) => shardWorkflowId(workflowId, k)) : [workflowId];
    const streamIds = shards > 0 ? [workflowId, ...holderIds] : holderIds;
    const counts = await Promise.all(streamIds.map((id) => settledEventCount(client, id, left())));
    const instance = await client.workflow.getHandle(workflowId).query(instanceQuery);
    const holders = await Promise.all(
      holderIds.map(async (streamId): Promise<StreamState> => {
        const stageItems = new Map<string, DecisionItemView[]>();
        for (const stage of instance.stages)
          stageItems.set(stage.id, await listAll(client, streamId, stage.id));
        return {
          streamId,
          eventCount: counts[streamIds.indexOf(streamId)]!,
          items: await listAll(client, streamId),
          stageItems,
          contacted: await client.workflow.getHandle(streamId).query(contactedReviewersQuery),
        };
      }),
    );
    const after = await Promise.all(streamIds.map((id) => client.workflow.getHandle(id).query(recordsQuery)));
    if (after.every((r, i) => r.eventCount === counts[i] && r.recorded === counts[i])) {
      const own = { streamId: workflowId, eventCount: counts[0]! };
      return { instance, own, holders };
    }
    if (Date.now() > deadline) throw new Error(`the workflows of ${workflowId} kept moving on`);
  }
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

/** What the instance's own events decide about it: its lifecycle (counts and reviewers come from the items). */
const lifecycle = (v: InstanceView) => ({
  status: v.status,
  startDateTime: v.startDateTime,
  endDateTime: v.endDateTime,
  currentStageId: v.currentStageId,
  stages: v.stages.map((s) => ({ id: s.id, status: s.status, start: s.startDateTime, end: s.endDateTime })),
  appliedDateTime: v.appliedDateTime,
});

/** The state a stream's recorded events rebuild, or why they cannot. */
function replayed(instanceId: string, recorded: { event: unknown }[]) {
  const events = recorded.map((e) => e.event as ReviewEvent);
  const started = events[0];
  if (started?.type !== 'InstanceStarted') return 'review_events does not start with InstanceStarted';
  return replay(instanceId, structuredClone(started.plan), events);
}

/**
 * Every way the records can differ from the workflows, as readable lines (empty: they agree). Checked:
 * each stream's events are numbered 1..N without gaps or repeats, N its event count; replaying them gives
 * the items, contacted reviewers and instance lifecycle the workflows answer with; each item's record
 * (instance and stage views, place in the list, version ≤ N) equals the workflow's; the instance record
 * (version N of the instance's own stream) and contacted reviewers too.
 */
export function differences(wf: WorkflowSide, rec: RecordsSide): string[] {
  const out: string[] = [];
  const streams = wf.holders.some((h) => h.streamId === wf.own.streamId)
    ? wf.holders
    : [wf.own, ...wf.holders];
  for (const stream of streams) {
    const id = stream.streamId;
    const recorded = rec.events.get(id) ?? [];
    if (seqsOf(recorded).join() !== oneToN(stream.eventCount).join()) {
      out.push(
        `${id}: review_events holds seqs ${summary(seqsOf(recorded))}, its event count is ${stream.eventCount}`,
      );
    }
  }
  const unknown = [...rec.events.keys()].filter((id) => !streams.some((s) => s.streamId === id));
  if (unknown.length > 0) out.push(`review_events of unknown streams: ${unknown.join(', ')}`);

  if (!rec.instance) out.push('no review_instances row');
  else {
    if (canon(rec.instance.view) !== canon(wf.instance)) {
      out.push(`review_instances view${diff(rec.instance.view, wf.instance)}`);
    }
    if (rec.instance.version !== wf.own.eventCount) {
      out.push(
        `review_instances version ${rec.instance.version}, the instance's event count ${wf.own.eventCount}`,
      );
    }
  }
  // The instance's own events rebuild its lifecycle (all of it when it holds its items itself).
  const own = replayed(wf.instance.id, rec.events.get(wf.own.streamId) ?? []);
  if (typeof own === 'string') out.push(`${wf.own.streamId}: ${own}`);
  else {
    // Reviewer ids come from a set whose order depends on how the state was built: compared sorted.
    const whole = (v: InstanceView) => ({ ...v, reviewerIds: [...v.reviewerIds].sort() });
    const [mine, theirs] =
      wf.instance.shards > 0
        ? [lifecycle(instanceView(own)), lifecycle(wf.instance)]
        : [whole(instanceView(own)), whole(wf.instance)];
    if (canon(mine) !== canon(theirs)) {
      out.push(`${wf.own.streamId}: replaying review_events gives the instance${diff(mine, theirs)}`);
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
      if (row.version > holder.eventCount)
        wrong.push(`version ${row.version} > event count ${holder.eventCount}`);
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
    // The events alone rebuild the items and reviewers the workflow holds: none lost, none applied twice.
    const events = rec.events.get(holder.streamId) ?? [];
    const state = replayed(wf.instance.id, events);
    if (typeof state === 'string') out.push(`${holder.streamId}: ${state}`);
    else {
      const page = listDecisions(state, { viewer: ADMIN, skip: 0, top: Number.MAX_SAFE_INTEGER });
      if ('code' in page || canon(page.value) !== canon(holder.items)) {
        const got = 'code' in page ? [] : page.value;
        const at = holder.items.findIndex((v, k) => canon(v) !== canon(got[k]));
        const [mine, theirs] = [got[at], holder.items[at]];
        const about = events
          .filter((e) => JSON.stringify(e.event).includes(theirs?.id ?? '-'))
          .map((e) => `${e.seq}:${(e.event as ReviewEvent).type}`);
        out.push(
          `${holder.streamId}: replaying review_events does not give the workflow's items: ` +
            `item ${theirs?.id} replays to ${mine?.decision} (${mine?.reviewedBy?.id ?? '-'}), the workflow says ` +
            `${theirs?.decision} (${theirs?.reviewedBy?.id ?? '-'}); recorded events naming it: ${about.join(', ')}`,
        );
      }
    }
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
