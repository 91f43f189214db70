import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { pingQuery, workerHealthProbe } from '../workflows/health-probe';
import { isDeadlineExceeded, isUnreachable } from './temporal-errors';

/** What the API knows about the Temporal connection and the workers polling its task queue. */
export interface WorkerHealth {
  /** The Temporal frontend answered. */
  reachable: boolean;
  /** A worker answered the probe query within the probe timeout. */
  answering: boolean;
  /** Workers seen polling the task queue for workflow tasks in the last two minutes (DescribeTaskQueue). */
  pollers: number;
  /** Why the system cannot serve reviews, when it cannot. */
  reason?: string;
}

export interface LivenessOptions {
  /** Longest the probe query may take before the workers count as not answering. */
  probeTimeoutMs: number;
  /** How long one probe result is trusted. */
  cacheMs: number;
}

/** Pollers that polled within this window count: a live worker renews its long poll at least every ~70 s. */
const POLLER_WINDOW_MS = 120_000;

/**
 * Tells whether a worker answers on the task queue, by a query to a probe workflow (see health-probe.ts)
 * with a short deadline. A query needs a polling worker, so it tells a dead worker from a slow review
 * within a second, where the task queue's poller list keeps a dead worker for a minute or more. Probes are
 * shared by concurrent callers and their result is kept for `cacheMs`.
 */
export class WorkerLiveness {
  private last?: { at: number; startedAt: number; answering: boolean; reason?: string };
  private running?: { startedAt: number; result: Promise<boolean> };
  private readonly probeId: string;

  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    private readonly options: LivenessOptions = { probeTimeoutMs: 800, cacheMs: 1000 },
  ) {
    this.probeId = `stagecoach/health-probe/${taskQueue}`;
  }

  /** Whether the last probe, taken moments ago, found no worker answering. */
  knownDown(): boolean {
    return (
      this.last !== undefined && !this.last.answering && Date.now() - this.last.at < this.options.cacheMs
    );
  }

  /**
   * Whether a worker answers now: a probe taken within `cacheMs`, or a fresh one. `since` asks for a probe
   * started no earlier than that (a call that has been slow since then must not trust an older answer).
   */
  answering(since = 0): Promise<boolean> {
    const fresh =
      this.last && Date.now() - this.last.at < this.options.cacheMs && this.last.startedAt >= since;
    if (fresh) return Promise.resolve(this.last!.answering);
    if (this.running && this.running.startedAt >= since) return this.running.result;
    const startedAt = Date.now();
    const result = this.probe(startedAt).finally(() => {
      if (this.running?.startedAt === startedAt) this.running = undefined;
    });
    this.running = { startedAt, result };
    return result;
  }

  /** The reason the last probe failed, if it did. */
  reason(): string | undefined {
    return this.last?.answering === false ? this.last.reason : undefined;
  }

  /**
   * Starts the probe workflow (it completes at once); called when it does not exist yet, or no longer
   * (Temporal's retention deletes it like any closed workflow).
   */
  async ensureProbe(): Promise<void> {
    try {
      await this.client.workflow.start(workerHealthProbe, {
        workflowId: this.probeId,
        taskQueue: this.taskQueue,
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        memo: {
          displayName: `Worker health probe of task queue ${this.taskQueue} (answers the API's /health)`,
        },
      });
    } catch (err) {
      // Started meanwhile by another API process: as good.
      if (!(err instanceof Error && err.name === 'WorkflowExecutionAlreadyStartedError')) throw err;
    }
  }

  /** The workflow pollers Temporal lists for the task queue, with when each last polled (ms since epoch). */
  private async pollers(): Promise<number[]> {
    const { pollers } = await this.client.withDeadline(Date.now() + this.options.probeTimeoutMs, () =>
      this.client.workflowService.describeTaskQueue({
        namespace: this.client.options.namespace,
        taskQueue: { name: this.taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
        taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
      }),
    );
    return (pollers ?? []).map((p) => millisOf(p.lastAccessTime));
  }

  /** The whole picture for `/health`: the frontend, the pollers, and a probe. */
  async health(): Promise<WorkerHealth> {
    let pollers = 0;
    try {
      const since = Date.now() - POLLER_WINDOW_MS;
      pollers = (await this.pollers()).filter((at) => at >= since).length;
    } catch (err) {
      return {
        reachable: false,
        answering: false,
        pollers: 0,
        reason: `Temporal is not reachable: ${err instanceof Error ? err.message : String(err)}`,
      };
    }
    const answering = await this.answering();
    return { reachable: true, answering, pollers, ...(answering ? {} : { reason: this.reason() }) };
  }

  private async probe(startedAt: number): Promise<boolean> {
    const deadline = Date.now() + this.options.probeTimeoutMs;
    // Whichever way the probe ends, nothing of it goes on behind it (no call retried after it settled).
    const abort = new AbortController();
    const bounded = <T>(call: () => Promise<T>) =>
      this.client.withAbortSignal(abort.signal, () => this.client.withDeadline(deadline, call));
    const query = () => bounded(() => this.client.workflow.getHandle(this.probeId).query(pingQuery));
    const ask = async () => {
      try {
        return await query();
      } catch (err) {
        if (!(err instanceof Error && err.name === 'WorkflowNotFoundError')) throw err;
        await bounded(() => this.ensureProbe());
        return query();
      }
    };
    // Temporal may first offer a query to the worker that last ran the workflow; when that worker has
    // just died, the query waits although another worker polls. A brand-new execution goes to the task
    // queue itself, so one is started when the query is slow (rarely: in outages and right after them).
    const fresh = async () => {
      await new Promise((resolve) => setTimeout(resolve, this.options.probeTimeoutMs / 2));
      if (settled) return 'pong';
      return bounded(async () => {
        const handle = await this.client.workflow.start(workerHealthProbe, {
          workflowId: `${this.probeId}/${Date.now()}-${Math.random().toString(36).slice(2, 8)}`,
          taskQueue: this.taskQueue,
          workflowExecutionTimeout: '1 minute',
          memo: { displayName: `Worker health check of task queue ${this.taskQueue}` },
        });
        return handle.result();
      });
    };
    let settled = false;
    let answering = true;
    let reason: string | undefined;
    try {
      await Promise.any([ask(), fresh()]).finally(() => {
        settled = true;
        abort.abort();
      });
    } catch (any) {
      const errors = any instanceof AggregateError ? (any.errors as unknown[]) : [any];
      // Any answer from a worker, even an error, means one polls; only silence or no server means none.
      const silent = (e: unknown) =>
        isDeadlineExceeded(e) ||
        isUnreachable(e) ||
        (e instanceof Error && /deadline|timed? ?out|cancel/i.test(`${e.name} ${e.message}`));
      // Silence from a worker busy catching up (after a restart, say) is not its absence: a worker that
      // polled the task queue since this probe began is alive, where a dead one has stopped polling.
      const busy = async () => (await this.pollers().catch(() => [])).some((at) => at >= startedAt);
      if (errors.every(silent) && !(await busy())) {
        answering = false;
        const unreachable = errors.find(isUnreachable);
        reason = unreachable
          ? `Temporal is not reachable: ${(unreachable as Error).message}`
          : `no worker answered on task queue '${this.taskQueue}' within ${this.options.probeTimeoutMs} ms`;
      }
    }
    this.last = { at: Date.now(), startedAt, answering, reason };
    return answering;
  }
}

/** A protobuf timestamp in ms since the epoch (0 when absent). */
function millisOf(t: { seconds?: unknown; nanos?: number | null } | null | undefined): number {
  const s = t?.seconds;
  if (s === undefined || s === null) return 0;
  const seconds =
    typeof s === 'number'
      ? s
      : typeof (s as { toNumber?: unknown }).toNumber === 'function'
        ? (s as { toNumber: () => number }).toNumber()
        : 0;
  return seconds * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);
}
