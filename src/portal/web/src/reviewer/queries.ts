import { keepPreviousData, useQueries, useQuery } from '@tanstack/react-query';
import type { DecisionItem, StageRef } from './api';
import { definition, myItems, myStages } from './api';
import { idFilters } from './filters';

/** Query keys of the reviewer pages; a decision invalidates `items` and `myReviews`. */
export const keys = {
  myReviews: ['my-reviews'] as const,
  definition: (definitionId: string) => ['definition', definitionId] as const,
  stages: (definitionId: string, instanceId: string) => ['my-stages', definitionId, instanceId] as const,
  items: (ref: StageRef) => ['my-items', ref.definitionId, ref.instanceId, ref.stageId] as const,
};

/** The review around the items page: its definition and the stages the caller sees. */
export function useReview(definitionId: string, instanceId: string) {
  const def = useQuery({
    queryKey: keys.definition(definitionId),
    queryFn: () => definition(definitionId),
    staleTime: 60_000,
  });
  const stages = useQuery({
    queryKey: keys.stages(definitionId, instanceId),
    queryFn: () => myStages(definitionId, instanceId),
    staleTime: 60_000,
  });
  return { def, stages };
}

/** A page of the caller's items, the reviewees' sign-in insights included (one request for the page). */
export function useItemsPage(
  ref: StageRef,
  q: { filter?: string; orderBy?: string; skip: number; top: number },
  enabled = true,
) {
  return useQuery({
    queryKey: [...keys.items(ref), q],
    queryFn: ({ signal }) => myItems(ref, { ...q, expand: 'insights' }, signal),
    placeholderData: keepPreviousData,
    enabled,
  });
}

/** The number of the caller's items matching a filter (for counts in dialogs). */
export function useItemCount(ref: StageRef, filter: string | undefined, enabled: boolean) {
  return useQuery({
    queryKey: [...keys.items(ref), 'count', filter ?? ''],
    queryFn: async () => (await myItems(ref, { filter, top: 1, skip: 0, select: 'id' })).total,
    enabled,
  });
}

/** One earlier stage's decisions on the items of a page, by item id. */
export type EarlierDecisions = { stageId: string; byItem: Map<string, DecisionItem> }[];

/**
 * Earlier stages' decisions on the page's items, only where the definition lets reviewers see them: one
 * request per earlier stage and 35 items (the `id eq … or …` filter's length stays within the API's).
 */
export function useEarlierDecisions(
  ref: StageRef,
  earlierStageIds: string[],
  items: DecisionItem[] | undefined,
): EarlierDecisions | undefined {
  const filters = items?.length ? idFilters(items) : [];
  const results = useQueries({
    queries: earlierStageIds.map((stageId) => ({
      queryKey: [...keys.items(ref), 'earlier', stageId, filters],
      queryFn: async () => {
        const pages = await Promise.all(
          filters.map((filter) =>
            myItems(
              { ...ref, stageId },
              { filter, top: 100, skip: 0, select: 'id,decision,justification,reviewedBy,reviewedDateTime' },
            ),
          ),
        );
        return new Map(pages.flatMap((p) => p.value).map((i) => [i.id, i]));
      },
      enabled: filters.length > 0,
    })),
  });
  if (earlierStageIds.length === 0) return undefined;
  return earlierStageIds.map((stageId, i) => ({ stageId, byItem: results[i]?.data ?? new Map() }));
}
