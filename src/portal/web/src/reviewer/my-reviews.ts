import type { StageRef } from './api';
import { myDefinitions, myInstances, myItems, myStages } from './api';

/** One review waiting for the signed-in user: a stage in progress in which they have items. */
export interface PendingReview extends StageRef {
  name: string;
  description: string | null;
  /** The group or application under review, as the items name it. */
  resource: string | null;
  stageNumber: number;
  stageCount: number;
  /** When the stage in progress ends. */
  due: string | null;
  decided: number;
  total: number;
}

/** Where one review's items are: its stage in progress. */
export const reviewPath = (r: StageRef) => `/reviews/${r.definitionId}/${r.instanceId}/${r.stageId}`;

/**
 * Every review in which the caller has items in the stage in progress, across all definitions: the
 * definitions and instances they review now, each instance's current stage and their tally in it.
 */
export async function pendingReviews(): Promise<PendingReview[]> {
  const definitions = await myDefinitions();
  const perDefinition = await Promise.all(
    definitions.map(async (def) => {
      const instances = await myInstances(def.id);
      return Promise.all(
        instances.map(async (instance): Promise<PendingReview | undefined> => {
          const stages = await myStages(def.id, instance.id);
          const index = stages.findIndex((s) => s.status === 'InProgress');
          const stage = stages[index];
          if (!stage) return undefined;
          const ref = { definitionId: def.id, instanceId: instance.id, stageId: stage.id };
          const [all, decided] = await Promise.all([
            myItems(ref, { top: 1, skip: 0 }),
            myItems(ref, { top: 1, skip: 0, select: 'id', filter: "decision ne 'NotReviewed'" }),
          ]);
          if (all.total === 0) return undefined;
          return {
            ...ref,
            name: def.displayName,
            description: def.descriptionForReviewers ?? null,
            resource: all.value[0]?.resource?.displayName ?? null,
            stageNumber: index + 1,
            stageCount: stages.length,
            due: stage.endDateTime ?? instance.endDateTime,
            decided: decided.total,
            total: all.total,
          };
        }),
      );
    }),
  );
  return perDefinition
    .flat()
    .filter((r): r is PendingReview => r !== undefined)
    .sort((a, b) => (a.due ?? '').localeCompare(b.due ?? '') || a.name.localeCompare(b.name));
}
