import { z } from 'zod';
import { applyResultSchema } from '../domain/graph-resources';
import type { ApplyResult } from '../domain/review-events';

/** What the ledger knows of an item: its result, or `Pending` while its directory write may be under way. */
export type LedgerEntry = ApplyResult | 'Pending';

/** A ledger entry as stored: an apply result or `Pending`; anything else is refused when read. */
export const ledgerEntrySchema: z.ZodType<LedgerEntry> = z.union([applyResultSchema, z.literal('Pending')]);

/**
 * Remembers the result of every applied decision item, so that applying again (an activity retry
 * after a worker crash, or an admin pressing apply twice) changes nothing and reports the same result.
 */
export interface ApplyLedger {
  get(key: string): Promise<LedgerEntry | undefined>;
  put(key: string, entry: LedgerEntry): Promise<void>;
}

/** A ledger for tests and single-process demos. */
export class InMemoryApplyLedger implements ApplyLedger {
  private readonly entries = new Map<string, LedgerEntry>();
  async get(key: string) {
    return this.entries.get(key);
  }
  async put(key: string, entry: LedgerEntry) {
    this.entries.set(key, entry);
  }
}
