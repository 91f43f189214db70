import type { ApplyObservation } from './apply-observations';
import type {
  DecisionSource,
  EvidenceHeader,
  EvidencePerson,
  EvidenceRecord,
  EvidenceStage,
} from './evidence';
import type { RecommendationValue } from './recommendations';
import type { Person, ReviewedResource } from './review-events';
import type { ReviewerSpec, ReviewPlan } from './review-plan';
import type { ItemRecord } from './review-records';
import type { InstanceView } from './review-views';

// Builds the evidence links of an instance from its review records: the instance record, the events of
// each stream (folded into a StreamTrail) and each item's record and read-back. Pure; no I/O.

/** What the records hold of an instance, for its evidence header. */
export interface InstanceFacts {
  definitionId: string;
  view: InstanceView;
  plan: ReviewPlan;
  resource: ReviewedResource | undefined;
  reviewerChanges: {
    at: string;
    by: string;
    stageIndex: number;
    reviewers: ReviewerSpec[];
    fallbackReviewers: ReviewerSpec[];
  }[];
}

/** The parts of a stream's events the trail needs (the store projects them out of the full events). */
export type TrailEvent =
  | {
      type: 'StageStarted';
      stageIndex: number;
      people: Record<string, Person>;
      recommendations: Record<string, RecommendationValue>;
    }
  | { type: 'StageReviewersChanged'; people: Record<string, Person> | null }
  | { type: 'DecisionRecorded'; itemId: string; source: 'reviewer' | 'recommendation' }
  | { type: 'DecisionsReset' }
  | { type: 'StageCompleted' };

/** The event types a trail folds; the store selects only these. */
export const TRAIL_EVENT_TYPES = [
  'StageStarted',
  'StageReviewersChanged',
  'DecisionRecorded',
  'DecisionsReset',
  'StageCompleted',
  // Read as reviewer changes: they only bring the names of the reviewers they add.
  'ReviewersEscalated',
  'ItemsReassigned',
] as const;

/**
 * What one stream (an instance holding its items, or a shard) tells about its items beyond their records:
 * reviewers' names, the recommendation each stage showed, and where each stage's decision came from.
 */
export interface StreamTrail {
  people: Record<string, Person>;
  /** By stage index, by item id. */
  recommendations: Map<number, Record<string, RecommendationValue>>;
  /** By item id, by stage index: the source of the decision recorded last in that stage. */
  sources: Map<string, Map<number, 'reviewer' | 'recommendation'>>;
  currentStage: number | null;
}

export const emptyTrail = (): StreamTrail => ({
  people: {},
  recommendations: new Map(),
  sources: new Map(),
  currentStage: null,
});

/** Applies one event to the trail, as `evolve` applies it to the review state. */
export function foldTrail(trail: StreamTrail, event: TrailEvent): StreamTrail {
  switch (event.type) {
    case 'StageStarted':
      Object.assign(trail.people, event.people);
      trail.recommendations.set(event.stageIndex, event.recommendations);
      trail.currentStage = event.stageIndex;
      break;
    case 'StageReviewersChanged':
      if (event.people) Object.assign(trail.people, event.people);
      break;

    case 'DecisionRecorded': {
      if (trail.currentStage === null) break;
      const byStage = trail.sources.get(event.itemId) ?? new Map<number, 'reviewer' | 'recommendation'>();
      byStage.set(trail.currentStage, event.source);
      trail.sources.set(event.itemId, byStage);
      break;
    }
    case 'DecisionsReset':
      if (trail.currentStage === null) break;
      for (const byStage of trail.sources.values()) byStage.delete(trail.currentStage);
      break;
    case 'StageCompleted':
      trail.currentStage = null;
      break;
  }
  return trail;
}

type Unlinked<T> = Omit<T, 'prevHash' | 'hash'>;

const person = (identity: { id: string; displayName: string | null; userPrincipalName: string | null }) => ({
  id: identity.id,
  displayName: identity.displayName,
  userPrincipalName: identity.userPrincipalName,
});

/** The header link (without its chain fields). */
export function evidenceHeader(
  instanceId: string,
  facts: InstanceFacts,
  generatedDateTime: string,
): Unlinked<EvidenceHeader> {
  const { view, plan } = facts;
  const stageId = (index: number) => plan.stages[index]?.stageId ?? String(index + 1);
  return {
    sequence: 0,
    recordType: 'accessReviewInstance',
    definitionId: facts.definitionId,
    instanceId,
    displayName: view.displayName,
    status: view.status as EvidenceHeader['status'],
    startDateTime: view.startDateTime,
    endDateTime: view.endDateTime,
    appliedDateTime: view.appliedDateTime,
    scope: {
      resourceType: plan.scope.resource.type,
      resourceId: plan.scope.resource.id,
      resourceDisplayName: facts.resource?.displayName ?? null,
      principals: plan.scope.principals,
      inactiveDurationInDays: plan.scope.inactiveDays ?? null,
    },
    settings: { ...plan.settings },
    stages: plan.stages.map((s, index) => {
      const shown = view.stages[index];
      return {
        stageId: s.stageId,
        status: (shown?.status ?? 'NotStarted') as EvidenceHeader['stages'][number]['status'],
        startDateTime: shown?.startDateTime ?? null,
        endDateTime: shown?.endDateTime ?? null,
        durationInDays: s.durationInDays,
        reviewers: s.reviewers,
        fallbackReviewers: s.fallbackReviewers,
        recommendationsEnabled: s.recommendationsEnabled,
        recommendationLookBackDays: s.recommendationLookBackDays,
        decisionsThatWillMoveToNextStage: s.decisionsThatWillMoveToNextStage,
      };
    }),
    reviewerChanges: facts.reviewerChanges.map((c) => ({
      stageId: stageId(c.stageIndex),
      changedDateTime: c.at,
      changedBy: c.by,
      reviewers: c.reviewers,
      fallbackReviewers: c.fallbackReviewers,
    })),
    itemCount: view.counts.total,
    generatedDateTime,
  };
}

/** One decision item's link (without its chain fields). */
export function evidenceRecord(
  sequence: number,
  item: ItemRecord,
  trail: StreamTrail,
  plan: ReviewPlan,
  observation: ApplyObservation | undefined,
): Unlinked<EvidenceRecord> {
  const indexOf = new Map(plan.stages.map((s, i) => [s.stageId, i]));
  const reviewer = (id: string): EvidencePerson =>
    id === 'system'
      ? { id, displayName: 'Stagecoach', userPrincipalName: null }
      : {
          id,
          displayName: trail.people[id]?.displayName ?? null,
          userPrincipalName: trail.people[id]?.userPrincipalName ?? null,
        };
  const sourceIn = (index: number | undefined) =>
    index === undefined ? undefined : trail.sources.get(item.itemId)?.get(index);
  const stages: EvidenceStage[] = item.stages.map((s) => {
    const index = indexOf.get(s.stageId);
    const decided = s.view.reviewedBy !== null;
    return {
      stageId: s.stageId,
      reviewers: s.reviewerIds.map(reviewer),
      recommendation:
        (index === undefined ? undefined : trail.recommendations.get(index)?.[item.itemId]) ?? null,
      decision: s.view.decision,
      decisionSource: decided ? (sourceIn(index) ?? 'reviewer') : 'none',
      reviewedBy: s.view.reviewedBy && person(s.view.reviewedBy),
      reviewedDateTime: s.view.reviewedDateTime,
      justification: s.view.justification,
    };
  });
  const { view } = item;
  // R9: the final decision is the last one recorded in any stage, else the default decision, if any.
  const lastDecided = [...stages].reverse().find((s) => s.decisionSource !== 'none');
  const decisionSource: DecisionSource =
    view.reviewedBy !== null
      ? (lastDecided?.decisionSource ?? 'reviewer')
      : view.decision !== 'NotReviewed'
        ? 'defaultDecision'
        : 'none';
  return {
    sequence,
    recordType: 'decisionItem',
    itemId: item.itemId,
    principal: person(view.principal),
    decision: view.decision,
    decisionSource,
    reviewedBy: view.reviewedBy && person(view.reviewedBy),
    reviewedDateTime: view.reviewedDateTime,
    justification: view.justification,
    stages,
    applyResult: view.applyResult,
    appliedBy: view.appliedBy && person(view.appliedBy),
    appliedDateTime: view.appliedDateTime,
    directoryState: observation ?? null,
  };
}
