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

  /** Starts the probe workflow if it is not running (idempotent; the API calls it at start). */
  async ensureProbe(): Promise<void> {
    await this.client.workflow.start(workerHealthProbe, {
      workflowId: this.probeId,
      taskQueue: this.taskQueue,
      workflowIdConflictPolicy: 'USE_EXISTING',
      memo: {
        displayName: `Worker health probe of task queue ${this.taskQueue} (answers the API's /health)`,
      },
    });
  }

  /** The whole picture for `/health`: the frontend, the pollers, and a probe. */
  async health(): Promise<WorkerHealth> {
    const deadline = () => Date.now() + this.options.probeTimeoutMs;
    let pollers = 0;
    try {
      const { pollers: seen } = await this.client.withDeadline(deadline(), () =>
        this.client.workflowService.describeTaskQueue({
          namespace: this.client.options.namespace,
          taskQueue: {
            name: this.taskQueue,
            kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL,
          },
          taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        }),
      );
      const since = Date.now() - POLLER_WINDOW_MS;
      pollers = (seen ?? []).filter((p) => secondsOf(p.lastAccessTime) * 1000 >= since).length;
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
    const ask = () =>
      this.client.withDeadline(Date.now() + this.options.probeTimeoutMs, () =>
        this.client.workflow.getHandle(this.probeId).query(pingQuery),
      );
    let answering = true;
    let reason: string | undefined;
    try {
      try {
        await ask();
      } catch (err) {
        if (!(err instanceof Error && err.name === 'WorkflowNotFoundError')) throw err;
        await this.ensureProbe();
        await ask();
      }
    } catch (err) {
      // Any answer from a worker, even an error, means one polls; only silence or no server means none.
      if (isDeadlineExceeded(err) || isUnreachable(err)) {
        answering = false;
        reason = isDeadlineExceeded(err)
          ? `no worker answered on task queue '${this.taskQueue}' within ${this.options.probeTimeoutMs} ms`
          : `Temporal is not reachable: ${(err as Error).message}`;
      }
    }
    this.last = { at: Date.now(), startedAt, answering, reason };
    return answering;
  }
}

function secondsOf(t: { seconds?: unknown } | null | undefined): number {
  const s = t?.seconds;
  if (s === undefined || s === null) return 0;
  if (typeof s === 'number') return s;
  // protobufjs Long
  return typeof (s as { toNumber?: unknown }).toNumber === 'function'
    ? (s as { toNumber: () => number }).toNumber()
    : 0;
}
