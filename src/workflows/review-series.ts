import {
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  getExternalWorkflowHandle,
  log,
  ParentClosePolicy,
  patched,
  setHandler,
  startChild,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
  allHandlersFinished,
} from '@temporalio/workflow';
import type { Definition } from '../domain/definition-schema';
import { instanceIdFor, instanceWorkflowId } from '../domain/ids';
import { occurrenceStart } from '../domain/recurrence';
import type { ReviewPlan } from '../domain/review-plan';
import { definitionIdSearchAttribute, reviewStatusSearchAttribute } from '../search-attributes';
import { accessReviewInstance } from './access-review-instance';
import { DEFINITION_RECORDS_BACKFILL_PATCH, definitionPublisherFor } from './definition-records';
import { republishRecordsSignal, stopInstanceSignal } from './review-messages';

import type { SeriesInstance } from '../domain/review-records';

export type { SeriesInstance };

export interface ReviewSeriesInput {
  definition: Definition;
  plan: ReviewPlan;
  /** Carried over continue-as-new. */
  instances?: SeriesInstance[];
  /** See AccessReviewInstanceInput.searchAttributes. */
  searchAttributes?: boolean;
  /** See AccessReviewInstanceInput.shardSize. */
  shardSize?: number;
  /** The version of the definition record written last, carried over continue-as-new. */
  recordsVersion?: number;
}

export interface SeriesView {
  definition: Definition;
  instances: SeriesInstance[];
  nextOccurrenceDateTime: string | null;
}

/** PUT of a definition: later occurrences use the new settings; running instances keep theirs. */
export const updateDefinitionSignal =
  defineSignal<[{ definition: Definition; plan: ReviewPlan }]>('updateDefinition');
/**
 * DELETE of a definition: no further occurrences start; with `stopInstances`, the series also stops every
 * instance it started that is still running (they complete and apply per their settings). The series does
 * this itself, so an occurrence it starts while the DELETE is under way is stopped too.
 */
export const endSeriesSignal = defineSignal<[{ by: string; stopInstances?: boolean }]>('endSeries');
export const seriesQuery = defineQuery<SeriesView>('series');

const KEEP_INSTANCES_AFTER_CONTINUE = 1000;

/**
 * Patch: the series' StagecoachReviewStatus follows its status after its last occurrence started (so it
 * reads Completed once that instance finished) and reads Completed when the definition is deleted.
 * Series recorded before it set the status only while starting occurrences.
 */
const STATUS_PATCH = 'series-status-follows-instances';

/**
 * A definition's schedule (R13): starts one instance workflow per occurrence of its recurrence
 * (just one without recurrence), never the same occurrence twice, and stays open as the definition's
 * record until it is deleted.
 */
export async function reviewSeries(input: ReviewSeriesInput): Promise<SeriesView> {
  let { definition, plan } = input;
  const indexed = input.searchAttributes ?? true;
  let indexedStatus: Definition['status'] | undefined;
  const indexStatus = (status: Definition['status']) => {
    if (indexed) upsertSearchAttributes([{ key: reviewStatusSearchAttribute, value: status }]);
    indexedStatus = status;
  };
  const instances: SeriesInstance[] = input.instances ?? [];
  let ended = false;
  let stopInstancesBy: string | undefined;
  let next: string | undefined;
  const view = (): SeriesView => ({
    definition: { ...definition, status: statusOf() },
    instances,
    nextOccurrenceDateTime: ended ? null : (next ?? null),
  });
  const statusOf = (): Definition['status'] =>
    instances.some((i) => !i.completed)
      ? 'InProgress'
      : next === undefined || ended
        ? instances.length
          ? 'Completed'
          : 'NotStarted'
        : instances.length
          ? 'InProgress'
          : 'NotStarted';

  const current = () => ({ ...view(), ended });
  let records = definitionPublisherFor(definition.id, current, input.recordsVersion);
  const changed = () => records?.changed();
  setHandler(republishRecordsSignal, () => {
    records ??= definitionPublisherFor(definition.id, current, 0, DEFINITION_RECORDS_BACKFILL_PATCH);
    changed();
  });

  setHandler(updateDefinitionSignal, (update) => {
    definition = update.definition;
    plan = update.plan;
    upsertMemo({ displayName: definition.displayName });
    changed();
  });
  setHandler(endSeriesSignal, ({ by, stopInstances }) => {
    ended = true;
    if (stopInstances) stopInstancesBy ??= by;
    changed();
  });
  setHandler(seriesQuery, view);

  upsertMemo({ displayName: definition.displayName });
  if (indexed) upsertSearchAttributes([{ key: definitionIdSearchAttribute, value: definition.id }]);

  // Resume after the last started occurrence: after continue-as-new `instances` holds only the latest
  // KEEP_INSTANCES_AFTER_CONTINUE records, so its length is not the number of occurrences started.
  for (let index = instances.at(-1)?.occurrence ?? 0; !ended; index++) {
    next = occurrenceStart(definition.settings.recurrence, definition.createdDateTime, index);
    indexStatus(statusOf());
    changed();
    if (next === undefined) break;
    const wait = Date.parse(next) - Date.now();
    if (wait > 0) {
      await condition(() => ended, wait, { summary: `occurrence ${index + 1} starts` });
      if (ended) break;
    }
    const instanceId = instanceIdFor(definition.id, index + 1);
    const workflowId = instanceWorkflowId(definition.id, instanceId);
    const handle = await startChild(accessReviewInstance, {
      workflowId,
      args: [{ instanceId, plan, searchAttributes: indexed, shardSize: input.shardSize }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      memo: { displayName: definition.displayName },
      typedSearchAttributes: indexed ? [{ key: definitionIdSearchAttribute, value: definition.id }] : [],
    });
    const record: SeriesInstance = {
      occurrence: index + 1,
      instanceId,
      workflowId,
      startDateTime: new Date().toISOString(),
      completed: false,
    };
    instances.push(record);
    changed();
    const completed = () => {
      record.completed = true;
      changed();
    };
    void handle.result().then(completed, completed);
    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await records?.settled();
      await continueAsNew<typeof reviewSeries>({
        definition,
        plan,
        instances: instances.slice(-KEEP_INSTANCES_AFTER_CONTINUE),
        searchAttributes: indexed,
        shardSize: input.shardSize,
        recordsVersion: records?.version(),
      });
    }
  }
  indexStatus(statusOf());
  // The series stays open as the definition's record (PUT, GET) until the definition is deleted; meanwhile
  // its status follows its instances, so the Web UI stops listing it as InProgress once they finished.
  while (!ended) {
    await condition(() => ended || statusOf() !== indexedStatus);
    if (ended) break;
    if (!patched(STATUS_PATCH)) {
      await condition(() => ended);
      break;
    }
    indexStatus(statusOf());
  }
  // Deleted: the definition's schedule is over, whatever its stopped instances still have to do.
  if (indexedStatus !== 'Completed' && patched(STATUS_PATCH)) indexStatus('Completed');
  if (stopInstancesBy !== undefined) {
    const by = stopInstancesBy;
    await Promise.all(
      instances
        .filter((i) => !i.completed)
        .map((i) =>
          getExternalWorkflowHandle(i.workflowId)
            .signal(stopInstanceSignal, { by })
            // It may have closed meanwhile: nothing left to stop.
            .catch((err: unknown) => log.info('instance not stopped', { workflowId: i.workflowId, err })),
        ),
    );
  }
  await condition(allHandlersFinished);
  changed();
  await records?.settled();
  return view();
}
