import type { Recurrence } from './definition-schema';
import { DAY_MS } from './review-plan';

function addMonthsClamped(ms: number, months: number): number {
  const d = new Date(ms);
  const day = d.getUTCDate();
  const target = new Date(
    Date.UTC(
      d.getUTCFullYear(),
      d.getUTCMonth() + months,
      1,
      d.getUTCHours(),
      d.getUTCMinutes(),
      d.getUTCSeconds(),
      d.getUTCMilliseconds(),
    ),
  );
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(day, lastDay));
  return target.getTime();
}

/**
 * R13: when occurrence `index` (0-based) of a series starts, or undefined when the range has ended.
 * The series is anchored at the later of the range's start date and the definition's creation, so a
 * definition created after its start date starts its first review at once.
 */
export function occurrenceStart(
  recurrence: Recurrence | null | undefined,
  createdDateTime: string,
  index: number,
): string | undefined {
  const created = Date.parse(createdDateTime);
  if (!recurrence) return index === 0 ? createdDateTime : undefined;
  const { pattern, range } = recurrence;
  const anchor = Math.max(Date.parse(`${range.startDate}T00:00:00Z`), created);
  if (range.type === 'numbered' && index >= range.numberOfOccurrences) return undefined;
  const at =
    pattern.type === 'weekly'
      ? anchor + index * 7 * pattern.interval * DAY_MS
      : addMonthsClamped(anchor, index * pattern.interval);
  if (range.type === 'endDate' && range.endDate && at > Date.parse(`${range.endDate}T23:59:59.999Z`))
    return undefined;
  return new Date(at).toISOString();
}
