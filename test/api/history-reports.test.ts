import { HISTORY_COLUMNS } from '../../src/domain/history-csv';
import type { DecisionItem, StartedReview } from '../helpers/api-fixtures';
import { Api, DEMO, expectError, FINANCE_TEAM_SIZE, REVIEWS } from '../helpers/api-fixtures';
import { csvObjects, parseCsv } from '../helpers/csv';
import type { Stack } from '../helpers/stack';
import { startStack } from '../helpers/stack';

// A finished three-stage review, reported through Graph's accessReviewHistoryDefinition API: the CSV the
// download link serves has one row per item and stage, and a Final row, matching what the API's decision
// lists say item by item.

const HISTORY = `${REVIEWS}/historyDefinitions`;
const STAGE_REVIEWERS: Record<string, string> = { '1': DEMO.DEBRA, '2': DEMO.DIEGO, '3': DEMO.LEE };
const GROUPS_SCOPE = {
  '@odata.type': '#microsoft.graph.accessReviewQueryScope',
  queryType: 'MicrosoftGraph',
  query: "/identityGovernance/accessReviews/definitions?$filter=contains(scope/query, '/groups')",
  queryRoot: null,
};
const FORMULA = '=HYPERLINK("https://evil.example","click")';

const threeStageReview = {
  displayName: 'Finance Team three-stage review',
  scope: {
    '@odata.type': '#microsoft.graph.accessReviewQueryScope',
    query: `/groups/${DEMO.FINANCE}/transitiveMembers`,
    queryType: 'MicrosoftGraph',
  },
  stageSettings: ['1', '2', '3'].map((stageId, i) => ({
    stageId,
    ...(i > 0 ? { dependsOn: [String(i)] } : {}),
    durationInDays: 1,
    reviewers: [{ query: `/users/${STAGE_REVIEWERS[stageId]}`, queryType: 'MicrosoftGraph' }],
  })),
  // The stage reviewers are members of the team too, and the plan below has them decide their own items.
  settings: { instanceDurationInDays: 0, autoApplyDecisionsEnabled: true, separationOfDutiesEnabled: false },
};

/** Which decisions each stage's reviewer records, by the reviewee's place in the list. */
const PLAN: Record<string, [number, string, string][]> = {
  '1': [
    [0, 'Approve', 'Still in finance'],
    [1, 'Deny', 'Moved to sales, "for good"'],
    [2, 'DontKnow', 'Not sure, ask HR'],
    [3, 'Approve', FORMULA],
  ],
  '2': [
    [0, 'Approve', 'Confirmed'],
    [4, 'Deny', 'Left, line two\r\nof the note'],
  ],
  '3': [
    [0, 'Deny', 'Overruled in stage 3'],
    [5, 'Approve', '+1 from audit'],
  ],
};

let stack: Stack;
let api: Api;
let review: StartedReview;
let principals: string[];

beforeAll(async () => {
  stack = await startStack(undefined, { records: 'postgres' });
  api = new Api(stack);
  review = await api.startReview(threeStageReview);
  principals = Object.keys(await api.decisionsByPrincipal(review.base, '1')).sort();
  const admin = await api.admin();
  for (const stageId of ['1', '2', '3']) {
    await api.untilStage(review.base, stageId, 'InProgress');
    const items = await api.decisionsByPrincipal(review.base, stageId);
    const reviewer = await api.as(STAGE_REVIEWERS[stageId]!);
    for (const [place, decision, justification] of PLAN[stageId]!) {
      await api
        .http()
        .patch(`${review.base}/stages/${stageId}/decisions/${items[principals[place]!]!.id}`)
        .set(reviewer)
        .send({ decision, justification })
        .expect(204);
    }
    const stop = stageId === '3' ? `${review.base}/stop` : `${review.base}/stages/${stageId}/stop`;
    await api.http().post(stop).set(admin).expect(204);
  }
  await api.untilInstance(review.base, 'Applied');
}, 240_000);

afterAll(async () => {
  await stack?.stop();
});

async function createHistory(body: Record<string, unknown>) {
  const res = await api
    .http()
    .post(HISTORY)
    .set(await api.admin())
    .send(body);
  return res;
}

/** Creates a report over the last day and the next, downloads its one instance and returns the CSV text. */
async function report(extra: Record<string, unknown> = {}): Promise<string> {
  const now = Date.now();
  const created = await createHistory({
    displayName: 'Report',
    reviewHistoryPeriodStartDateTime: new Date(now - 86_400_000).toISOString(),
    reviewHistoryPeriodEndDateTime: new Date(now + 86_400_000).toISOString(),
    scopes: [GROUPS_SCOPE],
    ...extra,
  });
  expect(created.status).toBe(201);
  return download(created.body.id as string);
}

async function download(historyId: string): Promise<string> {
  const admin = await api.admin();
  const instances = await api.http().get(`${HISTORY}/${historyId}/instances`).set(admin).expect(200);
  expect(instances.body.value).toHaveLength(1);
  const instanceId = instances.body.value[0].id as string;
  const link = await api
    .http()
    .post(`${HISTORY}/${historyId}/instances/${instanceId}/generateDownloadUri`)
    .set(admin)
    .expect(200);
  const url = new URL(link.body.downloadUri as string);
  // The link is the authorisation: no bearer token.
  const res = await api.http().get(`${url.pathname}${url.search}`).buffer(true);
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
  return res.text;
}

describe('review history reports of a finished three-stage review', () => {
  it('serves a CSV whose rows match the decision lists item by item, per stage and Final', async () => {
    const csv = await report();
    expect(parseCsv(csv)[0]).toEqual([...HISTORY_COLUMNS]);
    const rows = csvObjects(csv).filter((r) => r.AccessReviewId === review.instanceId);
    expect(rows).toHaveLength(FINANCE_TEAM_SIZE * 4);

    const lists: Record<string, Record<string, DecisionItem>> = {
      Final: await api.decisionsByPrincipal(review.base),
    };
    for (const stageId of ['1', '2', '3'])
      lists[stageId] = await api.decisionsByPrincipal(review.base, stageId);
    const unformula = (v: string) => (v.startsWith("'") ? v.slice(1) : v);
    for (const [stage, items] of Object.entries(lists)) {
      for (const item of Object.values(items)) {
        const row = rows.find((r) => r.Stage === stage && r.PrincipalId === item.principal.id);
        expect({
          stage,
          principal: item.principal.id,
          decision: row?.ReviewResult,
          justification: unformula(row?.Justification ?? ''),
          reviewer: row?.ReviewerId,
          reviewedAt: row?.ReviewDate,
          recommendation: row?.AccessRecommendation,
          applyResult: row?.ApplyResult,
          name: row?.PrincipalName,
        }).toEqual({
          stage,
          principal: item.principal.id,
          decision: item.decision,
          justification: item.justification ?? '',
          reviewer: item.reviewedBy?.id ?? '',
          reviewedAt: item.reviewedDateTime ?? '',
          recommendation: item.recommendation ?? '',
          applyResult: item.applyResult,
          name: item.principal.displayName,
        });
      }
    }
    // The plan, once more in plain words: the last stage's Deny is the final decision of the first reviewee.
    const first = rows.filter((r) => r.PrincipalId === principals[0]);
    expect(first.map((r) => [r.Stage, r.ReviewResult, r.ReviewerId])).toEqual([
      ['1', 'Approve', DEMO.DEBRA],
      ['2', 'Approve', DEMO.DIEGO],
      ['3', 'Deny', DEMO.LEE],
      ['Final', 'Deny', DEMO.LEE],
    ]);
    expect(first.at(-1)).toMatchObject({
      ReviewName: threeStageReview.displayName,
      AccessReviewSeriesId: review.definitionId,
      ReviewType: 'group',
      ResourceId: DEMO.FINANCE,
      ReviewStatus: 'Applied',
      SubmissionResult: 'Applied',
      ApplyResult: 'AppliedSuccessfully',
      AssignedReviewerIds: [DEMO.DEBRA, DEMO.DIEGO, DEMO.LEE].join(';'),
    });
  });

  it('escapes quotes, commas and line breaks and neutralises cells a spreadsheet would run as formulas', async () => {
    const csv = await report();
    expect(csv).toContain(`"'=HYPERLINK(""https://evil.example"",""click"")"`);
    expect(csv).toContain('"Moved to sales, ""for good"""');
    expect(csv).toContain('"Left, line two\r\nof the note"');
    expect(csv).toContain(",'+1 from audit,");
  });

  it('reports only the decisions asked for', async () => {
    const rows = csvObjects(await report({ decisions: ['deny'] }));
    expect(rows.length).toBeGreaterThan(0);
    expect(new Set(rows.map((r) => r.ReviewResult))).toEqual(new Set(['Deny']));
    const mine = rows.filter((r) => r.AccessReviewId === review.instanceId);
    expect(mine.map((r) => `${r.Stage}:${principals.indexOf(r.PrincipalId!)}`).sort()).toEqual(
      ['1:1', 'Final:1', '2:4', 'Final:4', '3:0', 'Final:0'].sort(),
    );
    const dontKnow = csvObjects(await report({ decisions: ['dontKnow'] })).filter(
      (r) => r.AccessReviewId === review.instanceId,
    );
    expect(dontKnow.map((r) => [r.Stage, principals.indexOf(r.PrincipalId!)])).toEqual([
      ['1', 2],
      ['Final', 2],
    ]);
  });

  it('reports nothing for a period without reviews, or scopes that match none', async () => {
    const before = await createHistory({
      displayName: 'Before any review',
      reviewHistoryPeriodStartDateTime: '2020-01-01T00:00:00Z',
      reviewHistoryPeriodEndDateTime: '2020-03-31T23:59:59Z',
      scopes: [GROUPS_SCOPE],
    });
    expect(parseCsv(await download(before.body.id as string))).toEqual([[...HISTORY_COLUMNS]]);
    const apps = await report({
      scopes: [
        {
          query:
            "/identityGovernance/accessReviews/definitions?$filter=contains(scope/query, '/servicePrincipals')",
        },
      ],
    });
    expect(parseCsv(apps)).toHaveLength(1);
    const byId = csvObjects(
      await report({
        scopes: [{ query: `/identityGovernance/accessReviews/definitions/${review.definitionId}` }],
      }),
    );
    expect(byId).toHaveLength(FINANCE_TEAM_SIZE * 4);
  });

  it('answers in Graph shape: the definition with createdBy and status, its instance with a 24-hour link', async () => {
    const admin = await api.admin();
    const created = await createHistory({
      displayName: "Last quarter's group reviews",
      reviewHistoryPeriodStartDateTime: '2021-01-01T00:00:00Z',
      reviewHistoryPeriodEndDateTime: '2021-04-30T23:59:59Z',
      scopes: [GROUPS_SCOPE],
    });
    expect(created.status).toBe(201);
    expect(created.headers.location).toBe(`${HISTORY}/${created.body.id}`);
    expect(created.body).toMatchObject({
      '@odata.context': expect.stringContaining(
        '$metadata#identityGovernance/accessReviews/historyDefinitions',
      ),
      displayName: "Last quarter's group reviews",
      decisions: ['approve', 'deny', 'dontKnow', 'notReviewed', 'notNotified'],
      status: 'done',
      createdBy: { id: DEMO.PATTI },
      scopes: [GROUPS_SCOPE],
      scheduleSettings: null,
    });
    const got = await api
      .http()
      .get(`${HISTORY}/${created.body.id}?$expand=instances`)
      .set(admin)
      .expect(200);
    expect(got.body.instances).toEqual([
      expect.objectContaining({
        reviewHistoryPeriodStartDateTime: '2021-01-01T00:00:00.000Z',
        reviewHistoryPeriodEndDateTime: '2021-04-30T23:59:59.000Z',
        status: 'done',
        downloadUri: null,
      }),
    ]);
    const instanceId = got.body.instances[0].id as string;
    const link = await api
      .http()
      .post(`${HISTORY}/${created.body.id}/instances/${instanceId}/generateDownloadUri`)
      .set(admin)
      .expect(200);
    const hours = (Date.parse(link.body.expirationDateTime) - Date.parse(link.body.runDateTime)) / 3_600_000;
    expect(hours).toBe(30 * 24);
    const list = await api.http().get(HISTORY).set(admin).expect(200);
    expect(list.body.value.map((d: { id: string }) => d.id)).toContain(created.body.id);
    const instances = await api.http().get(`${HISTORY}/${created.body.id}/instances`).set(admin).expect(200);
    expect(instances.body.value[0].downloadUri).toBe(link.body.downloadUri);

    // A newer link replaces the old one; a wrong or missing token is refused alike.
    const again = await api
      .http()
      .post(`${HISTORY}/${created.body.id}/instances/${instanceId}/generateDownloadUri`)
      .set(admin)
      .expect(200);
    const old = new URL(link.body.downloadUri as string);
    const fresh = new URL(again.body.downloadUri as string);
    expect(fresh.search).not.toBe(old.search);
    expectError(await api.http().get(`${old.pathname}${old.search}`), 403, 'history.download_denied');
    expectError(await api.http().get(old.pathname), 403, 'history.download_denied');
    expectError(await api.http().get(`${old.pathname}?token=x&other=1`), 400, 'request.invalid_query');
    await api.http().get(`${fresh.pathname}${fresh.search}`).expect(200);
  });

  it('materialises one instance per occurrence of a recurring definition whose time has come', async () => {
    const startDate = new Date(Date.now() - 15 * 86_400_000).toISOString().slice(0, 10);
    const created = await createHistory({
      displayName: 'Weekly',
      scopes: [GROUPS_SCOPE],
      scheduleSettings: {
        reportRange: 'P7D',
        recurrence: { pattern: { type: 'weekly', interval: 1 }, range: { type: 'noEnd', startDate } },
      },
    });
    expect(created.status).toBe(201);
    const admin = await api.admin();
    const instances = await api.http().get(`${HISTORY}/${created.body.id}/instances`).set(admin).expect(200);
    // Anchored at creation (today), as review series are: the first occurrence runs now.
    expect(instances.body.value).toHaveLength(1);
    const [first] = instances.body.value;
    expect(
      Date.parse(first.reviewHistoryPeriodEndDateTime) - Date.parse(first.reviewHistoryPeriodStartDateTime),
    ).toBe(7 * 86_400_000);
    const again = await api.http().get(`${HISTORY}/${created.body.id}/instances`).set(admin).expect(200);
    expect(again.body.value).toEqual(instances.body.value);
  });

  it('refuses bad definitions with 400 and a stable code, unknown ids with 404, non-admins with 403', async () => {
    const period = {
      reviewHistoryPeriodStartDateTime: '2021-01-01T00:00:00Z',
      reviewHistoryPeriodEndDateTime: '2021-04-30T23:59:59Z',
    };
    const bad: [Record<string, unknown>, string][] = [
      [{ displayName: 'x', ...period, scopes: [] }, 'history.invalid'],
      [{ displayName: 'x', scopes: [GROUPS_SCOPE] }, 'history.invalid'],
      [
        {
          displayName: 'x',
          reviewHistoryPeriodStartDateTime: '2021-05-01T00:00:00Z',
          reviewHistoryPeriodEndDateTime: '2021-04-30T23:59:59Z',
          scopes: [GROUPS_SCOPE],
        },
        'history.invalid',
      ],
      [{ displayName: 'x', ...period, scopes: [{ query: '/groups/abc/members' }] }, 'history.invalid'],
      [
        {
          displayName: 'x',
          ...period,
          scopes: [
            { query: "/identityGovernance/accessReviews/definitions?$filter=contains(settings/x, 'y')" },
          ],
        },
        'history.invalid',
      ],
      [
        { displayName: 'x', ...period, decisions: ['Approve'], scopes: [GROUPS_SCOPE] },
        'request.invalid_body',
      ],
      [
        { displayName: 'x', reviewHistoryPeriodStartDateTime: 'yesterday', scopes: [GROUPS_SCOPE] },
        'request.invalid_body',
      ],
      [{ ...period, scopes: [GROUPS_SCOPE] }, 'request.invalid_body'],
      [
        {
          displayName: 'x',
          scopes: [GROUPS_SCOPE],
          scheduleSettings: {
            reportRange: 'PT1H',
            recurrence: {
              pattern: { type: 'weekly', interval: 1 },
              range: { type: 'noEnd', startDate: '2024-01-01' },
            },
          },
        },
        'request.invalid_body',
      ],
    ];
    for (const [body, code] of bad) {
      const res = await createHistory(body);
      expect([JSON.stringify(body), res.status, res.body.error?.code]).toEqual([
        JSON.stringify(body),
        400,
        code,
      ]);
    }
    const admin = await api.admin();
    const unknown = '00000000-0000-4000-8000-000000000000';
    expectError(
      await api.http().get(`${HISTORY}/${unknown}`).set(admin),
      404,
      'history.definition_not_found',
    );
    expectError(
      await api.http().get(`${HISTORY}/${unknown}/instances`).set(admin),
      404,
      'history.definition_not_found',
    );
    const created = await createHistory({ displayName: 'x', ...period, scopes: [GROUPS_SCOPE] });
    expectError(
      await api
        .http()
        .post(`${HISTORY}/${created.body.id}/instances/${unknown}/generateDownloadUri`)
        .set(admin),
      404,
      'history.instance_not_found',
    );
    const reviewer = await api.as(DEMO.DEBRA);
    expectError(await api.http().get(HISTORY).set(reviewer), 403, 'auth.admin_required');
    expectError(await api.http().post(HISTORY).set(reviewer).send({}), 403, 'auth.admin_required');
  });
});
