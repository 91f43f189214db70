import { z } from 'zod';

/** Graph decision values a reviewer can record. */
export const reviewerDecisionSchema = z.enum(['Approve', 'Deny', 'DontKnow']);
/** Graph decision values of an item, NotReviewed being the absence of a decision. */
export const decisionValueSchema = z.enum(['Approve', 'Deny', 'NotReviewed', 'DontKnow']);
/** Values allowed in `decisionsThatWillMoveToNextStage`. */
export const moveToNextStageSchema = z.enum(['Approve', 'Deny', 'NotReviewed', 'DontKnow', 'Recommendation']);

const isoDuration = z
  .string()
  .regex(
    /^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$/,
    'must be an ISO 8601 duration such as P30D',
  );

/** accessReviewReviewerScope: who reviews, as a Graph query. */
export const reviewerScopeSchema = z.object({
  '@odata.type': z.string().optional(),
  query: z.string().min(1, 'query is required'),
  queryType: z.literal('MicrosoftGraph').optional(),
  queryRoot: z.string().nullish(),
});

/** accessReviewQueryScope / accessReviewInactiveUsersQueryScope: what is reviewed. */
export const reviewScopeSchema = z.object({
  '@odata.type': z
    .enum(['#microsoft.graph.accessReviewQueryScope', '#microsoft.graph.accessReviewInactiveUsersQueryScope'])
    .optional(),
  query: z.string().min(1, 'query is required'),
  queryType: z.literal('MicrosoftGraph').optional(),
  queryRoot: z.string().nullish(),
  inactiveDuration: isoDuration.optional(),
});

/** accessReviewRecommendationInsightSetting: which insight backs the recommendations, and over what window. */
export const recommendationInsightSettingSchema = z.object({
  '@odata.type': z.enum([
    '#microsoft.graph.userLastSignInRecommendationInsightSetting',
    '#microsoft.graph.groupPeerOutlierRecommendationInsightSettings',
  ]),
  /** userLastSignIn: inactivity before the instance start that makes the recommendation Deny. */
  recommendationLookBackDuration: isoDuration.nullish(),
  signInScope: z.enum(['tenant', 'application']).nullish(),
});
export type RecommendationInsightSetting = z.infer<typeof recommendationInsightSettingSchema>;

/** accessReviewStageSettings. */
export const stageSettingsSchema = z.object({
  '@odata.type': z.string().optional(),
  stageId: z.string().min(1, 'stageId is required'),
  dependsOn: z.array(z.string()).default([]),
  durationInDays: z.number().int().min(1).max(3650),
  recommendationsEnabled: z.boolean().default(false),
  recommendationLookBackDuration: isoDuration.nullish(),
  recommendationInsightSettings: z.array(recommendationInsightSettingSchema).optional(),
  /** An earlier spelling, accepted and answered as recommendationInsightSettings. */
  recommendationInsightsSettings: z.array(recommendationInsightSettingSchema).optional(),
  decisionsThatWillMoveToNextStage: z.array(moveToNextStageSchema).nullish(),
  reviewers: z.array(reviewerScopeSchema).default([]),
  fallbackReviewers: z.array(reviewerScopeSchema).default([]),
  /** Stagecoach: separation of duties in this stage (default: the definition's setting). */
  separationOfDutiesEnabled: z.boolean().optional(),
  /** Stagecoach: escalation of items still undecided some days before the stage ends. */
  escalation: z
    .object({
      daysBeforeEnd: z.number().int().min(1).max(3650),
      escalateTo: z.enum(['managers', 'fallbackReviewers']).default('managers'),
    })
    .nullish(),
});

/** accessReviewNotificationRecipientItem: who gets the end-of-review notice beside the reviewers. */
export const notificationRecipientItemSchema = z.object({
  '@odata.type': z.literal('#microsoft.graph.accessReviewNotificationRecipientItem').optional(),
  notificationTemplateType: z.literal('CompletedAdditionalRecipients', {
    error: 'the only supported notificationTemplateType is CompletedAdditionalRecipients',
  }),
  notificationRecipientScope: z.object({
    '@odata.type': z.literal('#microsoft.graph.accessReviewNotificationRecipientQueryScope').optional(),
    query: z.string().min(1, 'query is required'),
    queryType: z.literal('MicrosoftGraph').optional(),
    queryRoot: z.string().nullish(),
  }),
});

/** A date (YYYY-MM-DD); Graph clients also send full date-times here, which are cut to their date. */
const graphDate = z.preprocess(
  (v) => (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v) ? v.slice(0, 10) : v),
  z.iso.date(),
);

/** patternedRecurrence as access reviews use it: weekly or absoluteMonthly, with a range. */
export const recurrenceSchema = z.object({
  pattern: z.object({
    type: z.enum(['weekly', 'absoluteMonthly']),
    interval: z.number().int().min(1).max(99),
    month: z.number().int().optional(),
    dayOfMonth: z.number().int().min(0).max(31).optional(),
    daysOfWeek: z.array(z.string()).optional(),
    firstDayOfWeek: z.string().optional(),
    index: z.string().optional(),
  }),
  range: z.object({
    type: z.enum(['noEnd', 'numbered', 'endDate']),
    startDate: graphDate,
    endDate: graphDate.nullish(),
    numberOfOccurrences: z.number().int().min(0).max(1000).default(0),
    recurrenceTimeZone: z.string().nullish(),
  }),
});

export const applyActionSchema = z.object({
  '@odata.type': z.enum([
    '#microsoft.graph.removeAccessApplyAction',
    '#microsoft.graph.disableAndDeleteUserApplyAction',
  ]),
});

/** accessReviewScheduleSettings. */
export const scheduleSettingsSchema = z.object({
  mailNotificationsEnabled: z.boolean().default(true),
  reminderNotificationsEnabled: z.boolean().default(true),
  justificationRequiredOnApproval: z.boolean().default(false),
  defaultDecisionEnabled: z.boolean().default(false),
  defaultDecision: z.enum(['None', 'Approve', 'Deny', 'Recommendation']).default('None'),
  instanceDurationInDays: z.number().int().min(0).max(3650).default(0),
  autoApplyDecisionsEnabled: z.boolean().default(false),
  recommendationsEnabled: z.boolean().default(false),
  recommendationLookBackDuration: isoDuration.nullish(),
  recommendationInsightSettings: z.array(recommendationInsightSettingSchema).optional(),
  decisionHistoriesForReviewersEnabled: z.boolean().default(false),
  recurrence: recurrenceSchema.nullish(),
  applyActions: z.array(applyActionSchema).default([]),
  /** Stagecoach: reminders this many days before each stage ends, beside the halfway one. */
  reminderDaysBeforeDue: z.array(z.number().int().min(1).max(3650)).max(10).optional(),
  /** Stagecoach: nobody decides their own access (default on; self-review stages are exempt). */
  separationOfDutiesEnabled: z.boolean().optional(),
});

/** The body of POST/PUT definitions: an accessReviewScheduleDefinition as a client writes it. */
export const definitionInputSchema = z.object({
  '@odata.type': z.string().optional(),
  displayName: z.string().trim().min(1, 'displayName is required').max(256),
  descriptionForAdmins: z.string().max(1024).nullish(),
  descriptionForReviewers: z.string().max(1024).nullish(),
  scope: reviewScopeSchema,
  instanceEnumerationScope: reviewScopeSchema.nullish(),
  reviewers: z.array(reviewerScopeSchema).default([]),
  fallbackReviewers: z.array(reviewerScopeSchema).default([]),
  backupReviewers: z.array(reviewerScopeSchema).optional(),
  settings: scheduleSettingsSchema.default(() => scheduleSettingsSchema.parse({})),
  stageSettings: z.array(stageSettingsSchema).nullish(),
  additionalNotificationRecipients: z.array(notificationRecipientItemSchema).max(50).optional(),
});

export type DefinitionInput = z.infer<typeof definitionInputSchema>;
export type ReviewerScope = z.infer<typeof reviewerScopeSchema>;
export type ReviewScope = z.infer<typeof reviewScopeSchema>;
export type StageSettings = z.infer<typeof stageSettingsSchema>;
export type ScheduleSettings = z.infer<typeof scheduleSettingsSchema>;
export type Recurrence = z.infer<typeof recurrenceSchema>;

/** The identity of whoever created or applied something, Graph's userIdentity. */
export const userIdentitySchema = z.object({
  '@odata.type': z.literal('#microsoft.graph.userIdentity').optional(),
  id: z.string(),
  displayName: z.string().nullable(),
  userPrincipalName: z.string().nullable(),
});
export type UserIdentity = z.infer<typeof userIdentitySchema>;

/** A stored definition: the client's input plus server-owned fields. */
export const definitionSchema = definitionInputSchema.extend({
  id: z.string(),
  status: z.enum(['NotStarted', 'InProgress', 'Completed']),
  createdBy: userIdentitySchema,
  createdDateTime: z.string(),
  lastModifiedDateTime: z.string(),
});
export type Definition = z.infer<typeof definitionSchema>;
