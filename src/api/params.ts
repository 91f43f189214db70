import { z } from 'zod';
import { reviewerDecisionSchema, reviewerScopeSchema, reviewScopeSchema } from '../domain/definition-schema';

/** An id in a URL path: Graph ids are GUIDs; anything URL-safe and short is accepted. */
export const idSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._~-]+$/, 'must be an id');

export const definitionParams = z.object({ definitionId: idSchema });
export const instanceParams = definitionParams.extend({ instanceId: idSchema });
export const stageParams = instanceParams.extend({ stageId: idSchema });
export const decisionParams = instanceParams.extend({ decisionId: idSchema });
export const stageDecisionParams = stageParams.extend({ decisionId: idSchema });

/** PATCH of a decision item by its reviewer. */
export const decisionPatchSchema = z.object({
  decision: reviewerDecisionSchema,
  justification: z.string().max(4000).nullish(),
});

/** PUT instance / PATCH stage: only reviewers and fallbackReviewers can change (scope is accepted and ignored). */
export const reviewersUpdateSchema = z
  .object({
    reviewers: z.array(reviewerScopeSchema).optional(),
    fallbackReviewers: z.array(reviewerScopeSchema).optional(),
    scope: reviewScopeSchema.optional(),
  })
  .refine((b) => b.reviewers !== undefined || b.fallbackReviewers !== undefined, {
    message: 'reviewers or fallbackReviewers is required',
  });

/** Graph's batchRecordDecisions body, with Stagecoach's `decisionIds` (the listed items only). */
export const batchRecordDecisionsSchema = z
  .object({
    decision: reviewerDecisionSchema,
    justification: z.string().max(4000).nullish(),
    principalId: idSchema.nullish(),
    resourceId: idSchema.nullish(),
    decisionIds: z
      .array(idSchema)
      .min(1)
      .max(10_000)
      .optional()
      .meta({
        description:
          "Stagecoach: record the decision on these items of the caller's only (1–10,000 ids), in one " +
          'request; cannot be combined with principalId.',
      }),
  })
  .refine((b) => !(b.decisionIds && b.principalId), {
    message: 'decisionIds and principalId cannot be combined',
    path: ['decisionIds'],
  });

/** Stagecoach's reassignment of one decision item: to whom, and why. */
export const reassignDecisionSchema = z.strictObject({
  reviewerId: idSchema,
  justification: z.string().trim().min(1, 'justification: a reason is required').max(4000),
  /** Administrators: whose items (default: every reviewer the item has). */
  fromReviewerId: idSchema.nullish(),
});

/** Stagecoach's reassignment of many items: the listed ones, or all of a reviewer's. */
export const reassignDecisionsSchema = reassignDecisionSchema.extend({
  decisionIds: z.array(idSchema).min(1).max(10_000).optional(),
});

/** What a reassignment did. */
export const reassignResultSchema = z.object({ stageId: z.string(), reassigned: z.number().int() });

/** A user's out-of-office delegation as a client writes it (Stagecoach). */
export const delegationInputSchema = z.strictObject({
  delegateId: idSchema,
  endDateTime: z.iso.datetime({ offset: true, error: 'endDateTime: an ISO 8601 date-time' }),
  justification: z.string().max(1000).nullish(),
});

/** A delegation as the API answers it. */
export const delegationSchema = z.object({
  userId: z.string(),
  delegateId: z.string(),
  endDateTime: z.string(),
  justification: z.string(),
  createdBy: z.string(),
  createdDateTime: z.string(),
  /** On PUT: items of stages already running that went to the delegate. */
  reassigned: z.number().int().optional(),
});

/** The user whose delegation a path names. */
export const delegationParams = z.object({ userId: idSchema });

/** The id of a directory object (user, group, service principal) in a /v1.0 path. */
export const directoryObjectParams = z.object({ id: idSchema });

/** PATCH /users/{id}: an admin enables or disables the account (enabling restores a blocked guest). */
export const userPatchSchema = z.strictObject({ accountEnabled: z.boolean() });

/** POST /auth/local/token (AUTH_MODE=local only): a demo token for a directory user. */
export const localTokenRequestSchema = z.strictObject({
  userId: idSchema,
  admin: z.boolean().default(false),
});
