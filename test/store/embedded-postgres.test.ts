import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { createDatabase } from '../../src/store/database';
import type { EmbeddedPostgres } from '../../src/store/embedded-postgres';
import { startEmbeddedPostgres } from '../../src/store/embedded-postgres';
import { binariesFor, postgresBinaries, serverAccount } from '../../src/store/postgres-binaries';
import { freePort } from '../helpers/process-stack';

// The embedded server as `npm start` runs it, in a temp folder: created on first start, reused after,
// password-protected, on loopback only.

// Reachable by the `postgres` user that runs the server when the tests run as root.
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'stagecoach-embedded-pg-'));
fs.chmodSync(tmp, 0o755);
const running: EmbeddedPostgres[] = [];
afterAll(async () => {
  await Promise.all(running.map((pg) => pg.stop()));
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function start(dir: string, port = 0, notices: string[] = []): Promise<EmbeddedPostgres> {
  const pg = await startEmbeddedPostgres({ dir, port, onNotice: (m) => notices.push(m) });
  running.push(pg);
  return pg;
}

async function query<T>(url: string, run: (db: ReturnType<typeof createDatabase>) => Promise<T>): Promise<T> {
  const db = createDatabase(url, { max: 1 });
  try {
    return await run(db);
  } finally {
    await db.destroy();
  }
}

describe('the embedded PostgreSQL', () => {
  const dir = path.join(tmp, 'postgres');
  const notices: string[] = [];
  let first: EmbeddedPostgres;

  it('creates its cluster, password and stagecoach database in the folder on first start', async () => {
    first = await start(dir, 0, notices);
    expect(notices.join('\n')).toContain(`creating a PostgreSQL 18 cluster in ${path.join(dir, 'data')}`);
    expect(fs.readFileSync(path.join(dir, 'data', 'PG_VERSION'), 'utf8').trim()).toBe('18');
    const password = fs.readFileSync(first.passwordFile, 'utf8').trim();
    expect(password).toMatch(/^[0-9a-f]{48}$/);
    expect(fs.statSync(first.passwordFile).mode & 0o777).toBe(0o600);
    expect(first.url).toBe(`postgres://stagecoach:${password}@127.0.0.1:${first.port}/stagecoach`);
    const { rows } = await query(first.url, (db) =>
      sql<{ db: string; user: string }>`select current_database() as db, current_user as user`.execute(db),
    );
    expect(rows).toEqual([{ db: 'stagecoach', user: 'stagecoach' }]);
  });

  it('listens on 127.0.0.1 only, with no Unix socket, and refuses a wrong password', async () => {
    const { rows } = await query(first.url, (db) =>
      sql<{ listen: string; sockets: string }>`
        select current_setting('listen_addresses') as listen,
               current_setting('unix_socket_directories') as sockets`.execute(db),
    );
    expect(rows).toEqual([{ listen: '127.0.0.1', sockets: '' }]);
    const wrong = first.url.replace(/:[0-9a-f]{48}@/, ':not-the-password@');
    await expect(query(wrong, (db) => sql`select 1`.execute(db))).rejects.toThrow(
      /password authentication failed for user "stagecoach"/,
    );
  });

  it('refuses a second server on the same folder while the first runs', async () => {
    await expect(startEmbeddedPostgres({ dir, port: 0 })).rejects.toThrow(/postmaster\.pid.*already exists/s);
    // The first one is unharmed.
    await query(first.url, (db) => sql`select 1`.execute(db));
  });

  it('keeps its data across a stop and a start, with the same password', async () => {
    await query(first.url, async (db) => {
      await sql`create table kept (note text)`.execute(db);
      await sql`insert into kept values ('written before the stop')`.execute(db);
    });
    await first.stop();
    await expect(query(first.url, (db) => sql`select 1`.execute(db))).rejects.toThrow(/ECONNREFUSED/);
    const port = await freePort();
    const notices2: string[] = [];
    const again = await start(dir, port, notices2);
    expect(notices2).toEqual([]);
    expect(again.port).toBe(port);
    expect(again.url.replace(`:${port}/`, ':PORT/')).toBe(first.url.replace(`:${first.port}/`, ':PORT/'));
    const { rows } = await query(again.url, (db) => sql<{ note: string }>`select note from kept`.execute(db));
    expect(rows).toEqual([{ note: 'written before the stop' }]);
    await again.stop();
  });

  it('never writes the password to its log or its notices', () => {
    const password = fs.readFileSync(path.join(dir, 'password'), 'utf8').trim();
    const log = fs.readFileSync(path.join(dir, 'postgres.log'), 'utf8');
    expect(log).toContain('database system is ready to accept connections');
    expect(log).toContain('password authentication failed'); // the wrong password's attempt is logged
    expect(log).not.toContain(password);
    expect(notices.join('\n')).not.toContain(password);
    // Nor anything of it in the folder besides the password file (initdb's hand-over file is gone).
    expect(fs.readdirSync(dir).sort()).toEqual(['data', 'password', 'postgres.log']);
  });

  it('fails with a message naming the port when the configured port is taken', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as net.AddressInfo;
    try {
      await expect(start(path.join(tmp, 'busy'), port)).rejects.toThrow(
        new RegExp(`port ${port} on 127\\.0\\.0\\.1 is taken`),
      );
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });
});

describe('the embedded PostgreSQL started by root', () => {
  const asRoot = process.getuid?.() === 0 ? it : it.skip;

  asRoot('runs the binaries from a copy its user can reach when node_modules is out of its reach', () => {
    // A node_modules under a folder only root may enter, as in a clone under /root.
    const hidden = fs.mkdtempSync(path.join(tmp, 'root-only-'));
    fs.chmodSync(hidden, 0o700);
    const installed = postgresBinaries();
    fs.cpSync(installed.native, path.join(hidden, 'native'), { recursive: true, verbatimSymlinks: true });
    const out = {
      ...installed,
      native: path.join(hidden, 'native'),
      initdb: path.join(hidden, 'native', 'bin', 'initdb'),
      postgres: path.join(hidden, 'native', 'bin', 'postgres'),
      packageVersion: `${installed.packageVersion}-test-${process.pid}`,
    };
    const account = serverAccount(() => undefined)!;
    const usable = binariesFor(out, account);
    try {
      expect(usable.postgres).toBe(
        path.join(os.tmpdir(), `stagecoach-postgres-binaries-${out.packageVersion}`, 'bin', 'postgres'),
      );
    } finally {
      fs.rmSync(usable.native, { recursive: true, force: true });
    }
  });
});
