import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEMO } from './demo-ids';
import { alive } from './processes';
import { freePort, GiveUp, pollUntil } from './process-stack';

// The whole of Stagecoach as a user starts it (`npm start`: `tsx src/main.ts`) for the web portal's
// browser tests: embedded PostgreSQL, Temporal dev server, worker, API, mail catcher and the demo
// directory, in a child process of its own on free ports, with every bit of state in a temp folder
// (never the repository's .stagecoach/).

const projectRoot = path.resolve(__dirname, '..', '..');

export interface PortalStackOptions {
  /** More settings for main.ts, over the harness's (LOG_LEVEL, say, or RATE_LIMIT_*). */
  env?: Record<string, string>;
  /** How long to wait for the "Stagecoach is running" banner; default 90 s. */
  startTimeoutMs?: number;
}

export interface PortalStack {
  /** `http://localhost:<PORT>`, as the banner says. */
  baseUrl: string;
  /** The temp folder holding the stack's state (removed by stop()). */
  dir: string;
  /** The settings main.ts runs with (PORT, TEMPORAL_DEV_PORT, …). */
  env: Record<string, string>;
  /** What main.ts has written so far. */
  output: { stdout: string; stderr: string };
  /** A bearer token for the demo admin (Patti Fernandez) with the admin role, from POST /auth/local/token. */
  adminToken(): Promise<string>;
  /** A bearer token for a user of the demo directory (see demo-ids.ts); `admin` adds the admin role. */
  tokenFor(userId: string, options?: { admin?: boolean }): Promise<string>;
  /**
   * Ctrl-C: SIGINT to the process group, then waits for main.ts to stop everything and exit (SIGKILL
   * after `timeoutMs`, default 30 s), and removes the temp folder (kept when KEEP_PORTAL_TMP is set).
   * Resolves with main.ts's exit code (null when it had to be killed). Safe to call twice.
   */
  stop(options?: { timeoutMs?: number }): Promise<number | null>;
}

/** Process groups of stacks not stopped yet, killed when the test process exits without stopping them. */
const running = new Map<number, string>();
process.once('exit', () => {
  for (const [pid, dir] of running) killLeftovers(pid, dir);
});

/** SIGKILLs the process group of main.ts and the embedded PostgreSQL (a process group of its own). */
function killLeftovers(pid: number, dir: string): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // gone
  }
  const postmaster = postmasterPid(dir);
  if (postmaster && alive(postmaster)) {
    try {
      process.kill(-postmaster, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

/** The embedded PostgreSQL's pid while it runs (the first line of postmaster.pid). */
function postmasterPid(dir: string): number | undefined {
  try {
    const pid = Number(
      fs.readFileSync(path.join(dir, 'postgres', 'data', 'postmaster.pid'), 'utf8').split('\n')[0],
    );
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts `tsx src/main.ts` from the project root in its own process group and resolves once it prints
 * "Stagecoach is running"; throws with its output when it exits first or does not get there in time.
 */
export async function startPortalStack(options: PortalStackOptions = {}): Promise<PortalStack> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stagecoach-portal-'));
  // Under root the embedded PostgreSQL runs as the postgres user, who must be able to enter the folder.
  fs.chmodSync(dir, 0o755);
  const port = await freePort();
  const env: Record<string, string> = {
    // Not the whole environment: a DATABASE_URL or SMTP_HOST of the shell would change what starts.
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? os.tmpdir(),
    ...(process.env.TEMPORAL_CLI_PATH ? { TEMPORAL_CLI_PATH: process.env.TEMPORAL_CLI_PATH } : {}),
    LOG_LEVEL: 'warn',
    AUTH_MODE: 'local',
    HOST: '127.0.0.1',
    PORT: String(port),
    TEMPORAL_DEV_PORT: String(await freePort()),
    TEMPORAL_UI_PORT: String(await freePort()),
    TEMPORAL_DB_FILE: path.join(dir, 'temporal', 'temporal.sqlite'),
    EMBEDDED_POSTGRES_PORT: String(await freePort()),
    EMBEDDED_POSTGRES_DIR: path.join(dir, 'postgres'),
    MAIL_CATCHER_SMTP_PORT: String(await freePort()),
    MAIL_CATCHER_WEB_PORT: String(await freePort()),
    MAIL_CATCHER_DIR: path.join(dir, 'mail'),
    DIRECTORY_FILE: path.join(dir, 'directory.json'),
    AUTH_LOCAL_KEY_FILE: path.join(dir, 'local-signing-key.json'),
    ...options.env,
  };
  const child: ChildProcess = spawn(process.execPath, [require.resolve('tsx/cli'), 'src/main.ts'], {
    cwd: projectRoot,
    // Its own process group: a Ctrl-C reaches tsx, the node process it runs main.ts in, and the Temporal
    // dev server alike, as in a terminal.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  const pid = child.pid!;
  running.set(pid, dir);
  const output = { stdout: '', stderr: '' };
  child.stdout!.on('data', (d: Buffer) => (output.stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output.stderr += d.toString()));
  let exitCode: number | null | undefined;
  const exit = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      exitCode = code;
      resolve(code);
    }),
  );

  let stopped: Promise<number | null> | undefined;
  const stop = ({ timeoutMs = 30_000 } = {}) =>
    (stopped ??= (async () => {
      if (exitCode === undefined) {
        try {
          process.kill(-pid, 'SIGINT');
        } catch {
          // gone
        }
      }
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([
        exit,
        new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs))),
      ]);
      clearTimeout(timer);
      // After a clean exit there is nothing left to kill: main.ts stops its dev server and PostgreSQL.
      killLeftovers(pid, dir);
      if (code === 'timeout') await exit;
      running.delete(pid);
      if (!process.env.KEEP_PORTAL_TMP) fs.rmSync(dir, { recursive: true, force: true });
      return code === 'timeout' ? null : code;
    })());

  const baseUrl = `http://localhost:${port}`;
  const tokenFor = async (userId: string, { admin = false } = {}) => {
    const res = await fetch(`${baseUrl}/auth/local/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId, admin }),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`POST /auth/local/token for ${userId}: ${res.status} ${text}`);
    return (JSON.parse(text) as { access_token: string }).access_token;
  };

  try {
    await pollUntil(
      async () => {
        if (exitCode !== undefined)
          throw new GiveUp(`main.ts exited (code ${exitCode}) before it was running`);
        return output.stdout.includes('Stagecoach is running');
      },
      (up) => up,
      'main.ts to say "Stagecoach is running"',
      { timeoutMs: options.startTimeoutMs ?? 90_000, intervalMs: 100 },
    );
  } catch (err) {
    await stop({ timeoutMs: 10_000 });
    throw new Error(
      `${(err as Error).message}\n--- stdout ---\n${output.stdout.slice(-4000)}\n--- stderr ---\n${output.stderr.slice(-4000)}`,
    );
  }

  return {
    baseUrl,
    dir,
    env,
    output,
    adminToken: () => tokenFor(DEMO.admin, { admin: true }),
    tokenFor,
    stop,
  };
}
