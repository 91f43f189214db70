import { z } from 'zod';
import { recurrenceSchema, userIdentitySchema } from './definition-schema';
import { occurrenceStart } from './recurrence';
import { DAY_MS } from './review-plan';

// Review history reports: Graph's accessReviewHistoryDefinition and accessReviewHistoryInstance, and the
// pure rules that say which instances a definition has at a given time.

const dateTime = z.iso.datetime({ offset: true });

/** accessReviewHistoryDefinition.decisions values. */
export const historyDecisionSchema = z.enum(['approve', 'deny', 'dontKnow', 'notReviewed', 'notNotified']);
export type HistoryDecision = z.infer<typeof historyDecisionSchema>;
/** Every decision: what a definition created without `decisions` reports. */
export const ALL_HISTORY_DECISIONS = historyDecisionSchema.options;

/** accessReviewHistoryStatus. */
export const historyStatusSchema = z.enum(['done', 'inProgress', 'error', 'requested', 'unknownFutureValue']);
export type HistoryStatus = z.infer<typeof historyStatusSchema>;

export const HISTORY_SCOPE = '#microsoft.graph.accessReviewQueryScope';

/** accessReviewQueryScope of a history definition: which reviews it reports on (see history-scopes.ts). */
export const historyScopeSchema = z.object({
  '@odata.type': z.literal(HISTORY_SCOPE).optional(),
  query: z.string().min(1, 'query is required').max(2048),
  queryType: z.literal('MicrosoftGraph').optional(),
  queryRoot: z.string().nullish(),
});
export type HistoryScope = z.infer<typeof historyScopeSchema>;

/** An ISO 8601 duration of years, months and days only (Graph's reportRange supports no more). */
const reportRangeSchema = z
  .string()
  .regex(
    /^P(?!$)(\d+Y)?(\d+M)?(\d+D)?$/,
    'must be an ISO 8601 duration of years, months and days, such as P1M',
  );

/** accessReviewHistoryScheduleSettings: a recurring report and the period each occurrence looks back on. */
export const historyScheduleSettingsSchema = z.object({
  '@odata.type': z.literal('#microsoft.graph.accessReviewHistoryScheduleSettings').optional(),
  recurrence: recurrenceSchema,
  reportRange: reportRangeSchema,
});
export type HistoryScheduleSettings = z.infer<typeof historyScheduleSettingsSchema>;

/** The body of POST historyDefinitions. */
export const historyDefinitionInputSchema = z.object({
  '@odata.type': z.string().optional(),
  displayName: z.string().trim().min(1, 'displayName is required').max(256),
  decisions: z.array(historyDecisionSchema).nullish(),
  reviewHistoryPeriodStartDateTime: dateTime.nullish(),
  reviewHistoryPeriodEndDateTime: dateTime.nullish(),
  scopes: z.array(historyScopeSchema),
  scheduleSettings: historyScheduleSettingsSchema.nullish(),
});
export type HistoryDefinitionInput = z.infer<typeof historyDefinitionInputSchema>;

/** accessReviewHistoryDefinition as the API answers with it. */
export const historyDefinitionSchema = z
  .object({
    id: z.string(),
    displayName: z.string(),
    reviewHistoryPeriodStartDateTime: dateTime.nullable(),
    reviewHistoryPeriodEndDateTime: dateTime.nullable(),
    decisions: z.array(historyDecisionSchema),
    status: historyStatusSchema,
    createdDateTime: dateTime,
    createdBy: userIdentitySchema,
    scopes: z.array(historyScopeSchema),
    scheduleSettings: historyScheduleSettingsSchema.nullable(),
  })
  .meta({ description: 'accessReviewHistoryDefinition: which review decisions a history report collects' });
export type HistoryDefinition = z.infer<typeof historyDefinitionSchema>;

/** accessReviewHistoryInstance as the API answers with it. */
export const historyInstanceSchema = z
  .object({
    id: z.string(),
    reviewHistoryPeriodStartDateTime: dateTime,
    reviewHistoryPeriodEndDateTime: dateTime,
    status: historyStatusSchema,
    runDateTime: dateTime,
    fulfilledDateTime: dateTime.nullable(),
    downloadUri: z.string().nullable(),
    expirationDateTime: dateTime,
  })
  .meta({
    description: 'accessReviewHistoryInstance: one report of a history definition (one per recurrence)',
  });
export type HistoryInstance = z.infer<typeof historyInstanceSchema>;

/** How long an instance's report can be downloaded after it ran (Graph: 30 days). */
export const HISTORY_RETENTION_DAYS = 30;
/** How long a download link is valid (Graph: 24 hours), never beyond the instance's expiration. */
export const DOWNLOAD_LINK_HOURS = 24;
/** A recurring definition materialises at most this many occurrences (a weekly series for ~40 years). */
export const MAX_OCCURRENCES = 2000;

/** One occurrence of a definition: its 0-based index, when it runs and the period it reports on. */
export interface HistoryOccurrence {
  index: number;
  runDateTime: string;
  periodStart: string;
  periodEnd: string;
}

/** Why a history definition cannot be accepted, said so that the caller can fix it; undefined when fine. */
export function historyDefinitionProblem(input: HistoryDefinitionInput): string | undefined {
  if (input.scopes.length === 0) return 'scopes is required: at least one accessReviewQueryScope';
  if (input.scopes.length > 50) return 'scopes: at most 50';
  const start = input.reviewHistoryPeriodStartDateTime;
  const end = input.reviewHistoryPeriodEndDateTime;
  if (!input.scheduleSettings) {
    if (!start || !end) {
      return 'reviewHistoryPeriodStartDateTime and reviewHistoryPeriodEndDateTime are required without scheduleSettings';
    }
  }
  if (start && end && Date.parse(start) > Date.parse(end)) {
    return 'reviewHistoryPeriodStartDateTime must not be after reviewHistoryPeriodEndDateTime';
  }
  const range = input.scheduleSettings?.recurrence.range;
  if (range?.type === 'numbered' && range.numberOfOccurrences < 1) {
    return 'scheduleSettings.recurrence.range.numberOfOccurrences must be at least 1 for a numbered range';
  }
  if (range?.type === 'endDate' && !range.endDate) {
    return 'scheduleSettings.recurrence.range.endDate is required for an endDate range';
  }
  return undefined;
}

/** `at` minus an ISO duration of years, months and days; a day past the target month's end is clamped. */
export function minusReportRange(at: string, reportRange: string): string {
  const m = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?$/.exec(reportRange);
  if (!m) throw new Error(`not a report range: ${reportRange}`);
  const d = new Date(at);
  const months = Number(m[1] ?? 0) * 12 + Number(m[2] ?? 0);
  const day = d.getUTCDate();
  const target = new Date(d.getTime());
  target.setUTCDate(1);
  target.setUTCMonth(target.getUTCMonth() - months);
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(day, lastDay));
  return new Date(target.getTime() - Number(m[3] ?? 0) * DAY_MS).toISOString();
}

/**
 * The occurrences of a definition whose time has come by `now`, oldest first. A definition without
 * scheduleSettings has one, run when it was created, over its own period. A recurring one has one per
 * occurrence of its recurrence (anchored at the later of the range's start date and the creation, as review
 * series are) up to `now`, each over the reportRange before it runs.
 */
export function dueOccurrences(
  definition: Pick<
    HistoryDefinition,
    | 'createdDateTime'
    | 'scheduleSettings'
    | 'reviewHistoryPeriodStartDateTime'
    | 'reviewHistoryPeriodEndDateTime'
  >,
  now: Date,
): HistoryOccurrence[] {
  const schedule = definition.scheduleSettings;
  if (!schedule) {
    return [
      {
        index: 0,
        runDateTime: definition.createdDateTime,
        periodStart: definition.reviewHistoryPeriodStartDateTime!,
        periodEnd: definition.reviewHistoryPeriodEndDateTime!,
      },
    ];
  }
  const due: HistoryOccurrence[] = [];
  for (let index = 0; index < MAX_OCCURRENCES; index++) {
    const runDateTime = occurrenceStart(schedule.recurrence, definition.createdDateTime, index);
    if (runDateTime === undefined || Date.parse(runDateTime) > now.getTime()) break;
    due.push({
      index,
      runDateTime,
      periodStart: minusReportRange(runDateTime, schedule.reportRange),
      periodEnd: runDateTime,
    });
  }
  return due;
}

/** When an instance that ran at `runDateTime` expires (its report is no longer served). */
export const expirationOf = (runDateTime: string) =>
  new Date(Date.parse(runDateTime) + HISTORY_RETENTION_DAYS * DAY_MS).toISOString();

/** A definition's status: that of its latest instance, `requested` while it has none. */
export const definitionStatus = (instances: { status: HistoryStatus }[]): HistoryStatus =>
  instances.at(-1)?.status ?? 'requested';
