import type {
  Definition,
  DefinitionInput,
  ReviewerScope,
  ReviewScope,
  StageSettings,
} from './definition-schema';
import { USER_IDENTITY } from './graph-names';

// Graph's SDKs pick the model of a polymorphic object by its `@odata.type`; an object without one is
// parsed as the abstract base type and its properties end up in additional data. Definitions are
// therefore answered with the type of every polymorphic object filled in, whether or not the client
// that created them sent it (Graph does the same).

export const REVIEWER_SCOPE = '#microsoft.graph.accessReviewReviewerScope';
export const QUERY_SCOPE = '#microsoft.graph.accessReviewQueryScope';
export const INACTIVE_USERS_SCOPE = '#microsoft.graph.accessReviewInactiveUsersQueryScope';
export const STAGE_SETTINGS = '#microsoft.graph.accessReviewStageSettings';

const reviewerScope = (r: ReviewerScope): ReviewerScope => ({ '@odata.type': REVIEWER_SCOPE, ...r });
const reviewScope = (s: ReviewScope): ReviewScope => ({
  '@odata.type': s.inactiveDuration !== undefined ? INACTIVE_USERS_SCOPE : QUERY_SCOPE,
  ...s,
});
const stage = ({ recommendationInsightsSettings: earlier, ...s }: StageSettings): StageSettings => ({
  '@odata.type': STAGE_SETTINGS,
  ...s,
  // The earlier spelling is answered under Graph's name.
  ...(s.recommendationInsightSettings || earlier
    ? { recommendationInsightSettings: s.recommendationInsightSettings ?? earlier }
    : {}),
  reviewers: s.reviewers.map(reviewerScope),
  fallbackReviewers: s.fallbackReviewers.map(reviewerScope),
});

/** The definition with `@odata.type` on its scopes, reviewer scopes and stage settings (R: Graph shape). */
export function withGraphTypes<T extends DefinitionInput | Definition>(definition: T): T {
  return {
    ...definition,
    scope: reviewScope(definition.scope),
    ...(definition.instanceEnumerationScope
      ? { instanceEnumerationScope: reviewScope(definition.instanceEnumerationScope) }
      : {}),
    reviewers: definition.reviewers.map(reviewerScope),
    fallbackReviewers: definition.fallbackReviewers.map(reviewerScope),
    ...(definition.backupReviewers ? { backupReviewers: definition.backupReviewers.map(reviewerScope) } : {}),
    ...(definition.stageSettings ? { stageSettings: definition.stageSettings.map(stage) } : {}),
    ...('createdBy' in definition && definition.createdBy
      ? { createdBy: { '@odata.type': USER_IDENTITY, ...definition.createdBy } }
      : {}),
  };
}
