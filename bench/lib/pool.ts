import { n0, ProgressBar } from './progress';

/** The outcome of one request: success, or a failure keyed by what went wrong (`404 review.not_a_reviewer`). */
export type SendOutcome = { ok: true } | { ok: false; key: string; message: string };

/** Failures of one kind: how many, and the first message seen. */
export interface ErrorCount {
  count: number;
  example: string;
}

export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** What a burst of requests achieved. `perSecond` counts successes only. */
export interface BurstResult {
  total: number;
  attempted: number;
  ok: number;
  failed: number;
  ms: number;
  perSecond: number;
  latencyMs: LatencySummary | null;
  errors: Record<string, ErrorCount>;
  /** Why sending stopped before every item was sent, if it did. */
  aborted: string | null;
}

export interface BurstOptions {
  label: string;
  concurrency: number;
  /** Stop sending when more than this fraction of the requests sent so far failed (after `minSample`). */
  maxFailureFraction: number;
  minSample: number;
  /** Checked before every request; true stops sending (Ctrl-C). */
  cancelled?: () => string | null;
}

export function summarize(latencies: number[]): LatencySummary | null {
  if (latencies.length === 0) return null;
  const sorted = Float64Array.from(latencies).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  const round = (x: number) => Math.round(x * 10) / 10;
  const sum = latencies.reduce((a, b) => a + b, 0);
  return {
    p50: round(at(0.5)),
    p95: round(at(0.95)),
    p99: round(at(0.99)),
    max: round(sorted[sorted.length - 1]!),
    mean: round(sum / latencies.length),
  };
}

/** Sends one request per item with `concurrency` in flight, with a progress bar; never throws per item. */
export async function burst<T>(
  items: readonly T[],
  send: (item: T, index: number) => Promise<SendOutcome>,
  opts: BurstOptions,
): Promise<BurstResult> {
  const bar = new ProgressBar(opts.label, items.length);
  const errors: Record<string, ErrorCount> = {};
  const latencies: number[] = [];
  let next = 0;
  let attempted = 0;
  let ok = 0;
  let failed = 0;
  let aborted: string | null = null;
  const started = performance.now();
  const fail = (key: string, message: string) => {
    failed++;
    const e = (errors[key] ??= { count: 0, example: message.slice(0, 500) });
    e.count++;
  };
  const lane = async () => {
    for (;;) {
      if (aborted) return;
      const why = opts.cancelled?.();
      if (why) {
        aborted ??= why;
        return;
      }
      const index = next++;
      if (index >= items.length) return;
      attempted++;
      const t0 = performance.now();
      try {
        const outcome = await send(items[index]!, index);
        if (outcome.ok) {
          ok++;
          latencies.push(performance.now() - t0);
        } else fail(outcome.key, outcome.message);
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err));
        const cause = (e as { cause?: { code?: string } }).cause?.code;
        fail(`exception ${cause ?? e.name}`, e.message);
      }
      if (attempted >= opts.minSample && failed / attempted > opts.maxFailureFraction) {
        aborted ??= `more than ${opts.maxFailureFraction * 100}% of requests failed (${n0(failed)} of ${n0(attempted)}); stopped sending`;
      }
      bar.update(ok + failed, failed ? `(${n0(failed)} failed)` : '');
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency) }, lane));
  const ms = performance.now() - started;
  bar.finish(ok + failed, failed ? `(${n0(failed)} failed)` : '');
  return {
    total: items.length,
    attempted,
    ok,
    failed,
    ms: Math.round(ms),
    perSecond: Math.round((ok / Math.max(0.001, ms / 1000)) * 10) / 10,
    latencyMs: summarize(latencies),
    errors,
    aborted,
  };
}

/**
 * At most `limit` calls in flight per key (a workflow), the rest wait in order. Temporal refuses an
 * Update beyond 10 in flight per workflow execution with RESOURCE_EXHAUSTED, which the client retries
 * after a second, so a sender that would exceed it waits here instead.
 */
export class PerKeyLimit {
  /** Most calls in flight for one key at any time. */
  maxInFlight = 0;
  /** Calls that had to wait for a slot. */
  waited = 0;
  private readonly inFlight = new Map<number, number>();
  private readonly queues = new Map<number, (() => void)[]>();

  constructor(readonly limit: number) {}

  async run<T>(key: number, fn: () => Promise<T>): Promise<T> {
    const inFlight = this.inFlight.get(key) ?? 0;
    if (inFlight >= this.limit) {
      // The slot is handed over by the call that ends (see below), so nobody can take it meanwhile.
      this.waited++;
      await new Promise<void>((resolve) => {
        const queue = this.queues.get(key) ?? [];
        queue.push(resolve);
        this.queues.set(key, queue);
      });
    } else {
      this.inFlight.set(key, inFlight + 1);
      this.maxInFlight = Math.max(this.maxInFlight, inFlight + 1);
    }
    try {
      return await fn();
    } finally {
      const next = this.queues.get(key)?.shift();
      if (next) next();
      else this.inFlight.set(key, (this.inFlight.get(key) ?? 1) - 1);
    }
  }
}
