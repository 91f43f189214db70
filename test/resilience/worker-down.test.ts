import type { ProcessStack, ResilienceApi } from '../helpers/process-stack';
import { REVIEWS, selfReviewOf, useProcessStack } from '../helpers/process-stack';

// With no worker polling the task queue, review requests must not hang: they answer 503
// `service.unavailable` with Retry-After within 2 s, /health says the system cannot serve reviews, and
// once a worker is back the same requests succeed.

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

    expect((await health()).status).toBe(200);
    await stack.killWorker();
    note('worker killed');

    for (const [what, call] of [
      ['a decision', decide],
      ['a list', list],
      ['a definition read', () => timed('GET', `${REVIEWS}/definitions`, admin)],
    ] as const) {
      const res = await call();
      note(`${what}: ${res.status} in ${res.ms} ms`);
      expect({ what, status: res.status, code: res.body?.error?.code }).toEqual({
        what,
        status: 503,
        code: 'service.unavailable',
      });
      expect(Number(res.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(res.ms).toBeLessThan(2000);
    }
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
