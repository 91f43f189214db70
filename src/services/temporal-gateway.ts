import type { UpdateDefinition, WorkflowClientInterceptor, WorkflowHandle } from '@temporalio/client';
import { Client } from '@temporalio/client';
import type { ErrorCode } from '../domain/error-codes';
import { AppError, unavailable } from '../domain/errors';
import type { Deadline } from '../workflows/review-messages';
import { isUnreachable, isWorkflowClosed, isWorkflowNotFound, refusalOf } from './temporal-errors';
import type { LivenessOptions } from './worker-liveness';
import { WorkerLiveness } from './worker-liveness';

export { isWorkflowNotFound } from './temporal-errors';

/** How long the API waits for workflows, and how it tells a dead worker from a slow one. */
export interface GatewayOptions {
  /** Longest a query or Update may take; an Update carries it as its deadline (`notAfter`). */
  requestTimeoutMs: number;
  /** After this long without an answer, the API probes whether any worker answers at all. */
  patienceMs: number;
  probe: LivenessOptions;
}

const DEFAULTS: GatewayOptions = {
  requestTimeoutMs: 10_000,
  patienceMs: 400,
  probe: { probeTimeoutMs: 800, cacheMs: 1000 },
};

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** `work`'s outcome if it settles within `ms`, else undefined. */
async function within<T>(work: Promise<T>, ms: number): Promise<Settled<T> | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), Math.max(0, ms));
  });
  try {
    return await Promise.race([
      work.then(
        (value): Settled<T> => ({ ok: true, value }),
        (error: unknown): Settled<T> => ({ ok: false, error }),
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Access to workflows for the services: handles on a client whose queries and Updates never hang on a
 * missing worker (503 `service.unavailable` with Retry-After within about a second and a half when no
 * worker answers, see WorkerLiveness), Updates with a deadline and their refusals mapped to AppErrors,
 * and "no such workflow" turned into the API's 404.
 */
export class TemporalGateway {
  /** The client services use: queries and Updates guarded as described above. */
  readonly client: Client;
  readonly liveness: WorkerLiveness;
  private readonly options: GatewayOptions;

  constructor(
    client: Client,
    readonly taskQueue: string,
    options: Partial<GatewayOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
    this.liveness = new WorkerLiveness(client, taskQueue, this.options.probe);
    const guard: WorkflowClientInterceptor = {
      query: (input, next) => this.guarded(() => next(input)),
      startUpdate: (input, next) => this.guarded(() => next(input)),
    };
    this.client = new Client({
      connection: client.connection,
      namespace: client.options.namespace,
      dataConverter: client.options.dataConverter,
      interceptors: { workflow: [guard] },
    });
  }

  handle(workflowId: string): WorkflowHandle {
    return this.client.workflow.getHandle(workflowId);
  }

  /** Runs `fn` against a workflow, mapping a missing workflow to a 404 with the given code. */
  async with<T>(
    workflowId: string,
    code: ErrorCode,
    what: string,
    fn: (h: WorkflowHandle) => Promise<T>,
  ): Promise<T> {
    try {
      return await fn(this.handle(workflowId));
    } catch (err) {
      if (isWorkflowNotFound(err)) throw new AppError(code, `${what} not found`);
      throw err;
    }
  }

  /**
   * Runs an Update and answers only once the workflow accepted it (and its handler finished). A refusal
   * becomes the workflow's own error; a closed workflow becomes `closed()`'s error; a missing one a 404.
   */
  async update<Ret, Arg extends Deadline>(
    workflowId: string,
    def: UpdateDefinition<Ret, [Arg]>,
    arg: Arg,
    missing: { code: ErrorCode; what: string; closed: () => Promise<AppError> },
  ): Promise<Ret> {
    try {
      return await this.handle(workflowId).executeUpdate(def, {
        args: [{ ...arg, notAfter: this.notAfter() }],
      });
    } catch (err) {
      const refusal = refusalOf(err);
      if (refusal) throw refusal;
      if (isWorkflowClosed(err)) throw await missing.closed();
      if (isWorkflowNotFound(err)) throw new AppError(missing.code, `${missing.what} not found`);
      throw err;
    }
  }

  /** The deadline an Update sent now carries: a workflow that sees it later refuses it. */
  notAfter(): string {
    return new Date(Date.now() + this.options.requestTimeoutMs).toISOString();
  }

  private unavailableNow(): AppError {
    const why = this.liveness.reason() ?? `no worker answered on task queue '${this.taskQueue}'`;
    return unavailable(`Reviews cannot be served right now: ${why}. Retry shortly.`);
  }

  /**
   * A call that needs a worker: answered as usual when it is quick; when it is slow, the workers are
   * probed, and the call is abandoned with a 503 if none answers, or after `requestTimeoutMs` at most.
   */
  private async guarded<T>(call: () => Promise<T>): Promise<T> {
    if (this.liveness.knownDown()) throw this.unavailableNow();
    const started = Date.now();
    const abort = new AbortController();
    const work = this.client.connection.withAbortSignal(abort.signal, call);
    const give = (err: AppError): never => {
      abort.abort();
      void work.catch(() => undefined);
      throw err;
    };
    const unwrap = (s: Settled<T>): T => {
      if (s.ok) return s.value;
      if (isUnreachable(s.error)) throw unavailable('Temporal is not reachable; retry shortly.');
      throw s.error;
    };
    const quick = await within(work, this.options.patienceMs);
    if (quick) return unwrap(quick);
    if (!(await this.liveness.answering(started))) return give(this.unavailableNow());
    const late = await within(work, this.options.requestTimeoutMs - this.options.patienceMs);
    if (late) return unwrap(late);
    return give(
      unavailable(
        `The review did not answer within ${this.options.requestTimeoutMs / 1000} s (the workers are busy); retry shortly.`,
        2,
      ),
    );
  }
}
