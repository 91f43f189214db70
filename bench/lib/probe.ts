import type { Client } from '@temporalio/client';
import { reviewerQuery, seriesQuery } from '../../src/workflows';
import type { LatencySummary } from './pool';
import { summarize } from './pool';

/** Named calls to time, one after the other, once per period. */
export type ProbeOps = Record<string, () => Promise<unknown>>;

/**
 * While requests are sent, times once a second the Temporal calls a PATCH decision makes besides its
 * signal: describe + query of the series workflow (the API locates the instance through it) and a query
 * of the instance workflow — or, during the raw baseline, a query of the baseline workflow. Shows which
 * round trip grows under load.
 */
export class TemporalProbe {
  private readonly samples: Record<string, number[]> = {};
  private readonly errors: Record<string, number> = {};
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly ops: ProbeOps,
    private readonly everyMs = 1000,
  ) {}

  /** The calls a PATCH decision depends on. */
  static reviewOps(client: Client, seriesWorkflowId: string, instanceWorkflowId: string): ProbeOps {
    const series = client.workflow.getHandle(seriesWorkflowId);
    const instance = client.workflow.getHandle(instanceWorkflowId);
    return {
      'series describe': () => series.describe(),
      'series query': () => series.query(seriesQuery),
      'instance query': () => instance.query(reviewerQuery, { userId: 'bench-probe' }),
    };
  }

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<{
    latencyMs: Record<string, LatencySummary | null>;
    errors: Record<string, number>;
  }> {
    this.running = false;
    await this.loop;
    const latencyMs: Record<string, LatencySummary | null> = {};
    for (const [op, values] of Object.entries(this.samples)) latencyMs[op] = summarize(values);
    return { latencyMs, errors: this.errors };
  }

  private async run(): Promise<void> {
    while (this.running) {
      const t0 = performance.now();
      for (const [op, fn] of Object.entries(this.ops)) {
        const t = performance.now();
        try {
          await fn();
          (this.samples[op] ??= []).push(performance.now() - t);
        } catch {
          this.errors[op] = (this.errors[op] ?? 0) + 1;
        }
      }
      const wait = this.everyMs - (performance.now() - t0);
      if (wait > 0 && this.running) await new Promise((r) => setTimeout(r, wait));
    }
  }
}
