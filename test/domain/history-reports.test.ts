import { csvField, csvLine } from '../../src/domain/history-csv';
import { minusReportRange } from '../../src/domain/history-definitions';
import { canonicalScopeQuery, inHistoryScope, parseHistoryScope } from '../../src/domain/history-scopes';

const group = {
  id: 'def-1',
  displayName: 'Finance review',
  scope: canonicalScopeQuery({ resource: { type: 'group', id: 'g1' }, principals: 'all' }),
};
const guestsOfApp = {
  id: 'def-2',
  displayName: 'Guests of the app',
  scope: canonicalScopeQuery({ resource: { type: 'application', id: 'a1' }, principals: 'guests' }),
};

describe('history report CSV fields', () => {
  it.each([
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\r\nlines', '"two\r\nlines"'],
    ['=1+2', "'=1+2"],
    ['+1', "'+1"],
    ['-1', "'-1"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tx', "'\tx"],
    ['=HYPERLINK("u","c")', `"'=HYPERLINK(""u"",""c"")"`],
    ['', ''],
  ])('writes %j as %j', (value, written) => {
    expect(csvField(value)).toBe(written);
  });

  it('ends every record with CRLF', () => {
    expect(csvLine(['a', 'b,c'])).toBe('a,"b,c"\r\n');
  });
});

describe('history scopes', () => {
  it.each([
    ["/identityGovernance/accessReviews/definitions?$filter=contains(scope/query, '/groups')", true, false],
    [
      "/identityGovernance/accessReviews/definitions?$filter=contains(scope/query, '/servicePrincipals')",
      false,
      true,
    ],
    [
      "https://graph.microsoft.com/v1.0/identityGovernance/accessReviews/definitions?$filter=contains(scope/microsoft.graph.accessReviewQueryScope/query, 'userType eq')",
      false,
      true,
    ],
    [
      '/identityGovernance/accessReviews/definitions?$filter=contains(scope/query,%20%27%2Fgroups%27)',
      true,
      false,
    ],
    ["/identityGovernance/accessReviews/definitions?$filter=id eq 'def-2'", false, true],
    ["/identityGovernance/accessReviews/definitions?$filter=startswith(displayName, 'finance')", true, false],
    ['/identityGovernance/accessReviews/definitions/def-1', true, false],
    ['/identityGovernance/accessReviews/definitions', true, true],
    [
      "/identityGovernance/accessReviews/definitions?$filter=contains(scope/query, 'accessPackageAssignments')",
      false,
      false,
    ],
  ])('%s selects the group review: %s, the app guests review: %s', (query, g, a) => {
    const matcher = parseHistoryScope(query);
    expect([inHistoryScope(matcher, group), inHistoryScope(matcher, guestsOfApp)]).toEqual([g, a]);
  });

  it.each([
    '/groups/g1/members',
    '/identityGovernance/accessReviews/definitions?$top=5',
    "/identityGovernance/accessReviews/definitions?$filter=contains(settings/recurrence, 'x')",
    '/identityGovernance/accessReviews/definitions?$filter=contains(scope/query,',
  ])('refuses %s with a reason', (query) => {
    expect(() => parseHistoryScope(query)).toThrow(/scope query/);
  });
});

describe('report ranges', () => {
  it.each([
    ['2025-03-31T00:00:00.000Z', 'P1M', '2025-02-28T00:00:00.000Z'],
    ['2025-03-15T06:00:00.000Z', 'P7D', '2025-03-08T06:00:00.000Z'],
    ['2024-02-29T00:00:00.000Z', 'P1Y', '2023-02-28T00:00:00.000Z'],
    ['2025-01-31T00:00:00.000Z', 'P1M1D', '2024-12-30T00:00:00.000Z'],
  ])('%s minus %s is %s', (at, range, start) => {
    expect(minusReportRange(at, range)).toBe(start);
  });
});
