import type { ErrorCode } from './error-codes';
import type { DecisionValue, ReviewerDecision } from './review-events';
import type { MoveOnValue } from './review-plan';
import { separationApplies } from './review-plan';
import type { ItemState, ReviewState, StageState } from './review-state';

/** A rule violation with the code and HTTP status the API reports. */
export interface RuleViolation {
  code: ErrorCode;
  status: number;
  message: string;
}

/** A decision a reviewer wants recorded. */
export interface DecisionRequest {
  itemId: string;
  decision: ReviewerDecision;
  justification?: string | null;
}

/** Who is looking: admins see everything; reviewers see what R5/R7 allow. */
export type Viewer = { kind: 'admin'; userId: string } | { kind: 'reviewer'; userId: string };

/** The reviewers assigned to an item in a stage. */
export function reviewersOf(stage: StageState, itemId: string): string[] {
  const own = stage.reviewersByItem[itemId];
  const all = own ? [...stage.sharedReviewerIds, ...own] : stage.sharedReviewerIds;
  const excluded = stage.excludedByItem?.[itemId];
  return excluded ? all.filter((id) => !excluded.includes(id)) : all;
}

/** Whether a user was taken off an item of a stage (separation of duties, or a reassignment). */
const excludedFrom = (stage: StageState, itemId: string, userId: string): boolean =>
  stage.excludedByItem?.[itemId]?.includes(userId) ?? false;

const stageItemSets = new WeakMap<StageState, Set<string>>();
/** Whether an item takes part in a stage (cached per stage; a stage's item list never changes once started). */
export function stageHasItem(stage: StageState, itemId: string): boolean {
  let set = stageItemSets.get(stage);
  if (!set || set.size !== stage.itemIds.length) {
    set = new Set(stage.itemIds);
    stageItemSets.set(stage, set);
  }
  return set.has(itemId);
}

export function isReviewerOf(stage: StageState, itemId: string, userId: string): boolean {
  return stageHasItem(stage, itemId) && reviewersOf(stage, itemId).includes(userId);
}

/** The stage open for decisions, if any. */
export function currentStage(state: ReviewState): StageState | undefined {
  if (state.status !== 'InProgress' || state.currentStage === null) return undefined;
  const stage = state.stages[state.currentStage];
  return stage?.status === 'InProgress' ? stage : undefined;
}

/** R5: may `reviewerId` record this decision now? Returns the reason if not. */
export function checkDecision(
  state: ReviewState,
  reviewerId: string,
  request: DecisionRequest,
): RuleViolation | undefined {
  const item = state.items.get(request.itemId);
  if (!item) {
    return {
      code: 'review.decision_not_found',
      status: 404,
      message: `No decision item '${request.itemId}' in this review`,
    };
  }
  const stage = currentStage(state);
  if (!stage) {
    return {
      code: 'review.stage_not_in_progress',
      status: 409,
      message: `Decisions can only be recorded while a stage is in progress; the review is ${state.status}`,
    };
  }
  if (reviewerId === item.principal.id && excludedFrom(stage, item.id, reviewerId)) {
    return {
      code: 'review.own_access',
      status: 403,
      message: `Separation of duties: you cannot decide your own access in stage ${stage.stageId}; other reviewers decide this item`,
    };
  }
  if (!stageHasItem(stage, item.id) || !reviewersOf(stage, item.id).includes(reviewerId)) {
    return {
      code: 'review.not_a_reviewer',
      status: 403,
      message: `You are not a reviewer of this item in the current stage (stage ${stage.stageId})`,
    };
  }
  if (
    request.decision === 'Approve' &&
    state.plan.settings.justificationRequiredOnApproval &&
    !request.justification?.trim()
  ) {
    return {
      code: 'review.justification_required',
      status: 400,
      message: 'justification: a justification is required to approve in this review',
    };
  }
  return undefined;
}

/** The decision an item has in one stage (NotReviewed when nothing was recorded there). */
export function stageDecisionOf(item: ItemState, stageIndex: number): DecisionValue {
  return item.stageDecisions[stageIndex]?.decision ?? 'NotReviewed';
}

/**
 * R6: the items of a completed stage that move on to the next one, by the decision each got in that
 * stage. `Recommendation` selects items whose decision came from accepting a recommendation.
 */
export function itemsMovingOn(state: ReviewState, stageIndex: number): string[] {
  const stage = state.stages[stageIndex];
  const filter = state.plan.stages[stageIndex]?.decisionsThatWillMoveToNextStage;
  if (!stage) return [];
  if (!filter) return [...stage.itemIds];
  const wanted = new Set<MoveOnValue>(filter);
  return stage.itemIds.filter((id) => {
    const item = state.items.get(id);
    if (!item) return false;
    const recorded = item.stageDecisions[stageIndex];
    if (recorded?.source === 'recommendation' && wanted.has('Recommendation')) return true;
    return wanted.has(recorded?.decision ?? 'NotReviewed');
  });
}

/** The items of the current stage a viewer may act on: all for admins, the assigned ones for reviewers. */
export function itemsOfViewer(state: ReviewState, stage: StageState, viewer: Viewer): string[] {
  if (viewer.kind === 'admin') return stage.itemIds;
  return stage.itemIds.filter((id) => reviewersOf(stage, id).includes(viewer.userId));
}

/** R8/R14: decisions that accepting recommendations records — NotReviewed items that have one. */
export function recommendationDecisions(state: ReviewState, viewer: Viewer): DecisionRequest[] {
  const stage = currentStage(state);
  if (!stage) return [];
  const out: DecisionRequest[] = [];
  for (const id of itemsOfViewer(state, stage, viewer)) {
    const item = state.items.get(id);
    if (!item || item.stageDecisions[stage.index]) continue;
    if (item.recommendation === 'Approve' || item.recommendation === 'Deny') {
      out.push({ itemId: id, decision: item.recommendation, justification: 'Accepted recommendation' });
    }
  }
  return out;
}

/** Reviewers of the current stage that still have NotReviewed items (who a reminder goes to). */
export function reviewersWithPendingItems(state: ReviewState): string[] {
  return Object.keys(pendingByReviewer(state));
}

/**
 * One reviewer's request to record decisions: the listed items, or (`all`, batchRecordDecisions) every
 * item they review in the stage, optionally only one principal's, or only the items `itemIds` lists
 * (each of which must be theirs). `stageId` is the stage the request names; omitted, it targets the
 * stage in progress.
 */
export interface DecisionsRequest {
  reviewerId: string;
  stageId?: string;
  decisions?: DecisionRequest[];
  all?: {
    decision: ReviewerDecision;
    justification?: string | null;
    principalId?: string | null;
    /** Stagecoach: these items only; one decision and one justification for all keeps the Update small. */
    itemIds?: string[];
  };
}

/** What a decisions request comes to: the decisions to record in the stage it targets, or why none. */
export type DecisionsPlan =
  { ok: true; stageId: string; decisions: DecisionRequest[] } | { ok: false; violation: RuleViolation };

const refused = (violation: RuleViolation): DecisionsPlan => ({ ok: false, violation });

/** The stage in progress, checked against the stage a request names (404 unknown, 409 not in progress). */
export function targetStage(
  state: ReviewState,
  named: string | undefined,
): { ok: true; stage: StageState } | { ok: false; violation: RuleViolation } {
  if (named !== undefined && !state.stages.some((s) => s.stageId === named)) {
    return {
      ok: false,
      violation: { code: 'stage.not_found', status: 404, message: `Stage '${named}' not found` },
    };
  }
  const stage = currentStage(state);
  if (stage && (named === undefined || stage.stageId === named)) return { ok: true, stage };
  const message =
    named === undefined
      ? `No stage is in progress; the review is ${state.status}`
      : `Stage '${named}' is ${state.stages.find((s) => s.stageId === named)!.status}, not in progress`;
  return { ok: false, violation: { code: 'review.stage_not_in_progress', status: 409, message } };
}

const notAReviewer = (stage: StageState): RuleViolation => ({
  code: 'review.not_a_reviewer',
  status: 403,
  message: `You are not a reviewer of the stage in progress (stage ${stage.stageId})`,
});

/** R5 for a whole request: the stage it names must be the one in progress, then every decision must pass. */
export function planDecisions(state: ReviewState, request: DecisionsRequest): DecisionsPlan {
  const target = targetStage(state, request.stageId);
  if (!target.ok) {
    // An item that does not exist is a 404 whatever the stage (as for a single decision).
    const listed =
      request.decisions ??
      request.all?.itemIds?.map((itemId) => ({ itemId, decision: request.all!.decision }));
    const missing = listed?.find((d) => !state.items.has(d.itemId));
    if (missing) return refused(checkDecision(state, request.reviewerId, missing)!);
    return refused(target.violation);
  }
  const { stage } = target;
  let decisions = request.decisions ?? [];
  if (request.all) {
    const { decision, justification, principalId, itemIds } = request.all;
    if (itemIds) {
      // Listed items are checked one by one below, as if each were PATCHed: unknown 404, not theirs 403.
      decisions = itemIds.map((itemId) => ({ itemId, decision, justification: justification ?? null }));
    } else {
      const mine = itemsOfViewer(state, stage, { kind: 'reviewer', userId: request.reviewerId });
      if (mine.length === 0) return refused(notAReviewer(stage));
      decisions = mine
        .filter((id) => !principalId || state.items.get(id)?.principal.id === principalId)
        .map((itemId) => ({ itemId, decision, justification: justification ?? null }));
    }
    if (
      decision === 'Approve' &&
      state.plan.settings.justificationRequiredOnApproval &&
      !justification?.trim()
    ) {
      return refused({
        code: 'review.justification_required',
        status: 400,
        message: 'justification: a justification is required to approve in this review',
      });
    }
  }
  for (const d of decisions) {
    const violation = checkDecision(state, request.reviewerId, d);
    if (violation) return refused(violation);
  }
  return { ok: true, stageId: stage.stageId, decisions };
}

/** R8/R14 for a request naming a stage: the recommendations to accept, or why not (reviewers need items). */
export function planRecommendations(state: ReviewState, viewer: Viewer, stageId?: string): DecisionsPlan {
  const target = targetStage(state, stageId);
  if (!target.ok) return refused(target.violation);
  if (viewer.kind === 'reviewer' && itemsOfViewer(state, target.stage, viewer).length === 0) {
    return refused(notAReviewer(target.stage));
  }
  return { ok: true, stageId: target.stage.stageId, decisions: recommendationDecisions(state, viewer) };
}

/**
 * A request to hand items of the stage in progress to another user for that stage only: a reviewer's
 * own items (`fromReviewerId` is the caller), or, by an administrator, anyone's (`fromReviewerId`) or
 * every reviewer's (null).
 */
export interface ReassignRequest {
  viewer: Viewer;
  stageId?: string;
  /** The items; omitted: every item `fromReviewerId` reviews in the stage. */
  itemIds?: string[];
  fromReviewerId: string | null;
  toReviewerId: string;
  justification: string;
}

/** What a reassignment comes to: the items that change hands, or why none may. */
export type ReassignPlan =
  | { ok: true; stageIndex: number; stageId: string; itemIds: string[] }
  | { ok: false; violation: RuleViolation };

/** Checks a reassignment against the stage in progress, the caller's items and separation of duties. */
export function planReassign(state: ReviewState, request: ReassignRequest): ReassignPlan {
  const target = targetStage(state, request.stageId);
  const missing = request.itemIds?.find((id) => !state.items.has(id));
  if (missing) {
    return {
      ok: false,
      violation: {
        code: 'review.decision_not_found',
        status: 404,
        message: `No decision item '${missing}' in this review`,
      },
    };
  }
  if (!target.ok) return { ok: false, violation: target.violation };
  const { stage } = target;
  const from = request.fromReviewerId;
  if (request.viewer.kind === 'reviewer' && from !== request.viewer.userId) {
    return { ok: false, violation: notAReviewer(stage) };
  }
  const candidates =
    request.itemIds ?? (from === null ? [] : itemsOfViewer(state, stage, { kind: 'reviewer', userId: from }));
  const itemIds: string[] = [];
  for (const itemId of candidates) {
    const reviewers = reviewersOf(stage, itemId);
    if (!stageHasItem(stage, itemId) || (from !== null && !reviewers.includes(from))) {
      return {
        ok: false,
        violation: {
          code: 'review.not_a_reviewer',
          status: 403,
          message: `${from === request.viewer.userId ? 'You are' : `'${from ?? ''}' is`} not a reviewer of item '${itemId}' in stage ${stage.stageId}`,
        },
      };
    }
    const item = state.items.get(itemId)!;
    if (item.principal.id === request.toReviewerId && separationApplies(state.plan.stages[stage.index]!)) {
      return {
        ok: false,
        violation: {
          code: 'review.reassign_not_allowed',
          status: 409,
          message: `Separation of duties: item '${itemId}' reviews the access of '${request.toReviewerId}', who cannot decide it`,
        },
      };
    }
    if (from === null ? reviewers.length === 1 && reviewers[0] === request.toReviewerId : false) continue;
    itemIds.push(itemId);
  }
  if (itemIds.length === 0) {
    return {
      ok: false,
      violation:
        candidates.length === 0
          ? notAReviewer(stage)
          : {
              code: 'review.reassign_not_allowed',
              status: 409,
              message: `'${request.toReviewerId}' already is the only reviewer of these items`,
            },
    };
  }
  if (from === request.toReviewerId) {
    return {
      ok: false,
      violation: {
        code: 'review.reassign_not_allowed',
        status: 409,
        message: 'Items cannot be reassigned to the reviewer they are taken from',
      },
    };
  }
  return { ok: true, stageIndex: stage.index, stageId: stage.stageId, itemIds };
}

/** Pending (undecided) items per reviewer in the stage in progress. */
export function pendingByReviewer(state: ReviewState): Record<string, number> {
  const stage = currentStage(state);
  const counts: Record<string, number> = {};
  if (!stage) return counts;
  for (const id of stage.itemIds) {
    if (state.items.get(id)?.stageDecisions[stage.index]) continue;
    for (const r of reviewersOf(stage, id)) counts[r] = (counts[r] ?? 0) + 1;
  }
  return counts;
}
