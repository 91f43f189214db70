/**
 * Where a message stands: claimed (about to be sent, or cut off while sending), sent, or refused for good
 * by the mail server.
 */
export type SendState = 'claimed' | 'sent' | 'rejected';

/**
 * Remembers every message a review sends, by idempotency key. A message is claimed before it is sent and
 * marked after, so it goes out at most once across activity retries, worker crashes and continue-as-new.
 */
export interface NotificationLedger {
  /** Claims `key`: `claimed` when this call took it, otherwise the state an earlier attempt left. */
  claim(key: string): Promise<{ taken: true } | { taken: false; state: SendState }>;
  mark(key: string, state: 'sent' | 'rejected'): Promise<void>;
  /** Gives a claim back when the message certainly did not go out (the server refused the connection). */
  release(key: string): Promise<void>;
}

/** A ledger for tests and single-process demos. */
export class InMemoryNotificationLedger implements NotificationLedger {
  private readonly entries = new Map<string, SendState>();
  async claim(key: string) {
    const state = this.entries.get(key);
    if (state) return { taken: false as const, state };
    this.entries.set(key, 'claimed');
    return { taken: true as const };
  }
  async mark(key: string, state: 'sent' | 'rejected') {
    this.entries.set(key, state);
  }
  async release(key: string) {
    if (this.entries.get(key) === 'claimed') this.entries.delete(key);
  }
}
