import type { z } from 'zod';
import type { recommendationSchema } from './graph-resources';
import { DAY_MS } from './review-plan';

/** A recommendation shown to reviewers (R8). */
export type RecommendationValue = z.infer<typeof recommendationSchema>;

/**
 * Deny when the reviewee has not signed in within the look-back window before the instance start,
 * Approve when they have, NoInfoAvailable when sign-in activity is unknown.
 */
export function recommend(
  lastSignInDateTime: string | null | undefined,
  instanceStartDateTime: string,
  lookBackDays: number,
): RecommendationValue {
  if (!lastSignInDateTime) return 'NoInfoAvailable';
  const lastSignIn = Date.parse(lastSignInDateTime);
  if (Number.isNaN(lastSignIn)) return 'NoInfoAvailable';
  const windowStart = Date.parse(instanceStartDateTime) - lookBackDays * DAY_MS;
  return lastSignIn >= windowStart ? 'Approve' : 'Deny';
}

/**
 * R12: a user is inactive when they have not signed in for `inactiveDays` before the instance start;
 * users created within that window are not reviewed as inactive (they had no chance to sign in).
 */
export function isInactive(
  user: { lastSignInDateTime?: string | null; createdDateTime: string },
  instanceStartDateTime: string,
  inactiveDays: number,
): boolean {
  const windowStart = Date.parse(instanceStartDateTime) - inactiveDays * DAY_MS;
  if (Date.parse(user.createdDateTime) > windowStart) return false;
  if (!user.lastSignInDateTime) return true;
  return Date.parse(user.lastSignInDateTime) < windowStart;
}
