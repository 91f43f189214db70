import type { Definition, DecisionItem } from './api';

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** A date for people ("12 Dec 2026"); an em dash when there is none. */
export function formatDate(iso: string | null | undefined): string {
  return iso ? dateFormat.format(new Date(iso)) : '—';
}

/** A date and time for people. */
export function formatDateTime(iso: string | null | undefined): string {
  return iso ? dateTimeFormat.format(new Date(iso)) : '—';
}

/** Words for a decision value. */
export const DECISION_LABEL: Record<DecisionItem['decision'], string> = {
  Approve: 'Approved',
  Deny: 'Denied',
  DontKnow: "Don't know",
  NotReviewed: 'Not reviewed',
};

/** Days in an ISO 8601 duration the definitions use (P30D, P4W, P1M…); undefined when not understood. */
export function durationDays(duration: string | null | undefined): number | undefined {
  const m = duration ? /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$/.exec(duration) : null;
  if (!m || !m.slice(1).some(Boolean)) return undefined;
  const [y, mo, w, d] = m.slice(1).map((v) => Number(v ?? 0)) as [number, number, number, number];
  return y * 365 + mo * 30 + w * 7 + d;
}

/** The look-back window of a stage's recommendations, in days (the API's default is 30). */
export function lookBackDays(def: Definition | undefined, stageId: string | undefined): number {
  const stage = def?.stageSettings?.find((s) => s.stageId === stageId);
  const fromInsights = (list: { recommendationLookBackDuration?: string | null }[] | undefined) =>
    list?.find((s) => s.recommendationLookBackDuration)?.recommendationLookBackDuration;
  const duration =
    fromInsights(stage?.recommendationInsightSettings ?? stage?.recommendationInsightsSettings) ??
    stage?.recommendationLookBackDuration ??
    fromInsights(def?.settings.recommendationInsightSettings) ??
    def?.settings.recommendationLookBackDuration;
  return durationDays(duration) ?? 30;
}

/** Why the item has its recommendation: the reviewee's sign-in against the look-back window. */
export function recommendationReason(item: DecisionItem, days: number): string {
  const lastSignIn = item.insights?.[0]?.lastSignInDateTime;
  const last = lastSignIn ? `last sign-in ${formatDate(lastSignIn)}` : 'no sign-in recorded';
  switch (item.recommendation) {
    case 'Approve':
      return `Signed in within ${days} days before the review (${last})`;
    case 'Deny':
      return `No sign-in within ${days} days before the review (${last})`;
    case 'NoInfoAvailable':
      return `No sign-in information (${last})`;
    default:
      return lastSignIn ? `Last sign-in ${formatDate(lastSignIn)}` : '';
  }
}

/** The group or application an instance reviews, from its scope query. */
export function scopeResourceId(
  query: string | undefined,
): { kind: 'group' | 'application'; id: string } | undefined {
  const m = query ? /\/(groups|servicePrincipals)\/([^/]+)/.exec(query) : null;
  if (!m) return undefined;
  return { kind: m[1] === 'groups' ? 'group' : 'application', id: m[2]! };
}
