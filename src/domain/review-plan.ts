import type { z } from 'zod';
import type { moveToNextStageSchema } from './definition-schema';

/**
 * The normalised, validated form of a definition that the review workflow runs. Plain data with no
 * zod and no I/O so that workflow code can import it.
 */

/** What a review covers: principals with access to one resource. */
export interface ScopeSpec {
  resource: { type: 'group' | 'application'; id: string };
  /** `guests`: only userType Guest principals are reviewed. */
  principals: 'all' | 'guests';
  /** Only principals that have not signed in for this many days before the instance start. */
  inactiveDays?: number;
}

/** One way of naming reviewers, decoded from an accessReviewReviewerScope query. */
export type ReviewerSpec =
  | { kind: 'self' }
  | { kind: 'manager' }
  | { kind: 'groupOwners'; groupId: string }
  | { kind: 'applicationOwners'; applicationId: string }
  | { kind: 'user'; userId: string }
  | { kind: 'groupMembers'; groupId: string };

/** An accessReviewReviewerScope as the client wrote it, kept to show it back in Graph responses. */
export interface GraphReviewerScope {
  '@odata.type'?: string;
  query: string;
  queryType?: 'MicrosoftGraph';
  queryRoot?: string | null;
}

/** A value of decisionsThatWillMoveToNextStage. */
export type MoveOnValue = z.infer<typeof moveToNextStageSchema>;

export interface StagePlan {
  stageId: string;
  durationInDays: number;
  /** Empty means self-review. */
  reviewers: ReviewerSpec[];
  fallbackReviewers: ReviewerSpec[];
  recommendationsEnabled: boolean;
  recommendationLookBackDays: number;
  /** null: every reviewee moves on to the next stage. */
  decisionsThatWillMoveToNextStage: MoveOnValue[] | null;
  /**
   * Separation of duties: a reviewer may not decide their own item (it goes to the fallback reviewers or
   * the reviewee's manager). Absent in plans made before the setting existed: see separationApplies.
   */
  separationOfDuties?: boolean;
  /** Items still undecided this many days before the stage ends get more reviewers, who are told so. */
  escalation?: { daysBeforeEnd: number; to: 'managers' | 'fallbackReviewers' };
}

/** Whether separation of duties holds in a stage: as set, else on except in self-review stages. */
export const separationApplies = (stage: StagePlan): boolean =>
  stage.separationOfDuties ??
  !(stage.reviewers.length === 0 || stage.reviewers.some((r) => r.kind === 'self'));

/** Who gets the end-of-review notice beside the reviewers (Graph's additionalNotificationRecipients). */
export type NotificationRecipientSpec =
  { kind: 'user'; userId: string } | { kind: 'groupMembers'; groupId: string };

export interface ReviewSettingsPlan {
  justificationRequiredOnApproval: boolean;
  defaultDecisionEnabled: boolean;
  defaultDecision: 'None' | 'Approve' | 'Deny' | 'Recommendation';
  autoApplyDecisionsEnabled: boolean;
  decisionHistoriesForReviewersEnabled: boolean;
  mailNotificationsEnabled: boolean;
  reminderNotificationsEnabled: boolean;
  /** Reminders on these days before a stage ends, beside the halfway one (Stagecoach; absent in older plans). */
  reminderDaysBeforeDue?: number[];
  descriptionForReviewers?: string | null;
  additionalNotificationRecipients?: NotificationRecipientSpec[];
  /** What a Deny does to a reviewee (R10, R11). */
  denyAction: 'removeAccess' | 'disableAndDeleteUser';
}

export interface ReviewPlan {
  definitionId: string;
  displayName: string;
  scope: ScopeSpec;
  stages: StagePlan[];
  settings: ReviewSettingsPlan;
}

/** Days in an ISO 8601 duration (P30D, P2W, P1M = 30 days, PT36H = 1.5 days). */
export function isoDurationToDays(duration: string): number {
  const m = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(
    duration,
  );
  if (!m) throw new Error(`not an ISO 8601 duration: ${duration}`);
  const n = (i: number) => Number(m[i] ?? 0);
  return n(1) * 365 + n(2) * 30 + n(3) * 7 + n(4) + n(5) / 24 + n(6) / 1440 + n(7) / 86400;
}

export const DAY_MS = 86_400_000;
