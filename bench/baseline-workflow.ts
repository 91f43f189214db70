import { condition, defineQuery, defineSignal, setHandler } from '@temporalio/workflow';

/**
 * The raw signal baseline of the review bench: the cheapest workflow that receives signals. It counts
 * `ping` signals and completes (returning the count) after a `done` signal. The bench sends it as many
 * signals as a review stage gets decisions, with the same concurrency, so the review's decisions/s can be
 * read against what the engine does with no API, no queries and no review state in between.
 */
export interface PingPayload {
  /** Shaped like a one-decision recordDecisions payload, so both carry about the same bytes. */
  reviewerId: string;
  decisions: { itemId: string; decision: string; justification: string }[];
}

export const pingSignal = defineSignal<[PingPayload]>('ping');
export const doneSignal = defineSignal('done');
export const pingCountQuery = defineQuery<number>('pingCount');

export async function benchBaseline(): Promise<number> {
  let count = 0;
  let done = false;
  setHandler(pingSignal, () => {
    count++;
  });
  setHandler(doneSignal, () => {
    done = true;
  });
  setHandler(pingCountQuery, () => count);
  await condition(() => done);
  return count;
}
