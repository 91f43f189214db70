import type { WorkflowHandle } from '@temporalio/client';
import { AppError } from '../domain/errors';
import { shardOf, shardWorkflowId } from '../domain/ids';
import type { RuleViolation } from '../domain/review-rules';
import type { InstanceView } from '../domain/review-views';
import type { SeriesInstance } from '../workflows';
import { instanceQuery, reviewerQuery } from '../workflows';
import type { Caller } from './caller';
import type { DefinitionService } from './definitions';
import type { ReviewRecordStore } from '../store/review-records';
import type { TemporalGateway } from './temporal-gateway';
import { isWorkflowNotFound } from './temporal-errors';

/** Errors that mean the workflow cannot answer now or any more, not that the request is wrong. */
const GONE = new Set(['instance.not_found', 'service.unavailable']);

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
    /** The review records: what answers when the instance's workflow cannot (see `orRecords`). */
    readonly records?: ReviewRecordStore,
  ) {}

  /**
   * A live read, or the same read from the review records when the workflow cannot answer: Temporal has
   * deleted it after its retention, or no worker runs. Reads keep working; writes still need the workflow.
   */
  async orRecords<T>(
    live: () => Promise<T>,
    recorded: (records: ReviewRecordStore) => Promise<T | undefined>,
  ): Promise<T> {
    try {
      return await live();
    } catch (err) {
      const gone = err instanceof AppError ? GONE.has(err.code) : isWorkflowNotFound(err);
      if (!this.records || !gone) throw err;
      const answer = await recorded(this.records);
      if (answer === undefined) throw err;
      return answer;
    }
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
    const known = this.holdersOf.get(record.workflowId);
    if (known) return known;
    const view = await this.view(record);
    const ids =
      view.shards > 0
        ? Array.from({ length: view.shards }, (_, k) => shardWorkflowId(record.workflowId, k))
        : [record.workflowId];
    if (view.shards > 0 || (view.status !== 'NotStarted' && view.status !== 'Initializing')) {
      if (this.holdersOf.size > 10_000) this.holdersOf.clear();
      this.holdersOf.set(record.workflowId, ids);
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
    return this.orRecords(
      () =>
        this.gw.with(record.workflowId, 'instance.not_found', `Instance '${record.instanceId}'`, (h) =>
          h.query(instanceQuery),
        ),
      async (records) => (await records.instance(record.instanceId))?.view,
    );
  }

  /** Whether the caller reviews anything in the stage in progress. */
  async isReviewer(record: SeriesInstance, caller: Caller): Promise<boolean> {
    return this.orRecords(
      async () => {
        const roles = await this.queryAll(record, (h) => h.query(reviewerQuery, { userId: caller.userId }));
        return roles.some((r) => r.isReviewer);
      },
      async (records) => {
        const mine = await records.decisions(record.instanceId, {
          viewer: { kind: 'reviewer', userId: caller.userId },
          skip: 0,
          top: 0,
        });
        return 'total' in mine ? mine.total > 0 : undefined;
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
