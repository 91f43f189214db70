import { z } from 'zod';
import {
  GROUP_RESOURCE,
  SERVICE_PRINCIPAL_RESOURCE,
  USER_IDENTITY,
  USER_SIGN_IN_INSIGHT,
} from './graph-names';
import { decisionValueSchema, definitionSchema, userIdentitySchema } from './definition-schema';

// The Graph resources the API answers with, as zod schemas: the OpenAPI document, the outgoing
// validation and the TypeScript types (z.infer) all come from these. Each Graph enum is defined once.

const dateTime = z.iso.datetime({ offset: true });
const reviewerScopes = definitionSchema.pick({ reviewers: true, fallbackReviewers: true });

/** accessReviewInstance.status. */
export const instanceStatusSchema = z.enum([
  'NotStarted',
  'Initializing',
  'InProgress',
  'Completed',
  'Applying',
  'Applied',
]);
/** accessReviewStage.status. */
export const stageStatusSchema = z.enum(['NotStarted', 'InProgress', 'Completed']);
/** accessReviewInstanceDecisionItem.recommendation. */
export const recommendationSchema = z.enum(['Approve', 'Deny', 'NoInfoAvailable']);
/** accessReviewInstanceDecisionItem.applyResult. */
export const applyResultSchema = z.enum([
  'New',
  'AppliedSuccessfully',
  'AppliedWithUnknownFailure',
  'AppliedSuccessfullyButObjectNotFound',
  'ApplyNotSupported',
]);
export type ApplyResultValue = z.infer<typeof applyResultSchema>;

/** accessReviewInstance as the API returns it. */
export const instanceSchema = z
  .object({
    id: z.string(),
    startDateTime: dateTime,
    endDateTime: dateTime,
    status: instanceStatusSchema,
    scope: definitionSchema.shape.scope,
    ...reviewerScopes.shape,
  })
  .meta({ description: 'accessReviewInstance: one recurrence of a definition' });
export type GraphInstance = z.infer<typeof instanceSchema>;

/** accessReviewStage as the API returns it; reviewer scopes are the stage's (or the definition's). */
export const stageSchema = z
  .object({
    id: z.string(),
    startDateTime: dateTime.nullable(),
    endDateTime: dateTime.nullable(),
    status: stageStatusSchema,
    ...reviewerScopes.shape,
  })
  .meta({ description: 'accessReviewStage: one stage of a multi-stage review instance' });
export type GraphStage = z.infer<typeof stageSchema>;

/** userSignInInsight: when the reviewee last signed in, as the directory reports it. */
export const signInInsightSchema = z
  .object({
    '@odata.type': z.literal(USER_SIGN_IN_INSIGHT),
    id: z.string(),
    insightCreatedDateTime: dateTime,
    lastSignInDateTime: dateTime.nullable(),
  })
  .meta({ description: "userSignInInsight: the reviewee's last sign-in, read from the directory" });
export type SignInInsight = z.infer<typeof signInInsightSchema>;

/** accessReviewInstanceDecisionItem as the API returns it. */
export const decisionItemSchema = z
  .object({
    id: z.string(),
    accessReviewId: z.string(),
    decision: decisionValueSchema,
    justification: z.string().nullable(),
    recommendation: recommendationSchema.nullable(),
    reviewedDateTime: dateTime.nullable(),
    reviewedBy: userIdentitySchema.nullable(),
    applyResult: applyResultSchema,
    appliedDateTime: dateTime.nullable(),
    appliedBy: userIdentitySchema.nullable(),
    principalLink: z.string(),
    resourceLink: z.string().nullable(),
    principal: z.object({
      '@odata.type': z.literal(USER_IDENTITY),
      id: z.string(),
      displayName: z.string(),
      userPrincipalName: z.string(),
    }),
    resource: z
      .object({
        '@odata.type': z.enum([GROUP_RESOURCE, SERVICE_PRINCIPAL_RESOURCE]),
        id: z.string(),
        displayName: z.string(),
        type: z.enum(['group', 'application']),
      })
      .nullable(),
    /** Stagecoach: every hand-over of this item to another reviewer (absent when there was none). */
    reassignments: z
      .array(
        z.object({
          stageId: z.string(),
          reassignedDateTime: dateTime,
          reassignedBy: userIdentitySchema.nullable(),
          from: userIdentitySchema.nullable(),
          to: userIdentitySchema.nullable(),
          justification: z.string(),
        }),
      )
      .optional(),
  })
  .meta({ description: 'accessReviewInstanceDecisionItem: one reviewee and the decision on their access' });
export type DecisionItemView = z.infer<typeof decisionItemSchema>;

/** accessReviewReviewer: someone asked to review in an instance, and since when. */
export const contactedReviewerSchema = userIdentitySchema
  .omit({ '@odata.type': true })
  .extend({ createdDateTime: dateTime })
  .meta({ description: 'accessReviewReviewer: a reviewer contacted in this instance' });
export type ContactedReviewerView = z.infer<typeof contactedReviewerSchema>;

/** A directory user in Graph's shape (the subset the directory knows). */
export const userSchema = z
  .object({
    id: z.string(),
    displayName: z.string(),
    userPrincipalName: z.string(),
    mail: z.string().nullable(),
    userType: z.enum(['Member', 'Guest']),
    accountEnabled: z.boolean(),
    createdDateTime: dateTime,
    signInActivity: z.object({ lastSignInDateTime: dateTime.nullable() }),
  })
  .meta({ description: 'user' });
export type GraphUser = z.infer<typeof userSchema>;
