import { backfillRecords } from '../../src/services/records-backfill';
import { Api, DEMO, FINANCE_TEAM_SIZE, twoStageReview } from '../helpers/api-fixtures';
import { until } from '../helpers/review-harness';
import type { Stack } from '../helpers/stack';
import { startStack } from '../helpers/stack';

// The records can be rebuilt from the running workflows: after the records of a running, sharded review
// and of its definition are lost (an older backup restored, say), `npm run backfill-records` asks every
// series, instance and shard to write them again, and the reads answer as before.

let stack: Stack;
let api: Api;
beforeAll(async () => {
  stack = await startStack(undefined, { shardSize: 4, records: 'postgres' });
  api = new Api(stack);
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

it('writes the records of running definitions, instances and shards again', async () => {
  const review = await api.startReview(twoStageReview(DEMO.DEBRA));
  const debra = await api.as(DEMO.DEBRA);
  const admin = await api.admin();
  const items = await api.untilDecisions(
    review.base,
    (d) => Object.keys(d).length === FINANCE_TEAM_SIZE,
    'every item listed',
  );
  const [denied] = Object.keys(items);
  await api
    .http()
    .patch(`${review.base}/decisions/${items[denied!]!.id}`)
    .set(debra)
    .send({ decision: 'Deny', justification: 'moved teams' })
    .expect(204);
  const definitions = review.base.replace(/\/[^/]+\/instances\/.*$/, '');
  const reads = [
    `${definitions}?$count=true`,
    `${definitions}/${review.definitionId}`,
    review.base,
    `${review.base}/decisions?$top=100&$orderby=principal/displayName`,
    `${review.base}/contactedReviewers`,
  ];
  const read = async () =>
    Promise.all(reads.map(async (path) => (await api.http().get(path).set(admin)).body as unknown));
  const before = await read();

  const db = stack.db!;
  for (const table of ['review_items', 'review_contacted', 'review_instances'] as const) {
    await db.deleteFrom(table).where('instance_id', '=', review.instanceId).execute();
  }
  await db.deleteFrom('review_definitions').where('definition_id', '=', review.definitionId).execute();
  expect(await stack.records.instance(review.instanceId)).toBeUndefined();

  // The instance, its 3 shards and the series.
  expect(await backfillRecords(stack.env.client)).toBeGreaterThanOrEqual(5);
  await until(
    async () => ({
      definition: await stack.records.definition(review.definitionId),
      instance: await stack.records.instance(review.instanceId),
      items: await db
        .selectFrom('review_items')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('instance_id', '=', review.instanceId)
        .executeTakeFirstOrThrow(),
    }),
    (r) => r.definition !== undefined && r.instance !== undefined && Number(r.items.n) === FINANCE_TEAM_SIZE,
    'records written again',
  );
  expect(await read()).toEqual(before);
  const item = (before[3] as { value: { principal: { id: string }; decision: string }[] }).value.find(
    (i) => i.principal.id === denied,
  );
  expect(item?.decision).toBe('Deny');
}, 180_000);
