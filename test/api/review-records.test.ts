import { instanceWorkflowId, shardWorkflowId } from '../../src/domain/ids';
import { Api, DEMO, FINANCE_TEAM_SIZE, twoStageReview } from '../helpers/api-fixtures';
import type { Stack } from '../helpers/stack';
import { startStack } from '../helpers/stack';
import { deleteWorkflows } from '../helpers/temporal';

// Temporal deletes a closed workflow's history after the namespace's retention. The review records are
// what is left then: every read of the instance, its stages, decision items and contacted reviewers
// answers from them exactly as it answered from the workflow.

describe.each([
  ['an instance holding its items, records in memory', undefined, 'memory'],
  ['a sharded instance, records in PostgreSQL', 4, 'postgres'],
] as const)('a completed review whose workflows Temporal deleted (%s)', (_label, shardSize, records) => {
  let stack: Stack;
  let api: Api;
  beforeAll(async () => {
    stack = await startStack(undefined, { shardSize, records });
    api = new Api(stack);
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('is still listed and readable in full, from the records, and the records hold every event once', async () => {
    const review = await api.startReview(twoStageReview(DEMO.DEBRA, { autoApplyDecisionsEnabled: true }));
    const debra = await api.as(DEMO.DEBRA);
    const admin = await api.admin();
    const items = await api.untilDecisions(
      review.base,
      (d) => Object.keys(d).length === FINANCE_TEAM_SIZE,
      'every item listed',
    );
    const patch = (principalId: string, decision: string) =>
      api
        .http()
        .patch(`${review.base}/decisions/${items[principalId]!.id}`)
        .set(debra)
        .send({ decision, justification: `${decision} by Debra` })
        .expect(204);
    const [denied, approved] = Object.keys(items);
    await patch(denied!, 'Deny');
    await patch(approved!, 'Approve');
    await api.http().post(`${review.base}/stop`).set(admin).expect(204);
    await api.untilInstance(review.base, 'Applied');

    const reads = [
      review.base,
      `${review.base.replace(/\/instances\/.*$/, '')}/instances`,
      `${review.base}/stages`,
      `${review.base}/stages/1`,
      `${review.base}/decisions?$top=1000`,
      `${review.base}/decisions?$filter=decision eq 'Deny'&$count=true`,
      `${review.base}/decisions?$orderby=principal/displayName desc&$top=5`,
      `${review.base}/stages/1/decisions?$top=1000`,
      `${review.base}/decisions/${Object.values(items)[0]!.id}`,
      `${review.base}/decisions/$count`,
      `${review.base}/contactedReviewers`,
    ];
    const read = async (path: string) => {
      const res = await api.http().get(path).set(admin);
      return { path, status: res.status, body: res.type === 'text/plain' ? res.text : res.body };
    };
    // The last records are written before the workflow completes; nothing may be missing after it did.
    const before = await Promise.all(reads.map(read));
    expect(before.every((r) => r.status === 200)).toBe(true);
    expect((before[4]!.body as { value: unknown[] }).value).toHaveLength(FINANCE_TEAM_SIZE);

    const workflowId = instanceWorkflowId(review.definitionId, review.instanceId);
    const ids = shardSize
      ? [
          workflowId,
          ...Array.from({ length: Math.ceil(FINANCE_TEAM_SIZE / shardSize) }, (_, k) =>
            shardWorkflowId(workflowId, k),
          ),
        ]
      : [workflowId];
    await deleteWorkflows(stack.env.client, ids);
    const after = await Promise.all(reads.map(read));
    expect(after).toEqual(before);

    // Every stream's events are there once each, numbered without a gap.
    const events = await stack.records.events(review.instanceId);
    const streams = new Map<string, number[]>();
    for (const e of events) streams.set(e.streamId, [...(streams.get(e.streamId) ?? []), e.seq]);
    expect([...streams.keys()].sort()).toEqual([...ids].sort());
    for (const seqs of streams.values()) expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  }, 240_000);

  it('still refuses a decision on it: writes need the workflow', async () => {
    const review = await api.startReview(twoStageReview(DEMO.DEBRA));
    const admin = await api.admin();
    // The first test removed the member it denied from the group; this review has the others.
    const items = await api.decisionsByPrincipal(review.base);
    await api.http().post(`${review.base}/stop`).set(admin).expect(204);
    await api.untilInstance(review.base, 'Completed');
    const { client } = stack.env;
    await client.workflowService.deleteWorkflowExecution({
      namespace: client.options.namespace,
      workflowExecution: { workflowId: instanceWorkflowId(review.definitionId, review.instanceId) },
    });
    const res = await api
      .http()
      .patch(`${review.base}/decisions/${Object.values(items)[0]!.id}`)
      .set(await api.as(DEMO.DEBRA))
      .send({ decision: 'Approve', justification: 'late' });
    expect({ status: res.status, code: res.body.error?.code }).toEqual({
      status: 409,
      code: 'review.stage_not_in_progress',
    });
    const item = await api
      .http()
      .get(`${review.base}/decisions/${Object.values(items)[0]!.id}`)
      .set(admin);
    expect(item.status).toBe(200);
    expect(item.body.decision).toBe('NotReviewed');
  }, 120_000);
});
