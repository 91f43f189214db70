import { AppError } from '../domain/errors';
import type { DecisionsRequest } from '../domain/review-rules';
import type { DecisionsOutcome } from '../workflows';
import { recordDecisionsUpdate } from '../workflows';
import { refusalOf, refusedOutcomes } from './temporal-errors';
import type { TemporalGateway } from './temporal-gateway';

interface Waiting {
  request: DecisionsRequest;
  resolve: (outcome: DecisionsOutcome) => void;
  reject: (err: unknown) => void;
}

interface Queue {
  workflowId: string;
  waiting: Waiting[];
  size: number;
  timer?: NodeJS.Timeout;
  flushing: boolean;
}

/** How decisions to one workflow are gathered before one Update carries them all. */
export interface DispatcherOptions {
  /** Longest a request waits for others to join its batch. */
  maxDelayMs: number;
  /** A batch is sent at once when it holds this many decisions. */
  maxDecisions: number;
}

/** Size of a request for batching: its listed decisions or items, or a batch decision's whole stage (counted as many). */
const sizeOf = (r: DecisionsRequest) => r.decisions?.length ?? r.all?.itemIds?.length ?? 100;

/**
 * R5 at the API, batched: requests arriving together for the same workflow (an instance or a shard) share
 * one recordDecisions Update, and each gets the workflow's own outcome for it — recorded in the stage it
 * named, or refused with the rule's error. One batch per workflow is in flight at a time (Temporal allows
 * 10 Updates in flight per workflow), and requests arriving meanwhile form the next batch. A request
 * resolves only after the workflow accepted the Update and recorded it, so an answered 2xx is a decision
 * in the history.
 */
export class DecisionDispatcher {
  private readonly queues = new Map<string, Queue>();

  constructor(
    private readonly gw: TemporalGateway,
    private readonly options: DispatcherOptions = { maxDelayMs: 5, maxDecisions: 500 },
  ) {}

  /** The workflow's outcome for one request: recorded (ok) or the violation it was refused with. */
  submit(workflowId: string, request: DecisionsRequest): Promise<DecisionsOutcome> {
    return new Promise((resolve, reject) => {
      let queue = this.queues.get(workflowId);
      if (!queue) {
        queue = { workflowId, waiting: [], size: 0, flushing: false };
        this.queues.set(workflowId, queue);
      }
      queue.waiting.push({ request, resolve, reject });
      queue.size += sizeOf(request);
      this.schedule(queue);
    });
  }

  private schedule(queue: Queue): void {
    if (queue.flushing || queue.waiting.length === 0) return;
    if (queue.size >= this.options.maxDecisions) {
      clearTimeout(queue.timer);
      queue.timer = undefined;
      void this.flush(queue);
    } else {
      queue.timer ??= setTimeout(() => {
        queue.timer = undefined;
        void this.flush(queue);
      }, this.options.maxDelayMs);
    }
  }

  private async flush(queue: Queue): Promise<void> {
    if (queue.flushing) return;
    queue.flushing = true;
    const waiting = queue.waiting.splice(0, queue.waiting.length);
    queue.size = 0;
    try {
      await this.send(queue.workflowId, waiting);
    } finally {
      queue.flushing = false;
      if (queue.waiting.length > 0) this.schedule(queue);
      else if (!queue.timer) this.queues.delete(queue.workflowId);
    }
  }

  private async send(workflowId: string, waiting: Waiting[]): Promise<void> {
    const requests = waiting.map((w) => w.request);
    try {
      const outcomes = await this.gw.handle(workflowId).executeUpdate(recordDecisionsUpdate, {
        args: [{ requests, notAfter: this.gw.notAfter() }],
      });
      waiting.forEach((w, i) => w.resolve(outcomes[i]!));
    } catch (err) {
      // Refused whole: every request was refused, each for its own reason.
      const outcomes = refusedOutcomes(err);
      if (outcomes?.length === waiting.length) {
        waiting.forEach((w, i) => w.resolve(outcomes[i]!));
        return;
      }
      const refusal = refusalOf(err);
      waiting.forEach((w) => w.reject(refusal ?? err));
    }
  }
}

/** The error a refused outcome stands for. */
export const violationError = (outcome: Extract<DecisionsOutcome, { ok: false }>) =>
  new AppError(outcome.violation.code, outcome.violation.message);
