import {
  AndFilter,
  Client,
  EqualityFilter,
  FilterParser,
  NotFilter,
  OrFilter,
  ResultCodeError,
} from 'ldapts';
import type { Change, Entry, Filter, SearchOptions } from 'ldapts';
import { DirectoryUnavailableError } from '../port';
import type { LdapSettings } from './settings';

/** Socket-level failures: the server is down, unreachable, resets or stalls. */
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'EAI_AGAIN',
]);
const TRANSIENT_MESSAGES = [
  /connection timeout/i,
  /operation timed out/i,
  /socket error/i,
  /connection closed/i,
  /socket connection not established/i,
];
/**
 * LDAP result codes that say "try again": timeLimitExceeded (3), busy (51), unavailable (52), and
 * invalidCredentials (49) — a rotated bind password fails every call alike, so it is an outage to fix and
 * retry, not a per-item failure.
 */
const TRANSIENT_RESULTS = new Set([3, 49, 51, 52]);

/** Whether the error means the directory could not be reached or asked to come back later. */
export function isTransientLdapError(err: unknown): boolean {
  if (err instanceof ResultCodeError) return TRANSIENT_RESULTS.has(err.code);
  // Not `instanceof Error`: socket errors come from Node's own realm, which need not be the caller's.
  if (typeof err !== 'object' || err === null) return false;
  const { code, message } = err as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return true;
  return typeof message === 'string' && TRANSIENT_MESSAGES.some((re) => re.test(message));
}

/** The LDAP result code of a failed operation, if the server answered one. */
export const resultCode = (err: unknown): number | undefined =>
  err instanceof ResultCodeError ? err.code : undefined;

/** LDAP result codes the adapter reads. */
export const LDAP = {
  noSuchAttribute: 16,
  noSuchObject: 32,
  invalidCredentials: 49,
  objectClassViolation: 65,
  unwillingToPerform: 53,
} as const;

/**
 * A filter string as ldapts should send it when some attributes hold bytes (objectGUID): ldapts turns
 * `\\xx` escapes into characters and sends them as UTF-8, so bytes of 0x80 and above would change. Their
 * equality values go out as the bytes written.
 */
export function withBinaryValues(filter: string, binary: ReadonlySet<string>): string | Filter {
  if (binary.size === 0) return filter;
  const fix = (f: Filter): void => {
    if (f instanceof AndFilter || f instanceof OrFilter) f.filters.forEach(fix);
    else if (f instanceof NotFilter) fix(f.filter);
    else if (
      f instanceof EqualityFilter &&
      binary.has(f.attribute.toLowerCase()) &&
      typeof f.value === 'string'
    ) {
      f.value = Buffer.from(f.value, 'latin1');
    }
  };
  const parsed = FilterParser.parseString(filter);
  fix(parsed);
  return parsed;
}

interface Slot {
  client?: Client;
  connecting?: Promise<Client>;
}

/**
 * A fixed set of bound connections used in turn. A connection that fails at the socket level is dropped
 * and the next use connects, negotiates StartTLS and binds again, so a restarted server is picked up
 * without restarting Stagecoach. Transient failures surface as DirectoryUnavailableError (the activity
 * retries); everything else keeps its LDAP result code.
 */
export class LdapConnectionPool {
  private readonly slots: Slot[];
  private next = 0;

  constructor(private readonly settings: LdapSettings) {
    this.slots = Array.from({ length: settings.poolSize }, () => ({}));
  }

  private tlsOptions() {
    return this.settings.ca
      ? { ca: this.settings.ca, minVersion: 'TLSv1.2' as const }
      : { minVersion: 'TLSv1.2' as const };
  }

  /** Connects, negotiates TLS and binds one connection; errors are raw (the caller classifies them). */
  async open(): Promise<Client> {
    const secure = /^ldaps:/i.test(this.settings.url);
    const client = new Client({
      url: this.settings.url,
      timeout: this.settings.timeoutMs,
      connectTimeout: this.settings.connectTimeoutMs,
      ...(secure ? { tlsOptions: this.tlsOptions() } : {}),
      strictDN: false,
    });
    try {
      if (this.settings.startTls) await client.startTLS(this.tlsOptions());
      await client.bind(this.settings.bindDn, this.settings.bindPassword);
      return client;
    } catch (err) {
      await client.unbind().catch(() => undefined);
      throw err;
    }
  }

  private async acquire(slot: Slot): Promise<Client> {
    if (slot.client?.isBound) return slot.client;
    // A connection dropped by the server reconnects unauthenticated inside ldapts: never use it.
    if (slot.client) this.drop(slot);
    slot.connecting ??= this.open().then(
      (client) => {
        slot.client = client;
        slot.connecting = undefined;
        return client;
      },
      (err: unknown) => {
        slot.connecting = undefined;
        throw err;
      },
    );
    return slot.connecting;
  }

  private drop(slot: Slot): void {
    const client = slot.client;
    slot.client = undefined;
    void client?.unbind().catch(() => undefined);
  }

  /** Runs one LDAP call on the next connection of the pool. */
  async run<T>(what: string, fn: (client: Client) => Promise<T>): Promise<T> {
    const slot = this.slots[this.next]!;
    this.next = (this.next + 1) % this.slots.length;
    try {
      return await fn(await this.acquire(slot));
    } catch (err) {
      if (isTransientLdapError(err)) {
        // A reset or a restart of the server kills every pooled connection alike: reconnect them all.
        if (resultCode(err) === undefined) for (const s of this.slots) this.drop(s);
        else this.drop(slot);
        throw new DirectoryUnavailableError(`LDAP ${what} at ${this.settings.url} failed: ${describe(err)}`);
      }
      throw err;
    }
  }

  /** Search, paged past the server's size limit. */
  search(base: string, options: SearchOptions): Promise<Entry[]> {
    return this.run(`search under ${base}`, async (client) => {
      const paged = options.scope === 'base' ? {} : { paged: { pageSize: this.settings.pageSize } };
      // The server's own time limit follows LDAP_TIMEOUT_MS (ldapts would ask for 10 s).
      const timeLimit = Math.ceil(this.settings.timeoutMs / 1000);
      const binary = new Set((options.explicitBufferAttributes ?? []).map((a) => a.toLowerCase()));
      const filter =
        typeof options.filter === 'string' ? withBinaryValues(options.filter, binary) : options.filter;
      return (await client.search(base, { ...paged, timeLimit, ...options, filter })).searchEntries;
    });
  }

  modify(dn: string, changes: Change[]): Promise<void> {
    return this.run(`modify of ${dn}`, (client) => client.modify(dn, changes));
  }

  del(dn: string): Promise<void> {
    return this.run(`delete of ${dn}`, (client) => client.del(dn));
  }

  /** Closes every connection. */
  async close(): Promise<void> {
    await Promise.all(
      this.slots.map(async (slot) => {
        const client = slot.client ?? (await slot.connecting?.catch(() => undefined));
        slot.client = undefined;
        await client?.unbind().catch(() => undefined);
      }),
    );
  }
}

/** One line for an LDAP failure: the result code's name and the server's message, or the socket error. */
export function describe(err: unknown): string {
  if (err instanceof ResultCodeError) return `${err.name} (${err.code}): ${err.message}`.slice(0, 300);
  if (typeof err === 'object' && err !== null && typeof (err as { message?: unknown }).message === 'string') {
    const { code, message } = err as { code?: unknown; message: string };
    return `${typeof code === 'string' ? `${code} ` : ''}${message.split('\n')[0]}`.slice(0, 300);
  }
  return String(err);
}
