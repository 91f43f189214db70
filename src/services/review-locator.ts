import type { WorkflowHandle } from '@temporalio/client';
import { AppError } from '../domain/errors';
import { instanceWorkflowId, shardOf, shardWorkflowId } from '../domain/ids';
import type { RuleViolation } from '../domain/review-rules';
import type { InstanceView } from '../domain/review-views';
import type { SeriesInstance } from '../workflows';
import { instanceQuery, reviewerQuery } from '../workflows';
import type { Caller } from './caller';
import type { DefinitionService } from './definitions';
import type { InstanceRecord } from '../domain/review-records';
import type { ReviewRecordStore } from '../store/review-records';
import type { TemporalGateway } from './temporal-gateway';

/** A rule violation a query answered with, as the API's error. */
export const violation = (v: RuleViolation) => new AppError(v.code, v.message);
/** Whether a query answered with a rule violation instead of its result. */
export const isViolation = (x: object): x is RuleViolation => 'code' in x && 'status' in x;

/**
 * Where an instance and its decision items live: the definition's series knows the instance, and the
 * instance knows whether it holds its items itself or splits them over shards (see shardOf). Shared by
 * the instance reads, the decisions and the admin actions.
 */
export class ReviewLocator {
  private readonly holdersOf = new Map<string, string[]>();

  constructor(
    readonly gw: TemporalGateway,
    readonly definitions: DefinitionService,
    /** The review records, which answer the reads of every instance they hold (see `fromRecords`). */
    readonly records?: ReviewRecordStore,
  ) {}

  /**
   * A read from the review records when they hold the instance, else from its workflows (an instance
   * started before records were kept, or whose first record is not written yet). Records answer while
   * no worker runs and after Temporal has deleted the workflows; writes still go through the workflows.
   */
  async fromRecords<T>(
    instanceId: string,
    recorded: (records: ReviewRecordStore, instance: InstanceRecord) => Promise<T>,
    live: () => Promise<T>,
  ): Promise<T> {
    const instance = await this.records?.instance(instanceId);
    if (this.records && instance) {
      this.remember(instanceWorkflowId(instance.definitionId, instanceId), instance.view);
      return recorded(this.records, instance);
    }
    return live();
  }

  /** The instance's definition and its record in the series; 404 for an unknown instance. */
  async located(definitionId: string, instanceId: string, recent = false) {
    const series = recent
      ? await this.definitions.getRecent(definitionId)
      : await this.definitions.get(definitionId);
    const record = series.instances.find((i) => i.instanceId === instanceId);
    if (!record) throw new AppError('instance.not_found', `Instance '${instanceId}' not found`);
    return { definition: series.definition, record };
  }

  /**
   * The workflows that hold an instance's decision items: the instance itself, or its shards (see
   * shardOf). Known for good once the instance has decided, so remembered per instance.
   */
  async holders(record: SeriesInstance): Promise<string[]> {
    return this.holdersOf.get(record.workflowId) ?? this.remember(record.workflowId, await this.view(record));
  }

  /** The holders a view of the instance shows; remembered once they are known for good. */
  private remember(workflowId: string, view: InstanceView): string[] {
    const ids =
      view.shards > 0
        ? Array.from({ length: view.shards }, (_, k) => shardWorkflowId(workflowId, k))
        : [workflowId];
    if (view.shards > 0 || (view.status !== 'NotStarted' && view.status !== 'Initializing')) {
      if (this.holdersOf.size > 10_000) this.holdersOf.clear();
      this.holdersOf.set(workflowId, ids);
    }
    return ids;
  }

  /** The workflow holding one decision item. */
  async holderOf(record: SeriesInstance, itemId: string): Promise<WorkflowHandle> {
    const ids = await this.holders(record);
    return this.gw.handle(ids[shardOf(itemId, ids.length)]!);
  }

  /** Runs a query on every holder of an instance's items, in parallel. */
  async queryAll<T>(record: SeriesInstance, ask: (h: WorkflowHandle) => Promise<T>): Promise<T[]> {
    const ids = await this.holders(record);
    return Promise.all(ids.map((id) => ask(this.gw.handle(id))));
  }

  /** The instance's own view (status, stages, counts). */
  view(record: SeriesInstance): Promise<InstanceView> {
    return this.fromRecords(
      record.instanceId,
      async (_records, instance) => instance.view,
      () =>
        this.gw.with(record.workflowId, 'instance.not_found', `Instance '${record.instanceId}'`, (h) =>
          h.query(instanceQuery),
        ),
    );
  }

  /** Whether the caller reviews anything in the stage in progress. */
  async isReviewer(record: SeriesInstance, caller: Caller): Promise<boolean> {
    return this.fromRecords(
      record.instanceId,
      (records) => records.reviews(record.instanceId, caller.userId),
      async () => {
        const roles = await this.queryAll(record, (h) => h.query(reviewerQuery, { userId: caller.userId }));
        return roles.some((r) => r.isReviewer);
      },
    );
  }

  /** 403 unless the caller is an admin or reviews something in the stage in progress. */
  async requireParticipant(record: SeriesInstance, caller: Caller): Promise<void> {
    if (caller.isAdmin) return;
    if (!(await this.isReviewer(record, caller)))
      throw new AppError('review.not_a_reviewer', 'You are not a reviewer of this access review');
  }

  /** The 409 for a request that reached a review no longer running. */
  async notInProgress(record: SeriesInstance): Promise<AppError> {
    const view = await this.view(record);
    return new AppError(
      'review.stage_not_in_progress',
      `No stage is in progress; the review is ${view.status}`,
    );
  }
}
