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

/** Graph's batchRecordDecisions body. */
export const batchRecordDecisionsSchema = z.object({
  decision: reviewerDecisionSchema,
  justification: z.string().max(4000).nullish(),
  principalId: idSchema.nullish(),
  resourceId: idSchema.nullish(),
});

/** The id of a directory object (user, group, service principal) in a /v1.0 path. */
export const directoryObjectParams = z.object({ id: idSchema });

/** PATCH /users/{id}: an admin enables or disables the account (enabling restores a blocked guest). */
export const userPatchSchema = z.strictObject({ accountEnabled: z.boolean() });

/** POST /auth/local/token (AUTH_MODE=local only): a demo token for a directory user. */
export const localTokenRequestSchema = z.strictObject({
  userId: idSchema,
  admin: z.boolean().default(false),
});
