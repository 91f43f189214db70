import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema';

/** How long a new connection may take before the query that needed it fails (pg waits forever by default). */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * A Kysely over a pg Pool for a PostgreSQL URL; `destroy()` closes the pool. `onIdleError` hears about
 * pooled connections that break while idle (a server restart): without a listener pg would crash the
 * process, and the next query reconnects anyway.
 */
export function createDatabase(
  url: string,
  { max = 10, onIdleError = () => undefined }: { max?: number; onIdleError?: (err: Error) => void } = {},
): Kysely<Database> {
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  pool.on('error', onIdleError);
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/** The URL with its password masked, for messages and logs; a string that is no URL is masked whole. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    parsed.searchParams.forEach((_value, key) => {
      if (/password/i.test(key)) parsed.searchParams.set(key, '***');
    });
    return parsed.toString();
  } catch {
    return '***';
  }
}
