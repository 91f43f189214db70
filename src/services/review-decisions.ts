import { AppError } from '../domain/errors';
import { shardOf } from '../domain/ids';
import type { ReviewerDecision } from '../domain/review-events';
import type { DecisionRequest, DecisionsRequest } from '../domain/review-rules';
import type { DecisionsOutcome, SeriesInstance } from '../workflows';
import { acceptRecommendationsUpdate, decisionsQuery } from '../workflows';
import type { Caller } from './caller';
import { viewerOf } from './caller';
import { DecisionDispatcher, violationError } from './decision-dispatcher';
import type { ReviewLocator } from './review-locator';
import { isViolation } from './review-locator';
import { isWorkflowClosed, isWorkflowNotFound, refusalOf } from './temporal-errors';

/**
 * Reviewers' decisions (R5): single PATCHes, batchRecordDecisions and accepted recommendations, each an
 * Update to the workflows holding the items, answered only with what they recorded.
 */
export class ReviewDecisions {
  constructor(
    private readonly at: ReviewLocator,
    private readonly dispatcher = new DecisionDispatcher(at.gw),
  ) {}

  /**
   * Records decisions (R5): the workflows holding the items accept them in the stage the request names
   * (or the stage in progress), or refuse them with the rule's error; only accepted decisions get a 2xx.
   */
  async recordDecisions(
    definitionId: string,
    instanceId: string,
    caller: Caller,
    decisions: { itemId: string; decision: ReviewerDecision; justification?: string | null }[],
    stageId?: string,
  ): Promise<void> {
    const { record } = await this.at.located(definitionId, instanceId, true);
    const ids = await this.at.holders(record);
    const byHolder = new Map<string, DecisionRequest[]>();
    for (const d of decisions) {
      const id = ids[shardOf(d.itemId, ids.length)]!;
      const mine = byHolder.get(id);
      if (mine) mine.push(d);
      else byHolder.set(id, [d]);
    }
    const outcomes = await this.submitAll(
      record,
      [...byHolder].map(([id, mine]) => [id, { reviewerId: caller.userId, stageId, decisions: mine }]),
    );
    const refused = outcomes.find((o) => !o.ok);
    if (refused) throw violationError(refused);
  }

  /** Sends requests through the dispatcher (one queue per holder); a closed review refuses them all. */
  private async submitAll(
    record: SeriesInstance,
    requests: [string, DecisionsRequest][],
  ): Promise<DecisionsOutcome[]> {
    try {
      return await Promise.all(requests.map(([id, request]) => this.dispatcher.submit(id, request)));
    } catch (err) {
      // A closed review, or one Temporal has deleted since (its records say how it ended).
      if (isWorkflowClosed(err) || isWorkflowNotFound(err)) throw await this.at.notInProgress(record);
      throw err;
    }
  }

  /**
   * Graph's batchRecordDecisions: one decision for all the caller's items in the stage (the one named,
   * or the one in progress when the request arrives), optionally of one principal. Every holder records
   * the caller's items itself; 403 when the caller reviews nothing in the stage. With Stagecoach's
   * `decisionIds`, only those items, each checked as its PATCH would be (404 unknown, 403 not theirs).
   */
  async batchRecordDecisions(
    definitionId: string,
    instanceId: string,
    caller: Caller,
    body: {
      decision: ReviewerDecision;
      justification?: string | null;
      principalId?: string | null;
      resourceId?: string | null;
      decisionIds?: string[];
    },
    stageId?: string,
  ): Promise<number> {
    const { record } = await this.at.located(definitionId, instanceId);
    // All holders must target one stage: the one named, else the one in progress now.
    const target = stageId ?? (await this.at.view(record)).currentStageId;
    if (target === null) {
      throw new AppError(
        'review.stage_not_in_progress',
        'Decisions can only be recorded while the stage is in progress',
      );
    }
    if (body.resourceId && body.resourceId !== (await this.resourceIdOf(record))) {
      // Another resource: nothing to record, but only a reviewer of the stage hears so.
      if (!(await this.at.isReviewer(record, caller)))
        throw new AppError('review.not_a_reviewer', 'You are not a reviewer of the stage in progress');
      return 0;
    }
    const all = {
      decision: body.decision,
      justification: body.justification ?? null,
      principalId: body.principalId,
    };
    const ids = await this.at.holders(record);
    if (body.decisionIds) return this.listed(record, ids, caller, target, all, body.decisionIds);
    const outcomes = await this.submitAll(
      record,
      ids.map((id) => [id, { reviewerId: caller.userId, stageId: target, all }]),
    );
    return recordedOrThrow(outcomes);
  }

  /**
   * batchRecordDecisions with decisionIds: each holder gets the ids it holds, as one decision for a list
   * of items (ids, not one decision object per item, so that 10,000 fit one Update). Any refusal is the
   * answer, as for PATCH: an id that is not the caller's is not skipped.
   */
  private async listed(
    record: SeriesInstance,
    ids: string[],
    caller: Caller,
    stageId: string,
    all: { decision: ReviewerDecision; justification: string | null },
    decisionIds: string[],
  ): Promise<number> {
    const byHolder = new Map<string, string[]>();
    for (const itemId of new Set(decisionIds)) {
      const id = ids[shardOf(itemId, ids.length)]!;
      const mine = byHolder.get(id);
      if (mine) mine.push(itemId);
      else byHolder.set(id, [itemId]);
    }
    const outcomes = await this.submitAll(
      record,
      [...byHolder].map(([id, itemIds]) => [
        id,
        { reviewerId: caller.userId, stageId, all: { ...all, itemIds } },
      ]),
    );
    const refused = outcomes.find((o) => !o.ok);
    const recorded = outcomes.reduce((n, o) => n + (o.ok ? o.recorded : 0), 0);
    if (refused) {
      const err = violationError(refused);
      if (recorded > 0)
        throw new AppError(err.code, `${err.message}; ${recorded} decisions were recorded before`);
      throw err;
    }
    return recorded;
  }
  private async resourceIdOf(record: SeriesInstance): Promise<string | undefined> {
    const [first] = await this.at.holders(record);
    const page = await this.at.gw.handle(first!).query(decisionsQuery, {
      viewer: { kind: 'admin', userId: 'system' },
      skip: 0,
      top: 1,
    });
    return isViolation(page) ? undefined : page.value[0]?.resource?.id;
  }

  /**
   * acceptRecommendations: admins for every item, reviewers for their own NotReviewed items, in the stage
   * named (or the one in progress). Sent to every workflow holding items; each accepts or refuses it.
   */
  async acceptRecommendations(
    definitionId: string,
    instanceId: string,
    caller: Caller,
    stageId?: string,
  ): Promise<void> {
    const { record } = await this.at.located(definitionId, instanceId);
    const target = stageId ?? (await this.at.view(record)).currentStageId;
    if (target === null) {
      throw new AppError('review.stage_not_in_progress', 'No stage is in progress');
    }
    const ids = await this.at.holders(record);
    const outcomes = await Promise.all(
      ids.map(async (id): Promise<DecisionsOutcome> => {
        try {
          return await this.at.gw.handle(id).executeUpdate(acceptRecommendationsUpdate, {
            args: [{ viewer: viewerOf(caller), stageId: target, notAfter: this.at.gw.notAfter() }],
          });
        } catch (err) {
          const refusal = refusalOf(err);
          if (refusal) return { ok: false, violation: refusal };
          // A closed review, or one Temporal has deleted since (its records say how it ended).
          if (isWorkflowClosed(err) || isWorkflowNotFound(err)) throw await this.at.notInProgress(record);
          throw err;
        }
      }),
    );
    recordedOrThrow(outcomes);
  }
}

/**
 * Decisions recorded across holders, or the error when none took the request: a closed stage (409) wins
 * over "not a reviewer here" (403), which a holder without the caller's items answers.
 */
function recordedOrThrow(outcomes: DecisionsOutcome[]): number {
  let recorded = 0;
  let reviewer = false;
  let refused: Extract<DecisionsOutcome, { ok: false }> | undefined;
  for (const o of outcomes) {
    if (o.ok) {
      recorded += o.recorded;
      reviewer = true;
    } else if (o.violation.code !== 'review.not_a_reviewer' || !refused) {
      refused = o;
    }
  }
  if (refused && (refused.violation.code !== 'review.not_a_reviewer' || !reviewer)) {
    const err = violationError(refused);
    if (recorded > 0 && err.status === 409) {
      throw new AppError(err.code, `${err.message}; ${recorded} decisions were recorded before`);
    }
    throw err;
  }
  return recorded;
}
