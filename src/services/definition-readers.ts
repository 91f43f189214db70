import { AppError } from '../domain/errors';
import type { Caller } from './caller';
import type { InstanceService } from './instances';

/**
 * Whether the caller reviews something in a stage in progress of one of the definition's instances.
 * A definition deleted a moment ago (the workflow list may still show it) is no one's any more.
 */
export async function reviewsIn(
  instances: Pick<InstanceService, 'list'>,
  definitionId: string,
  caller: Caller,
): Promise<boolean> {
  const reviewing = await instances.list(definitionId, caller, true).catch((err: unknown) => {
    if (err instanceof AppError && err.code === 'definition.not_found') return [];
    throw err;
  });
  return reviewing.length > 0;
}

/**
 * 403 unless the caller may read the definition: admins, and its reviewers of a stage in progress.
 * Others get the same 403 for unknown ids, so the answer does not tell which definitions exist.
 */
export async function requireDefinitionReader(
  instances: Pick<InstanceService, 'list'>,
  definitionId: string,
  caller: Caller,
): Promise<void> {
  if (caller.isAdmin || (await reviewsIn(instances, definitionId, caller))) return;
  throw new AppError(
    'auth.admin_required',
    'Only access review administrators and the reviewers of a stage in progress can read a definition',
  );
}
