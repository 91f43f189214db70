import type { DecisionItemView } from './graph-resources';
import type { HistoryDecision } from './history-definitions';
import type { ItemRecord } from './review-records';

// The rows of a review history report, in the layout of Entra's review history download: Entra's columns
// in Entra's order, then three of Stagecoach's own (Stage, AssignedReviewerIds, ApplyResult). Each decision
// item gives one row per stage it took part in (that stage's decision, reviewer and justification) and
// then one `Final` row with the item's decision for the instance as a whole, as the decision lists of the
// API show them.

/** The report's columns, in order. */
export const HISTORY_COLUMNS = [
  'AccessReviewId',
  'AccessReviewSeriesId',
  'ReviewType',
  'ResourceDisplayName',
  'ResourceId',
  'ReviewName',
  'CreatedDateTime',
  'ReviewStartDate',
  'ReviewEndDate',
  'ReviewStatus',
  'OwnerId',
  'OwnerName',
  'OwnerUPN',
  'PrincipalId',
  'PrincipalName',
  'PrincipalUPN',
  'PrincipalType',
  'ReviewDate',
  'ReviewResult',
  'Justification',
  'ReviewerId',
  'ReviewerName',
  'ReviewerUPN',
  'ReviewerEmailAddress',
  'AppliedByName',
  'AppliedByUPN',
  'AppliedByEmailAddress',
  'AppliedDate',
  'AccessRecommendation',
  'SubmissionResult',
  'Stage',
  'AssignedReviewerIds',
  'ApplyResult',
] as const;
export type HistoryColumn = (typeof HISTORY_COLUMNS)[number];

/** The value of the Stage column on an item's instance-level row. */
export const FINAL_STAGE = 'Final';

/** A review instance as the report needs it, from its records. */
export interface ReportedReview {
  instanceId: string;
  definitionId: string;
  displayName: string;
  status: string;
  startDateTime: string;
  endDateTime: string;
  /** When the instance started (its InstanceStarted event); null if the records lack it. */
  createdDateTime: string | null;
}

/** The report's decisions value of a row: its decision, and notNotified for a NotReviewed item nobody was asked to review. */
export function historyDecisionOf(
  decision: DecisionItemView['decision'],
  reviewerIds: string[],
): HistoryDecision {
  switch (decision) {
    case 'Approve':
      return 'approve';
    case 'Deny':
      return 'deny';
    case 'DontKnow':
      return 'dontKnow';
    default:
      return reviewerIds.length === 0 ? 'notNotified' : 'notReviewed';
  }
}

/** Entra's SubmissionResult: whether the decision was applied to the directory. */
const submissionResult = (applyResult: DecisionItemView['applyResult']) =>
  applyResult === 'AppliedSuccessfully' || applyResult === 'AppliedSuccessfullyButObjectNotFound'
    ? 'Applied'
    : 'NotApplied';

function row(
  review: ReportedReview,
  view: DecisionItemView,
  stage: string,
  reviewerIds: string[],
): Record<HistoryColumn, string> {
  const s = (v: string | null | undefined) => v ?? '';
  return {
    AccessReviewId: review.instanceId,
    AccessReviewSeriesId: review.definitionId,
    ReviewType: s(view.resource?.type),
    ResourceDisplayName: s(view.resource?.displayName),
    ResourceId: s(view.resource?.id),
    ReviewName: review.displayName,
    CreatedDateTime: s(review.createdDateTime),
    ReviewStartDate: review.startDateTime,
    ReviewEndDate: review.endDateTime,
    ReviewStatus: review.status,
    // The review records do not name the definition's owner.
    OwnerId: '',
    OwnerName: '',
    OwnerUPN: '',
    PrincipalId: view.principal.id,
    PrincipalName: view.principal.displayName,
    PrincipalUPN: view.principal.userPrincipalName,
    PrincipalType: 'user',
    ReviewDate: s(view.reviewedDateTime),
    ReviewResult: view.decision,
    Justification: s(view.justification),
    ReviewerId: s(view.reviewedBy?.id),
    ReviewerName: s(view.reviewedBy?.displayName),
    ReviewerUPN: s(view.reviewedBy?.userPrincipalName),
    // The review records keep reviewers' user principal names, not their mail addresses.
    ReviewerEmailAddress: '',
    AppliedByName: s(view.appliedBy?.displayName),
    AppliedByUPN: s(view.appliedBy?.userPrincipalName),
    AppliedByEmailAddress: '',
    AppliedDate: s(view.appliedDateTime),
    AccessRecommendation: s(view.recommendation),
    SubmissionResult: submissionResult(view.applyResult),
    Stage: stage,
    AssignedReviewerIds: reviewerIds.join(';'),
    ApplyResult: view.applyResult,
  };
}

/** The report rows of one decision item whose decisions are among `decisions`: per stage, then Final. */
export function historyRows(
  review: ReportedReview,
  item: ItemRecord,
  decisions: ReadonlySet<HistoryDecision>,
): Record<HistoryColumn, string>[] {
  const rows: Record<HistoryColumn, string>[] = [];
  for (const stage of item.stages) {
    if (decisions.has(historyDecisionOf(stage.view.decision, stage.reviewerIds))) {
      rows.push(row(review, stage.view, stage.stageId, stage.reviewerIds));
    }
  }
  const everyReviewer = [...new Set(item.stages.flatMap((s) => s.reviewerIds))];
  if (decisions.has(historyDecisionOf(item.view.decision, everyReviewer))) {
    rows.push(row(review, item.view, FINAL_STAGE, everyReviewer));
  }
  return rows;
}

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, quote, CR or LF, quotes doubled. A value a
 * spreadsheet would run as a formula (it starts with =, +, -, @, tab or CR) gets a leading apostrophe, so
 * that a justification like `=HYPERLINK(…)` is shown as text, never evaluated.
 */
export function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** One CSV record with its CRLF line break. */
export const csvLine = (values: readonly string[]) => `${values.map(csvField).join(',')}\r\n`;

/** The header record. */
export const csvHeader = () => csvLine(HISTORY_COLUMNS);

/** A row as a CSV record, in column order. */
export const csvRecord = (r: Record<HistoryColumn, string>) => csvLine(HISTORY_COLUMNS.map((c) => r[c]));
