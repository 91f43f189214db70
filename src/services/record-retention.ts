import type { Logger } from 'pino';
import type { ReviewRecordStore } from '../store/review-records';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/**
 * Keeps the review records for `days` after a finished review last changed (RECORDS_RETENTION_DAYS):
 * deletes older ones now and once an hour. Returns the function that stops it. Without `days` nothing is
 * ever deleted and nothing runs.
 */
export function startRecordRetention(
  records: ReviewRecordStore,
  days: number | undefined,
  logger: Pick<Logger, 'info' | 'warn'>,
): () => void {
  if (days === undefined) return () => undefined;
  const prune = async () => {
    try {
      const pruned = await records.prune(new Date(Date.now() - days * DAY_MS));
      if (pruned > 0) logger.info({ pruned, days }, 'review records past their retention deleted');
    } catch (err) {
      logger.warn({ err }, 'could not delete review records past their retention; trying again in an hour');
    }
  };
  void prune();
  const timer = setInterval(() => void prune(), HOUR_MS);
  timer.unref();
  return () => clearInterval(timer);
}
