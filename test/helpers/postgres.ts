import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import type { Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { createDatabase } from '../../src/store/database';
import { startEmbeddedPostgres } from '../../src/store/embedded-postgres';
import { postgresBinaries } from '../../src/store/postgres-binaries';
import { alive } from './processes';

// One real PostgreSQL per jest worker process, started by the first test file that asks for a database and
// shared by the later files of that worker; each file gets a database of its own. Jest gives every test
// file fresh modules and a fake `process` whose exit event never fires, so the server is found again
// through a state file named after the worker's pid, and a watchdog process (which notices the worker's
// end when its stdin pipe closes, however the worker ends) stops the server and removes its folder.

/** Where the servers of this PostgreSQL build live, one folder per jest worker pid. */
function serversRoot(): string {
  return path.join(os.tmpdir(), `stagecoach-test-postgres-${postgresBinaries().packageVersion}`);
}

/** Durability off: these clusters are thrown away, and a test waits for no fsync. */
const throwaway = { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' };

/** A database of its own for a test file. */
export interface TestDatabase {
  name: string;
  /** Connection URL, password included (test clusters only). */
  url: string;
  /** Drops the database, closing whatever connections are left. */
  drop(): Promise<void>;
}

let server: Promise<string> | undefined;

/** The URL of this jest worker's server (its `stagecoach` database), started on first use. */
export function testPostgresUrl(): Promise<string> {
  return (server ??= findOrStartServer());
}

/** Creates a fresh, empty database on this worker's server. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = await testPostgresUrl();
  const name = `test_${randomUUID().replace(/-/g, '')}`;
  await onServer(serverUrl, (db) => sql`create database ${sql.id(name)}`.execute(db));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () =>
      onServer(serverUrl, (db) => sql`drop database if exists ${sql.id(name)} with (force)`.execute(db)),
  };
}

async function onServer(url: string, run: (db: ReturnType<typeof createDatabase>) => Promise<unknown>) {
  const db = createDatabase(url, { max: 1 });
  try {
    await run(db);
  } finally {
    await db.destroy();
  }
}

async function findOrStartServer(): Promise<string> {
  const root = serversRoot();
  const serverDir = path.join(root, String(process.pid));
  const stateFile = path.join(serverDir, 'server.json');
  const known = readState(stateFile);
  if (known && alive(known.pid)) return known.url;
  sweepAbandoned(root);
  fs.rmSync(serverDir, { recursive: true, force: true });
  // The folder must be reachable by the `postgres` user when tests run as root (see postgres-binaries.ts).
  fs.mkdirSync(root, { recursive: true, mode: 0o755 });
  const pg = await startEmbeddedPostgres({ dir: serverDir, port: 0, settings: throwaway });
  pg.unref();
  startWatchdog(pg.pid, serverDir);
  fs.writeFileSync(stateFile, JSON.stringify({ url: pg.url, pid: pg.pid }), { mode: 0o600 });
  return pg.url;
}

function readState(stateFile: string): { url: string; pid: number } | undefined {
  try {
    return JSON.parse(fs.readFileSync(stateFile, 'utf8')) as { url: string; pid: number };
  } catch {
    return undefined;
  }
}

/** Removes the folders of earlier workers whose watchdog did not get to (a SIGKILLed run, say). */
function sweepAbandoned(root: string): void {
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(root);
  } catch {
    return;
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name) || alive(Number(name))) continue;
    const dir = path.join(root, name);
    try {
      const { pid } = JSON.parse(fs.readFileSync(path.join(dir, 'server.json'), 'utf8')) as { pid: number };
      if (alive(pid)) process.kill(pid, 'SIGINT');
    } catch {
      // no state: nothing running
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Stops the server (fast shutdown) and removes its folder once this process has ended. */
function startWatchdog(pid: number, dir: string): void {
  const script = `
    const fs = require('node:fs');
    const [pid, dir] = [Number(process.argv[1]), process.argv[2]];
    const gone = () => { try { process.kill(pid, 0); return false; } catch { return true; } };
    const stop = () => {
      try { process.kill(pid, 'SIGINT'); } catch {}
      const started = Date.now();
      const timer = setInterval(() => {
        if (!gone() && Date.now() - started < 15000) return;
        clearInterval(timer);
        try { process.kill(pid, 'SIGKILL'); } catch {}
        fs.rmSync(dir, { recursive: true, force: true });
        process.exit(0);
      }, 100);
    };
    process.stdin.on('end', stop);
    process.stdin.on('error', stop);
    process.stdin.resume();`;
  const watchdog = spawn(process.execPath, ['-e', script, String(pid), dir], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
  });
  watchdog.unref();
  (watchdog.stdin as Socket).unref();
}
