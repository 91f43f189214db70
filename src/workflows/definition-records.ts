import { condition, patched, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { DefinitionRecord } from '../domain/review-records';

/** Series started before definitions were kept in the records do not start keeping them. */
export const DEFINITION_RECORDS_PATCH = 'definition-records';
/** A series started before definitions were kept starts keeping its record when a backfill asks it to. */
export const DEFINITION_RECORDS_BACKFILL_PATCH = 'definition-records-backfill';

// A local activity: the worker writes the batch while it holds the workflow task, so no batch goes into
// the history (only its marker), no round trip through the server adds to the records' lag, and the
// clock of a test server that skips time stands still meanwhile.
const { recordDefinition } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  // Later attempts wait on a workflow timer, not in the workflow task: while the store is down, the
  // workflow's Updates and signals go on.
  localRetryThreshold: '1 second',
  // The store may be down for a while: keep trying, the review goes on meanwhile.
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', backoffCoefficient: 2 },
});

/**
 * Hands a series' definition record to the record store (recordDefinition activity) whenever it changes,
 * in the background, the latest state each time. `version` goes on across continue-as-new (`from`).
 */
export function createDefinitionPublisher(definitionId: string, current: () => DefinitionRecord, from = 0) {
  let version = from;
  let published = from;
  let changed = true;
  let writing = false;

  async function run(): Promise<never> {
    for (;;) {
      await condition(() => changed);
      changed = false;
      writing = true;
      const target = ++version;
      try {
        await recordDefinition({ definitionId, version: target, record: current() });
        published = target;
      } finally {
        writing = false;
      }
    }
  }

  return {
    run,
    /** Something the record shows changed. */
    changed(): void {
      changed = true;
    },
    /** The version to carry over continue-as-new. */
    version: () => version,
    published: () => published,
    /** Waits until the record shows everything changed so far (before continue-as-new or the end). */
    settled: () => condition(() => !changed && !writing),
  };
}

export type DefinitionPublisher = ReturnType<typeof createDefinitionPublisher>;

/** The publisher of this series, or undefined for a series started before definitions were recorded. */
export function definitionPublisherFor(
  definitionId: string,
  current: () => DefinitionRecord,
  from?: number,
  patch = DEFINITION_RECORDS_PATCH,
): DefinitionPublisher | undefined {
  if (!patched(patch)) return undefined;
  const publisher = createDefinitionPublisher(definitionId, current, from);
  void publisher.run();
  return publisher;
}
