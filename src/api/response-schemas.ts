import { z } from 'zod';
import { decisionValueSchema, definitionSchema, userIdentitySchema } from '../domain/definition-schema';
import type { ContactedReviewerView, DecisionItemView } from '../domain/review-views';
import { GROUP_RESOURCE, SERVICE_PRINCIPAL_RESOURCE } from '../domain/review-views';
import type { GraphUser } from '../services/directory';
import type { GraphInstance, GraphStage } from '../services/instances';
import type { errorBody } from './errors';

const dateTime = z.iso.datetime({ offset: true });
const reviewerScopes = definitionSchema.pick({ reviewers: true, fallbackReviewers: true });

/** accessReviewInstance as the API returns it. */
export const instanceSchema = z
  .object({
    id: z.string(),
    startDateTime: dateTime,
    endDateTime: dateTime,
    status: z.enum(['NotStarted', 'Initializing', 'InProgress', 'Completed', 'Applying', 'Applied']),
    scope: definitionSchema.shape.scope,
    ...reviewerScopes.shape,
  })
  .meta({
    description: 'accessReviewInstance: one recurrence of a definition',
  }) satisfies z.ZodType<GraphInstance>;

/** accessReviewStage as the API returns it; reviewer scopes are the stage's (or the definition's). */
export const stageSchema = z
  .object({
    id: z.string(),
    startDateTime: dateTime.nullable(),
    endDateTime: dateTime.nullable(),
    status: z.enum(['NotStarted', 'InProgress', 'Completed']),
    ...reviewerScopes.shape,
  })
  .meta({
    description: 'accessReviewStage: one stage of a multi-stage review instance',
  }) satisfies z.ZodType<GraphStage>;

/** accessReviewInstanceDecisionItem as the API returns it. */
export const decisionItemSchema = z
  .object({
    id: z.string(),
    accessReviewId: z.string(),
    decision: decisionValueSchema,
    justification: z.string().nullable(),
    recommendation: z.enum(['Approve', 'Deny', 'NoInfoAvailable']).nullable(),
    reviewedDateTime: dateTime.nullable(),
    reviewedBy: userIdentitySchema.nullable(),
    applyResult: z.enum([
      'New',
      'AppliedSuccessfully',
      'AppliedWithUnknownFailure',
      'AppliedSuccessfullyButObjectNotFound',
      'ApplyNotSupported',
    ]),
    appliedDateTime: dateTime.nullable(),
    appliedBy: userIdentitySchema.nullable(),
    principalLink: z.string(),
    resourceLink: z.string().nullable(),
    principal: z.object({
      '@odata.type': z.literal('#microsoft.graph.userIdentity'),
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
  })
  .meta({
    description: 'accessReviewInstanceDecisionItem: one reviewee and the decision on their access',
  }) satisfies z.ZodType<DecisionItemView>;

/** accessReviewReviewer: someone asked to review in an instance, and since when. */
export const contactedReviewerSchema = userIdentitySchema.extend({ createdDateTime: dateTime }).meta({
  description: 'accessReviewReviewer: a reviewer contacted in this instance',
}) satisfies z.ZodType<ContactedReviewerView>;

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
  .meta({ description: 'user' }) satisfies z.ZodType<GraphUser>;

/** Graph's error body, the only shape a failed request answers with. */
export const errorSchema = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      innerError: z
        .object({
          'request-id': z.string().describe('The request-id response header of this request'),
          'client-request-id': z.string().describe("The caller's client-request-id, or the request-id"),
          date: dateTime.describe('When the error was answered (UTC)'),
        })
        .meta({ description: 'Which request failed and when, as Microsoft Graph reports it' }),
    }),
  })
  .meta({
    description: 'A stable dotted code (e.g. review.stage_not_in_progress) and a message safe to show',
  }) satisfies z.ZodType<ReturnType<typeof errorBody>>;

/** The '@odata.context' every single-entity response carries. */
export const odataEntitySchema = z.object({ '@odata.context': z.string() });

/** A Graph collection page of `item`: '@odata.nextLink' when more items exist, '@odata.count' on request. */
export function graphCollection<T extends z.ZodType>(item: T) {
  return odataEntitySchema.extend({
    '@odata.count': z.number().int().min(0).optional(),
    '@odata.nextLink': z.url().optional(),
    value: z.array(item),
  });
}

/** POST /auth/local/token's answer. */
export const localTokenSchema = z.object({
  token_type: z.literal('Bearer'),
  expires_in: z.number().int(),
  access_token: z.string(),
});

/** GET /health's answer. */
export const healthSchema = z.object({
  status: z.enum(['ok', 'unavailable']),
  reason: z.string().optional().describe('Why reviews cannot be served, when they cannot'),
  temporal: z.object({ reachable: z.boolean() }),
  workers: z.object({
    answering: z.boolean().describe('A worker answered a probe query on the task queue within a second'),
    pollers: z.number().int().describe('Workers seen polling the task queue in the last two minutes'),
  }),
});
