import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { NotificationLedger, SendState } from './notification-ledger';
import type { Database } from './schema';

const states: readonly SendState[] = ['claimed', 'sent', 'rejected'];

/**
 * The notification ledger in PostgreSQL (table `notification_sends`): a claim is one INSERT … ON CONFLICT
 * DO NOTHING, so two workers racing for the same message cannot both take it.
 */
export class PostgresNotificationLedger implements NotificationLedger {
  constructor(private readonly db: Kysely<Database>) {}

  async claim(key: string): Promise<{ taken: true } | { taken: false; state: SendState }> {
    const inserted = await this.db
      .insertInto('notification_sends')
      .values({ key, state: 'claimed' })
      .onConflict((oc) => oc.column('key').doNothing())
      .returning('key')
      .executeTakeFirst();
    if (inserted) return { taken: true };
    const row = await this.db
      .selectFrom('notification_sends')
      .select('state')
      .where('key', '=', key)
      .executeTakeFirstOrThrow();
    const state = states.find((s) => s === row.state);
    if (!state) throw new Error(`notification_sends: unknown state '${row.state}' for ${key}`);
    return { taken: false, state };
  }

  async mark(key: string, state: 'sent' | 'rejected'): Promise<void> {
    await this.db
      .updateTable('notification_sends')
      .set({ state, updated_at: sql<Date>`now()` })
      .where('key', '=', key)
      .execute();
  }

  async release(key: string): Promise<void> {
    await this.db
      .deleteFrom('notification_sends')
      .where('key', '=', key)
      .where('state', '=', 'claimed')
      .execute();
  }
}
