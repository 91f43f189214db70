import type { DecisionItem } from '../helpers/process-stack';
import type { ProcessStack, ResilienceApi } from '../helpers/process-stack';
import { forEachConcurrently, pollUntil, selfReviewOf, useProcessStack } from '../helpers/process-stack';

// The worker runs as its own process (`tsx src/worker.ts`) and is SIGKILLed while reviewees decide over
// HTTP. A 204 answer means the recordDecisions Update carrying the decision was accepted into the history,
// so no acknowledged decision may be lost when the worker dies, however the requests in flight end.

const MEMBERS = 600;
const CONCURRENCY = 16;

let stack: ProcessStack;
let api: ResilienceApi;

useProcessStack({ members: MEMBERS, name: 'worker-crash' }, (started) => {
  ({ stack, api } = started);
});

const note = (line: string) => process.stdout.write(`[worker-crash] ${line}\n`);

/** Deny for every 3rd member, Approve otherwise. */
const decisionFor = (index: number) => (index % 3 === 0 ? 'Deny' : 'Approve');

describe('a worker crash while reviewers decide', () => {
  it('keeps every acknowledged decision when the worker is killed mid-stage', async () => {
    const { memberIds } = stack.tenant;
    const { base } = await api.startReview(selfReviewOf(stack.tenant.groupId, 'Worker crash review'));
    const items = await api.decisions(base);
    expect(items.size).toBe(MEMBERS);
    const tokens = await Promise.all(memberIds.map((id) => stack.auth(id)));
    const itemOf = (i: number) => items.get(memberIds[i]!)!.id;

    type Phase = 'beforeKill' | 'workerDown' | 'afterRestart';
    /** What each member's first request got, by the phase it was sent in and the phase it ended in. */
    const outcomes: { status: number | 'error'; sent: Phase; ended: Phase; ms: number }[] = [];
    const acknowledged = new Set<number>();
    let phase: Phase = 'beforeKill';
    let failuresWhileDown = 0;
    let killed: Promise<void> | undefined;
    let restarted: Promise<unknown> | undefined;
    const t0 = Date.now();

    const send = async (i: number) => {
      const res = await api
        .call('PATCH', `${base}/decisions/${itemOf(i)}`, {
          as: tokens[i]!,
          body: { decision: decisionFor(i), justification: `decided by member ${i}` },
          timeoutMs: 60_000,
        })
        .catch(() => ({ status: 'error' as const }));
      return res.status;
    };

    // First pass: every member decides once, 16 at a time. The worker is SIGKILLed once a third are
    // acknowledged; requests keep coming, and it is restarted once one of them has failed for want of a
    // worker to answer (the API answers 503 within about a second and a half once no worker answers).
    await forEachConcurrently(memberIds, CONCURRENCY, async (_id, i) => {
      const sent = phase;
      const started = Date.now();
      const status = await send(i);
      outcomes.push({ status, sent, ended: phase, ms: Date.now() - started });
      if (status === 204) acknowledged.add(i);
      else if (phase === 'workerDown') failuresWhileDown++;
      if (!killed && acknowledged.size >= MEMBERS / 3) {
        killed = stack.killWorker().then(() => {
          phase = 'workerDown';
          note(
            `worker SIGKILLed at ${Date.now() - t0} ms, after ${acknowledged.size} acknowledged decisions`,
          );
        });
      }
      if (phase === 'workerDown' && !restarted && failuresWhileDown >= 1) {
        note(`a request failed at ${Date.now() - t0} ms with no worker; restarting the worker`);
        restarted = stack.startWorker().then(() => {
          phase = 'afterRestart';
          note(`worker restarted at ${Date.now() - t0} ms`);
        });
      }
    });
    await killed;
    await restarted;
    // The crash must have cost answers and been recovered from; otherwise this proved nothing.
    expect(killed).toBeDefined();
    expect(failuresWhileDown).toBeGreaterThanOrEqual(1);
    expect(restarted).toBeDefined();
    const tally = new Map<string, number>();
    for (const o of outcomes) {
      const key = `sent ${o.sent}, ended ${o.ended}: ${o.status}`;
      tally.set(key, (tally.get(key) ?? 0) + 1);
    }
    note(`first pass in ${Date.now() - t0} ms: ${JSON.stringify(Object.fromEntries(tally))}`);
    note(`slowest answer ${Math.max(...outcomes.map((o) => o.ms))} ms`);
    const firstPass = [...acknowledged];

    // Acknowledged before, during and right after the crash: all in the restarted worker's state.
    // The API may answer 503 for a moment after the restart (see worker-down.test.ts).
    const afterRestart = await pollUntil(
      () => api.decisions(base),
      () => true,
      'decisions after the restart',
    );
    const lost = firstPass.filter((i) => afterRestart.get(memberIds[i]!)?.decision !== decisionFor(i));
    expect(lost).toEqual([]);

    // Then resend what was not acknowledged, as a client would, until every decision is acknowledged.
    let unacknowledged = memberIds.map((_, i) => i).filter((i) => !acknowledged.has(i));
    expect(unacknowledged.length).toBeGreaterThan(0);
    for (let round = 1; round <= 3 && unacknowledged.length > 0; round++) {
      note(`resend round ${round}: ${unacknowledged.length} unacknowledged decisions`);
      await forEachConcurrently(unacknowledged, CONCURRENCY, async (i) => {
        if ((await send(i)) === 204) acknowledged.add(i);
      });
      unacknowledged = unacknowledged.filter((i) => !acknowledged.has(i));
    }
    expect(unacknowledged).toEqual([]);

    const final = await api.decisions(base);
    const wrong = memberIds.flatMap((id, i) => {
      const d: DecisionItem | undefined = final.get(id);
      const ok = d?.decision === decisionFor(i) && d.reviewedBy?.id === id;
      return ok ? [] : [{ member: i, decision: d?.decision, reviewedBy: d?.reviewedBy?.id }];
    });
    expect(wrong).toEqual([]);
    expect(await api.status(base)).toBe('InProgress');
  }, 240_000);
});
