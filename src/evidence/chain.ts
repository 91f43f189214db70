import { createHash } from 'node:crypto';

// The hash chain of an evidence file: every link carries the hash of the link before it (`prevHash`) and
// its own `hash = SHA-256(prevHash + canonical JSON of the link without hash)`, hex, lowercase; the first
// link's prevHash is GENESIS_HASH. Changing, removing or reordering any link breaks every hash after it,
// and the digest at the end of the file names the last hash and the number of records.

/** The prevHash of the first link: 64 zeros. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * Canonical JSON (RFC 8785 for the values evidence holds: strings, booleans, null, integers): object keys
 * sorted by UTF-16 code units, no whitespace, strings escaped as JSON.stringify escapes them.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value);
    if (text === undefined) throw new Error(`cannot canonicalize ${typeof value}`);
    return text;
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** SHA-256 of `prevHash` followed by the canonical JSON of the link without its hash, as lowercase hex. */
export function linkHash(prevHash: string, withoutHash: object): string {
  return createHash('sha256')
    .update(prevHash + canonicalJson(withoutHash), 'utf8')
    .digest('hex');
}

/** Links values one after the other: each gets the previous hash and its own. */
export class HashChain {
  private last = GENESIS_HASH;
  private links = 0;

  link<T extends object>(value: T): T & { prevHash: string; hash: string } {
    const withPrev = { ...value, prevHash: this.last };
    const hash = linkHash(this.last, withPrev);
    this.last = hash;
    this.links++;
    return { ...withPrev, hash };
  }

  /** The hash of the last link (GENESIS_HASH before the first). */
  get finalHash(): string {
    return this.last;
  }

  /** How many links were made. */
  get length(): number {
    return this.links;
  }
}
