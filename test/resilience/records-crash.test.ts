import { temporal } from '@temporalio/proto';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import pg from 'pg';
import { instanceWorkflowId, shardWorkflowId } from '../../src/domain/ids';
import type { ReviewEvent } from '../../src/domain/review-events';
import { createDatabase } from '../../src/store/database';
import type { Database } from '../../src/store/schema';
import { recordsQuery } from '../../src/workflows';
import type { ProcessStack, ResilienceApi } from '../helpers/process-stack';
import {
  forEachConcurrently,
  pollUntil,
  REVIEWS,
  selfReviewOf,
  useProcessStack,
} from '../helpers/process-stack';
import type { ReviewRef } from '../helpers/records-vs-workflow';
import { differences, recordsSide, settledEventCount, workflowSide } from '../helpers/records-vs-workflow';

// The review records (PostgreSQL) are written by the workflows through the recordReview local activity,
// in the background. The worker process is SIGKILLed while decision Updates and record writes are in
// flight (the record tables locked, so the writes fail and are retried while the reviews go on, and the
// records fall behind in every stream), and again while decisions are applied; once it is back, the
// records must equal what the workflows answer: the same items, every event of every stream exactly once,
// numbered 1..N. The new worker replays the workflows and makes the writes that were cut off again.

const MEMBERS = 600;
const CONCURRENCY = 24;

let stack: ProcessStack;
let api: ResilienceApi;
let db: Kysely<Database> | undefined;

useProcessStack({ members: MEMBERS, name: 'records-crash' }, (started) => {
  ({ stack, api } = started);
});
afterAll(async () => {
  await db?.destroy().catch(() => undefined);
});

const note = (line: string) => process.stdout.write(`[records-crash] ${line}\n`);
const records = () => (db ??= createDatabase(stack.database!.url, { max: 2 }));

/** Every 3rd member of the tenant's group last signed in years ago (see bigGroupTenant). */
const stale = (i: number) => i % 3 === 0;

interface Review extends ReviewRef {
  base: string;
  /** Decision item id by member index. */
  items: Map<number, string>;
}

/**
 * Creates a definition and waits until its instance is InProgress. A 503 (no worker answered in time, as
 * on a busy machine) can come after the series was started: the definition is then found by its name.
 */
async function createReview(
  definition: Record<string, unknown> & { displayName: string },
): Promise<Omit<Review, 'items'>> {
  const as = await api.admin();
  const created = await api.call('POST', `${REVIEWS}/definitions`, { as, body: definition });
  if (created.status !== 201 && created.status !== 503) {
    throw new Error(`create: ${created.status} ${JSON.stringify(created.body)}`);
  }
  const definitionId: string =
    created.status === 201
      ? created.body.id
      : (
          await pollUntil(
            () => api.call('GET', `${REVIEWS}/definitions`, { as }),
            (r) =>
              r.status === 200 &&
              r.body.value.some((d: { displayName: string }) => d.displayName === definition.displayName),
            `definition '${definition.displayName}' listed`,
          )
        ).body.value.find((d: { displayName: string }) => d.displayName === definition.displayName).id;
  const list = await pollUntil(
    () => api.call('GET', `${REVIEWS}/definitions/${definitionId}/instances`, { as }),
    (r) => r.status === 200 && r.body.value?.[0]?.status === 'InProgress',
    'instance InProgress',
    { timeoutMs: 60_000 },
  );
  const instanceId: string = list.body.value[0].id;
  return { definitionId, instanceId, base: `${REVIEWS}/definitions/${definitionId}/instances/${instanceId}` };
}

/** Starts a self-review of the group (or of its inactive members only) and lists its items. */
async function startReview(
  name: string,
  settings: Record<string, unknown>,
  inactiveOnly = false,
): Promise<Review> {
  const { groupId, memberIds } = stack.tenant;
  const definition = selfReviewOf(groupId, name);
  const started = await createReview({
    ...definition,
    displayName: name,
    scope: { ...(definition.scope as object), ...(inactiveOnly ? { inactiveDuration: 'P30D' } : {}) },
    settings: { instanceDurationInDays: 7, ...settings },
  });
  const listed = await pollUntil(
    () => api.decisions(started.base),
    () => true,
    'the decision items',
  );
  const items = new Map<number, string>();
  memberIds.forEach((id, i) => {
    const item = listed.get(id);
    if (item) items.set(i, item.id);
  });
  expect(items.size).toBe(inactiveOnly ? MEMBERS / 3 : MEMBERS);
  return { ...started, items };
}

/** Stops a review (again after a 503: a 409 then says the first attempt got through). */
async function stop(review: Review): Promise<void> {
  const as = await api.admin();
  await pollUntil(
    () => api.call('POST', `${review.base}/stop`, { as }),
    (res) => res.status === 204 || res.status === 409,
    'the review stopped',
  );
}

/** Sends decisions until each is acknowledged (a busy machine's API may answer 503 for a moment). */
async function decideAll<T>(
  decisions: T[],
  send: (d: T) => Promise<number | 'error'>,
  acknowledged = new Set<T>(),
): Promise<void> {
  const deadline = Date.now() + 120_000;
  let left = decisions.filter((d) => !acknowledged.has(d));
  while (left.length > 0 && Date.now() < deadline) {
    await forEachConcurrently(left, CONCURRENCY, async (d) => {
      if ((await send(d)) === 204) acknowledged.add(d);
    });
    left = left.filter((d) => !acknowledged.has(d));
  }
  expect(left).toEqual([]);
}

/** The workflows of an instance: the instance itself and its shards. */
async function streamsOf(review: Review): Promise<string[]> {
  const id = instanceWorkflowId(review.definitionId, review.instanceId);
  const shards = (await workflowSide(stack.client!, review)).instance.shards;
  return [id, ...Array.from({ length: shards }, (_, k) => shardWorkflowId(id, k))];
}

/** The activities of the streams started and not finished, by type (record writes are local: not here). */
async function startedActivities(streams: string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const workflowId of streams) {
    const { raw } = await stack.client!.workflow.getHandle(workflowId).describe();
    for (const a of raw.pendingActivities ?? []) {
      if (a.state !== temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED) continue;
      const type = a.activityType?.name ?? '';
      out[type] = (out[type] ?? 0) + 1;
    }
  }
  return out;
}

/** Waits until every stream's records show all its events (the writes a kill cut off were made again). */
async function untilSettled(streams: string[]): Promise<void> {
  await Promise.all(streams.map((id) => settledEventCount(stack.client!, id, 120_000)));
}

/** The streams whose records show less than the workflow did (record writes pending or failing). */
async function behind(ids: string[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (const id of ids) {
    const r = await stack
      .client!.workflow.getHandle(id)
      .query(recordsQuery)
      .catch(() => undefined);
    if (r && r.recorded !== null && r.recorded < r.eventCount) out.add(id);
  }
  return out;
}

interface RecordsLock {
  /** Record writes waiting for the lock: backends it blocks, inserting into the record tables. */
  waiting(): Promise<number>;
  release(): Promise<void>;
}

/**
 * Locks the record tables against writes (reads go on): every record write then hangs in its
 * transaction, a backend waiting for the lock, until the lock is released or its worker dies.
 */
async function lockRecords(url: string): Promise<RecordsLock> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const holder = (await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
  await client.query('begin');
  await client.query(
    'lock table review_events, review_instances, review_items, review_contacted in share mode',
  );
  return {
    async waiting() {
      // Another connection: pg_stat_activity is read once per transaction, and the lock's stays open.
      const { rows } = await sql<{ n: number }>`
        select count(*)::int as n from pg_stat_activity
        where wait_event_type = 'Lock' and ${holder}::int = any(pg_blocking_pids(pid))
          and query ~* 'insert into "review_(events|instances|items|contacted)"'`.execute(records());
      return rows[0]!.n;
    },
    async release() {
      await client.query('rollback');
      await client.end();
    },
  };
}

/** Waits until the records of every review equal what its workflows say; returns the last differences. */
async function untilRecordsEqualWorkflows(reviews: Review[], what: string, timeoutMs: number) {
  const started = Date.now();
  const compare = async () =>
    (
      await Promise.all(
        reviews.map(async (r) =>
          (
            await workflowSide(stack.client!, r)
              .then(async (wf) => differences(wf, await recordsSide(records(), r.instanceId)))
              .catch((err: Error) => [`not compared: ${err.message}`])
          ).map((d) => `${r.instanceId}: ${d}`),
        ),
      )
    ).flat();
  let last: string[] = [];
  let first: string[] | undefined;
  let attempts = 0;
  await pollUntil(
    async () => {
      attempts++;
      last = await compare();
      if (last.length > 0) first ??= last.slice(0, 3);
      return last;
    },
    (d) => d.length === 0,
    `records equal to the workflows ${what}`,
    { timeoutMs, intervalMs: 500 },
  ).catch(() => undefined);
  note(
    `records ${last.length === 0 ? 'equal' : 'still differ from'} the workflows ${what} after ` +
      `${Date.now() - started} ms, ${attempts} comparisons${first ? `; first differences: ${first.join(' | ')}` : ''}`,
  );
  return last.slice(0, 20);
}

describe('the review records across a worker crash', () => {
  beforeEach(async () => {
    // An earlier test that failed between a kill and a restart leaves no worker.
    if (stack.worker?.exited) await stack.startWorker();
  }, 120_000);

  it('equal the workflows, with every acknowledged decision, after a SIGKILL mid-stage', async () => {
    const t0 = Date.now();
    const { memberIds } = stack.tenant;
    // 200 items held by the instance itself, and 600 spread over three shards.
    const small = await startReview(
      'Records crash (inactive members)',
      { autoApplyDecisionsEnabled: false },
      true,
    );
    const large = await startReview('Records crash (whole group)', { autoApplyDecisionsEnabled: false });
    const reviews = [small, large];
    const streams = [...(await streamsOf(small)), ...(await streamsOf(large))];
    expect(streams).toHaveLength(5);
    note(`reviews of 200 and 600 (3 shards) started at ${Date.now() - t0} ms`);

    interface Decision {
      review: Review;
      member: number;
      decision: 'Approve' | 'Deny';
    }
    // Every item of the small review and every other one of the large review is decided: 500 decisions,
    // alternating between the reviews, 24 at a time.
    const verdict = (i: number) => (i % 4 === 0 ? ('Deny' as const) : ('Approve' as const));
    const all: Decision[] = memberIds.flatMap((_, i) => [
      ...(i % 2 === 0 ? [{ review: large, member: i, decision: verdict(i) }] : []),
      ...(stale(i) ? [{ review: small, member: i, decision: verdict(i + 1) }] : []),
    ]);
    const tokens = await Promise.all(memberIds.map((id) => stack.auth(id)));
    const send = async (d: Decision) =>
      (
        await api
          .call('PATCH', `${d.review.base}/decisions/${d.review.items.get(d.member)}`, {
            as: tokens[d.member]!,
            body: { decision: d.decision, justification: `member ${d.member} decided ${d.decision}` },
          })
          .catch(() => ({ status: 'error' as const }))
      ).status;

    // First pass, 24 at a time. Once a fifth are acknowledged the record tables are locked, so record
    // writes hang in flight; the worker is SIGKILLed once every stream holding items has one hanging
    // (and, within 20 s more, a decision was answered meanwhile). No new request is sent after the kill;
    // the ones in flight end as they end.
    const acknowledged = new Set<Decision>();
    const beforeKill = new Set<Decision>();
    const whileLocked = new Set<Decision>();
    let isLocked = false;
    let inFlight = 0;
    let inFlightAtKill = 0;
    let killed = false;
    const statuses = new Map<string, number>();
    const sending = forEachConcurrently(all, CONCURRENCY, async (d) => {
      if (killed) return;
      inFlight++;
      const status = await send(d);
      inFlight--;
      const answer = `${killed ? 'after' : 'before'} the kill: ${status}`;
      statuses.set(answer, (statuses.get(answer) ?? 0) + 1);
      if (status !== 204) return;
      acknowledged.add(d);
      if (killed) return;
      beforeKill.add(d);
      if (isLocked) whileLocked.add(d);
    });
    await pollUntil(
      async () => acknowledged.size,
      (n) => n >= all.length / 5,
      'a fifth of the decisions acknowledged',
      { timeoutMs: 120_000 },
    );
    const locked = await lockRecords(stack.database!.url);
    isLocked = true;
    const holders = streams.filter((id) => id !== instanceWorkflowId(large.definitionId, large.instanceId));
    // Record writes fail while the tables are locked (each gives up after 5 s and is retried later); the
    // reviews go on meanwhile, so decisions are answered and the records fall behind in every stream.
    await pollUntil(
      () => behind(holders),
      (b) => b.size === holders.length,
      'records behind in every stream',
      {
        timeoutMs: 60_000,
        intervalMs: 200,
      },
    ).catch(() => undefined);
    await pollUntil(
      async () => whileLocked.size,
      (n) => n > 0,
      'a decision answered while the records are locked',
      { timeoutMs: 30_000, intervalMs: 200 },
    ).catch(() => undefined);
    const lagging = await behind(holders);
    const waiting = await locked.waiting();
    inFlightAtKill = inFlight;
    killed = true;
    await stack.killWorker();
    await locked.release();
    await sending;
    note(
      `SIGKILL at ${Date.now() - t0} ms with ${beforeKill.size} decisions acknowledged (${whileLocked.size} ` +
        `while the records were locked) and ${inFlightAtKill} in flight; ${waiting} record writes waiting ` +
        `for the lock; records behind in ${lagging.size} of ${holders.length} streams holding items; ` +
        `answers: ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
    // The kill hit decision Updates and record writes of every stream holding items on their way (and
    // the decisions answered while the records were locked, when there were any).
    expect(inFlightAtKill).toBeGreaterThan(0);
    expect(whileLocked.size).toBeGreaterThan(0);
    expect(holders.filter((id) => !lagging.has(id))).toEqual([]);

    await stack.startWorker();
    note(`worker restarted at ${Date.now() - t0} ms`);
    await untilSettled(streams);
    note(`every stream's records caught up with it at ${Date.now() - t0} ms`);

    // Every decision answered 2xx before the kill reaches the records (the cut-off writes made again).
    const missing = async (decisions: Iterable<Decision>) => {
      const rows = new Map(
        (await Promise.all(reviews.map((r) => recordsSide(records(), r.instanceId))))
          .flatMap((r) => r.items)
          .map((row) => [row.record.itemId, row.record.view]),
      );
      return [...decisions].filter((d) => {
        const view = rows.get(d.review.items.get(d.member)!);
        return view?.decision !== d.decision || view.reviewedBy?.id !== memberIds[d.member];
      });
    };
    const notRecorded = await pollUntil(
      () => missing(beforeKill),
      (m) => m.length === 0,
      'every decision acknowledged before the kill in the records',
      { timeoutMs: 120_000, intervalMs: 500 },
    ).catch(async () => missing(beforeKill));
    expect(notRecorded.map((d) => `${d.review.instanceId} member ${d.member}`)).toEqual([]);
    note(`every decision acknowledged before the kill is in the records at ${Date.now() - t0} ms`);

    // Then the rest, as a client would send them again, until every decision is acknowledged.
    await decideAll(all, send, acknowledged);
    note(`all ${all.length} decisions acknowledged at ${Date.now() - t0} ms`);

    expect(await untilRecordsEqualWorkflows(reviews, 'in the stage', 60_000)).toEqual([]);
    expect(await missing(all)).toEqual([]);

    // The stage ends (stopping completes the reviews; nothing is applied): all items change once more.
    for (const r of reviews) await stop(r);
    for (const r of reviews) await api.untilStatus(r.base, 'Completed');
    expect(await untilRecordsEqualWorkflows(reviews, 'once completed', 60_000)).toEqual([]);
    expect(await missing(all)).toEqual([]);
    note(`done at ${Date.now() - t0} ms`);
  }, 240_000);

  it('equal the workflows, every item applied once, after a SIGKILL mid-apply', async () => {
    const t0 = Date.now();
    const { memberIds, groupId } = stack.tenant;
    // Every member is denied once: the inactive ones in one review, everyone else in the other (where
    // the inactive ones approve themselves); 600 directory writes in all.
    const denyByDefault = {
      autoApplyDecisionsEnabled: true,
      defaultDecisionEnabled: true,
      defaultDecision: 'Deny',
    };
    const small = await startReview('Records apply crash (inactive members)', denyByDefault, true);
    const large = await startReview('Records apply crash (whole group)', denyByDefault);
    const reviews = [small, large];
    const streams = [...(await streamsOf(small)), ...(await streamsOf(large))];
    await decideAll([...small.items.keys()], async (i) => {
      const res = await api.call('PATCH', `${large.base}/decisions/${large.items.get(i)}`, {
        as: await stack.auth(memberIds[i]!),
        body: { decision: 'Approve', justification: 'reviewed in the review of inactive members' },
      });
      return res.status;
    });
    const denials = MEMBERS;
    note(`reviews started and ${small.items.size} approvals acknowledged at ${Date.now() - t0} ms`);

    // Lock the record tables (every record write from here on hangs), stop both reviews, then watch the
    // apply ledger: kill once a tenth of the denials are applied, before all are.
    const applied = async () => (await stack.ledgerEntries()).filter((e) => e.entry !== 'Pending').length;
    const appliedInRecords = async () => {
      const db = createDatabase(stack.database!.url, { max: 1 });
      try {
        const row = await db
          .selectFrom('review_items')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .where(sql<boolean>`record -> 'view' ->> 'applyResult' <> 'New'`)
          .executeTakeFirstOrThrow();
        return Number(row.n);
      } finally {
        await db.destroy();
      }
    };
    const locked = await lockRecords(stack.database!.url);
    await Promise.all(reviews.map(stop));
    const applying = await pollUntil(applied, (n) => n >= denials / 10, 'the first applied denials', {
      timeoutMs: 60_000,
      intervalMs: 2,
    });
    const waitingAtKill = await locked.waiting();
    await stack.killWorker();
    const startedAtKill = await startedActivities(streams);
    // What the records show applied when the worker died (the tables were locked: no write got through).
    const recordedAtKill = await appliedInRecords();
    await locked.release();
    const atKill = await applied();
    note(
      `SIGKILL at ${Date.now() - t0} ms with ${applying}→${atKill} of ${denials} denials applied; ` +
        `${waitingAtKill} record writes waiting for the lock; ${recordedAtKill} applied in the records; ` +
        `started activities: ${JSON.stringify(startedAtKill)}`,
    );
    // The kill hit the apply (it had started and not finished) and a record write of every stream.
    expect(atKill).toBeLessThan(denials);
    expect(startedAtKill.applyDecisions).toBeGreaterThan(0);
    expect(recordedAtKill).toBeLessThan(atKill);

    await stack.startWorker();
    for (const r of reviews) await api.untilStatus(r.base, 'Applied', 180_000);
    note(`Applied at ${Date.now() - t0} ms`);
    expect(await untilRecordsEqualWorkflows(reviews, 'once applied', 30_000)).toEqual([]);

    // What the records agree with is right: each item applied once (a second removal of a removed member
    // would say AppliedSuccessfullyButObjectNotFound), in exactly one ItemsApplied event of its stream.
    for (const r of reviews) {
      const rows = await recordsSide(records(), r.instanceId);
      expect(rows.items.filter((row) => row.record.view.applyResult !== 'AppliedSuccessfully')).toEqual([]);
      const appliedIn = new Map<string, number>();
      const kinds = new Map<string, number>();
      for (const events of rows.events.values()) {
        for (const { event } of events as { event: ReviewEvent }[]) {
          kinds.set(event.type, (kinds.get(event.type) ?? 0) + 1);
          if (event.type !== 'ItemsApplied') continue;
          for (const { itemId } of event.results) appliedIn.set(itemId, (appliedIn.get(itemId) ?? 0) + 1);
        }
      }
      expect(appliedIn.size).toBe(r.items.size);
      expect([...appliedIn.values()].every((n) => n === 1)).toBe(true);
      // One ApplyStarted and ApplyCompleted per stream (the instance, and each shard).
      const streamCount = rows.events.size;
      expect(kinds.get('ApplyStarted')).toBe(streamCount);
      expect(kinds.get('ApplyCompleted')).toBe(streamCount);
    }
    const members = await api.call('GET', `/v1.0/groups/${groupId}/members?$top=999&$select=id`, {
      as: await api.admin(),
    });
    expect(members.status).toBe(200);
    expect(members.body.value).toEqual([]);
    note(`done at ${Date.now() - t0} ms`);
  }, 240_000);
});
