import type { components } from './schema';

/** A decision item as the API answers it without $select. */
export type DecisionItem = components['schemas']['AccessReviewInstanceDecisionItem'];
/** A review stage. */
export type Stage = components['schemas']['AccessReviewStage'];
/** A review instance. */
export type Instance = components['schemas']['AccessReviewInstance'];
/** A definition: what is reviewed, its stages and settings. */
export type Definition = components['schemas']['AccessReviewScheduleDefinition'] & {
  id: string;
  status?: string;
};
/** The decisions a reviewer can record. */
export type ReviewerDecision = 'Approve' | 'Deny' | 'DontKnow';
