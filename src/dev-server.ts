import { spawn } from 'node:child_process';
import { mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Connection } from '@temporalio/client';
import { searchAttributeCliArgs } from './search-attributes';

export interface DevServerOptions {
  cliPath: string;
  port: number;
  uiPort: number;
  dbFile: string;
  namespace: string;
  logFile: string;
}

export interface DevServer {
  address: string;
  uiUrl: string;
  stop(): Promise<void>;
}

/**
 * Starts `temporal server start-dev` with its Web UI and a SQLite file (so a restart keeps running
 * reviews), registers Stagecoach's search attributes, and waits until it answers.
 */
export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  mkdirSync(dirname(opts.dbFile), { recursive: true });
  mkdirSync(dirname(opts.logFile), { recursive: true });
  const log = openSync(opts.logFile, 'a');
  const child = spawn(
    opts.cliPath,
    [
      'server',
      'start-dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(opts.port),
      '--ui-port',
      String(opts.uiPort),
      '--db-filename',
      opts.dbFile,
      '--namespace',
      opts.namespace,
      '--log-level',
      'warn',
      ...searchAttributeCliArgs(),
    ],
    { stdio: ['ignore', log, log] },
  );
  const state: { exited: number | null } = { exited: null };
  child.on('exit', (code) => (state.exited = code ?? -1));
  const address = `127.0.0.1:${opts.port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (state.exited !== null) {
      throw new Error(
        `The Temporal dev server exited (code ${state.exited}); see ${opts.logFile}:\n${logTail(opts.logFile)}`,
      );
    }
    try {
      const conn = await Connection.connect({ address, connectTimeout: 1000 });
      await conn.workflowService.getSystemInfo({});
      await conn.close();
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(
          `The Temporal dev server did not answer on ${address} within 60 s; see ${opts.logFile}`,
        );
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  return {
    address,
    uiUrl: `http://localhost:${opts.uiPort}`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (state.exited !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/** The last lines of a log file, for an error message that explains itself. */
function logTail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
