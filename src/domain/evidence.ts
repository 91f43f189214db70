import { z } from 'zod';
import { moveToNextStageSchema, decisionValueSchema } from './definition-schema';
import {
  applyResultSchema,
  instanceStatusSchema,
  recommendationSchema,
  stageStatusSchema,
} from './graph-resources';
import { applyObservationSchema } from './apply-observations';

// The audit evidence of one review instance, as the export writes it: a header and one record per
// decision item, each a link of a SHA-256 hash chain (src/evidence/chain.ts), then a digest. These
// schemas check every link before it is hashed, so nothing but these fields ever reaches a file.

const dateTime = z.iso.datetime({ offset: true });
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

/** Someone in the trail: a reviewer, the one who decided, the one who applied. */
export const evidencePersonSchema = z.strictObject({
  id: z.string(),
  displayName: z.string().nullable(),
  userPrincipalName: z.string().nullable(),
});
export type EvidencePerson = z.infer<typeof evidencePersonSchema>;

/** How a stage names its reviewers (decoded from the definition's reviewer scopes). */
export const evidenceReviewerSpecSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('self') }),
  z.strictObject({ kind: z.literal('manager') }),
  z.strictObject({ kind: z.literal('groupOwners'), groupId: z.string() }),
  z.strictObject({ kind: z.literal('applicationOwners'), applicationId: z.string() }),
  z.strictObject({ kind: z.literal('user'), userId: z.string() }),
  z.strictObject({ kind: z.literal('groupMembers'), groupId: z.string() }),
]);

/** Where a decision came from: a reviewer, an accepted recommendation, the default decision, or nowhere. */
export const decisionSourceSchema = z.enum(['reviewer', 'recommendation', 'defaultDecision', 'none']);
export type DecisionSource = z.infer<typeof decisionSourceSchema>;

/** The chain fields every link carries. */
const link = { prevHash: sha256Hex, hash: sha256Hex };

/** Link 0: the instance, its scope, period, settings and stages. */
export const evidenceHeaderSchema = z.strictObject({
  sequence: z.literal(0),
  recordType: z.literal('accessReviewInstance'),
  definitionId: z.string(),
  instanceId: z.string(),
  displayName: z.string(),
  status: instanceStatusSchema,
  startDateTime: dateTime,
  endDateTime: dateTime,
  appliedDateTime: dateTime.nullable(),
  scope: z.strictObject({
    resourceType: z.enum(['group', 'application']),
    resourceId: z.string(),
    resourceDisplayName: z.string().nullable(),
    principals: z.enum(['all', 'guests']),
    inactiveDurationInDays: z.number().nullable(),
  }),
  settings: z.strictObject({
    justificationRequiredOnApproval: z.boolean(),
    defaultDecisionEnabled: z.boolean(),
    defaultDecision: z.enum(['None', 'Approve', 'Deny', 'Recommendation']),
    autoApplyDecisionsEnabled: z.boolean(),
    decisionHistoriesForReviewersEnabled: z.boolean(),
    mailNotificationsEnabled: z.boolean(),
    reminderNotificationsEnabled: z.boolean(),
    denyAction: z.enum(['removeAccess', 'disableAndDeleteUser']),
  }),
  stages: z.array(
    z.strictObject({
      stageId: z.string(),
      status: stageStatusSchema,
      startDateTime: dateTime.nullable(),
      endDateTime: dateTime.nullable(),
      durationInDays: z.number(),
      reviewers: z.array(evidenceReviewerSpecSchema),
      fallbackReviewers: z.array(evidenceReviewerSpecSchema),
      recommendationsEnabled: z.boolean(),
      recommendationLookBackDays: z.number(),
      decisionsThatWillMoveToNextStage: z.array(moveToNextStageSchema).nullable(),
    }),
  ),
  /** Reviewers changed after the instance started, oldest first. */
  reviewerChanges: z.array(
    z.strictObject({
      stageId: z.string(),
      changedDateTime: dateTime,
      changedBy: z.string(),
      reviewers: z.array(evidenceReviewerSpecSchema),
      fallbackReviewers: z.array(evidenceReviewerSpecSchema),
    }),
  ),
  itemCount: z.number().int().nonnegative(),
  generatedDateTime: dateTime,
  ...link,
});
export type EvidenceHeader = z.infer<typeof evidenceHeaderSchema>;

/** One stage of an item's trail. */
export const evidenceStageSchema = z.strictObject({
  stageId: z.string(),
  reviewers: z.array(evidencePersonSchema),
  /** The recommendation the stage's reviewers were shown. */
  recommendation: recommendationSchema.nullable(),
  decision: decisionValueSchema,
  decisionSource: decisionSourceSchema.exclude(['defaultDecision']),
  reviewedBy: evidencePersonSchema.nullable(),
  reviewedDateTime: dateTime.nullable(),
  justification: z.string().nullable(),
});
export type EvidenceStage = z.infer<typeof evidenceStageSchema>;

/** Links 1…n: one decision item with its whole trail. */
export const evidenceRecordSchema = z.strictObject({
  sequence: z.number().int().positive(),
  recordType: z.literal('decisionItem'),
  itemId: z.string(),
  principal: evidencePersonSchema,
  /** The item's decision at instance level: its final decision once the review completed. */
  decision: decisionValueSchema,
  decisionSource: decisionSourceSchema,
  reviewedBy: evidencePersonSchema.nullable(),
  reviewedDateTime: dateTime.nullable(),
  justification: z.string().nullable(),
  stages: z.array(evidenceStageSchema),
  applyResult: applyResultSchema,
  appliedBy: evidencePersonSchema.nullable(),
  appliedDateTime: dateTime.nullable(),
  /** What the directory held right after the item was applied; null when nothing was applied or read. */
  directoryState: applyObservationSchema.nullable(),
  ...link,
});
export type EvidenceRecord = z.infer<typeof evidenceRecordSchema>;

/** The end of a file: how many decision item records it holds and the hash of its last link. */
export const evidenceDigestSchema = z.strictObject({
  recordCount: z.number().int().nonnegative(),
  finalHash: sha256Hex,
});
export type EvidenceDigest = z.infer<typeof evidenceDigestSchema>;

/** The JSON evidence file as a whole (documented in the OpenAPI; written and checked line by line). */
export const evidenceFileSchema = z
  .strictObject({
    format: z.literal('stagecoach.accessReviewEvidence'),
    formatVersion: z.literal(1),
    hashAlgorithm: z.literal('SHA-256'),
    genesisHash: sha256Hex,
    header: evidenceHeaderSchema,
    records: z.array(evidenceRecordSchema),
    digest: evidenceDigestSchema,
  })
  .meta({
    description:
      'Audit evidence of one access review instance: a header and one record per decision item, each a ' +
      'link of a SHA-256 hash chain (hash = SHA-256(prevHash + canonical JSON of the link without hash)), ' +
      'then the digest. Verify with `npm run verify-evidence -- <file>`.',
  });
