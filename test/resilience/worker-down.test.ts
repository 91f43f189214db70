import type { ProcessStack, ResilienceApi } from '../helpers/process-stack';
import { REVIEWS, selfReviewOf, useProcessStack } from '../helpers/process-stack';

// With no worker polling the task queue, writes must not hang: they answer 503 `service.unavailable`
// with Retry-After within 2 s, /health says the system cannot serve reviews, and once a worker is back
// the same requests succeed. Reads answer all along, from the review records in PostgreSQL.

const MEMBERS = 30;
let stack: ProcessStack;
let api: ResilienceApi;

useProcessStack({ members: MEMBERS, name: 'worker-down' }, (started) => {
  ({ stack, api } = started);
});

const note = (line: string) => process.stdout.write(`[worker-down] ${line}\n`);

async function timed(method: string, path: string, as: Record<string, string>, body?: unknown) {
  const started = Date.now();
  const res = await fetch(`${stack.baseUrl}${path}`, {
    method,
    headers: { ...as, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  return {
    status: res.status,
    retryAfter: res.headers.get('retry-after'),
    body: text ? (JSON.parse(text) as { error?: { code?: string }; status?: string }) : undefined,
    ms: Date.now() - started,
  };
}

describe('the worker is down', () => {
  it('answers 503 with Retry-After in under 2 s, reports it on /health, and serves again once a worker is back', async () => {
    const { base } = await api.startReview(selfReviewOf(stack.tenant.groupId, 'Worker down review'));
    const items = await api.decisions(base);
    const [memberId] = stack.tenant.memberIds;
    const item = items.get(memberId!)!;
    const member = await stack.auth(memberId!);
    const admin = await api.admin();
    const decide = () => timed('PATCH', `${base}/decisions/${item.id}`, member, { decision: 'Approve' });
    const list = () => timed('GET', `${base}/decisions?$top=10`, admin);
    const health = () => timed('GET', '/health', {});
    const definitionsPath = `${REVIEWS}/definitions`;
    const reads = [
      ['the decision list', `${base}/decisions?$top=1000&$count=true`, admin],
      ['the instance', base, admin],
      ['the definitions', `${definitionsPath}?$count=true`, admin],
      ["the member's inbox", `${definitionsPath}/filterByCurrentUser(on='reviewer')`, member],
      ["the member's decisions", `${base}/decisions/filterByCurrentUser(on='reviewer')`, member],
    ] as const;
    const readAll = async () => {
      const out: Record<string, unknown> = {};
      for (const [what, path, as] of reads) {
        const res = await timed('GET', path, as);
        out[what] = { status: res.status, body: res.body };
      }
      return out;
    };

    expect((await health()).status).toBe(200);
    const before = await readAll();
    await stack.killWorker();
    note('worker killed');

    const res = await decide();
    note(`a decision: ${res.status} in ${res.ms} ms`);
    expect({ status: res.status, code: res.body?.error?.code }).toEqual({
      status: 503,
      code: 'service.unavailable',
    });
    expect(Number(res.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(res.ms).toBeLessThan(2000);
    // Reads answer from the records, as they did with the worker running.
    const started = Date.now();
    const during = await readAll();
    note(`${reads.length} reads without a worker in ${Date.now() - started} ms`);
    expect(during).toEqual(before);
    expect(Object.values(during).every((r) => (r as { status: number }).status === 200)).toBe(true);
    expect(JSON.stringify(during["the member's inbox"])).toContain('Worker down review');
    const down = await health();
    note(`/health: ${down.status} in ${down.ms} ms ${JSON.stringify(down.body)}`);
    expect(down.status).toBe(503);
    expect(down.body?.status).toBe('unavailable');
    expect(down.ms).toBeLessThan(2000);

    await stack.startWorker();
    note('worker restarted');
    const { pollUntil } = await import('../helpers/process-stack');
    await pollUntil(health, (r) => r.status === 200, '/health 200', { timeoutMs: 30_000, intervalMs: 200 });
    // A worker that has just started may still be catching up with the reviews it took over; for a
    // moment requests can meet a 503 (Retry-After 1) before they succeed.
    const again = { timeoutMs: 30_000, intervalMs: 500 };
    await pollUntil(decide, (r) => r.status === 204, 'the decision after the restart', again);
    await pollUntil(list, (r) => r.status === 200, 'the list after the restart', again);
    const after = await api.decisions(base);
    expect(after.get(memberId!)?.decision).toBe('Approve');
  }, 180_000);
});
