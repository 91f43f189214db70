import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
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

/** An append-only JSON-lines ledger file; survives worker restarts. */
export class FileApplyLedger implements ApplyLedger {
  private readonly entries = new Map<string, LedgerEntry>();
  private tail: Promise<void> = Promise.resolve();

  private constructor(private readonly file: string) {}

  static async open(file: string): Promise<FileApplyLedger> {
    const ledger = new FileApplyLedger(file);
    await mkdir(dirname(file), { recursive: true });
    const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return '';
      throw e;
    });
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        const { k, r } = JSON.parse(line) as { k: string; r: LedgerEntry };
        ledger.entries.set(k, r);
      } catch {
        // A torn last line from a crash mid-write: the entry was never acknowledged, so skipping it is safe.
      }
    }
    return ledger;
  }

  async get(key: string) {
    return this.entries.get(key);
  }

  async put(key: string, entry: LedgerEntry) {
    this.entries.set(key, entry);
    const line = `${JSON.stringify({ k: key, r: entry })}\n`;
    this.tail = this.tail.then(() => appendFile(this.file, line));
    await this.tail;
  }
}
