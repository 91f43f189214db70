import type { Client } from '@temporalio/client';
import { republishRecordsSignal } from '../workflows';
import { isWorkflowNotFound } from './temporal-errors';

/** The workflows that keep review records: definitions' series, instances and their shards. */
const KEEPERS = `WorkflowType IN ('reviewSeries', 'accessReviewInstance', 'accessReviewShard') AND ExecutionStatus = 'Running'`;

/**
 * Rebuilds the review records from the running workflows: asks each series, instance and shard to write
 * its records again in full (republishRecords signal), and one that kept none (started before records
 * were kept) to keep them from now on. The events before the backfill of such a run stay in its history
 * only. Returns how many workflows were asked. Closed workflows are not reached: their records are what
 * they wrote while they ran.
 */
export async function backfillRecords(
  client: Client,
  onProgress: (asked: number) => void = () => undefined,
): Promise<number> {
  let asked = 0;
  for await (const wf of client.workflow.list({ query: KEEPERS })) {
    try {
      await client.workflow.getHandle(wf.workflowId).signal(republishRecordsSignal);
      asked++;
      if (asked % 100 === 0) onProgress(asked);
    } catch (err) {
      // Closed since it was listed: nothing left to write.
      if (!isWorkflowNotFound(err)) throw err;
    }
  }
  return asked;
}
