import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { DecisionValue, Person, ReviewedResource, StageCompletionReason } from '../domain/review-events';
import type { GraphReviewerScope, ReviewerSpec } from '../domain/review-plan';
import type {
  DecisionRequest,
  DecisionsRequest,
  ReassignRequest,
  RuleViolation,
  Viewer,
} from '../domain/review-rules';
import type {
  ContactedReviewerView,
  DecisionItemView,
  DecisionPage,
  DecisionQuery,
  InstanceView,
} from '../domain/review-views';

// Updates, signals and queries of a review instance and of its shards. An instance small enough for one
// workflow answers all of them itself; a sharded instance answers the instance-level ones and its
// shards the item-level ones (recordDecisions, acceptRecommendations, decisions, reviewer,
// contactedReviewers).
//
// Reviewers' decisions and admin actions are Updates: the workflow accepts or refuses each against its
// own state, so the API answers 2xx only for what is recorded, in the stage the request named. The
// signals of the same names are what reviews started before Updates were used received; they stay
// registered so those histories replay, and a sharded instance still forwards admin actions to its
// shards as signals.

/** Decisions of one reviewer, single (PATCH) or batched (batchRecordDecisions) — one signal either way. */
export interface RecordDecisionsPayload {
  reviewerId: string;
  decisions: DecisionRequest[];
}

/**
 * What the recordDecisions signal carries: one reviewer's decisions, or the decisions of many
 * reviewers that the API gathered into one signal (fewer history events per decision).
 */
export type DecisionBatch = RecordDecisionsPayload | { batch: RecordDecisionsPayload[] };

/** The reviewers' payloads of a batch, in order. */
export const payloadsOf = (b: DecisionBatch): RecordDecisionsPayload[] => ('batch' in b ? b.batch : [b]);

/** An admin action; `by` is the admin's user id (for the audit trail). */
export interface AdminActionPayload {
  by: string;
}

/**
 * Carried by every Update the API sends: when it stops waiting for an answer. A workflow that sees the
 * Update only later (its worker was down) refuses it, so a request answered 503 is not applied afterwards.
 */
export interface Deadline {
  notAfter?: string;
}

/** recordDecisions Update: the decisions of one or more reviewers' requests, gathered by the API. */
export interface RecordDecisionsInput extends Deadline {
  requests: DecisionsRequest[];
}

/** What became of one request of a recordDecisions or acceptRecommendations Update. */
export type DecisionsOutcome =
  { ok: true; stageId: string; recorded: number } | { ok: false; violation: RuleViolation };

/** Admin actions as Updates; `stageId` names the stage an action targets (stop stage, reset, reminder). */
export interface AdminUpdateInput extends Deadline {
  by: string;
  stageId?: string;
}

/** Records every request of the batch that passes R5, each whole or not at all, in the stage it names. */
export const recordDecisionsUpdate = defineUpdate<DecisionsOutcome[], [RecordDecisionsInput]>(
  'recordDecisions',
);
export const acceptRecommendationsUpdate = defineUpdate<
  DecisionsOutcome,
  [{ viewer: Viewer; stageId?: string } & Deadline]
>('acceptRecommendations');
export const stopStageUpdate = defineUpdate<void, [AdminUpdateInput]>('stopStage');
export const stopReviewUpdate = defineUpdate<void, [AdminUpdateInput]>('stopReview');
export const applyDecisionsUpdate = defineUpdate<void, [AdminUpdateInput]>('applyDecisions');
export const resetDecisionsUpdate = defineUpdate<void, [AdminUpdateInput]>('resetDecisions');
export const sendReminderUpdate = defineUpdate<void, [AdminUpdateInput]>('sendReminder');

/** reassignDecisions Update: items handed to another reviewer; `people` names the caller and the new reviewer. */
export type ReassignInput = ReassignRequest & Deadline & { people: Record<string, Person> };
/** What a reassignment did: the items that changed hands, in the stage they did. */
export type ReassignOutcome = { ok: true; stageId: string; reassigned: number };
export const reassignDecisionsUpdate = defineUpdate<ReassignOutcome, [ReassignInput]>('reassignDecisions');

export const recordDecisionsSignal = defineSignal<[DecisionBatch]>('recordDecisions');
export const stopStageSignal = defineSignal<[AdminActionPayload]>('stopStage');
/** Admin actions a sharded instance forwards to its shards, naming the stage they were accepted for. */
export interface ForwardedActionPayload extends AdminActionPayload {
  stageId?: string;
}
export const stopInstanceSignal = defineSignal<[AdminActionPayload]>('stopReview');
export const applyDecisionsSignal = defineSignal<[AdminActionPayload]>('applyDecisions');
/**
 * Backfill (npm run backfill-records): write this workflow's records again in full — its definition, or
 * its instance, items and contacted reviewers — and keep them from now on if it did not yet.
 */
export const republishRecordsSignal = defineSignal('republishRecords');
/** How far this workflow's records are: its event count, and the event count its records show (null: none kept). */
export const recordsQuery = defineQuery<{ eventCount: number; recorded: number | null }>('records');
export const resetDecisionsSignal = defineSignal<[ForwardedActionPayload]>('resetDecisions');
export const sendReminderSignal = defineSignal<[ForwardedActionPayload]>('sendReminder');
/** PUT instance / PATCH stage reviewers: re-resolves a running stage's reviewers, or sets a later stage's. */
export interface UpdateReviewersPayload {
  by: string;
  stageId: string;
  reviewers: ReviewerSpec[];
  fallbackReviewers: ReviewerSpec[];
  scopes: { reviewers: GraphReviewerScope[]; fallbackReviewers: GraphReviewerScope[] };
}
export const updateReviewersSignal = defineSignal<[UpdateReviewersPayload]>('updateReviewers');
export const updateReviewersUpdate = defineUpdate<void, [UpdateReviewersPayload & Deadline]>(
  'updateReviewers',
);
export const contactedReviewersQuery = defineQuery<ContactedReviewerView[]>('contactedReviewers');
export const acceptRecommendationsSignal = defineSignal<[{ viewer: Viewer }]>('acceptRecommendations');

export const instanceQuery = defineQuery<InstanceView>('instance');
export const decisionsQuery = defineQuery<DecisionPage | RuleViolation, [DecisionQuery]>('decisions');
export const decisionQuery = defineQuery<
  DecisionItemView | RuleViolation,
  [{ viewer: Viewer; itemId: string; stageId?: string }]
>('decision');
/** Dry run of recordDecisions: the violation of each decision (in batch order), or null when it would be recorded. */
export const checkDecisionsQuery = defineQuery<(RuleViolation | null)[], [DecisionBatch]>('checkDecisions');
/** Whether a user reviews anything in the current stage, and how many of their items are still open. */
export const reviewerQuery = defineQuery<{ isReviewer: boolean; pending: number }, [{ userId: string }]>(
  'reviewer',
);

/** A step every shard of a sharded instance takes when the instance says so. */
export type ShardStep =
  | { kind: 'openStage'; stageIndex: number }
  | { kind: 'closeStage'; reason: StageCompletionReason }
  | { kind: 'complete'; reason: 'allStagesCompleted' | 'stoppedByAdmin'; by?: string }
  | { kind: 'apply'; by: string }
  /** A reminder (scheduled: `point` is its key, or an admin's): the shard reports its undecided items per reviewer. */
  | { kind: 'remind'; point: string; by: string; scheduled: boolean }
  /** Escalation: the shard adds reviewers to its undecided items and reports the new reviewers' items. */
  | { kind: 'escalate'; stageIndex: number };
/**
 * A step as sent to the shards, numbered in order from 1, with the steps that follow it at once (`then`:
 * close a stage and open the next, or close the last, complete and apply), run in order before the shard
 * reports back: one signal each way instead of one per step.
 */
export type ShardCommand = { seq: number; then?: ShardStep[] } & ShardStep;
export const shardCommandSignal = defineSignal<[ShardCommand]>('shardCommand');

/** A shard's report to its instance after each command (`seq` 0: its reviewees are resolved). */
export interface ShardProgress {
  shard: number;
  seq: number;
  counts: Record<DecisionValue, number> & { total: number };
  /** Items in the current (or last opened) stage, and those of them nobody can review. */
  stageItems: number;
  noReviewer: number;
  errors: string[];
  resource?: ReviewedResource;
  /**
   * After opening a stage or a reminder: undecided items per reviewer; after an escalation: the items
   * each added reviewer got. The instance adds them up into one message per reviewer.
   */
  tally?: Record<string, number>;
}
export const shardProgressSignal = defineSignal<[ShardProgress]>('shardProgress');
