/**
 * Reads reused for a while within one process (the shards of one review ask for the same group in
 * turn); a failed read is not kept, and the adapter clears everything around its own writes.
 */
export class ReadCache {
  private readonly entries = new Map<string, { until: number; value: Promise<unknown> }>();

  /** `ttlMs` 0 keeps nothing. */
  constructor(private readonly ttlMs: number) {}

  /** What `read` gives for `key`, reused for ttlMs. */
  get<T>(key: string, read: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && hit.until > now) return hit.value as Promise<T>;
    const value = read();
    if (this.ttlMs > 0) {
      this.entries.set(key, { until: now + this.ttlMs, value });
      value.catch(() => this.entries.delete(key));
    }
    return value;
  }

  /** Whether `key` holds a read that is still fresh. */
  has(key: string): boolean {
    return (this.entries.get(key)?.until ?? 0) > Date.now();
  }

  clear(): void {
    this.entries.clear();
  }
}
