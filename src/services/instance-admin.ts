import type { UpdateDefinition } from '@temporalio/client';
import type { ReviewerScope } from '../domain/definition-schema';
import { AppError } from '../domain/errors';
import { parseReviewerQuery, QueryError } from '../domain/queries';
import type { AdminUpdateInput, Deadline, SeriesInstance } from '../workflows';
import {
  applyDecisionsUpdate,
  resetDecisionsUpdate,
  sendReminderUpdate,
  stopReviewUpdate,
  stopStageUpdate,
  updateReviewersUpdate,
} from '../workflows';
import type { Caller } from './caller';
import { requireAdmin } from './caller';
import type { ReviewLocator } from './review-locator';

/** Admin actions on instances and stages, and reviewer changes: Updates the instance accepts or refuses. */
export class InstanceAdmin {
  constructor(private readonly at: ReviewLocator) {}

  /**
   * PUT instance (every stage not yet completed) or PATCH stage (that stage): new reviewer scopes. A
   * running stage's reviewers are resolved again at once; decisions already recorded stay.
   */
  async updateReviewers(
    definitionId: string,
    instanceId: string,
    caller: Caller,
    scopes: { reviewers?: ReviewerScope[] | undefined; fallbackReviewers?: ReviewerScope[] | undefined },
    stageId?: string,
  ): Promise<void> {
    requireAdmin(caller);
    await this.at.definitions.checkReviewerScopes(caller, scopes);
    const { definition, record } = await this.at.located(definitionId, instanceId);
    const view = await this.at.view(record);
    if (view.status !== 'InProgress') {
      throw new AppError(
        'review.instance_not_in_progress',
        `Reviewers can only change while the review is InProgress; it is ${view.status}`,
      );
    }
    const targets =
      stageId === undefined
        ? view.stages.filter((s) => s.status !== 'Completed')
        : view.stages.filter((s) => s.id === stageId);
    if (stageId !== undefined && targets.length === 0)
      throw new AppError('stage.not_found', `Stage '${stageId}' not found`);
    for (const stage of targets) {
      if (stage.status === 'Completed') {
        throw new AppError(
          'review.stage_completed',
          `Stage '${stage.id}' is Completed; its reviewers can no longer change`,
        );
      }
      const index = view.stages.indexOf(stage);
      const current = definition.stageSettings?.[index];
      const reviewers =
        scopes.reviewers ?? stage.reviewerScopes?.reviewers ?? current?.reviewers ?? definition.reviewers;
      const fallbackReviewers =
        scopes.fallbackReviewers ??
        stage.reviewerScopes?.fallbackReviewers ??
        current?.fallbackReviewers ??
        definition.fallbackReviewers;
      const field = stageId === undefined ? '' : `stage ${stage.id} `;
      const specs = (list: ReviewerScope[], name: string) =>
        list.map((r, i) => {
          try {
            return parseReviewerQuery(r, `${field}${name}[${i}]`);
          } catch (err) {
            if (err instanceof QueryError) throw new AppError('request.invalid_body', err.message);
            throw err;
          }
        });
      await this.instanceUpdate(record, updateReviewersUpdate, {
        by: caller.userId,
        stageId: stage.id,
        reviewers: specs(reviewers, 'reviewers'),
        fallbackReviewers: specs(fallbackReviewers, 'fallbackReviewers'),
        scopes: { reviewers, fallbackReviewers },
      });
    }
  }

  /** Admin actions: Updates the instance accepts or refuses (409) against its own state. */
  async adminAction(
    definitionId: string,
    instanceId: string,
    caller: Caller,
    action: 'stop' | 'stopStage' | 'applyDecisions' | 'resetDecisions' | 'sendReminder',
    stageId?: string,
  ): Promise<void> {
    requireAdmin(caller);
    const { record } = await this.at.located(definitionId, instanceId);
    const input: AdminUpdateInput = { by: caller.userId, ...(stageId === undefined ? {} : { stageId }) };
    const update = {
      stop: stopReviewUpdate,
      stopStage: stopStageUpdate,
      applyDecisions: applyDecisionsUpdate,
      resetDecisions: resetDecisionsUpdate,
      sendReminder: sendReminderUpdate,
    }[action];
    await this.instanceUpdate(record, update, input, async () => {
      const { status } = await this.at.view(record);
      if (action === 'applyDecisions') {
        return new AppError(
          'review.instance_not_completed',
          `Decisions can only be applied to a Completed review; it is ${status}`,
        );
      }
      if (action === 'stop')
        return new AppError('review.instance_not_in_progress', `The review is already ${status}`);
      return this.at.notInProgress(record);
    });
  }

  /** An Update to the instance workflow itself; a closed instance answers with `closed()`'s error. */
  private instanceUpdate<Ret, Arg extends Deadline>(
    record: SeriesInstance,
    update: UpdateDefinition<Ret, [Arg]>,
    input: Arg,
    closed: () => Promise<AppError> = () => this.at.notInProgress(record),
  ): Promise<Ret> {
    return this.at.gw.update(record.workflowId, update, input, {
      code: 'instance.not_found',
      what: `Instance '${record.instanceId}'`,
      closed,
    });
  }
}
