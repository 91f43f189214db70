import { condition, patched, proxyLocalActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ReviewEvent } from '../domain/review-events';
import type { ItemRecord, RecordBatch } from '../domain/review-records';
import { instanceRecord, itemRecord, itemsTouchedBy } from '../domain/review-records';
import type { ReviewState } from '../domain/review-state';
import { contactedReviewers } from '../domain/review-views';

/** Reviews started before their records were kept do not start keeping them (their history has no marker). */
export const RECORDS_PATCH = 'review-records';
/** A review started before records were kept starts keeping them when a backfill asks it to. */
export const RECORDS_BACKFILL_PATCH = 'review-records-backfill';

// A local activity: the worker writes the batch while it holds the workflow task, so no batch goes into
// the history (only its marker), no round trip through the server adds to the records' lag, and the
// clock of a test server that skips time stands still meanwhile.
const { recordReview } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  // Later attempts wait on a workflow timer, not in the workflow task: while the store is down, the
  // workflow's Updates and signals go on.
  localRetryThreshold: '1 second',
  // The store may be down for a while: keep trying, the review goes on meanwhile.
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', backoffCoefficient: 2 },
});

/** Bytes of events or item records per batch: every activity payload stays below Temporal's 512 KB warning. */
const BYTES_PER_BATCH = 300_000;

/** How long an Update waits for its decisions to reach the records before it answers anyway. */
const RECORDED_WITHIN_MS = 5_000;

/** What is written where: the holder of the items, and whether it also owns the instance record. */
export interface RecordsOptions {
  definitionId: string;
  /** 0 for an instance holding its items, k + 1 for shard k: where its items come in the instance's list. */
  holder: number;
  /** False for a shard: the instance's own workflow writes the instance record. */
  ownsInstance: boolean;
}

/**
 * Hands the review's events and the records they change to the record store (recordReview activity),
 * in the background and in batches, in order. Created only when this run keeps records (RECORDS_PATCH).
 */
export function createRecordPublisher(state: ReviewState, opts: RecordsOptions) {
  const streamId = workflowInfo().workflowId;
  const events: { seq: number; event: ReviewEvent }[] = [];
  const dirty = new Set<string>();
  let all = false;
  let instance = false;
  let published = state.eventCount;
  let flushing = false;
  let viewOfInstance = () => instanceRecord(state);

  const pending = () => events.length > 0 || dirty.size > 0 || all || instance;

  function touched(event: ReviewEvent): void {
    events.push({ seq: state.eventCount, event });
    instance = opts.ownsInstance;
    const items = itemsTouchedBy(state, event);
    if (items === 'all') all = true;
    else for (const id of items) dirty.add(id);
  }

  async function flush(): Promise<void> {
    const version = state.eventCount;
    const ids = all ? [...state.items.keys()] : [...dirty];
    const taken = events.splice(0);
    const withInstance = instance;
    dirty.clear();
    all = false;
    instance = false;
    const base = {
      streamId,
      definitionId: opts.definitionId,
      instanceId: state.instanceId,
      version,
      decisionHistoriesForReviewersEnabled: state.plan.settings.decisionHistoriesForReviewersEnabled,
    };
    const batches: RecordBatch[] = [];
    const batch = (events: RecordBatch['events'], items: RecordBatch['items']) =>
      batches.push({ ...base, events, items, contacted: [] });
    let group: RecordBatch['events'] = [];
    let bytes = 0;
    for (const e of taken) {
      const size = JSON.stringify(e.event).length;
      if (group.length > 0 && bytes + size > BYTES_PER_BATCH) {
        batch(group, []);
        group = [];
        bytes = 0;
      }
      group.push(e);
      bytes += size;
    }
    if (group.length > 0) batch(group, []);
    const positions = new Map([...state.items.keys()].map((id, i) => [id, i]));
    const recordOf = (id: string) =>
      itemRecord(state, id, { holder: opts.holder, position: positions.get(id) ?? 0 });
    let records: ItemRecord[] = [];
    bytes = 0;
    for (const id of ids) {
      const record = recordOf(id);
      if (record) {
        const size = JSON.stringify(record).length;
        if (records.length > 0 && bytes + size > BYTES_PER_BATCH) {
          batch([], records);
          records = [];
          bytes = 0;
        }
        records.push(record);
        bytes += size;
      }
    }
    if (records.length > 0) batch([], records);
    if (batches.length === 0) batch([], []);
    // The last batch carries the instance and the contacted reviewers: once it is written, all is.
    const last = batches[batches.length - 1]!;
    last.contacted = contactedReviewers(state);
    if (withInstance) last.instance = viewOfInstance();
    for (const batch of batches) await recordReview(batch);
    published = version;
  }

  /** Runs for the life of the workflow: writes whatever changed, one flush at a time. */
  async function run(): Promise<never> {
    for (;;) {
      await condition(pending);
      flushing = true;
      try {
        await flush();
      } finally {
        flushing = false;
      }
    }
  }

  return {
    touched,
    run,
    /** The event count the records show. */
    published: () => published,
    /** Writes every item, the instance and the contacted reviewers again (a backfill). */
    republish(): void {
      all = true;
      instance = opts.ownsInstance;
    },
    /** A sharded instance's view (its counts come from the shards), instead of the engine's own. */
    instanceViewFrom(view: () => ReturnType<typeof instanceRecord>): void {
      viewOfInstance = view;
    },
    /** Waits until everything emitted so far is in the records (before continue-as-new or the end). */
    settled: () => condition(() => !pending() && !flushing),
    /** Waits (boundedly) until the records show the state as it is now: a read after the answer sees it. */
    async recorded(): Promise<void> {
      const target = state.eventCount;
      if (published >= target) return;
      await condition(() => published >= target, RECORDED_WITHIN_MS);
    },
  };
}

export type RecordPublisher = ReturnType<typeof createRecordPublisher>;

/** The publisher of this run, or undefined for a run started before records were kept. */
export function recordPublisherFor(
  state: ReviewState,
  opts: RecordsOptions | undefined,
): RecordPublisher | undefined {
  if (!opts || !patched(RECORDS_PATCH)) return undefined;
  return createRecordPublisher(state, opts);
}

/**
 * The publisher a backfill starts in a run that kept no records: undefined for a workflow that keeps
 * none (its options say so), or when replaying a history from before the backfill patch.
 */
export function backfillPublisherFor(
  state: ReviewState,
  opts: RecordsOptions | undefined,
): RecordPublisher | undefined {
  if (!opts || !patched(RECORDS_BACKFILL_PATCH)) return undefined;
  return createRecordPublisher(state, opts);
}
