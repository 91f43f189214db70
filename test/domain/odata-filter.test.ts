import fc from 'fast-check';
import { z } from 'zod';
import { pageOf, parseResourceFilter, resolveOptions, resourceShape } from '../../src/api/odata';
import { definitionEntitySchema, decisionEntitySchema } from '../../src/api/response-schemas';
import { AppError } from '../../src/domain/errors';
import { comparator, matches, parseOrderBy } from '../../src/domain/odata-filter';

const decisions = resourceShape(decisionEntitySchema, ['insights']);
const definitions = resourceShape(definitionEntitySchema, ['instances']);

const item = (over: Record<string, unknown> = {}) => ({
  id: 'i1',
  decision: 'Deny',
  recommendation: 'Approve',
  applyResult: 'New',
  reviewedDateTime: '2026-03-01T10:00:00Z',
  principal: {
    '@odata.type': '#microsoft.graph.userIdentity',
    id: 'u1',
    displayName: "Lee O'Hara",
    userPrincipalName: 'lee@contoso.com',
  },
  reviewedBy: null,
  ...over,
});

const accepts = (filter: string, value: object) => matches(value, parseResourceFilter(filter, decisions)!);

function rejection(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a 400');
}

describe('$filter', () => {
  it.each([
    ["decision eq 'Deny'", true],
    ["decision eq 'deny'", true],
    ["decision ne 'Deny'", false],
    ["decision eq 'Approve' or decision eq 'Deny'", true],
    ["decision eq 'Deny' and recommendation eq 'Deny'", false],
    ["not (decision eq 'Approve')", true],
    ["(decision eq 'Approve' or recommendation eq 'Approve') and applyResult eq 'New'", true],
    ["principal/id eq 'u1'", true],
    ["contains(principal/displayName,'o''h')", true],
    ["startswith(principal/userPrincipalName,'LEE@')", true],
    ["endswith(principal/userPrincipalName,'.com')", true],
    ['reviewedBy/id eq null', true],
    ['reviewedBy/id ne null', false],
    ['reviewedDateTime ge 2026-03-01T00:00:00Z', true],
    ['reviewedDateTime lt 2026-03-01T00:00:00Z', false],
    ["reviewedDateTime gt '2026-03-01T09:00:00-02:00'", false],
  ])('%s → %s', (filter, expected) => {
    expect(accepts(filter, item())).toBe(expected);
  });

  it('matches a type-cast segment only on objects of that type', () => {
    const filter = parseResourceFilter(
      "contains(scope/microsoft.graph.accessReviewQueryScope/query,'/groups/g1')",
      definitions,
    )!;
    const scoped = (type: string, query: string) => ({ scope: { '@odata.type': type, query } });
    expect(matches(scoped('#microsoft.graph.accessReviewQueryScope', '/groups/g1/members'), filter)).toBe(
      true,
    );
    expect(matches(scoped('#microsoft.graph.accessReviewQueryScope', '/groups/g2/members'), filter)).toBe(
      false,
    );
    expect(
      matches(scoped('#microsoft.graph.accessReviewInactiveUsersQueryScope', '/groups/g1/members'), filter),
    ).toBe(false);
  });

  it.each([
    ["nope eq 'x'", "'nope' cannot be filtered on"],
    ["principal eq 'x'", "'principal' cannot be filtered on"],
    ["decision eq 'Maybe'", "'Maybe' is not a value of decision"],
    ["insights/any(i:i/id eq 'x')", 'lambda operators'],
    ['decision eq', 'expected a value'],
    ["decision eq 'Deny' and", 'expected a condition'],
    ["decision eq 'Deny')", "unexpected ')'"],
    ["decision has 'Deny'", 'expected a comparison'],
    ["substringof('x',principal/displayName)", "function 'substringof' is not supported"],
    ['contains(principal/displayName,1)', 'contains takes a string literal'],
    ["decision eq 'open", 'not closed'],
    ['decision eq #', "unexpected '#'"],
  ])('%s is a 400 naming $filter and why', (filter, why) => {
    const err = rejection(() => parseResourceFilter(filter, decisions));
    expect(err.code).toBe('request.unsupported_filter');
    expect(err.message).toContain('$filter: ');
    expect(err.message).toContain(why);
  });

  it('never throws anything but a 400 on arbitrary input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (text) => {
        try {
          parseResourceFilter(text, decisions);
        } catch (err) {
          expect(err).toBeInstanceOf(AppError);
          expect((err as AppError).status).toBe(400);
        }
      }),
    );
  });
});

describe('$orderby, $select, $expand and unknown options', () => {
  const shape = resourceShape(
    z.object({
      id: z.string(),
      name: z.string(),
      n: z.number(),
      when: z.string().nullable(),
      nested: z.object({ k: z.string() }),
    }),
    [],
  );
  const rows = [
    { id: '1', name: 'b', n: 2, when: '2026-01-02T00:00:00Z', nested: { k: 'z' } },
    { id: '2', name: 'A', n: 10, when: null, nested: { k: 'y' } },
    { id: '3', name: 'c', n: 2, when: '2026-01-01T00:00:00Z', nested: { k: 'x' } },
  ];
  const sorted = (orderby: string) =>
    [...rows].sort(comparator(parseOrderBy(orderby, () => undefined))).map((r) => r.id);

  it('sorts case-insensitively, numbers as numbers, nulls first, on several keys and nested paths', () => {
    expect(sorted('name')).toEqual(['2', '1', '3']);
    expect(sorted('name desc')).toEqual(['3', '1', '2']);
    expect(sorted('n, name desc')).toEqual(['3', '1', '2']);
    expect(sorted('when asc')).toEqual(['2', '3', '1']);
    expect(sorted('nested/k')).toEqual(['3', '2', '1']);
  });

  it('pages after filtering and sorting, and counts what matched', () => {
    const options = resolveOptions({ $filter: 'n eq 2', $orderby: 'name desc', $top: 1, $skip: 0 }, shape);
    expect(pageOf(rows, options)).toEqual({ total: 2, value: [rows[2]] });
  });

  it.each([
    [{ $orderby: 'nope' }, '$orderby', "'nope' cannot be sorted on"],
    [{ $orderby: 'name sideways' }, '$orderby', 'optionally followed by asc or desc'],
    [{ $select: 'name,nope' }, '$select', "'nope' is not a property"],
    [{ $expand: 'friends' }, '$expand', "'friends' cannot be expanded"],
    [{ $expand: 'nested($select=k)' }, '$expand', 'nested options are not supported'],
  ])('%j is a 400 naming %s', (query, option, why) => {
    const err = rejection(() => resolveOptions(query, shape));
    expect(err).toEqual({
      code: 'request.unsupported_query_option',
      message: expect.stringContaining(option),
    });
    expect(err.message).toContain(why);
  });
});
