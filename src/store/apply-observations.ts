import type { ApplyObservation } from '../domain/apply-observations';

/** One item's read-back, as the apply activity hands it to the store. */
export interface ItemObservation {
  itemId: string;
  observation: ApplyObservation;
}

/**
 * The directory state read back after each applied decision item, one per (instance, item). The first
 * observation of an item is kept: a retried apply activity, or a replayed batch, adds nothing.
 */
export interface ApplyObservationStore {
  /** The ids among `itemIds` that have no observation yet, in the order given. */
  missing(instanceId: string, itemIds: readonly string[]): Promise<string[]>;
  /** Keeps each observation unless its item has one already. */
  add(instanceId: string, observations: readonly ItemObservation[]): Promise<void>;
  /** The observations of the given items that exist. */
  get(instanceId: string, itemIds: readonly string[]): Promise<Map<string, ApplyObservation>>;
}

/** Observations in memory: for tests and single-process demos without a database. */
export class InMemoryApplyObservations implements ApplyObservationStore {
  private readonly byKey = new Map<string, ApplyObservation>();

  async missing(instanceId: string, itemIds: readonly string[]) {
    return itemIds.filter((id) => !this.byKey.has(`${instanceId}/${id}`));
  }

  async add(instanceId: string, observations: readonly ItemObservation[]) {
    for (const { itemId, observation } of observations) {
      const key = `${instanceId}/${itemId}`;
      if (!this.byKey.has(key)) this.byKey.set(key, structuredClone(observation));
    }
  }

  async get(instanceId: string, itemIds: readonly string[]) {
    const found = new Map<string, ApplyObservation>();
    for (const id of itemIds) {
      const observation = this.byKey.get(`${instanceId}/${id}`);
      if (observation) found.set(id, structuredClone(observation));
    }
    return found;
  }
}
