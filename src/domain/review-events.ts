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
  /**
   * Separation of duties: reviewers who may not decide an item although the stage's reviewers include
   * them (the reviewee themself, or a reviewer whose item was reassigned), by item id.
   */
  excludedByItem?: Record<string, string[]>;
  /** Reviewers out of office when the stage started: their items go to the delegate for this stage. */
  delegations?: Record<string, { delegateId: string; endDateTime: string; justification: string }>;
}

/** What a notification is about; one message per (review, stage, recipient, kind) at most. */
export type NotificationKind = 'stageStarted' | 'reminder' | 'escalation' | 'reassigned' | 'reviewCompleted';

/** What one notification send came to, per recipient (user ids, or addresses for additional recipients). */
export interface NotificationOutcome {
  sent: string[];
  /** Sent by an earlier attempt (a retry, a crashed worker, an earlier run): not sent again. */
  alreadySent: string[];
  /** An earlier attempt was cut off while sending: it may have arrived, so it is not sent again. */
  unconfirmed: string[];
  /** Refused by the mail server for good, or no address known. */
  failed: { recipient: string; reason: string }[];
  /** The send was not attempted: no mail server is configured for the worker. */
  skipped: string[];
  attempts: number;
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
  /** `point`: the scheduled reminder it was (`halfway`, `due-3` …); absent for one an admin asked for. */
  | { type: 'ReminderSent'; at: string; by: string; reviewerIds: string[]; point?: string }
  /** Undecided items got more reviewers (their reviewers' managers, or the fallback reviewers) before the end. */
  | {
      type: 'ReviewersEscalated';
      at: string;
      stageIndex: number;
      added: Record<string, string[]>;
      people: Record<string, Person>;
      to: 'managers' | 'fallbackReviewers';
    }
  /** Items handed from one reviewer (or, by an admin, from all of them) to another, for this stage only. */
  | {
      type: 'ItemsReassigned';
      at: string;
      by: string;
      stageIndex: number;
      itemIds: string[];
      /** null: every reviewer the items had (an administrator's reassignment). */
      fromReviewerId: string | null;
      toReviewerId: string;
      justification: string;
      people: Record<string, Person>;
    }
  /** One notification send (stage start, reminder, escalation, reassignment, end of review) and its outcome. */
  | ({
      type: 'NotificationsSent';
      at: string;
      kind: NotificationKind;
      stageId: string | null;
      key: string;
    } & NotificationOutcome)
  /** A send that still failed after every retry (the mail server stayed unreachable). */
  | {
      type: 'NotificationsFailed';
      at: string;
      kind: NotificationKind;
      stageId: string | null;
      key: string;
      recipients: string[];
      error: string;
    }
  | { type: 'StageCompleted'; at: string; reason: StageCompletionReason }
  | { type: 'InstanceCompleted'; at: string; reason: 'allStagesCompleted' | 'stoppedByAdmin'; by?: string }
  | { type: 'ApplyStarted'; at: string; by: string }
  | { type: 'ItemsApplied'; at: string; by: string; results: { itemId: string; result: ApplyResult }[] }
  | { type: 'ApplyCompleted'; at: string };
