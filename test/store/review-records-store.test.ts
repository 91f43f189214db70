import type { Kysely } from 'kysely';
import type { Filter } from '../../src/domain/odata-filter';
import type { ItemRecord, RecordBatch } from '../../src/domain/review-records';
import type { DecisionItemView, InstanceView } from '../../src/domain/review-views';
import { createDatabase } from '../../src/store/database';
import { migrateToLatest } from '../../src/store/migrations';
import { PostgresReviewRecords } from '../../src/store/postgres-review-records';
import type { ReviewRecordStore } from '../../src/store/review-records';
import { InMemoryReviewRecords } from '../../src/store/review-records';
import type { Database } from '../../src/store/schema';
import type { TestDatabase } from '../helpers/postgres';
import { createTestDatabase } from '../helpers/postgres';

// The record store's write rules, against both stores: an event is kept once per (stream, seq), and a row
// only moves to a later version, so retried, replayed and reordered batches leave the same records.

let database: TestDatabase;
let db: Kysely<Database>;
beforeAll(async () => {
  database = await createTestDatabase();
  db = createDatabase(database.url);
  await migrateToLatest(db);
}, 60_000);
afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});

const view = (id: string, decision: DecisionItemView['decision']) =>
  ({ id, decision, principal: { id: `p-${id}` } }) as unknown as DecisionItemView;
const item = (id: string, decision: DecisionItemView['decision'], reviewers: string[]): ItemRecord => ({
  itemId: id,
  order: [0, Number(id.slice(1))],
  principalId: `p-${id}`,
  view: view(id, decision),
  reviewerView: view(id, decision),
  stages: [{ stageId: '1', view: view(id, decision), reviewerIds: reviewers }],
  currentReviewerIds: reviewers,
});
const instance = {
  id: 'inst',
  status: 'InProgress',
  currentStageId: '1',
  stages: [{ id: '1' }],
} as unknown as InstanceView;
const batch = (instanceId: string, version: number, items: ItemRecord[], seqs: number[]): RecordBatch => ({
  streamId: `wf-${instanceId}`,
  definitionId: 'def',
  instanceId,
  version,
  decisionHistoriesForReviewersEnabled: false,
  instance: { ...instance, id: instanceId },
  events: seqs.map((seq) => ({
    seq,
    event: { type: 'ReminderSent', at: 'x', by: 'a', reviewerIds: [] } as never,
  })),
  items,
  contacted: [
    { id: 'ann', displayName: 'Ann', userPrincipalName: 'ann@x', createdDateTime: '2026-01-01T00:00:00Z' },
  ],
});

describe.each([
  ['in memory', () => new InMemoryReviewRecords()],
  ['in PostgreSQL', () => new PostgresReviewRecords(db)],
] as [string, () => ReviewRecordStore][])('the review records %s', (_label, open) => {
  it('keeps each event once and the latest version of each row, whatever order batches arrive in', async () => {
    const store = open();
    const id = `i-${Math.random().toString(36).slice(2)}`;
    const newer = batch(id, 5, [item('i1', 'Deny', [])], [4, 5]);
    const older = batch(
      id,
      3,
      [item('i1', 'Approve', ['ann']), item('i2', 'NotReviewed', ['ann'])],
      [1, 2, 3],
    );
    await store.write(newer);
    await store.write(older);
    await store.write(older);
    await store.write(newer);
    expect((await store.events(id)).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    const admin = await store.decisions(id, { viewer: { kind: 'admin', userId: 'x' }, skip: 0, top: 10 });
    expect(admin).toEqual({ total: 2, value: [view('i1', 'Deny'), view('i2', 'NotReviewed')] });
    // Ann reviews i2 only: i1's newer record has no reviewer any more.
    const ann = await store.decisions(id, { viewer: { kind: 'reviewer', userId: 'ann' }, skip: 0, top: 10 });
    expect(ann).toEqual({ total: 1, value: [view('i2', 'NotReviewed')] });
    expect(await store.decision(id, 'i1', { kind: 'reviewer', userId: 'ann' })).toMatchObject({
      code: 'review.not_a_reviewer',
    });
    expect(await store.contacted(id)).toHaveLength(1);
    expect((await store.instancesOf('def')).some((r) => r.instanceId === id)).toBe(true);
    expect(
      await store.decisions('nope', { viewer: { kind: 'admin', userId: 'x' }, skip: 0, top: 1 }),
    ).toMatchObject({
      code: 'instance.not_found',
    });
  });

  it('replaces what a workflow task that failed wrote with what the workflow wrote when it went on', async () => {
    const store = open();
    const id = `i-${Math.random().toString(36).slice(2)}`;
    const by = (who: string) => ({ type: 'ReminderSent', at: 'x', by: who, reviewerIds: [] }) as never;
    const withEvents = (version: number, seqs: number[], who: string) => ({
      ...batch(id, version, [], []),
      events: seqs.map((seq) => ({ seq, event: by(who) })),
    });
    await store.write(withEvents(2, [1, 2], 'saved'));
    // The failed task numbered three events; the workflow, going on from its last saved task, two others.
    await store.write(withEvents(5, [3, 4, 5], 'lost'));
    await store.write(withEvents(4, [3, 4], 'kept'));
    const events = await store.events(id);
    expect(events.map((e) => [e.seq, (e.event as { by: string }).by])).toEqual([
      [1, 'saved'],
      [2, 'saved'],
      [3, 'kept'],
      [4, 'kept'],
    ]);
  });

  it('keeps a later version of a definition, and lists, filters and counts definitions not deleted', async () => {
    const store = open();
    const tag = Math.random().toString(36).slice(2);
    const record = (id: string, name: string, created: string, ended = false) => ({
      definition: { id, displayName: name, createdDateTime: created, status: 'InProgress' } as never,
      instances: [],
      nextOccurrenceDateTime: null,
      ended,
    });
    await store.writeDefinition({
      definitionId: `a-${tag}`,
      version: 2,
      record: record(`a-${tag}`, `Alpha ${tag}`, '2026-01-02T00:00:00.000Z'),
    });
    await store.writeDefinition({
      definitionId: `a-${tag}`,
      version: 1,
      record: record(`a-${tag}`, 'stale', '2026-01-02T00:00:00.000Z'),
    });
    await store.writeDefinition({
      definitionId: `b-${tag}`,
      version: 1,
      record: record(`b-${tag}`, `beta ${tag}`, '2026-01-01T00:00:00.000Z'),
    });
    await store.writeDefinition({
      definitionId: `c-${tag}`,
      version: 3,
      record: record(`c-${tag}`, `Gamma ${tag}`, '2026-01-03T00:00:00.000Z', true),
    });
    expect((await store.definition(`a-${tag}`))?.definition.displayName).toBe(`Alpha ${tag}`);
    expect((await store.definition(`c-${tag}`))?.ended).toBe(true);
    const mine: Filter = { kind: 'compare', op: 'eq', path: ['displayName'], value: `ALPHA ${tag}` };
    const ofTag: Filter = { kind: 'call', fn: 'endswith', path: ['displayName'], value: tag };
    const page = await store.definitions({ skip: 0, top: 10, filter: ofTag });
    expect(page.total).toBe(2);
    expect(page.value.map((r) => r.definition.id)).toEqual([`b-${tag}`, `a-${tag}`]);
    const sorted = await store.definitions({
      skip: 0,
      top: 1,
      filter: ofTag,
      orderBy: [{ path: ['displayName'], desc: false }],
    });
    expect({ total: sorted.total, ids: sorted.value.map((r) => r.definition.id) }).toEqual({
      total: 2,
      ids: [`a-${tag}`],
    });
    expect((await store.definitions({ skip: 0, top: 10, filter: mine })).total).toBe(1);
  });

  it('deletes finished reviews past their retention, and keeps running and recent ones', async () => {
    const store = open();
    const finished = `f-${Math.random().toString(36).slice(2)}`;
    const running = `r-${Math.random().toString(36).slice(2)}`;
    const done = batch(finished, 3, [item('i1', 'Deny', [])], [1, 2, 3]);
    done.instance = { ...done.instance!, status: 'Applied' };
    await store.write(done);
    await store.write(batch(running, 2, [item('i1', 'Approve', ['ann'])], [1, 2]));
    expect(await store.prune(new Date(Date.now() - 60_000))).toBe(0);
    expect(await store.instance(finished)).toBeDefined();
    await store.prune(new Date(Date.now() + 60_000));
    expect(await store.instance(finished)).toBeUndefined();
    expect(await store.events(finished)).toEqual([]);
    expect(
      await store.decisions(finished, { viewer: { kind: 'admin', userId: 'x' }, skip: 0, top: 1 }),
    ).toMatchObject({ code: 'instance.not_found' });
    expect(await store.instance(running)).toBeDefined();
    expect((await store.events(running)).map((e) => e.seq)).toEqual([1, 2]);
  });
});
