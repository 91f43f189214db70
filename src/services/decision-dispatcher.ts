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
 * query (each gets its own 4xx) and one recordDecisions signal. A request resolves only after the
 * signal carrying it is acknowledged by Temporal, so an answered 204 is a durable decision.
 */
export class DecisionDispatcher {
  private readonly queues = new Map<string, Queue>();

  constructor(private readonly options: DispatcherOptions = { maxDelayMs: 5, maxDecisions: 500 }) {}

  submit(handle: WorkflowHandle, payload: RecordDecisionsPayload): Promise<void> {
    return new Promise((resolve, reject) => {
      let queue = this.queues.get(handle.workflowId);
      if (!queue) {
        queue = { handle, waiting: [], size: 0 };
        this.queues.set(handle.workflowId, queue);
        setTimeout(() => void this.flush(handle.workflowId), this.options.maxDelayMs);
      }
      queue.waiting.push({ payload, resolve, reject });
      queue.size += payload.decisions.length;
      if (queue.size >= this.options.maxDecisions) void this.flush(handle.workflowId);
    });
  }

  private async flush(workflowId: string): Promise<void> {
    const queue = this.queues.get(workflowId);
    if (!queue) return;
    this.queues.delete(workflowId);
    const { handle, waiting } = queue;
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
