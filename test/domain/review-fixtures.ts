import { definitionInputSchema } from '../../src/domain/definition-schema';
import { decisionItemIdFor } from '../../src/domain/ids';
import type { RecommendationValue } from '../../src/domain/recommendations';
import type { Principal, ReviewEvent, ReviewerDecision } from '../../src/domain/review-events';
import type { MoveOnValue, ReviewPlan } from '../../src/domain/review-plan';
import type { ReviewState } from '../../src/domain/review-state';
import { evolve, initialState } from '../../src/domain/review-state';
import { compileDefinition } from '../../src/domain/validate-definition';

/** Fixtures for domain tests: plans compiled from real definition bodies and states built with the real fold. */

export const INSTANCE_ID = 'instance-1';
export const T0 = '2025-03-03T09:00:00.000Z';

export interface PlanOptions {
  /** One entry per stage: its decisionsThatWillMoveToNextStage (undefined = omitted). */
  filters?: (MoveOnValue[] | null | undefined)[];
  justificationRequiredOnApproval?: boolean;
  defaultDecisionEnabled?: boolean;
  defaultDecision?: 'None' | 'Approve' | 'Deny' | 'Recommendation';
  decisionHistoriesForReviewersEnabled?: boolean;
}

/** A plan compiled from a Graph-shaped definition body, as the API does it. */
export function planWith(options: PlanOptions = {}): ReviewPlan {
  const filters = options.filters ?? [undefined];
  const body = {
    displayName: 'Finance group review',
    scope: { query: '/groups/g-finance/transitiveMembers', queryType: 'MicrosoftGraph' },
    settings: {
      justificationRequiredOnApproval: options.justificationRequiredOnApproval ?? false,
      defaultDecisionEnabled: options.defaultDecisionEnabled ?? false,
      defaultDecision: options.defaultDecision ?? 'None',
      decisionHistoriesForReviewersEnabled: options.decisionHistoriesForReviewersEnabled ?? false,
    },
    stageSettings: filters.map((filter, i) => ({
      stageId: String(i + 1),
      dependsOn: i === 0 ? [] : [String(i)],
      durationInDays: 3,
      reviewers: [{ query: `/users/stage-${i + 1}-lead`, queryType: 'MicrosoftGraph' }],
      ...(filter === undefined ? {} : { decisionsThatWillMoveToNextStage: filter }),
    })),
  };
  return compileDefinition('definition-1', definitionInputSchema.parse(body));
}

export const principal = (id: string, userType: Principal['userType'] = 'Member'): Principal => ({
  id,
  displayName: `User ${id}`,
  userPrincipalName: `${id}@contoso.com`,
  userType,
});

/** The decision item id of a reviewee in the fixture instance. */
export const itemOf = (principalId: string, instanceId = INSTANCE_ID) =>
  decisionItemIdFor(instanceId, principalId);

export interface StageSetup {
  /** Principal ids of the stage's reviewees; default: every item of the previous stage's itemsMovingOn is up to the caller. */
  principals: string[];
  shared?: string[];
  /** Reviewers per principal id. */
  byPrincipal?: Record<string, string[]>;
  /** Recommendation per principal id. */
  recommendations?: Record<string, RecommendationValue>;
  noReviewer?: string[];
}

/** Drives the real fold event by event and keeps the events, so tests can also replay them. */
export class ReviewBuilder {
  readonly events: ReviewEvent[] = [];
  readonly state: ReviewState;
  private clock = Date.parse(T0);

  constructor(
    readonly plan: ReviewPlan,
    readonly instanceId = INSTANCE_ID,
  ) {
    this.state = initialState(instanceId, plan, T0);
  }

  private at(): string {
    this.clock += 60_000;
    return new Date(this.clock).toISOString();
  }

  emit(event: ReviewEvent): this {
    this.events.push(event);
    evolve(this.state, event);
    return this;
  }

  start(principalIds: string[], userType: Principal['userType'] = 'Member'): this {
    this.emit({ type: 'InstanceStarted', at: this.at(), instanceId: this.instanceId, plan: this.plan });
    return this.emit({
      type: 'RevieweesResolved',
      at: this.at(),
      resource: { id: 'g-finance', displayName: 'Finance', type: 'group' },
      principals: principalIds.map((id) => principal(id, userType)),
      errors: [],
    });
  }

  /** Starts a stage with the items given as item ids (e.g. the result of itemsMovingOn). */
  startStageWithItems(
    stageIndex: number,
    itemIds: string[],
    setup: Omit<StageSetup, 'principals'> = {},
  ): this {
    const byItem = (record: Record<string, string[]> | undefined) =>
      Object.fromEntries(Object.entries(record ?? {}).map(([p, r]) => [this.item(p), r]));
    return this.emit({
      type: 'StageStarted',
      at: this.at(),
      stageIndex,
      itemIds,
      sharedReviewerIds: setup.shared ?? [],
      reviewersByItem: byItem(setup.byPrincipal),
      noReviewerItemIds: (setup.noReviewer ?? []).map((p) => this.item(p)),
      recommendations: Object.fromEntries(
        Object.entries(setup.recommendations ?? {}).map(([p, r]) => [this.item(p), r]),
      ),
      people: {},
    });
  }

  startStage(stageIndex: number, setup: StageSetup): this {
    return this.startStageWithItems(
      stageIndex,
      setup.principals.map((p) => this.item(p)),
      setup,
    );
  }

  decide(
    principalId: string,
    decision: ReviewerDecision,
    reviewerId: string,
    options: { justification?: string; source?: 'reviewer' | 'recommendation' } = {},
  ): this {
    return this.emit({
      type: 'DecisionRecorded',
      at: this.at(),
      itemId: this.item(principalId),
      decision,
      justification: options.justification ?? `${decision} by ${reviewerId}`,
      reviewerId,
      source: options.source ?? 'reviewer',
    });
  }

  resetDecisions(by = 'admin'): this {
    return this.emit({ type: 'DecisionsReset', at: this.at(), by });
  }

  completeStage(reason: 'durationElapsed' | 'stoppedByAdmin' | 'instanceStopped' = 'durationElapsed'): this {
    return this.emit({ type: 'StageCompleted', at: this.at(), reason });
  }

  completeInstance(reason: 'allStagesCompleted' | 'stoppedByAdmin' = 'allStagesCompleted'): this {
    return this.emit({ type: 'InstanceCompleted', at: this.at(), reason });
  }

  item(principalId: string): string {
    return itemOf(principalId, this.instanceId);
  }

  /** The final decision of a reviewee's item (after InstanceCompleted). */
  finalOf(principalId: string) {
    return this.state.items.get(this.item(principalId))?.final;
  }
}

/** Principal ids of a list of item ids of the fixture state, sorted, for readable assertions. */
export function principalsOf(state: ReviewState, itemIds: readonly string[]): string[] {
  return itemIds.map((id) => state.items.get(id)?.principal.id ?? `?${id}`).sort();
}
