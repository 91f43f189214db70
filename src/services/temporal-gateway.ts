import type { Client, WorkflowHandle } from '@temporalio/client';
import { notFound } from '../domain/errors';

/** Whether a Temporal client error says the workflow does not exist (mapped by name, not instanceof). */
export function isWorkflowNotFound(err: unknown): boolean {
  return err instanceof Error && (err.name === 'WorkflowNotFoundError' || /not found/i.test(err.message));
}

/** Thin access to workflow handles that turns "no such workflow" into the API's 404. */
export class TemporalGateway {
  constructor(
    readonly client: Client,
    readonly taskQueue: string,
  ) {}

  handle(workflowId: string): WorkflowHandle {
    return this.client.workflow.getHandle(workflowId);
  }

  /** Runs `fn` against a workflow, mapping a missing workflow to a 404 with the given code. */
  async with<T>(
    workflowId: string,
    code: string,
    what: string,
    fn: (h: WorkflowHandle) => Promise<T>,
  ): Promise<T> {
    try {
      return await fn(this.handle(workflowId));
    } catch (err) {
      if (isWorkflowNotFound(err)) throw notFound(code, `${what} not found`);
      throw err;
    }
  }
}
