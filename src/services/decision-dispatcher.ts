import type { WorkflowHandle } from '@temporalio/client';
import { AppError } from '../domain/errors';
import type { RuleViolation } from '../domain/review-rules';
import type { RecordDecisionsPayload } from '../workflows';
import { checkDecisionsQuery, recordDecisionsSignal } from '../workflows';

interface Waiting {
  payload: RecordDecisionsPayload;
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface Queue {
  handle: WorkflowHandle;
  waiting: Waiting[];
  size: number;
  timer?: NodeJS.Timeout;
  flushing: boolean;
}

/** How decisions to one review are gathered before one dry-run query and one signal carry them all. */
export interface DispatcherOptions {
  /** Longest a request waits for others to join its batch. */
  maxDelayMs: number;
  /** A batch is sent at once when it holds this many decisions. */
  maxDecisions: number;
}

/**
 * R5 at the API, batched: requests arriving together for the same review instance share one dry-run
 * query (each gets its own 4xx) and one recordDecisions signal. One batch per review is in flight at a
 * time — its query would otherwise queue behind the workflow tasks of its own signals — and requests
 * arriving meanwhile form the next batch. A request resolves only after the signal carrying it is
 * acknowledged by Temporal, so an answered 204 is a durable decision.
 */
export class DecisionDispatcher {
  private readonly queues = new Map<string, Queue>();

  constructor(private readonly options: DispatcherOptions = { maxDelayMs: 5, maxDecisions: 500 }) {}

  submit(handle: WorkflowHandle, payload: RecordDecisionsPayload): Promise<void> {
    return new Promise((resolve, reject) => {
      let queue = this.queues.get(handle.workflowId);
      if (!queue) {
        queue = { handle, waiting: [], size: 0, flushing: false };
        this.queues.set(handle.workflowId, queue);
      }
      queue.waiting.push({ payload, resolve, reject });
      queue.size += payload.decisions.length;
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
      await this.send(queue.handle, waiting);
    } finally {
      queue.flushing = false;
      if (queue.waiting.length > 0) this.schedule(queue);
      else if (!queue.timer) this.queues.delete(queue.handle.workflowId);
    }
  }

  private async send(handle: WorkflowHandle, waiting: Waiting[]): Promise<void> {
    try {
      const problems = await handle.query(checkDecisionsQuery, { batch: waiting.map((w) => w.payload) });
      const accepted: Waiting[] = [];
      let offset = 0;
      for (const w of waiting) {
        const mine = problems.slice(offset, offset + w.payload.decisions.length);
        offset += w.payload.decisions.length;
        const first = mine.find((p): p is RuleViolation => p !== null);
        if (first) w.reject(new AppError(first.code, first.status, first.message));
        else accepted.push(w);
      }
      if (accepted.length === 0) return;
      await handle.signal(recordDecisionsSignal, { batch: accepted.map((w) => w.payload) });
      accepted.forEach((w) => w.resolve());
    } catch (err) {
      waiting.forEach((w) => w.reject(err));
    }
  }
}
