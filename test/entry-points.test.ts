import type { ChildProcess } from 'node:child_process';
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { sql } from 'kysely';
import { parse } from 'yaml';
import { createDatabase } from '../src/store/database';
import type { TestDatabase } from './helpers/postgres';
import { contractTenant } from './directory/contract-tenant';
import { graphEnv } from './directory/graph-fixture';
import { ldapEnv } from './directory/ldap-fixture';
import { scimEnv } from './directory/scim-fixture';
import { createTestDatabase } from './helpers/postgres';
import type { ScimTestServer } from './helpers/scim-server';
import { startScimServer } from './helpers/scim-server';
import { GraphServer } from './helpers/graph-server';
import { freePort, pollUntil } from './helpers/process-stack';
import type { Slapd } from './helpers/slapd';
import { startSlapd } from './helpers/slapd';
import type { SmtpTestServer } from './helpers/smtp-server';
import { startSmtpServer } from './helpers/smtp-server';
import { createDevServerEnv } from './helpers/temporal';
import { SmtpMailer } from '../src/notifications/smtp';

// The production entry points as the processes an operator starts (`npm run start:api`, `start:worker`,
// `npm start`), against a real dev server and PostgreSQL: failed starts exit 1 with one line naming the
// setting, the compose health checks, run as written in docker-compose.yml, see the running API and
// worker, and `npm start` without DATABASE_URL runs an embedded PostgreSQL that it stops again.

const projectRoot = path.resolve(__dirname, '..');
const compose = parse(
  fs.readFileSync(path.join(projectRoot, 'temporal-docker', 'docker-compose.yml'), 'utf8'),
  {
    merge: true,
  },
) as { services: Record<string, { healthcheck?: { test?: string[] } }> };

interface Started {
  child: ChildProcess;
  output: { stdout: string; stderr: string };
  exit: Promise<number | null>;
}
const started: Started[] = [];

/** Starts `tsx src/<script>` in its own process group (tsx runs the script in a child node process). */
function start(script: string, env: Record<string, string>): Started {
  const child = spawn(process.execPath, [require.resolve('tsx/cli'), `src/${script}`], {
    cwd: projectRoot,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? os.tmpdir(), LOG_LEVEL: 'warn', ...env },
  });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (d: Buffer) => (output.stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output.stderr += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const run = { child, output, exit };
  started.push(run);
  return run;
}

function signalGroup(run: Started, signal: NodeJS.Signals): void {
  try {
    process.kill(-run.child.pid!, signal);
  } catch {
    // already gone
  }
}

/** Runs a service's compose health check command (`CMD node -e …`) with the given container env. */
function healthcheck(service: string, env: Record<string, string>): number | null {
  const test = compose.services[service]?.healthcheck?.test ?? [];
  expect(test.slice(0, 2)).toEqual(['CMD', 'node']);
  return spawnSync(process.execPath, test.slice(2), { env: { ...env }, timeout: 10_000 }).status;
}

let env: TestWorkflowEnvironment;
let database: TestDatabase;
let dir: string;
let state: Record<string, string>;
const taskQueue = `entry-points-${randomUUID()}`;

beforeAll(async () => {
  env = await createDevServerEnv();
  database = await createTestDatabase();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stagecoach-entry-'));
  // The embedded PostgreSQL of `npm start` runs as the `postgres` user when the tests run as root.
  fs.chmodSync(dir, 0o755);
  state = {
    TEMPORAL_ADDRESS: env.address,
    TASK_QUEUE: taskQueue,
    HOST: '127.0.0.1',
    DATABASE_URL: database.url,
    DIRECTORY_FILE: path.join(dir, 'directory.json'),
    AUTH_MODE: 'local',
    AUTH_LOCAL_KEY_FILE: path.join(dir, 'key.json'),
  };
});

afterAll(async () => {
  for (const run of started) signalGroup(run, 'SIGKILL');
  await Promise.all(started.map((r) => r.exit));
  await env?.teardown();
  await database?.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('the worker and API processes', () => {
  let apiPort: number;
  let workerHealthPort: number;
  let worker: Started;

  it('pass the compose health checks once they run', async () => {
    workerHealthPort = await freePort();
    apiPort = await freePort();
    worker = start('worker.ts', { ...state, WORKER_HEALTH_PORT: String(workerHealthPort) });
    const check = { WORKER_HEALTH_PORT: String(workerHealthPort) };
    await pollUntil(
      async () => healthcheck('stagecoach-worker', check),
      (status) => status === 0,
      'the worker health check',
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    start('server.ts', { ...state, PORT: String(apiPort) });
    await pollUntil(
      async () => healthcheck('stagecoach-api', { PORT: String(apiPort) }),
      (status) => status === 0,
      'the API health check',
      { timeoutMs: 60_000, intervalMs: 500 },
    );
  });

  it('a second API on the same PORT exits 1 with one line naming HOST and PORT', async () => {
    const second = start('server.ts', { ...state, PORT: String(apiPort) });
    expect(await second.exit).toBe(1);
    expect(second.output.stderr).toBe(
      `Cannot listen on HOST=127.0.0.1 PORT=${apiPort}: listen EADDRINUSE: address already in use 127.0.0.1:${apiPort}\n`,
    );
  });

  it('npm start on a busy PORT exits 1 without saying that Stagecoach is running, and stops its PostgreSQL', async () => {
    const { DATABASE_URL: _external, ...embedded } = state;
    const pgDir = path.join(dir, 'postgres-busy');
    const all = start('main.ts', {
      ...embedded,
      EMBEDDED_POSTGRES_DIR: pgDir,
      EMBEDDED_POSTGRES_PORT: '0',
      START_DEV_SERVER: 'false',
      TASK_QUEUE: `${taskQueue}-all`,
      PORT: String(apiPort),
      ...(await catcherPorts()),
    });
    expect(await all.exit).toBe(1);
    expect(all.output.stdout).not.toContain('Stagecoach is running');
    expect(all.output.stderr).toContain(`Cannot listen on HOST=127.0.0.1 PORT=${apiPort}: listen EADDRINUSE`);
    // It had started (the cluster exists) and shut it down cleanly before exiting.
    expect(fs.existsSync(path.join(pgDir, 'data', 'PG_VERSION'))).toBe(true);
    expect(fs.existsSync(path.join(pgDir, 'data', 'postmaster.pid'))).toBe(false);
    expect(fs.readFileSync(path.join(pgDir, 'postgres.log'), 'utf8')).toContain(
      'database system is shut down',
    );
  });

  it('a stopped worker exits 0 and then fails its health check', async () => {
    // To tsx only, which passes it on: a second SIGTERM to the worker itself would end its shutdown.
    worker.child.kill('SIGTERM');
    expect(await worker.exit).toBe(0);
    expect(healthcheck('stagecoach-worker', { WORKER_HEALTH_PORT: String(workerHealthPort) })).toBe(1);
  });
});

describe('npm start without DATABASE_URL', () => {
  it('runs on an embedded PostgreSQL with the apply ledger migrated, and stops it on Ctrl-C', async () => {
    const { DATABASE_URL: _external, ...embedded } = state;
    const pgDir = path.join(dir, 'postgres');
    const catcher = await catcherPorts();
    const all = start('main.ts', {
      ...embedded,
      EMBEDDED_POSTGRES_DIR: pgDir,
      EMBEDDED_POSTGRES_PORT: String(await freePort()),
      START_DEV_SERVER: 'false',
      TASK_QUEUE: `${taskQueue}-embedded`,
      PORT: String(await freePort()),
      ...catcher,
    });
    const running = await pollUntil(
      async () => all.output.stdout,
      (out) => out.includes('Stagecoach is running') || all.child.exitCode !== null,
      'npm start to say it is running',
      { timeoutMs: 90_000, intervalMs: 200 },
    );
    expect(all.output.stderr).toBe('');
    const password = fs.readFileSync(path.join(pgDir, 'password'), 'utf8').trim();
    const shown =
      /PostgreSQL {3}postgres:\/\/stagecoach:\*\*\*@127\.0\.0\.1:(\d+)\/stagecoach \(data in (.*?), password in (.*?)\)/.exec(
        running,
      );
    expect(shown?.slice(2)).toEqual([pgDir, path.join(pgDir, 'password')]);
    expect(running).not.toContain(password);
    const db = createDatabase(`postgres://stagecoach:${password}@127.0.0.1:${shown![1]}/stagecoach`, {
      max: 1,
    });
    try {
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from apply_ledger`.execute(db);
      expect(rows).toEqual([{ n: 0 }]);
    } finally {
      await db.destroy();
    }
    await expectCatcherKeepsMail(running, catcher);
    // To tsx only, which passes it on (as a terminal's Ctrl-C reaches the process group's leader too).
    all.child.kill('SIGINT');
    expect(await all.exit).toBe(0);
    expect(fs.existsSync(path.join(pgDir, 'data', 'postmaster.pid'))).toBe(false);
  });
});

/** Free ports for npm start's mail catcher, and the folder it keeps its messages in. */
async function catcherPorts() {
  return {
    MAIL_CATCHER_SMTP_PORT: String(await freePort()),
    MAIL_CATCHER_WEB_PORT: String(await freePort()),
    MAIL_CATCHER_DIR: fs.mkdtempSync(path.join(dir, 'mail-')),
  };
}

/** The banner names the catcher's page; a message sent to its SMTP port is listed there. */
async function expectCatcherKeepsMail(banner: string, catcher: Awaited<ReturnType<typeof catcherPorts>>) {
  const web = `http://localhost:${catcher.MAIL_CATCHER_WEB_PORT}`;
  expect(banner).toContain(`  Mail         ${web} (maildev: every message the reviews send;`);
  const mailer = new SmtpMailer({
    host: '127.0.0.1',
    port: Number(catcher.MAIL_CATCHER_SMTP_PORT),
    secure: false,
    requireTls: false,
    from: { address: 'stagecoach@localhost' },
    timeoutMs: 5_000,
    maxConnections: 1,
  });
  try {
    await mailer.send({
      to: { address: 'ada@example.com' },
      subject: 'Caught by npm start',
      text: 'text',
      html: '<p>html</p>',
      messageId: '<entry-points@stagecoach>',
    });
  } finally {
    await mailer.close();
  }
  const listed = await pollUntil(
    async () =>
      (await (await fetch(`http://127.0.0.1:${catcher.MAIL_CATCHER_WEB_PORT}/api/email`)).json()) as {
        subject: string;
      }[],
    (mails) => mails.length > 0,
    'the mail catcher to list the message',
  );
  expect(listed.map((m) => m.subject)).toEqual(['Caught by npm start']);
  const page = await fetch(`http://127.0.0.1:${catcher.MAIL_CATCHER_WEB_PORT}/`, {
    headers: { accept: 'text/html' },
  });
  expect(page.status).toBe(200);
}

describe('DATABASE_URL', () => {
  it.each(['worker.ts', 'server.ts'])(
    'is required by %s: exit code 1 and a line naming it',
    async (script) => {
      const { DATABASE_URL: _url, ...withoutDatabase } = state;
      const run = start(script, { ...withoutDatabase, PORT: String(await freePort()) });
      expect(await run.exit).toBe(1);
      expect(run.output.stderr).toMatch(/^Invalid configuration:\n {2}DATABASE_URL is required: /);
    },
  );

  it.each(['worker.ts', 'server.ts'])(
    'unreachable stops %s with exit code 1 and one line naming DATABASE_URL, the password masked',
    async (script) => {
      const port = await freePort();
      const run = start(script, {
        ...state,
        DATABASE_URL: `postgres://stagecoach:hunter2-secret@127.0.0.1:${port}/stagecoach`,
        PORT: String(await freePort()),
      });
      expect(await run.exit).toBe(1);
      expect(run.output.stderr).toBe(
        `Cannot connect to PostgreSQL at DATABASE_URL=postgres://stagecoach:***@127.0.0.1:${port}/stagecoach: ` +
          `connect ECONNREFUSED 127.0.0.1:${port}\n`,
      );
    },
  );
});

describe('an unreachable TEMPORAL_ADDRESS', () => {
  it.each(['worker.ts', 'server.ts'])(
    'stops %s with exit code 1 and one line naming TEMPORAL_ADDRESS',
    async (script) => {
      const port = await freePort();
      const run = start(script, {
        ...state,
        TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
        PORT: String(await freePort()),
      });
      expect(await run.exit).toBe(1);
      expect(run.output.stderr).toBe(
        `Cannot connect to Temporal at TEMPORAL_ADDRESS=127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}\n`,
      );
    },
  );
});

describe('SMTP settings of the worker', () => {
  let smtp: SmtpTestServer;
  beforeAll(async () => {
    smtp = await startSmtpServer({ auth: { user: 'mailer', pass: 'hunter2-right' } });
  });
  afterAll(() => smtp?.stop());

  it('contradictory settings stop the worker with one line per setting', async () => {
    const run = start('worker.ts', {
      ...state,
      SMTP_HOST: 'smtp.example.com',
      SMTP_PASSWORD: 'hunter2-secret',
    });
    expect(await run.exit).toBe(1);
    expect(run.output.stderr).toBe(
      'Invalid configuration:\n' +
        '  MAIL_FROM is required with SMTP_HOST: the sender of review notifications, e.g. Stagecoach <access-reviews@example.com>\n' +
        '  SMTP_PASSWORD(_FILE) needs SMTP_USER, the account that signs in\n',
    );
  });

  it('a refused sign-in stops the worker with one line naming SMTP_USER / SMTP_PASSWORD, without the password', async () => {
    const run = start('worker.ts', {
      ...state,
      SMTP_HOST: smtp.host,
      SMTP_PORT: String(smtp.port),
      SMTP_USER: 'mailer',
      SMTP_PASSWORD: 'hunter2-wrong',
      MAIL_FROM: 'Stagecoach <access-reviews@example.com>',
    });
    expect(await run.exit).toBe(1);
    expect(run.output.stderr).toMatch(
      new RegExp(
        `^Cannot send mail: SMTP_USER / SMTP_PASSWORD: 127\\.0\\.0\\.1:${smtp.port} refused the sign-in as mailer \\(535 [^\\n]*\\)\\n$`,
      ),
    );
    expect(run.output.stderr).not.toContain('hunter2');
  });
});

/**
 * Starts the API with a directory's settings and reads a user's manager through it (a local admin token
 * for patti), then stops it: the API serves that directory.
 */
async function expectApiServesManager(env: Record<string, string>, idOf: (key: string) => string) {
  const port = await freePort();
  const run = start('server.ts', { ...state, ...env, PORT: String(port) });
  const base = `http://127.0.0.1:${port}`;
  const token = await pollUntil(
    async () => {
      try {
        const res = await fetch(`${base}/auth/local/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ userId: idOf('patti'), admin: true }),
        });
        return res.ok ? ((await res.json()) as { access_token: string }).access_token : undefined;
      } catch {
        return undefined;
      }
    },
    (t) => t !== undefined,
    'API listening',
  );
  const res = await fetch(`${base}/v1.0/users/${idOf('nestor')}/manager`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({ id: idOf('lynne'), displayName: 'Lynne Robbins' });
  signalGroup(run, 'SIGTERM');
  expect(await run.exit).toBe(0);
}

describe('DIRECTORY=ldap', () => {
  let slapd: Slapd;
  beforeAll(async () => {
    slapd = await startSlapd(contractTenant({ bulk: false }));
  });
  afterAll(async () => {
    await slapd?.stop();
  });

  it.each(['worker.ts', 'server.ts'])(
    'a refused bind stops %s with exit code 1 and one line naming LDAP_BIND_DN, without the password',
    async (script) => {
      const run = start(script, {
        ...state,
        DIRECTORY: 'ldap',
        ...ldapEnv(slapd, { LDAP_BIND_PASSWORD: 'hunter2-wrong' }),
        PORT: String(await freePort()),
      });
      expect(await run.exit).toBe(1);
      expect(run.output.stderr).toBe(
        `LDAP_BIND_DN=${slapd.bindDN}: the server refused the bind with the configured password (invalidCredentials)\n`,
      );
    },
  );

  it('missing settings stop the worker with one line listing them', async () => {
    const run = start('worker.ts', { ...state, DIRECTORY: 'ldap', LDAP_URL: slapd.url });
    expect(await run.exit).toBe(1);
    expect(run.output.stderr).toBe(
      'DIRECTORY=ldap needs LDAP_BASE_DN, LDAP_BIND_DN, LDAP_BIND_PASSWORD or LDAP_BIND_PASSWORD_FILE\n',
    );
  });

  it('the API serves the LDAP directory: a user by entryUUID, with the manager resolved', async () => {
    await expectApiServesManager({ DIRECTORY: 'ldap', ...ldapEnv(slapd) }, (key) => slapd.idOf(key));
  });
});

describe('DIRECTORY=scim', () => {
  let scim: ScimTestServer;
  beforeAll(async () => {
    scim = await startScimServer(contractTenant({ bulk: false }));
  }, 120_000);
  afterAll(async () => {
    await scim?.stop();
  });

  it.each(['worker.ts', 'server.ts'])(
    'a refused token stops %s with exit code 1 and one line naming SCIM_TOKEN, without the token',
    async (script) => {
      const run = start(script, {
        ...state,
        DIRECTORY: 'scim',
        ...scimEnv(scim, { SCIM_TOKEN: 'hunter2-wrong' }),
        PORT: String(await freePort()),
      });
      expect(await run.exit).toBe(1);
      expect(run.output.stderr).toBe(
        `SCIM_TOKEN: ${scim.baseUrl} refused the credential (HTTP 401 on GET /v2/Users)\n`,
      );
    },
  );

  it('an unreachable server and missing settings stop the worker with one line naming the setting', async () => {
    const port = await freePort();
    const down = start('worker.ts', {
      ...state,
      DIRECTORY: 'scim',
      ...scimEnv(scim, {}, `http://127.0.0.1:${port}/v2`),
    });
    expect(await down.exit).toBe(1);
    expect(down.output.stderr).toBe(
      `SCIM_BASE_URL=http://127.0.0.1:${port}/v2: SCIM GET /v2/Users at http://127.0.0.1:${port}/v2 failed: ECONNREFUSED\n`,
    );
    const missing = start('worker.ts', { ...state, DIRECTORY: 'scim', SCIM_BASE_URL: scim.baseUrl });
    expect(await missing.exit).toBe(1);
    expect(missing.output.stderr).toBe(
      'DIRECTORY=scim needs SCIM_TOKEN, SCIM_TOKEN_FILE or SCIM_OAUTH_TOKEN_URL\n',
    );
  });

  it('the API serves the SCIM directory: a user with the manager resolved', async () => {
    await expectApiServesManager({ DIRECTORY: 'scim', ...scimEnv(scim) }, (key) => scim.idOf(key));
  });
});

describe('DIRECTORY=graph (against the local Graph reproduction)', () => {
  let graph: GraphServer;
  beforeAll(async () => {
    graph = await GraphServer.start(contractTenant({ bulk: false }));
  }, 120_000);
  afterAll(async () => {
    await graph?.stop();
  });

  it.each(['worker.ts', 'server.ts'])(
    'a refused client secret stops %s with exit code 1 and one line naming GRAPH_CLIENT_SECRET, without the secret',
    async (script) => {
      const run = start(script, {
        ...state,
        DIRECTORY: 'graph',
        ...graphEnv(graph, { GRAPH_CLIENT_SECRET: 'hunter2-wrong' }),
        PORT: String(await freePort()),
      });
      expect(await run.exit).toBe(1);
      expect(run.output.stderr).toBe(
        "GRAPH_CLIENT_SECRET: the tenant refused the application's sign-in (AADSTS7000215: Invalid client secret provided.)\n",
      );
      expect(run.output.stdout + run.output.stderr).not.toContain('hunter2-wrong');
    },
  );

  it('missing settings and an untrusted certificate stop the worker with one line naming the setting', async () => {
    const missing = start('worker.ts', { ...state, DIRECTORY: 'graph', GRAPH_TENANT_ID: graph.tenantId });
    expect(await missing.exit).toBe(1);
    expect(missing.output.stderr).toBe(
      'DIRECTORY=graph needs GRAPH_CLIENT_ID, GRAPH_CLIENT_SECRET or GRAPH_CLIENT_SECRET_FILE or GRAPH_CLIENT_CERTIFICATE_FILE\n',
    );
    const { GRAPH_CA_FILE: _ca, ...untrusted } = graphEnv(graph);
    const run = start('worker.ts', { ...state, DIRECTORY: 'graph', ...untrusted });
    expect(await run.exit).toBe(1);
    expect(run.output.stderr).toMatch(
      /^GRAPH_AUTHORITY_HOST=https:\/\/127\.0\.0\.1:\d+: could not get a token .*certificate.*\)\n$/,
    );
  });

  it('the API serves the Graph directory: a user with the manager resolved', async () => {
    await expectApiServesManager({ DIRECTORY: 'graph', ...graphEnv(graph) }, (key) => graph.idOf(key));
  });
});
