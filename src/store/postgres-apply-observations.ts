import type { Kysely } from 'kysely';
import type { ApplyObservation } from '../domain/apply-observations';
import { applyObservationSchema } from '../domain/apply-observations';
import type { ApplyObservationStore, ItemObservation } from './apply-observations';
import type { Database } from './schema';

/**
 * The apply observations in PostgreSQL (table `apply_observations`): one row per (instance, item); the
 * first observation stays (insert … on conflict do nothing), so retries and replays change nothing.
 */
export class PostgresApplyObservations implements ApplyObservationStore {
  constructor(private readonly db: Kysely<Database>) {}

  async missing(instanceId: string, itemIds: readonly string[]): Promise<string[]> {
    if (itemIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('apply_observations')
      .select('item_id')
      .where('instance_id', '=', instanceId)
      .where('item_id', 'in', [...itemIds])
      .execute();
    const known = new Set(rows.map((row) => row.item_id));
    return itemIds.filter((id) => !known.has(id));
  }

  async add(instanceId: string, observations: readonly ItemObservation[]): Promise<void> {
    if (observations.length === 0) return;
    await this.db
      .insertInto('apply_observations')
      .values(
        observations.map((o) => ({
          instance_id: instanceId,
          item_id: o.itemId,
          observation: JSON.stringify(o.observation),
        })),
      )
      .onConflict((oc) => oc.columns(['instance_id', 'item_id']).doNothing())
      .execute();
  }

  async get(instanceId: string, itemIds: readonly string[]): Promise<Map<string, ApplyObservation>> {
    if (itemIds.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('apply_observations')
      .select(['item_id', 'observation'])
      .where('instance_id', '=', instanceId)
      .where('item_id', 'in', [...itemIds])
      .execute();
    return new Map(rows.map((row) => [row.item_id, applyObservationSchema.parse(row.observation)]));
  }
}
