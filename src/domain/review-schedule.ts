import type { ReviewPlan } from './review-plan';
import { DAY_MS } from './review-plan';

/** A moment in a stage when the review acts by itself: a reminder, or the escalation of undecided items. */
export interface StagePoint {
  /** `halfway`, `due-<days>` or `escalation`: kept once acted on, so it happens once per stage. */
  key: string;
  kind: 'reminder' | 'escalation';
  /** Epoch milliseconds. */
  at: number;
}

/**
 * The scheduled points of a stage that started at `startDateTime`, in time order: with
 * reminderNotificationsEnabled a reminder halfway through (as Entra sends it) and one on each of
 * `reminderDaysBeforeDue`; the stage's escalation. Points at or before the start, or at or after the end,
 * are left out.
 */
export function stagePoints(plan: ReviewPlan, stageIndex: number, startDateTime: string): StagePoint[] {
  const stage = plan.stages[stageIndex];
  if (!stage) return [];
  const start = Date.parse(startDateTime);
  const end = start + stage.durationInDays * DAY_MS;
  const points: StagePoint[] = [];
  if (plan.settings.mailNotificationsEnabled && plan.settings.reminderNotificationsEnabled) {
    points.push({ key: 'halfway', kind: 'reminder', at: start + (end - start) / 2 });
    for (const days of plan.settings.reminderDaysBeforeDue ?? []) {
      points.push({ key: `due-${days}`, kind: 'reminder', at: end - days * DAY_MS });
    }
  }
  if (stage.escalation) {
    points.push({ key: 'escalation', kind: 'escalation', at: end - stage.escalation.daysBeforeEnd * DAY_MS });
  }
  const seen = new Set<number>();
  return points
    .filter((p) => p.at > start && p.at < end)
    .sort((a, b) => a.at - b.at || a.key.localeCompare(b.key))
    .filter((p) => {
      // Two reminders at the same moment (halfway of a 6-day stage and 3 days before its end) are one.
      if (p.kind !== 'reminder') return true;
      if (seen.has(p.at)) return false;
      seen.add(p.at);
      return true;
    });
}

/** The first point of a stage not yet acted on. */
export function nextStagePoint(
  plan: ReviewPlan,
  stageIndex: number,
  startDateTime: string,
  done: readonly string[],
): StagePoint | undefined {
  return stagePoints(plan, stageIndex, startDateTime).find((p) => !done.includes(p.key));
}
