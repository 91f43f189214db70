import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Delegation, DelegationStore } from './delegations';
import type { Database } from './schema';

/** Delegations in PostgreSQL (table `review_delegations`, one row per user who delegates). */
export class PostgresDelegations implements DelegationStore {
  constructor(private readonly db: Kysely<Database>) {}

  async get(userId: string): Promise<Delegation | undefined> {
    const row = await this.db
      .selectFrom('review_delegations')
      .select('delegation')
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return row?.delegation as Delegation | undefined;
  }

  async put(delegation: Delegation): Promise<void> {
    const values = {
      user_id: delegation.userId,
      end_date_time: new Date(delegation.endDateTime),
      delegation: JSON.stringify(delegation),
    };
    await this.db
      .insertInto('review_delegations')
      .values(values)
      .onConflict((oc) =>
        oc.column('user_id').doUpdateSet({
          end_date_time: values.end_date_time,
          delegation: values.delegation,
          updated_at: sql<Date>`now()`,
        }),
      )
      .execute();
  }

  async delete(userId: string): Promise<boolean> {
    const gone = await this.db
      .deleteFrom('review_delegations')
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return Number(gone.numDeletedRows) > 0;
  }

  async activeFor(userIds: readonly string[], at: string): Promise<Delegation[]> {
    if (userIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('review_delegations')
      .select('delegation')
      .where('user_id', 'in', [...userIds])
      .where('end_date_time', '>', new Date(at))
      .execute();
    return rows.map((r) => r.delegation as Delegation);
  }
}
