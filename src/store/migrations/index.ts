import type { Kysely, Migration, MigrationResult } from 'kysely';
import { Migrator } from 'kysely';
import type { Database } from '../schema';
import * as applyLedger from './0001-apply-ledger';
import * as reviewRecords from './0002-review-records';
import * as historyReports from './0003-history-reports';
import * as applyObservations from './0004-apply-observations';
import * as notificationSends from './0005-notification-sends';
import * as reviewDelegations from './0006-review-delegations';

/**
 * Every migration, in order, imported statically (no folder scan), so they run the same under tsx and
 * from a compiled build. Names sort in the order they apply; never rename or edit one that has shipped.
 */
export const migrations: Readonly<Record<string, Migration>> = {
  '0001-apply-ledger': applyLedger,
  '0002-review-records': reviewRecords,
  '0003-history-reports': historyReports,
  '0004-apply-observations': applyObservations,
  '0005-notification-sends': notificationSends,
  '0006-review-delegations': reviewDelegations,
};

/**
 * Brings the database to the latest schema; returns the names of the migrations it applied (none when it
 * was up to date). Safe when several processes start at once: Kysely's migrator holds a PostgreSQL
 * advisory lock while it checks and applies, so each migration runs once.
 */
export async function migrateToLatest(db: Kysely<Database>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => ({ ...migrations }) } });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results.find((r: MigrationResult) => r.status === 'Error');
    const reason = error instanceof Error ? error.message : JSON.stringify(error);
    throw new Error(failed ? `migration ${failed.migrationName} failed: ${reason}` : reason);
  }
  return results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
