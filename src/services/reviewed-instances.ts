import { AppError } from '../domain/errors';
import type { Caller } from './caller';
import type { DefinitionService } from './definitions';
import type { InstanceService } from './instances';

const DEFINITIONS_PAGE = 100;

/** An instance someone reviews an item of now. */
export interface ReviewedInstance {
  definitionId: string;
  instanceId: string;
}

/**
 * The instances where the caller reviews something in a stage in progress: filterByCurrentUser over every
 * definition (the records narrow the definitions to those the caller reviews in; without records the
 * series list has them all).
 */
export async function instancesReviewedBy(
  definitions: DefinitionService,
  instances: InstanceService,
  caller: Caller,
): Promise<ReviewedInstance[]> {
  const out: ReviewedInstance[] = [];
  for (let skip = 0; ; skip += DEFINITIONS_PAGE) {
    const page = definitions.recorded
      ? await definitions
          .page({ skip, top: DEFINITIONS_PAGE, reviewerId: caller.userId })
          .then((p) => ({ value: p.value, more: skip + p.value.length < p.total }))
      : await definitions.list(skip, DEFINITIONS_PAGE);
    for (const d of page.value) {
      const mine = (await instances.list(d.id, caller, true).catch(gone)) ?? [];
      out.push(...mine.map((i) => ({ definitionId: d.id, instanceId: i.id })));
    }
    if (!page.more) return out;
  }
}

/** A definition or instance deleted while it was being read reviews nothing any more. */
export function gone(err: unknown): undefined {
  if (err instanceof AppError && err.status === 404) return undefined;
  throw err;
}
