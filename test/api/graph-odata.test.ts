import type { Client } from '@microsoft/microsoft-graph-client';
import { ResponseType } from '@microsoft/microsoft-graph-client';
import type {
  AccessReviewInstance,
  AccessReviewInstanceDecisionItem,
  AccessReviewQueryScope,
  AccessReviewScheduleDefinition,
  Entity,
} from '@microsoft/microsoft-graph-types';
import { DEMO } from '../helpers/api-fixtures';
import type { Collection, OData, Seeded } from '../helpers/graph-sdk';
import { all, graphClient, graphError, REVIEWS, seedReviews } from '../helpers/graph-sdk';
import type { Stack } from '../helpers/stack';
import { startStack } from '../helpers/stack';

// The OData query options of Graph on every list of the access reviews API, through the Graph SDK:
// $filter (one grammar for all lists), $orderby, $count (option and path segment), and a 400 for the
// system query options the API does not implement.

let stack: Stack;
let admin: Client;
let seeded: Seeded;
beforeAll(async () => {
  stack = await startStack();
  admin = await graphClient(stack, DEMO.PATTI, true);
  seeded = await seedReviews(stack);
}, 180_000);
afterAll(async () => {
  await stack?.stop();
});

type Definition = AccessReviewScheduleDefinition;
type Decision = AccessReviewInstanceDecisionItem;
const DEFINITIONS = `${REVIEWS}/definitions`;
const QUERY_SCOPE = 'scope/microsoft.graph.accessReviewQueryScope/query';
const after2020 = (t: string | null | undefined) =>
  !!t && Date.parse(t) >= Date.parse('2020-01-01T00:00:00Z');

/** The lists of the API, by name (the finance review's instance, stage and decisions). */
const LISTS: Record<string, () => string> = {
  definitions: () => DEFINITIONS,
  instances: () => `${DEFINITIONS}/${seeded.finance.definitionId}/instances`,
  stages: () => `${seeded.finance.base}/stages`,
  decisions: () => `${seeded.finance.base}/decisions`,
  'stage decisions': () => `${seeded.finance.base}/stages/1/decisions`,
  contactedReviewers: () => `${seeded.finance.base}/contactedReviewers`,
};

/** Lists `path` with `$filter` and `$count=true`: exactly the items of the unfiltered list that `matches`. */
async function expectFilter<T extends Entity>(
  path: string,
  filter: string,
  matches: (item: OData<T>) => boolean,
  nonEmpty = true,
) {
  const expected = (await all<T>(admin, path)).filter(matches);
  if (nonEmpty) expect(expected.length).toBeGreaterThan(0);
  const got = (await admin.api(path).filter(filter).count(true).top(1000).get()) as Collection<T>;
  expect(got.value.filter((item) => !matches(item))).toEqual([]);
  expect(got.value.map((i) => i.id).sort()).toEqual(expected.map((i) => i.id).sort());
  expect(got['@odata.count']).toBe(expected.length);
}

async function expect400(call: Promise<unknown>, code: string, option: string) {
  const err = await graphError(call);
  expect({ status: err.statusCode, code: err.code }).toEqual({ status: 400, code });
  expect(err.message).toContain(option);
}

// The tables' callbacks take their row as a rest parameter: jest hands a callback that declares more
// parameters than its row has a `done` callback, and waits for it.

describe('$filter', () => {
  it.each<[string, (d: Definition) => boolean, boolean?]>([
    [
      `contains(${QUERY_SCOPE},'/groups/${DEMO.FINANCE}')`,
      (d) => !!(d.scope as AccessReviewQueryScope).query?.includes(`/groups/${DEMO.FINANCE}`),
    ],
    ["displayName eq 'OData salesforce review'", (d) => d.displayName === 'OData salesforce review'],
    ["startswith(displayName,'OData s')", (d) => !!d.displayName?.startsWith('OData s')],
    ["displayName eq 'Smith''s review'", (d) => d.displayName === "Smith's review", false],
    ['settings/recommendationsEnabled eq true', (d) => d.settings?.recommendationsEnabled === true],
    ['settings/instanceDurationInDays ge 3', (d) => (d.settings?.instanceDurationInDays ?? 0) >= 3],
    ['createdDateTime gt 2020-01-01T00:00:00Z', (d) => after2020(d.createdDateTime)],
    ['descriptionForAdmins eq null', (d) => d.descriptionForAdmins == null],
  ])(
    'definitions $filter=%s returns exactly the matching definitions',
    async (...[filter, matches, nonEmpty]) => {
      await expectFilter<Definition>(DEFINITIONS, filter, matches, nonEmpty);
    },
  );

  it('definitions $filter on the scope query of the Finance Team excludes the Salesforce review', async () => {
    const got = (await admin
      .api(DEFINITIONS)
      .filter(`contains(${QUERY_SCOPE},'/groups/${DEMO.FINANCE}')`)
      .get()) as Collection<Definition>;
    expect(got.value.map((d) => d.id).sort()).toEqual(
      [seeded.finance.definitionId, seeded.staged.definitionId].sort(),
    );
  });

  it.each([
    ["status eq 'Completed'", 'salesforce', 'finance', (i: AccessReviewInstance) => i.status === 'Completed'],
    [
      "status eq 'InProgress'",
      'finance',
      'salesforce',
      (i: AccessReviewInstance) => i.status === 'InProgress',
    ],
    ["status ne 'Completed'", 'finance', 'salesforce', (i: AccessReviewInstance) => i.status !== 'Completed'],
  ] as const)('instances $filter=%s returns only such instances', async (filter, hit, miss, matches) => {
    const path = (k: keyof Seeded) => `${DEFINITIONS}/${seeded[k].definitionId}/instances`;
    await expectFilter<AccessReviewInstance>(path(hit), filter, matches);
    await expectFilter<AccessReviewInstance>(path(miss), filter, matches, false);
  });

  const decisionFilters: [string, (d: Decision) => boolean, boolean?][] = [
    ["decision eq 'Deny'", (d) => d.decision === 'Deny'],
    ["recommendation eq 'Deny'", (d) => d.recommendation === 'Deny'],
    ["recommendation eq 'Approve'", (d) => d.recommendation === 'Approve'],
    ["applyResult eq 'New'", (d) => d.applyResult === 'New'],
    [`principal/id eq '${DEMO.LEE}'`, (d) => d.principal?.id === DEMO.LEE],
    ["decision eq 'Approve' or decision eq 'Deny'", (d) => d.decision === 'Approve' || d.decision === 'Deny'],
    ["contains(principal/displayName,'Ch')", (d) => !!d.principal?.displayName?.includes('Ch')],
    ["startswith(principal/displayName,'L')", (d) => !!d.principal?.displayName?.startsWith('L')],
    ["principal/displayName eq 'Conan O''Brien'", (d) => d.principal?.displayName === "Conan O'Brien", false],
    [`reviewedBy/id eq '${DEMO.DEBRA}'`, (d) => d.reviewedBy?.id === DEMO.DEBRA],
    ["not(decision eq 'NotReviewed')", (d) => d.decision !== 'NotReviewed'],
    [
      "(decision eq 'Deny' or decision eq 'DontKnow') and recommendation ne 'Deny'",
      (d) => (d.decision === 'Deny' || d.decision === 'DontKnow') && d.recommendation !== 'Deny',
    ],
    ['reviewedDateTime ge 2020-01-01T00:00:00Z', (d) => after2020(d.reviewedDateTime)],
    ['reviewedDateTime eq null', (d) => d.reviewedDateTime == null],
    [
      "decision ne 'Deny' and decision ne 'Approve'",
      (d) => d.decision !== 'Deny' && d.decision !== 'Approve',
    ],
  ];
  describe.each([
    ['instance', ''],
    ['stage 1', '/stages/1'],
  ])('%s decisions', (_level, stage) => {
    it.each(decisionFilters)(
      '$filter=%s returns exactly the matching items',
      async (...[filter, matches, nonEmpty]) => {
        await expectFilter<Decision>(`${seeded.finance.base}${stage}/decisions`, filter, matches, nonEmpty);
      },
    );
  });

  it.each(
    ["nope eq 'x'", "reviewers/any(r:r/query eq 'x')", 'decision eq', "decision eq 'Deny"].flatMap((filter) =>
      ['definitions', 'instances', 'decisions', 'stage decisions'].map((list) => [filter, list]),
    ),
  )('$filter=%s on %s is 400 request.unsupported_filter naming $filter', async (filter, list) => {
    await expect400(admin.api(LISTS[list]!()).filter(filter).get(), 'request.unsupported_filter', '$filter');
  });
});

describe('$orderby', () => {
  const decisions = LISTS.decisions!;
  const sorted = (xs: string[], desc = false) => {
    const s = [...xs].sort();
    return desc ? s.reverse() : s;
  };

  it.each([
    ['instance', ''],
    ['stage 1', '/stages/1'],
  ])('%s decisions $orderby=decision desc sorts by decision, descending', async (_level, stage) => {
    const got = (await admin
      .api(`${seeded.finance.base}${stage}/decisions`)
      .orderby('decision desc')
      .top(1000)
      .get()) as Collection<Decision>;
    const values = got.value.map((d) => d.decision!);
    expect(new Set(values).size).toBeGreaterThan(2);
    expect(values).toEqual(sorted(values, true));
  });

  it('decisions $orderby=principal/displayName sorts by the principal name, ascending', async () => {
    const got = (await admin
      .api(decisions())
      .orderby('principal/displayName')
      .top(1000)
      .get()) as Collection<Decision>;
    const names = got.value.map((d) => d.principal!.displayName!);
    expect(names).toHaveLength(11);
    expect(names).toEqual(sorted(names));
  });

  it('decisions $orderby=decision desc,principal/displayName asc sorts by both keys', async () => {
    const got = (await admin
      .api(decisions())
      .orderby(['decision desc', 'principal/displayName asc'])
      .top(1000)
      .get()) as Collection<Decision>;
    const keys = got.value.map((d) => [d.decision!, d.principal!.displayName!] as const);
    const expected = [...keys].sort(([d1, n1], [d2, n2]) =>
      d1 !== d2 ? (d1 < d2 ? 1 : -1) : n1 < n2 ? -1 : n1 > n2 ? 1 : 0,
    );
    expect(keys).toEqual(expected);
  });

  it.each([
    ['displayName desc', true],
    ['displayName asc', false],
  ])('definitions $orderby=%s sorts by display name', async (orderby, desc) => {
    const got = (await admin.api(DEFINITIONS).orderby(orderby).get()) as Collection<Definition>;
    const names = got.value.map((d) => d.displayName!);
    expect(names).toHaveLength(3);
    expect(names).toEqual(sorted(names, desc));
  });

  it.each(['definitions', 'decisions'])(
    'an unknown $orderby property on %s is 400 request.unsupported_query_option naming $orderby',
    async (list) => {
      await expect400(
        admin.api(LISTS[list]!()).orderby('nope desc').get(),
        'request.unsupported_query_option',
        '$orderby',
      );
    },
  );
});

describe('$count', () => {
  it.each(Object.keys(LISTS))('%s $count=true with $top=1 counts every item, not the page', async (list) => {
    const path = LISTS[list]!();
    const total = (await all(admin, path)).length;
    expect(total).toBeGreaterThan(0);
    const page = (await admin.api(path).count(true).top(1).get()) as Collection<Entity>;
    expect([page['@odata.count'], page.value.length]).toEqual([total, 1]);
  });

  it.each([
    ['definitions', `contains(${QUERY_SCOPE},'/groups/${DEMO.FINANCE}')`, 2],
    ['decisions', "decision eq 'Deny'", 2],
    ['stage decisions', "decision eq 'Deny' or decision eq 'Approve'", 3],
  ])(
    '%s $count=true counts the items that match $filter=%s, beyond the page',
    async (list, filter, count) => {
      const page = (await admin
        .api(LISTS[list]!())
        .filter(filter)
        .count(true)
        .top(1)
        .get()) as Collection<Entity>;
      expect([page['@odata.count'], page.value.length]).toEqual([count, 1]);
    },
  );

  const instances = (k: keyof Seeded) => () => `${DEFINITIONS}/${seeded[k].definitionId}/instances/$count`;
  const decisions =
    (k: keyof Seeded, stage = '') =>
    () =>
      `${seeded[k].base}${stage}/decisions/$count`;
  it.each(
    (
      [
        ['definitions/$count', () => `${DEFINITIONS}/$count`, '', '3'],
        [
          'definitions/$count',
          () => `${DEFINITIONS}/$count`,
          "displayName eq 'OData salesforce review'",
          '1',
        ],
        ['instances/$count of the finance review', instances('finance'), '', '1'],
        ['instances/$count of the stopped review', instances('salesforce'), "status eq 'Completed'", '1'],
        ['instances/$count of the finance review', instances('finance'), "status eq 'Completed'", '0'],
        ['decisions/$count', decisions('finance'), '', '11'],
        ['decisions/$count', decisions('finance'), "decision eq 'Deny'", '2'],
        ['stages/1/decisions/$count', decisions('finance', '/stages/1'), "decision eq 'Deny'", '2'],
        [
          'decisions/$count of the stopped review',
          decisions('salesforce'),
          `principal/id eq '${DEMO.LEE}'`,
          '0',
        ],
      ] as const
    ).map(([segment, path, filter, expected]) => ({
      name: filter ? `${segment} with $filter=${filter}` : segment,
      path,
      filter,
      expected,
    })),
  )('$name answers text/plain $expected', async ({ path, filter, expected }) => {
    const request = admin.api(path()).responseType(ResponseType.RAW);
    const res = (await (filter ? request.filter(filter) : request).get()) as Response;
    expect([res.status, res.headers.get('content-type')]).toEqual([
      200,
      expect.stringMatching(/^text\/plain/),
    ]);
    expect(await res.text()).toBe(expected);
  });
});

describe('unsupported system query options', () => {
  it.each(
    [
      ['$search', '"x"'],
      ['$apply', 'x'],
      ['$format', 'json'],
    ].flatMap(([option, value]) => Object.keys(LISTS).map((list) => [option!, value!, list])),
  )('%s=%s on %s is 400 request.unsupported_query_option naming it', async (option, value, list) => {
    await expect400(
      admin
        .api(LISTS[list]!())
        .query({ [option]: value })
        .get(),
      'request.unsupported_query_option',
      option,
    );
  });
});
