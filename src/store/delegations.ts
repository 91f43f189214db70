/** Out of office: while it lasts, the items a user would review go to their delegate. */
export interface Delegation {
  userId: string;
  delegateId: string;
  /** Until when (ISO 8601); stages starting later are the user's own again. */
  endDateTime: string;
  justification: string;
  createdBy: string;
  createdDateTime: string;
}

/** Where delegations are kept (PostgreSQL in production, memory in tests and demos without a database). */
export interface DelegationStore {
  get(userId: string): Promise<Delegation | undefined>;
  put(delegation: Delegation): Promise<void>;
  /** Whether there was one to delete. */
  delete(userId: string): Promise<boolean>;
  /** The delegations of these users that last beyond `at`. */
  activeFor(userIds: readonly string[], at: string): Promise<Delegation[]>;
}

/** Delegations in memory, for tests and single-process demos. */
export class InMemoryDelegations implements DelegationStore {
  private readonly byUser = new Map<string, Delegation>();
  async get(userId: string) {
    return this.byUser.get(userId);
  }
  async put(delegation: Delegation) {
    this.byUser.set(delegation.userId, { ...delegation });
  }
  async delete(userId: string) {
    return this.byUser.delete(userId);
  }
  async activeFor(userIds: readonly string[], at: string) {
    const when = Date.parse(at);
    return userIds
      .map((id) => this.byUser.get(id))
      .filter((d): d is Delegation => d !== undefined && Date.parse(d.endDateTime) > when);
  }
}
