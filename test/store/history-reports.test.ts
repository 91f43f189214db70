import v8 from 'node:v8';
import vm from 'node:vm';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { HISTORY_COLUMNS } from '../../src/domain/history-csv';
import { HistoryReportService } from '../../src/services/history-reports';
import { createDatabase } from '../../src/store/database';
import { HistoryReportStore } from '../../src/store/history-reports';
import { migrateToLatest } from '../../src/store/migrations';
import type { Database } from '../../src/store/schema';
import { csvObjects } from '../helpers/csv';
import type { TestDatabase } from '../helpers/postgres';
import { createTestDatabase } from '../helpers/postgres';

// History reports read straight from the review records in PostgreSQL: a review of 100,000 items written
// into the store streams out completely, page by page, without the report ever sitting in memory.

const ITEMS = 100_000;
const ADMIN = { userId: 'admin-1', isAdmin: true };
const NOW = new Date('2025-06-15T12:00:00.000Z');
const LONG = 'x'.repeat(300);

/** The garbage collector, so that what the heap holds after it is what the report keeps alive. */
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

let database: TestDatabase;
let db: Kysely<Database>;
let service: HistoryReportService;

/**
 * Writes a review instance's records as the recordReview activity would: the instance view, its
 * InstanceStarted event and `items` decision items of one stage, built in SQL so 100,000 rows are quick.
 */
async function writeReview(
  definitionId: string,
  instanceId: string,
  opts: {
    items: number;
    start: string;
    end: string;
    resource: { type: 'group' | 'application'; id: string };
  },
) {
  const view = {
    id: instanceId,
    definitionId,
    displayName: `Review ${instanceId}`,
    status: 'Applied',
    startDateTime: opts.start,
    endDateTime: opts.end,
    currentStageId: null,
    stages: [],
    errors: [],
    counts: {},
    reviewerIds: [],
    reminders: [],
    appliedDateTime: null,
    shards: 0,
  };
  await db
    .insertInto('review_instances')
    .values({
      instance_id: instanceId,
      definition_id: definitionId,
      version: 1,
      histories_for_reviewers: false,
      view: JSON.stringify(view),
    })
    .execute();
  await db
    .insertInto('review_events')
    .values({
      stream_id: `access-review/${definitionId}/${instanceId}`,
      seq: 1,
      instance_id: instanceId,
      event: JSON.stringify({
        type: 'InstanceStarted',
        at: opts.start,
        instanceId,
        plan: {
          definitionId,
          displayName: view.displayName,
          scope: { resource: opts.resource, principals: 'all' },
        },
      }),
    })
    .execute();
  // Even items are approved by r1 with a justification; odd ones nobody could review (notNotified).
  await sql`
    with v as (
      select i, jsonb_build_object(
        'id', 'item-' || i, 'accessReviewId', ${instanceId}::text,
        'decision', case when i % 2 = 0 then 'Approve' else 'NotReviewed' end,
        'justification', case when i % 2 = 0 then ${LONG}::text || i else null end,
        'recommendation', null,
        'reviewedDateTime', case when i % 2 = 0 then ${opts.start}::text else null end,
        'reviewedBy', case when i % 2 = 0 then jsonb_build_object('@odata.type', '#microsoft.graph.userIdentity',
          'id', 'r1', 'displayName', 'Reviewer One', 'userPrincipalName', 'r1@example.com') else null end,
        'applyResult', 'New', 'appliedDateTime', null, 'appliedBy', null,
        'principalLink', 'https://graph.microsoft.com/v1.0/users/user-' || i, 'resourceLink', null,
        'principal', jsonb_build_object('@odata.type', '#microsoft.graph.userIdentity', 'id', 'user-' || i,
          'displayName', 'User ' || i, 'userPrincipalName', 'user' || i || '@example.com'),
        'resource', jsonb_build_object('@odata.type', '#microsoft.graph.accessReviewInstanceDecisionItemAzureAdGroupResource',
          'id', ${opts.resource.id}::text, 'displayName', 'Resource', 'type', ${opts.resource.type}::text)
      ) as view
      from generate_series(1, ${opts.items}) as i
    )
    insert into review_items (instance_id, item_id, version, holder, position, principal_id, current_reviewer_ids, record)
    select ${instanceId}, 'item-' || i, 1, i % 4, i, 'user-' || i, '{}',
      jsonb_build_object('itemId', 'item-' || i, 'order', jsonb_build_array(i % 4, i), 'principalId', 'user-' || i,
        'view', view, 'reviewerView', view, 'currentReviewerIds', '[]'::jsonb,
        'stages', jsonb_build_array(jsonb_build_object('stageId', '1', 'view', view,
          'reviewerIds', case when i % 2 = 0 then '["r1"]'::jsonb else '[]'::jsonb end)))
    from v`.execute(db);
}

/** Creates a history definition, generates its link and returns the download's chunks. */
async function download(body: Record<string, unknown>): Promise<AsyncIterable<string>> {
  const definition = await service.create(
    {
      displayName: 'Report',
      reviewHistoryPeriodStartDateTime: '2025-01-01T00:00:00Z',
      reviewHistoryPeriodEndDateTime: '2025-03-31T23:59:59Z',
      scopes: [{ query: '/identityGovernance/accessReviews/definitions' }],
      ...body,
    },
    ADMIN,
  );
  const [instance] = await service.instances(definition.id, () => '');
  let token = '';
  await service.generateDownloadUri(definition.id, instance!.id, (_d, _i, t) => (token = t));
  return service.download(definition.id, instance!.id, token);
}

async function text(chunks: AsyncIterable<string>): Promise<string> {
  let all = '';
  for await (const chunk of chunks) all += chunk;
  return all;
}

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDatabase(database.url);
  await migrateToLatest(db);
  service = new HistoryReportService(
    new HistoryReportStore(db),
    async () => ({ displayName: 'Admin', userPrincipalName: 'admin@example.com' }),
    () => NOW,
  );
  await writeReview('def-big', 'inst-big', {
    items: ITEMS,
    start: '2025-02-01T00:00:00.000Z',
    end: '2025-02-15T00:00:00.000Z',
    resource: { type: 'group', id: 'group-1' },
  });
  await writeReview('def-app', 'inst-app', {
    items: 3,
    start: '2025-03-30T00:00:00.000Z',
    end: '2025-04-10T00:00:00.000Z',
    resource: { type: 'application', id: 'app-1' },
  });
  await writeReview('def-old', 'inst-old', {
    items: 3,
    start: '2024-10-01T00:00:00.000Z',
    end: '2024-12-31T23:59:59.000Z',
    resource: { type: 'group', id: 'group-2' },
  });
}, 300_000);

afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});

describe('history reports over the review records', () => {
  it('streams every row of a 100,000-item review, a page at a time, with bounded memory', async () => {
    const chunks = await download({
      scopes: [{ query: '/identityGovernance/accessReviews/definitions/def-big' }],
    });
    gc();
    const baseline = process.memoryUsage().heapUsed;
    let peak = 0;
    let seen = 0;
    let records = 0;
    let bytes = 0;
    let header = '';
    for await (const chunk of chunks) {
      if (!header) header = chunk;
      bytes += chunk.length;
      for (let at = chunk.indexOf('\r\n'); at !== -1; at = chunk.indexOf('\r\n', at + 2)) records++;
      if (++seen % 20 === 0) {
        gc();
        peak = Math.max(peak, process.memoryUsage().heapUsed - baseline);
      }
    }
    expect(header).toBe(`${HISTORY_COLUMNS.join(',')}\r\n`);
    // One stage row and one Final row per item, plus the header.
    expect(records).toBe(2 * ITEMS + 1);
    expect(bytes).toBeGreaterThan(64 * 1024 * 1024);
    // The report is about 80 MB; what stays alive while it streams is a page or two of it.
    expect(peak).toBeLessThan(16 * 1024 * 1024);
  }, 300_000);

  it('keeps review order and filters rows by decision: notNotified is NotReviewed with nobody to review', async () => {
    const rows = csvObjects(
      await text(
        await download({
          decisions: ['notNotified'],
          scopes: [
            {
              query:
                "/identityGovernance/accessReviews/definitions?$filter=contains(scope/query, '/servicePrincipals')",
            },
          ],
        }),
      ),
    );
    // Only the application review; item 1 and 3 are odd (nobody reviews them), by holder then position.
    expect(rows.map((r) => [r.AccessReviewId, r.PrincipalId, r.Stage, r.ReviewResult, r.ReviewType])).toEqual(
      [
        ['inst-app', 'user-1', '1', 'NotReviewed', 'application'],
        ['inst-app', 'user-1', 'Final', 'NotReviewed', 'application'],
        ['inst-app', 'user-3', '1', 'NotReviewed', 'application'],
        ['inst-app', 'user-3', 'Final', 'NotReviewed', 'application'],
      ],
    );
    const approved = csvObjects(
      await text(
        await download({
          decisions: ['approve'],
          scopes: [{ query: "/identityGovernance/accessReviews/definitions?$filter=id eq 'def-app'" }],
        }),
      ),
    );
    expect(approved.map((r) => [r.PrincipalId, r.Stage, r.ReviewerId, r.ReviewerUPN])).toEqual([
      ['user-2', '1', 'r1', 'r1@example.com'],
      ['user-2', 'Final', 'r1', 'r1@example.com'],
    ]);
  });

  it('reports the reviews whose period overlaps the report period, and no others', async () => {
    const ids = async (start: string, end: string) =>
      new Set(
        csvObjects(
          await text(
            await download({
              reviewHistoryPeriodStartDateTime: start,
              reviewHistoryPeriodEndDateTime: end,
              scopes: [
                { query: "/identityGovernance/accessReviews/definitions?$filter=not (id eq 'def-big')" },
              ],
            }),
          ),
        ).map((r) => r.AccessReviewId),
      );
    expect(await ids('2025-01-01T00:00:00Z', '2025-03-31T23:59:59Z')).toEqual(new Set(['inst-app']));
    expect(await ids('2024-12-31T23:59:59Z', '2025-01-31T00:00:00Z')).toEqual(new Set(['inst-old']));
    expect(await ids('2025-04-11T00:00:00Z', '2025-05-01T00:00:00Z')).toEqual(new Set());
    expect(await ids('2024-01-01T00:00:00Z', '2025-12-31T00:00:00Z')).toEqual(
      new Set(['inst-app', 'inst-old']),
    );
  });

  it('refuses a download without the current token, or after the link expired', async () => {
    const definition = await service.create(
      {
        displayName: 'Tokens',
        reviewHistoryPeriodStartDateTime: '2025-01-01T00:00:00Z',
        reviewHistoryPeriodEndDateTime: '2025-03-31T23:59:59Z',
        scopes: [{ query: '/identityGovernance/accessReviews/definitions' }],
      },
      ADMIN,
    );
    const [instance] = await service.instances(definition.id, () => '');
    let token = '';
    const generated = await service.generateDownloadUri(
      definition.id,
      instance!.id,
      (_d, _i, t) => (token = t),
    );
    expect(generated.downloadUri).toBe(token);
    await expect(service.download(definition.id, instance!.id, undefined)).rejects.toMatchObject({
      code: 'history.download_denied',
    });
    await expect(service.download(definition.id, instance!.id, `${token}x`)).rejects.toMatchObject({
      code: 'history.download_denied',
    });
    const later = new HistoryReportService(
      new HistoryReportStore(db),
      async () => undefined,
      () => new Date(NOW.getTime() + 25 * 3_600_000),
    );
    await expect(later.download(definition.id, instance!.id, token)).rejects.toMatchObject({
      code: 'history.download_denied',
    });
    const monthLater = new HistoryReportService(
      new HistoryReportStore(db),
      async () => undefined,
      () => new Date(NOW.getTime() + 31 * 86_400_000),
    );
    await expect(monthLater.generateDownloadUri(definition.id, instance!.id, () => '')).rejects.toMatchObject(
      { code: 'history.instance_expired' },
    );
  });

  it('materialises the occurrences of a monthly definition deterministically, once each', async () => {
    const created = new HistoryReportService(
      new HistoryReportStore(db),
      async () => undefined,
      () => new Date('2025-01-01T00:00:00.000Z'),
    );
    const definition = await created.create(
      {
        displayName: 'Monthly',
        scopes: [{ query: '/identityGovernance/accessReviews/definitions' }],
        scheduleSettings: {
          reportRange: 'P1M',
          recurrence: {
            pattern: { type: 'absoluteMonthly', interval: 1 },
            range: { type: 'numbered', numberOfOccurrences: 12, startDate: '2025-01-31' },
          },
        },
      },
      ADMIN,
    );
    const at = (iso: string) =>
      new HistoryReportService(
        new HistoryReportStore(db),
        async () => undefined,
        () => new Date(iso),
      );
    expect(await at('2025-01-30T00:00:00.000Z').instances(definition.id, () => '')).toEqual([]);
    expect((await at('2025-01-30T00:00:00.000Z').get(definition.id)).status).toBe('requested');
    const april = await at('2025-04-15T00:00:00.000Z').instances(definition.id, () => '');
    expect(april.map((i) => [i.runDateTime, i.reviewHistoryPeriodStartDateTime])).toEqual([
      ['2025-01-31T00:00:00.000Z', '2024-12-31T00:00:00.000Z'],
      ['2025-02-28T00:00:00.000Z', '2025-01-28T00:00:00.000Z'],
      ['2025-03-31T00:00:00.000Z', '2025-02-28T00:00:00.000Z'],
    ]);
    const again = await at('2025-04-15T00:00:00.000Z').instances(definition.id, () => '');
    expect(again).toEqual(april);
    const all = await at('2030-01-01T00:00:00.000Z').instances(definition.id, () => '');
    expect(all).toHaveLength(12);
    expect(all.slice(0, 3).map((i) => i.id)).toEqual(april.map((i) => i.id));
  });
});
