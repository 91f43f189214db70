import { allHandlersFinished, condition, defineUpdate, setHandler } from '@temporalio/workflow';
import { doneSignal, pingCountQuery } from './baseline-workflow';
import type { PingPayload } from './baseline-workflow';

/**
 * The raw Update baseline of the review bench: the cheapest workflow that takes Updates. Each `ping`
 * Update is shaped like a one-decision recordDecisions Update (one request with a deadline), is checked
 * by a validator and counted by its handler, which answers one outcome per request like recordDecisions.
 * The workflow completes (returning the count) after a `done` signal, once no handler runs.
 */
export interface PingUpdateInput {
  requests: (PingPayload & { stageId?: string })[];
  notAfter?: string;
}

export type PingOutcome = { ok: true; stageId: string; recorded: number };

export const pingUpdate = defineUpdate<PingOutcome[], [PingUpdateInput]>('ping');

export async function benchUpdateBaseline(): Promise<number> {
  let count = 0;
  let done = false;
  setHandler(
    pingUpdate,
    ({ requests }) => {
      count++;
      return requests.map((r) => ({ ok: true, stageId: r.stageId ?? '1', recorded: r.decisions.length }));
    },
    {
      validator: ({ requests, notAfter }: PingUpdateInput) => {
        if (requests.length === 0 || requests.some((r) => r.decisions.length === 0)) {
          throw new Error('a ping carries at least one request with one decision');
        }
        if (notAfter !== undefined && Date.now() > Date.parse(notAfter)) throw new Error('expired');
      },
    },
  );
  setHandler(doneSignal, () => {
    done = true;
  });
  setHandler(pingCountQuery, () => count);
  await condition(() => done && allHandlersFinished());
  return count;
}
