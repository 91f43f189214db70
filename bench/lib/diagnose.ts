import type { Client } from '@temporalio/client';

const CLOSED_BADLY = new Set(['FAILED', 'TERMINATED', 'TIMED_OUT', 'CANCELLED', 'CONTINUED_AS_NEW']);

/**
 * Says what is wrong with a workflow run, or null: closed when it should run (or closed badly), or a
 * workflow task that keeps failing (the run is stuck; the last WorkflowTaskFailed message says why).
 */
export async function diagnoseWorkflow(
  client: Client,
  workflowId: string,
  opts: { allowCompleted: boolean },
): Promise<string | null> {
  const handle = client.workflow.getHandle(workflowId);
  const d = await handle.describe();
  const status = d.status.name;
  if (status === 'COMPLETED' && opts.allowCompleted) return null;
  if (status !== 'RUNNING') {
    return `workflow ${workflowId} is ${status}${CLOSED_BADLY.has(status) ? ` (${await lastFailure(client, workflowId)})` : ''}`;
  }
  const attempt = d.raw.pendingWorkflowTask?.attempt ?? 0;
  if (attempt >= 3) {
    return `workflow ${workflowId}: workflow task failing, attempt ${attempt}: ${await lastFailure(client, workflowId)}`;
  }
  return null;
}

type Ev = Record<
  string,
  | { failure?: { message?: string | null; cause?: unknown } | null; cause?: unknown; reason?: string | null }
  | null
  | undefined
>;

/** The message of the last failure-like event in the history (workflow task failed, terminated, failed). */
export async function lastFailure(client: Client, workflowId: string): Promise<string> {
  try {
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    const events = (history.events ?? []) as unknown as Ev[];
    for (let i = events.length - 1; i >= 0; i--) {
      const e = events[i]!;
      const wft = e.workflowTaskFailedEventAttributes;
      if (wft) return `WorkflowTaskFailed cause ${String(wft.cause)}: ${wft.failure?.message ?? ''}`;
      const term = e.workflowExecutionTerminatedEventAttributes;
      if (term) return `terminated: ${term.reason ?? ''}`;
      const failed = e.workflowExecutionFailedEventAttributes;
      if (failed) return `failed: ${failed.failure?.message ?? ''}`;
    }
    return 'no failure event in the history';
  } catch (err) {
    return `history unavailable: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** A short key for a Temporal client error: its name and gRPC status code, if any. */
export function temporalErrorKey(err: unknown): string {
  if (!(err instanceof Error)) return 'exception';
  const cause = (err as { cause?: { code?: number } }).cause;
  const code = (err as { code?: number }).code ?? cause?.code;
  return `${err.name}${code === undefined ? '' : ` grpc ${code}`}`;
}
