// Imported by workflows as well as by the dev server start, so nothing here may do I/O.
import { defineSearchAttributeKey, SearchAttributeType, TypedSearchAttributes } from '@temporalio/common';

/** Access review definition id, so the Web UI can list every instance of one definition. */
export const definitionIdSearchAttribute = defineSearchAttributeKey(
  'StagecoachDefinitionId',
  SearchAttributeType.KEYWORD,
);

/** Current stage of a review instance (e.g. "1", "2"), for filtering in the Web UI. */
export const stageSearchAttribute = defineSearchAttributeKey('StagecoachStage', SearchAttributeType.KEYWORD);

/**
 * Review status, for filtering in the Web UI: an instance's Graph `status` (InProgress, Completed,
 * Applied, …); a definition's series NotStarted, InProgress, or Completed once it ended (deleted, or its
 * last occurrence's instance finished).
 */
export const reviewStatusSearchAttribute = defineSearchAttributeKey(
  'StagecoachReviewStatus',
  SearchAttributeType.KEYWORD,
);

/** Every custom search attribute Stagecoach uses, as `{ name, type }`, for registering with a server. */
export const stagecoachSearchAttributes = [
  definitionIdSearchAttribute,
  stageSearchAttribute,
  reviewStatusSearchAttribute,
] as const;

/** `temporal server start-dev` arguments that register every Stagecoach search attribute. */
export function searchAttributeCliArgs(): string[] {
  return stagecoachSearchAttributes.flatMap(({ name, type }) => [
    '--search-attribute',
    `${name}=${TypedSearchAttributes.toMetadataType(type)}`,
  ]);
}
