import { defaultPayloadConverter } from '@temporalio/common';
import { instanceWorkflowId, shardWorkflowId } from '../../src/domain/ids';
import type { RecordDecisionsInput } from '../../src/workflows';
import { instanceQuery } from '../../src/workflows';
import type { ProcessStack, ResilienceApi } from '../helpers/process-stack';
import { forEachConcurrently, selfReviewOf, useProcessStack } from '../helpers/process-stack';

// The Temporal dev server keeps its state in a SQLite file: stopped and started again on the same file and
// port, it must still hold the running review, its stage timer and every recorded decision, and the worker
// (restarted if the outage killed it) must carry the review on to its end.

const MEMBERS = 600;
const DECIDED = 60;

let stack: ProcessStack;
let api: ResilienceApi;

useProcessStack({ members: MEMBERS, name: 'dev-server-restart' }, (started) => {
  ({ stack, api } = started);
});

const note = (line: string) => process.stdout.write(`[dev-server-restart] ${line}\n`);
const decisionFor = (index: number) => (index % 3 === 0 ? 'Deny' : 'Approve');

describe('a Temporal dev server restart', () => {
  it('resumes running reviews after the dev server restarts from its SQLite file', async () => {
    const { memberIds, groupId } = stack.tenant;
    const { base, definitionId, instanceId } = await api.startReview(
      selfReviewOf(groupId, 'Dev server restart review'),
    );
    const items = await api.decisions(base);
    const decide = async (i: number, decision = decisionFor(i)) =>
      (
        await api.call('PATCH', `${base}/decisions/${items.get(memberIds[i]!)!.id}`, {
          as: await stack.auth(memberIds[i]!),
          body: { decision, justification: `member ${i}` },
        })
      ).status;
    const decided = memberIds.slice(0, DECIDED).map((_, i) => i);
    await forEachConcurrently(decided, 4, async (i) => expect(await decide(i)).toBe(204));
    const before = await api.decisions(base);
    const decisionsOf = (m: typeof before) =>
      Object.fromEntries([...m].map(([id, d]) => [id, [d.id, d.decision, d.reviewedBy?.id ?? null]]));
    expect(decided.filter((i) => before.get(memberIds[i]!)?.decision !== decisionFor(i))).toEqual([]);

    const worker = stack.worker!;
    const outageStart = Date.now();
    await stack.stopDevServer();
    await stack.startDevServer();
    note(`dev server down and up again in ${Date.now() - outageStart} ms`);
    if (worker.exited) {
      note(`the worker exited during the outage (${JSON.stringify(worker.exited)}); restarting it`);
      await stack.startWorker();
    } else {
      note('the worker survived the outage');
      await stack.untilPolling(worker, { anyPoller: true });
    }

    // The restarted server read the review's history back from SQLite: every accepted decision Update is in it.
    // Decisions are Updates to the workflows holding the items: the instance's shards here.
    const instance = stack.client!.workflow.getHandle(instanceWorkflowId(definitionId, instanceId));
    const { shards } = await instance.query(instanceQuery);
    expect(shards).toBeGreaterThan(1);
    const events = [];
    for (let k = 0; k < shards; k++) {
      const shard = stack.client!.workflow.getHandle(shardWorkflowId(instance.workflowId, k));
      events.push(...((await shard.fetchHistory()).events ?? []));
    }
    const recorded = new Map<string, string>();
    for (const event of events) {
      const accepted = event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input;
      if (accepted?.name !== 'recordDecisions') continue;
      const input = defaultPayloadConverter.fromPayload<RecordDecisionsInput>(accepted.args!.payloads![0]!);
      for (const { decisions } of input.requests) {
        for (const d of decisions ?? []) recorded.set(d.itemId, d.decision);
      }
    }
    expect(recorded).toEqual(
      new Map(decided.map((i) => [items.get(memberIds[i]!)!.id, decisionFor(i)] as const)),
    );

    // The same review, still in stage 1, with exactly the decisions recorded before the restart.
    expect(await api.status(base)).toBe('InProgress');
    const stage = await api.call('GET', `${base}/stages/1`, { as: await api.admin() });
    expect(stage.body.status).toBe('InProgress');
    expect(decisionsOf(await api.decisions(base))).toEqual(decisionsOf(before));

    // New decisions are recorded: an undecided member decides, a decided one changes their mind.
    expect(await decide(DECIDED)).toBe(204);
    expect(await decide(DECIDED + 1)).toBe(204);
    expect(await decide(1, 'Deny')).toBe(204);
    const finalDecision = (i: number) =>
      i === 1 ? 'Deny' : i < DECIDED + 2 ? decisionFor(i) : 'NotReviewed';
    const after = await api.decisions(base);
    expect(memberIds.flatMap((id, i) => (after.get(id)?.decision === finalDecision(i) ? [] : [i]))).toEqual(
      [],
    );

    // Stopping completes the review and applies it: denied members leave the group, the others stay.
    expect((await api.call('POST', `${base}/stop`, { as: await api.admin() })).status).toBe(204);
    await api.untilStatus(base, 'Applied', 90_000);
    const members = await api.call('GET', `/v1.0/groups/${groupId}/members?$top=999&$select=id`, {
      as: await api.admin(),
    });
    expect(members.status).toBe(200);
    const remaining = new Set((members.body.value as { id: string }[]).map((u) => u.id));
    const deniedIds = memberIds.filter((_, i) => finalDecision(i) === 'Deny');
    expect(deniedIds.length).toBeGreaterThan(DECIDED / 3);
    expect(deniedIds.filter((id) => remaining.has(id))).toEqual([]);
    expect(memberIds.filter((id) => !deniedIds.includes(id) && !remaining.has(id))).toEqual([]);
    const applied = await api.decisions(base);
    expect(
      memberIds.flatMap((id, i) =>
        finalDecision(i) !== 'NotReviewed' && applied.get(id)?.applyResult !== 'AppliedSuccessfully'
          ? [{ member: i, applyResult: applied.get(id)?.applyResult }]
          : [],
      ),
    ).toEqual([]);
  }, 180_000);
});
