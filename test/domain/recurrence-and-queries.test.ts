import fc from 'fast-check';
import type { Recurrence } from '../../src/domain/definition-schema';
import { definitionInputSchema } from '../../src/domain/definition-schema';
import {
  decisionItemIdFor,
  deterministicUuid,
  guestDeletionWorkflowId,
  instanceIdFor,
  instanceWorkflowId,
  seriesWorkflowId,
} from '../../src/domain/ids';
import { parseReviewerQuery, parseScopeQuery, QueryError } from '../../src/domain/queries';
import { isInactive, recommend } from '../../src/domain/recommendations';
import { occurrenceStart } from '../../src/domain/recurrence';
import type { ReviewerSpec, ScopeSpec } from '../../src/domain/review-plan';
import { DAY_MS, isoDurationToDays } from '../../src/domain/review-plan';

const UUID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A recurrence as the API would store it (zod defaults applied). */
function recurrence(
  pattern: { type: 'weekly' | 'absoluteMonthly'; interval: number },
  range: {
    type: 'noEnd' | 'numbered' | 'endDate';
    startDate: string;
    endDate?: string;
    numberOfOccurrences?: number;
  },
): Recurrence {
  const parsed = definitionInputSchema.parse({
    displayName: 'r',
    scope: { query: '/groups/g1/members' },
    settings: { recurrence: { pattern, range } },
  }).settings.recurrence;
  if (!parsed) throw new Error('recurrence did not parse');
  return parsed;
}

/** Every occurrence start of a series until it ends (capped for noEnd). */
function starts(r: Recurrence | null, created: string, cap = 200): string[] {
  const out: string[] = [];
  for (let i = 0; i < cap; i++) {
    const at = occurrenceStart(r, created, i);
    if (at === undefined) break;
    out.push(at);
  }
  return out;
}

const CREATED_EARLY = '2023-06-01T08:30:00.000Z';

describe('occurrenceStart (R13)', () => {
  it('starts a one-off review (no recurrence) once, when it is created', () => {
    expect(starts(null, '2025-02-10T12:00:00.000Z')).toEqual(['2025-02-10T12:00:00.000Z']);
  });

  it('starts exactly numberOfOccurrences reviews for a numbered range', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<'weekly' | 'absoluteMonthly'>('weekly', 'absoluteMonthly'),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 60 }),
        (type, interval, n) => {
          const r = recurrence(
            { type, interval },
            { type: 'numbered', startDate: '2025-01-31', numberOfOccurrences: n },
          );
          const all = starts(r, CREATED_EARLY, 100);
          expect(all).toHaveLength(n);
          expect(occurrenceStart(r, CREATED_EARLY, n)).toBeUndefined();
          // Occurrences are strictly increasing.
          for (let i = 1; i < all.length; i++)
            expect(Date.parse(all[i]!)).toBeGreaterThan(Date.parse(all[i - 1]!));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('spaces weekly occurrences 7×interval days apart from the start date', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 100 }), (interval, index) => {
        const r = recurrence({ type: 'weekly', interval }, { type: 'noEnd', startDate: '2025-01-06' });
        const at = occurrenceStart(r, CREATED_EARLY, index);
        expect(at).toBeDefined();
        expect(Date.parse(at!) - Date.parse('2025-01-06T00:00:00Z')).toBe(index * 7 * interval * DAY_MS);
      }),
      { numRuns: 200 },
    );
  });

  it('stops an endDate range after its end date, including occurrences on that day', () => {
    const r = recurrence(
      { type: 'weekly', interval: 1 },
      { type: 'endDate', startDate: '2025-01-01', endDate: '2025-01-29' },
    );
    expect(starts(r, CREATED_EARLY)).toEqual([
      '2025-01-01T00:00:00.000Z',
      '2025-01-08T00:00:00.000Z',
      '2025-01-15T00:00:00.000Z',
      '2025-01-22T00:00:00.000Z',
      '2025-01-29T00:00:00.000Z',
    ]);
    const dayBefore = recurrence(
      { type: 'weekly', interval: 1 },
      { type: 'endDate', startDate: '2025-01-01', endDate: '2025-01-28' },
    );
    expect(starts(dayBefore, CREATED_EARLY)).toHaveLength(4);
  });

  it('still starts an occurrence that falls later in the day of the end date', () => {
    const r = recurrence(
      { type: 'weekly', interval: 1 },
      { type: 'endDate', startDate: '2025-01-01', endDate: '2025-01-15' },
    );
    expect(starts(r, '2025-01-01T17:00:00.000Z')).toEqual([
      '2025-01-01T17:00:00.000Z',
      '2025-01-08T17:00:00.000Z',
      '2025-01-15T17:00:00.000Z',
    ]);
  });

  it('never starts an endDate occurrence after the end date', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<'weekly' | 'absoluteMonthly'>('weekly', 'absoluteMonthly'),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 400 }),
        (type, interval, days) => {
          const endDate = new Date(Date.parse('2025-01-15T00:00:00Z') + days * DAY_MS)
            .toISOString()
            .slice(0, 10);
          const r = recurrence({ type, interval }, { type: 'endDate', startDate: '2025-01-15', endDate });
          const all = starts(r, CREATED_EARLY, 500);
          expect(all.length).toBeGreaterThanOrEqual(1);
          for (const at of all) expect(at.slice(0, 10) <= endDate).toBe(true);
          // The next one, had the range not ended, would fall after the end date.
          const noEnd = recurrence({ type, interval }, { type: 'noEnd', startDate: '2025-01-15' });
          expect(occurrenceStart(noEnd, CREATED_EARLY, all.length)!.slice(0, 10) > endDate).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('keeps going without end for a noEnd range', () => {
    const r = recurrence(
      { type: 'absoluteMonthly', interval: 1 },
      { type: 'noEnd', startDate: '2025-01-01' },
    );
    expect(occurrenceStart(r, CREATED_EARLY, 120)).toBe('2035-01-01T00:00:00.000Z');
  });

  it.each<[string, string, number, number, string]>([
    ['clamps Jan 31 + 1 month to Feb 28 in a common year', '2025-01-31', 1, 1, '2025-02-28T00:00:00.000Z'],
    ['clamps Jan 31 + 1 month to Feb 29 in a leap year', '2024-01-31', 1, 1, '2024-02-29T00:00:00.000Z'],
    [
      'returns to the 31st after a short month (Jan 31 + 2 months = Mar 31)',
      '2025-01-31',
      1,
      2,
      '2025-03-31T00:00:00.000Z',
    ],
    ['clamps May 31 + 1 month to Jun 30', '2025-05-31', 1, 1, '2025-06-30T00:00:00.000Z'],
    ['clamps Nov 30 + one quarter to Feb 28', '2024-11-30', 3, 1, '2025-02-28T00:00:00.000Z'],
    ['crosses the year end for a monthly series', '2025-12-15', 1, 1, '2026-01-15T00:00:00.000Z'],
    ['spaces monthly×6 occurrences six months apart', '2025-03-10', 6, 3, '2026-09-10T00:00:00.000Z'],
  ])('%s', (_name, startDate, interval, index, expected) => {
    const r = recurrence({ type: 'absoluteMonthly', interval }, { type: 'noEnd', startDate });
    expect(occurrenceStart(r, CREATED_EARLY, index)).toBe(expected);
  });

  it('anchors the series at its creation when created after the start date', () => {
    const r = recurrence({ type: 'weekly', interval: 1 }, { type: 'noEnd', startDate: '2025-01-01' });
    const created = '2025-01-10T15:45:00.000Z';
    expect(occurrenceStart(r, created, 0)).toBe(created);
    expect(occurrenceStart(r, created, 1)).toBe('2025-01-17T15:45:00.000Z');
  });

  it('anchors the series at midnight UTC of the start date when created before it', () => {
    const r = recurrence({ type: 'weekly', interval: 2 }, { type: 'noEnd', startDate: '2025-03-03' });
    expect(occurrenceStart(r, '2025-02-01T10:00:00.000Z', 0)).toBe('2025-03-03T00:00:00.000Z');
  });
});

describe('recommend (R8)', () => {
  const START = '2025-06-30T00:00:00.000Z';
  const daysBefore = (n: number) => new Date(Date.parse(START) - n * DAY_MS).toISOString();

  it.each<[string, string | null | undefined, number, string]>([
    ['recommends Approve for a sign-in yesterday', daysBefore(1), 30, 'Approve'],
    [
      'recommends Approve for a sign-in exactly at the start of the look-back window',
      daysBefore(30),
      30,
      'Approve',
    ],
    ['recommends Deny for a sign-in one day before the window', daysBefore(31), 30, 'Deny'],
    ['recommends Deny for a sign-in 10 days ago with a 7-day look-back', daysBefore(10), 7, 'Deny'],
    ['recommends Approve for a sign-in 60 days ago with a 90-day look-back', daysBefore(60), 90, 'Approve'],
    ['has no information without a sign-in date', null, 30, 'NoInfoAvailable'],
    ['has no information for an undefined sign-in date', undefined, 30, 'NoInfoAvailable'],
    ['has no information for an empty sign-in date', '', 30, 'NoInfoAvailable'],
    ['has no information for an unparseable sign-in date', 'last tuesday', 30, 'NoInfoAvailable'],
  ])('%s', (_name, lastSignIn, lookBackDays, expected) => {
    expect(recommend(lastSignIn, START, lookBackDays)).toBe(expected);
  });

  it('recommends Deny exactly when the last sign-in is before the window', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 400 * 24 }),
        fc.integer({ min: 1, max: 365 }),
        (hoursAgo, lookBack) => {
          const lastSignIn = new Date(Date.parse(START) - hoursAgo * 3_600_000).toISOString();
          expect(recommend(lastSignIn, START, lookBack)).toBe(hoursAgo > lookBack * 24 ? 'Deny' : 'Approve');
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('isInactive (R12)', () => {
  const START = '2025-06-30T00:00:00.000Z';
  const daysBefore = (n: number) => new Date(Date.parse(START) - n * DAY_MS).toISOString();

  it.each<[string, { lastSignInDateTime?: string | null; createdDateTime: string }, boolean]>([
    [
      'counts a user who never signed in since before the window as inactive',
      { createdDateTime: daysBefore(200) },
      true,
    ],
    [
      'counts a null sign-in as never signed in',
      { createdDateTime: daysBefore(200), lastSignInDateTime: null },
      true,
    ],
    [
      'counts a last sign-in before the window as inactive',
      { createdDateTime: daysBefore(400), lastSignInDateTime: daysBefore(91) },
      true,
    ],
    [
      'does not count a sign-in within the window',
      { createdDateTime: daysBefore(400), lastSignInDateTime: daysBefore(89) },
      false,
    ],
    [
      'does not count a sign-in exactly at the window start',
      { createdDateTime: daysBefore(400), lastSignInDateTime: daysBefore(90) },
      false,
    ],
    [
      'excludes users created within the window, even without any sign-in',
      { createdDateTime: daysBefore(10) },
      false,
    ],
    [
      'includes a user created exactly at the window start who never signed in',
      { createdDateTime: daysBefore(90) },
      true,
    ],
  ])('%s', (_name, user, expected) => {
    expect(isInactive(user, START, 90)).toBe(expected);
  });
});

describe('ids', () => {
  it('derives stable, UUID-shaped ids', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (name) => {
        const id = deterministicUuid(name);
        expect(id).toMatch(UUID_SHAPE);
        expect(deterministicUuid(name)).toBe(id);
      }),
      { numRuns: 300 },
    );
  });

  it('derives distinct ids for distinct names', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ maxLength: 20 }), { minLength: 2, maxLength: 50 }), (names) => {
        expect(new Set(names.map(deterministicUuid)).size).toBe(names.length);
      }),
      { numRuns: 300 },
    );
  });

  it('derives distinct ids for names differing only in their last character or by length', () => {
    const names = [
      'decision:i1:u1',
      'decision:i1:u2',
      'decision:i1:u10',
      'decision:i1:u1 ',
      'decision:i1:u',
      '',
      'a',
      'b',
      'ab',
      'ba',
    ];
    for (let i = 0; i < 2000; i++) names.push(`instance:def-1:${i}`);
    expect(new Set(names.map(deterministicUuid)).size).toBe(names.length);
  });

  it('gives each reviewee of an instance their own item id, distinct across instances', () => {
    expect(decisionItemIdFor('i1', 'u1')).toBe(decisionItemIdFor('i1', 'u1'));
    expect(decisionItemIdFor('i1', 'u1')).not.toBe(decisionItemIdFor('i1', 'u2'));
    expect(decisionItemIdFor('i1', 'u1')).not.toBe(decisionItemIdFor('i2', 'u1'));
    expect(decisionItemIdFor('i1', 'u1')).toMatch(UUID_SHAPE);
  });

  it('gives each occurrence of a definition its own instance id, the same on every retry', () => {
    const ids = [1, 2, 3].map((n) => instanceIdFor('def-1', n));
    expect(new Set(ids).size).toBe(3);
    expect(instanceIdFor('def-1', 2)).toBe(ids[1]);
    expect(instanceIdFor('def-2', 1)).not.toBe(ids[0]);
  });

  it('names workflows after the Graph path', () => {
    expect(seriesWorkflowId('d1')).toBe('access-review/d1');
    expect(instanceWorkflowId('d1', 'i1')).toBe('access-review/d1/i1');
    expect(guestDeletionWorkflowId('u1')).toBe('guest-deletion/u1');
  });
});

describe('isoDurationToDays', () => {
  it.each<[string, number]>([
    ['P30D', 30],
    ['P2W', 14],
    ['P1M', 30],
    ['P1Y', 365],
    ['PT36H', 1.5],
    ['P1DT12H', 1.5],
  ])('reads %s as %d days', (duration, days) => {
    expect(isoDurationToDays(duration)).toBeCloseTo(days, 10);
  });

  it('refuses a string that is not a duration', () => {
    expect(() => isoDurationToDays('30 days')).toThrow('not an ISO 8601 duration');
  });
});

describe('parseScopeQuery', () => {
  const group = (id: string, principals: 'all' | 'guests' = 'all'): ScopeSpec => ({
    resource: { type: 'group', id },
    principals,
  });
  const app = (id: string, principals: 'all' | 'guests' = 'all'): ScopeSpec => ({
    resource: { type: 'application', id },
    principals,
  });

  it.each<[string, ScopeSpec]>([
    ['/groups/g1/transitiveMembers', group('g1')],
    ['/groups/g1/members', group('g1')],
    ['/groups/g1/transitiveMembers/', group('g1')],
    ['/groups/0d8f-4c1e_a.b~c/transitiveMembers/microsoft.graph.user', group('0d8f-4c1e_a.b~c')],
    ['/v1.0/groups/g1/transitiveMembers', group('g1')],
    ['/beta/groups/g1/members', group('g1')],
    ['https://graph.microsoft.com/v1.0/groups/g1/members', group('g1')],
    ['  /groups/g1/members  ', group('g1')],
    ["/groups/g1/transitiveMembers?$filter=(userType eq 'Guest')", group('g1', 'guests')],
    ["/groups/g1/transitiveMembers?$filter=userType eq 'Guest'", group('g1', 'guests')],
    [
      "/groups/g1/transitiveMembers/microsoft.graph.user/?$count=true&$filter=(userType eq 'Guest')",
      group('g1', 'guests'),
    ],
    ["/groups/g1/members?$filter=(userType%20eq%20'Guest')", group('g1', 'guests')],
    ["/v1.0/groups/g1/members?$filter=(usertype eq 'guest')", group('g1', 'guests')],
    ["/groups/g1/members?$filter=(userType eq 'Member')", group('g1')],
    ['/servicePrincipals/sp1/appRoleAssignedTo', app('sp1')],
    ['/v1.0/servicePrincipals/sp1/appRoleAssignedTo', app('sp1')],
    ["/servicePrincipals/sp1/appRoleAssignedTo?$filter=(userType eq 'Guest')", app('sp1', 'guests')],
  ])('reads %s', (query, expected) => {
    expect(parseScopeQuery(query, 'scope.query')).toEqual(expected);
  });

  it('carries inactiveDays for an inactive-users scope', () => {
    expect(parseScopeQuery('/groups/g1/members', 'scope.query', 45)).toEqual({
      ...group('g1'),
      inactiveDays: 45,
    });
  });

  it.each([
    '/users',
    '/groups/g1',
    '/groups/g1/owners',
    '/groups//members',
    '/groups/g1/members/extra',
    '/servicePrincipals/sp1/owners',
    '/v2.0/groups/g1/members',
    'groups/g1/members',
    '/groups/g1/transitiveMembers?$filter=%E0%A4%A',
  ])('refuses %s with a QueryError naming the field', (query) => {
    let error: unknown;
    try {
      parseScopeQuery(query, 'instanceEnumerationScope.query');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(QueryError);
    expect((error as QueryError).field).toBe('instanceEnumerationScope.query');
    expect((error as QueryError).message).toMatch(/^instanceEnumerationScope\.query: /);
  });
});

describe('parseReviewerQuery', () => {
  it.each<[string, string | null | undefined, ReviewerSpec]>([
    ['./manager', 'decisions', { kind: 'manager' }],
    ['./manager', null, { kind: 'manager' }],
    ['./manager', undefined, { kind: 'manager' }],
    ['/users/u1', undefined, { kind: 'user', userId: 'u1' }],
    ['/v1.0/users/u1', undefined, { kind: 'user', userId: 'u1' }],
    ['https://graph.microsoft.com/v1.0/users/u1/', undefined, { kind: 'user', userId: 'u1' }],
    ['/groups/g1/owners', undefined, { kind: 'groupOwners', groupId: 'g1' }],
    ['/v1.0/groups/g1/owners', undefined, { kind: 'groupOwners', groupId: 'g1' }],
    ['/servicePrincipals/sp1/owners', undefined, { kind: 'applicationOwners', applicationId: 'sp1' }],
    ['/groups/g1/transitiveMembers', undefined, { kind: 'groupMembers', groupId: 'g1' }],
    ['/groups/g1/members/microsoft.graph.user', undefined, { kind: 'groupMembers', groupId: 'g1' }],
  ])('reads %s (queryRoot %s)', (query, queryRoot, expected) => {
    expect(parseReviewerQuery({ query, queryRoot }, 'reviewers[0]')).toEqual(expected);
  });

  it.each<[string, string | null | undefined, RegExp]>([
    ['./manager', 'reviewers', /queryRoot for '\.\/manager' must be 'decisions'/],
    ['/users', undefined, /unsupported reviewer query '\/users'/],
    ['/me', undefined, /unsupported reviewer query/],
    ['/groups/g1', undefined, /unsupported reviewer query/],
    ['/servicePrincipals/sp1/appRoleAssignedTo', undefined, /unsupported reviewer query/],
    ['/users/u1/manager', undefined, /unsupported reviewer query/],
  ])('refuses %s (queryRoot %s) with a QueryError naming the field', (query, queryRoot, message) => {
    let error: unknown;
    try {
      parseReviewerQuery({ query, queryRoot }, 'stageSettings[1].fallbackReviewers[2]');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(QueryError);
    expect((error as QueryError).field).toBe('stageSettings[1].fallbackReviewers[2]');
    expect((error as QueryError).message).toMatch(/^stageSettings\[1\]\.fallbackReviewers\[2\]: /);
    expect((error as QueryError).message).toMatch(message);
  });
});
