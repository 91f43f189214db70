import fc from 'fast-check';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Filter, FilterLiteral, OrderKey } from '../../src/domain/odata-filter';
import { comparator, matches } from '../../src/domain/odata-filter';
import { createDatabase } from '../../src/store/database';
import { filterSql, orderSql } from '../../src/store/odata-sql';
import type { TestDatabase } from '../helpers/postgres';
import { createTestDatabase } from '../helpers/postgres';

// $filter and $orderby in SQL mean what they mean in memory: for random filters and sort keys over
// documents shaped like decision items (mixed-case strings, date-times, numbers, booleans, nulls, missing
// properties, typed nested objects), PostgreSQL selects and orders exactly what `matches` and
// `comparator` do.

interface Doc {
  id: number;
  doc: Record<string, unknown>;
}

const names = ['Ann', 'ann', 'BOB', 'bob smith', 'Cy_%', 'dée', 'Zed', ''];
const dates = [
  '2026-01-01T00:00:00.000Z',
  '2026-01-01T10:30:00.000Z',
  '2025-12-31T23:59:59.999Z',
  '2026-06-15T08:00:00.000Z',
];
const decisions = ['Approve', 'Deny', 'DontKnow', 'NotReviewed'];

function documents(): Doc[] {
  const docs: Doc[] = [];
  for (let i = 0; i < 64; i++) {
    const doc: Record<string, unknown> = {
      id: `item-${i}`,
      decision: decisions[i % 4],
      reviewedDateTime: i % 5 === 0 ? null : dates[i % dates.length],
      count: i % 7 === 0 ? null : (i * 37) % 11,
      enabled: i % 3 === 0,
      principal: {
        '@odata.type':
          i % 6 === 0 ? '#microsoft.graph.servicePrincipalIdentity' : '#microsoft.graph.userIdentity',
        displayName: names[i % names.length],
        id: `p${i % 9}`,
      },
    };
    if (i % 4 === 1) delete doc.justification;
    else doc.justification = i % 2 === 0 ? names[(i * 3) % names.length] : null;
    if (i % 8 === 3) doc.reviewedBy = null;
    else doc.reviewedBy = { '@odata.type': '#microsoft.graph.userIdentity', displayName: names[(i + 2) % 8] };
    docs.push({ id: i, doc });
  }
  return docs;
}

const paths: { path: string[]; literals: FilterLiteral[] }[] = [
  { path: ['decision'], literals: [...decisions, 'approve', null] },
  { path: ['reviewedDateTime'], literals: [...dates, '2026-01-01', '2026-01-01T00:00:00Z', null, 'x'] },
  { path: ['count'], literals: [0, 3, 5.5, 10, null] },
  { path: ['enabled'], literals: [true, false, null] },
  { path: ['justification'], literals: [...names, null] },
  { path: ['principal', 'displayName'], literals: [...names, 'ANN'] },
  { path: ['principal', 'microsoft.graph.userIdentity', 'id'], literals: ['p1', 'p6', 'P1', null] },
  { path: ['reviewedBy', 'displayName'], literals: [...names, null] },
];

const compare: fc.Arbitrary<Filter> = fc
  .record({
    at: fc.constantFrom(...paths),
    op: fc.constantFrom('eq', 'ne', 'gt', 'ge', 'lt', 'le' as const),
    pick: fc.nat(),
  })
  .map(({ at, op, pick }) => ({
    kind: 'compare',
    op,
    path: at.path,
    value: at.literals[pick % at.literals.length]!,
  }));

const call: fc.Arbitrary<Filter> = fc
  .record({
    fn: fc.constantFrom('contains', 'startswith', 'endswith' as const),
    path: fc.constantFrom(['principal', 'displayName'], ['justification'], ['decision'], ['count']),
    value: fc.constantFrom('a', 'AN', 'b', '_', '%', 'é', 'ove', ''),
  })
  .map(({ fn, path, value }) => ({ kind: 'call', fn, path: [...path], value }));

const filters: fc.Arbitrary<Filter> = fc.letrec<{ f: Filter }>((tie) => ({
  f: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    compare,
    call,
    fc.record({ kind: fc.constantFrom('and', 'or' as const), left: tie('f'), right: tie('f') }),
    fc.record({ kind: fc.constant('not' as const), operand: tie('f') }),
  ),
})).f;

const orderKeys: fc.Arbitrary<OrderKey[]> = fc.array(
  fc.record({ path: fc.constantFrom(...paths.map((p) => p.path)), desc: fc.boolean() }),
  { minLength: 1, maxLength: 3 },
);

let database: TestDatabase;
let db: Kysely<unknown>;
const docs = documents();
beforeAll(async () => {
  database = await createTestDatabase();
  db = createDatabase(database.url) as unknown as Kysely<unknown>;
  await sql`create table docs (id integer primary key, doc jsonb not null)`.execute(db);
  for (const d of docs)
    await sql`insert into docs values (${d.id}, ${JSON.stringify(d.doc)}::jsonb)`.execute(db);
}, 60_000);
afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});

const doc = sql`docs.doc`;

async function selected(filter: Filter): Promise<number[]> {
  const { rows } = await sql<{
    id: number;
  }>`select id from docs where ${filterSql(doc, filter)} order by id`.execute(db);
  return rows.map((r) => r.id);
}

async function ordered(keys: OrderKey[]): Promise<number[]> {
  const order = [...orderSql(doc, keys).map(([e, dir]) => sql`${e} ${sql.raw(dir)}`), sql`id`];
  const { rows } = await sql<{ id: number }>`select id from docs order by ${sql.join(order)}`.execute(db);
  return rows.map((r) => r.id);
}

describe('OData in SQL', () => {
  it('selects what the in-memory filter matches, for random filters', async () => {
    await fc.assert(
      fc.asyncProperty(filters, async (filter) => {
        const expected = docs.filter((d) => matches(d.doc, filter)).map((d) => d.id);
        expect(await selected(filter)).toEqual(expected);
      }),
      { numRuns: 400 },
    );
  });

  it('orders as the in-memory comparator does, ties in the original order', async () => {
    await fc.assert(
      fc.asyncProperty(orderKeys, async (keys) => {
        const compare = comparator(keys);
        const expected = [...docs].sort((a, b) => compare(a.doc, b.doc)).map((d) => d.id);
        expect(await ordered(keys)).toEqual(expected);
      }),
      { numRuns: 150 },
    );
  });

  it('takes LIKE wildcards and quotes in literals literally', async () => {
    const underscore = await selected({
      kind: 'call',
      fn: 'contains',
      path: ['principal', 'displayName'],
      value: '_',
    });
    expect(underscore).toEqual(
      docs
        .filter((d) => String((d.doc.principal as { displayName: string }).displayName).includes('_'))
        .map((d) => d.id),
    );
    expect(underscore.length).toBeGreaterThan(0);
    const quote = await selected({ kind: 'compare', op: 'eq', path: ['decision'], value: "x' or '1'='1" });
    expect(quote).toEqual([]);
  });
});
