import { AppError } from '../domain/errors';
import type { Viewer } from '../domain/review-rules';

/** The authenticated caller of an API request. */
export interface Caller {
  userId: string;
  isAdmin: boolean;
}

/** How the review engine sees a caller: admins see everything unless they ask for their own items. */
export const viewerOf = (caller: Caller, asReviewer = false): Viewer =>
  caller.isAdmin && !asReviewer
    ? { kind: 'admin', userId: caller.userId }
    : { kind: 'reviewer', userId: caller.userId };

/** 403 unless the caller is an access review administrator. */
export function requireAdmin(
  caller: Caller,
  message = 'Only access review administrators can do this',
): void {
  if (!caller.isAdmin) throw new AppError('auth.admin_required', message);
}
