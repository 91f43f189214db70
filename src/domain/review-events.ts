import type { z } from 'zod';
import type { decisionValueSchema, reviewerDecisionSchema } from './definition-schema';
import type { applyResultSchema, instanceStatusSchema, stageStatusSchema } from './graph-resources';
import type { RecommendationValue } from './recommendations';
import type { GraphReviewerScope, ReviewerSpec, ReviewPlan } from './review-plan';

// Graph's enums are defined once, as zod schemas; these are their types (type-only imports: the workflow
// code that uses them loads no zod).
export type ReviewerDecision = z.infer<typeof reviewerDecisionSchema>;
export type DecisionValue = z.infer<typeof decisionValueSchema>;
export type ApplyResult = z.infer<typeof applyResultSchema>;
/** accessReviewInstance.status values this engine goes through. */
export type InstanceStatus = z.infer<typeof instanceStatusSchema>;
export type StageStatus = z.infer<typeof stageStatusSchema>;
/** Why a stage ended: its timer, an admin's stop-stage, the whole instance stopping, or nobody left to review. */
export type StageCompletionReason = 'durationElapsed' | 'stoppedByAdmin' | 'instanceStopped' | 'noReviewees';

/** A reviewee as snapshotted when the instance starts. */
export interface Principal {
  id: string;
  displayName: string;
  userPrincipalName: string;
  userType: 'Member' | 'Guest';
}

/** The resource under review, Graph's accessReviewInstanceDecisionItemResource. */
export interface ReviewedResource {
  id: string;
  displayName: string;
  type: 'group' | 'application';
}

/** Display data of a reviewer, kept so decisions render `reviewedBy` without a directory call. */
export interface Person {
  displayName: string;
  userPrincipalName: string;
}

/** Who assigned what to whom when a stage started (R4 snapshot). */
export interface StageAssignment {
  /** Reviewers of every item of the stage (named users, owners, group members). */
  sharedReviewerIds: string[];
  /** Reviewers of single items (self, manager, fallback for items without a primary reviewer). */
  reviewersByItem: Record<string, string[]>;
  /** Items that nobody can review: they stay NotReviewed, and this is reported. */
  noReviewerItemIds: string[];
  recommendations: Record<string, RecommendationValue>;
  people: Record<string, Person>;
}

/** Everything that can happen to a review instance; the state is a fold of these. */
export type ReviewEvent =
  | { type: 'InstanceStarted'; at: string; instanceId: string; plan: ReviewPlan }
  | {
      type: 'RevieweesResolved';
      at: string;
      resource: ReviewedResource;
      principals: Principal[];
      errors: string[];
    }
  | ({ type: 'StageStarted'; at: string; stageIndex: number; itemIds: string[] } & StageAssignment)
  | {
      type: 'DecisionRecorded';
      at: string;
      itemId: string;
      decision: ReviewerDecision;
      justification: string;
      reviewerId: string;
      source: 'reviewer' | 'recommendation';
    }
  | {
      type: 'StageReviewersChanged';
      at: string;
      by: string;
      stageIndex: number;
      reviewers: ReviewerSpec[];
      fallbackReviewers: ReviewerSpec[];
      scopes: { reviewers: GraphReviewerScope[]; fallbackReviewers: GraphReviewerScope[] };
      /** New assignment when the stage is already running (re-resolved), absent for a later stage. */
      assignment?: StageAssignment;
    }
  | { type: 'DecisionsReset'; at: string; by: string }
  | { type: 'ReminderSent'; at: string; by: string; reviewerIds: string[] }
  | { type: 'StageCompleted'; at: string; reason: StageCompletionReason }
  | { type: 'InstanceCompleted'; at: string; reason: 'allStagesCompleted' | 'stoppedByAdmin'; by?: string }
  | { type: 'ApplyStarted'; at: string; by: string }
  | { type: 'ItemsApplied'; at: string; by: string; results: { itemId: string; result: ApplyResult }[] }
  | { type: 'ApplyCompleted'; at: string };
