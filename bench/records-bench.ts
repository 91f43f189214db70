/**
 * `npm run bench:records` (and the second half of `npm run bench`): reviewer inbox and admin list latency
 * from the review records in PostgreSQL next to the query-based path (workflow queries) of the same run,
 * and the records' lag behind the workflows. One worker writes the records; two APIs on the same worker
 * and Temporal answer the reads, one from PostgreSQL, one through queries. See RECORDS_USAGE.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApiClient, errorOf, REVIEWS } from './lib/api';
import { LogCollector } from './lib/log-collector';
import { burst } from './lib/pool';
import type { RecordsBenchOptions } from './lib/records-args';
import { parseRecordsArgs } from './lib/records-args';
import { slowPlans } from './lib/records-explain';
import type { Endpoint, ReadResult, RecordsResults } from './lib/records-report';
import { eventLag, renderRecordsReport } from './lib/records-report';
import type { RecordsStack } from './lib/records-stack';
import { startRecordsStack } from './lib/records-stack';
import type { RecordsTenant } from './lib/records-tenant';
import { INBOX_REVIEWER, recordsTenant } from './lib/records-tenant';
import { Closer } from './lib/stack';
import { BENCH_ADMIN } from './lib/tenant';
import { n0 } from './lib/progress';
import { summarize } from './lib/pool';
import { sql } from 'kysely';

const projectRoot = path.resolve(__dirname, '..');
const log = (line: string) => process.stderr.write(`${line}\n`);
const message = (err: unknown) => (err instanceof Error ? err.message : String(err));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const loadAverage = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
const SMALL_GROUP_SIZE = 30;
/** Small groups with a report of the inbox reviewer: its inbox lists these and the big review. */
const SMALL_IN_INBOX = 9;
const WARMUP_REQUESTS = 3;
const CREATE_CONCURRENCY = 4;
const SETTLED_MS = 3000;

interface Ctx {
  options: RecordsBenchOptions;
  results: RecordsResults;
  cancelled: string | null;
}

interface GraphPage<T> {
  value: T[];
}

/** A one-stage review of a group by the members' managers, as Graph's definition body. */
function definitionBody(groupId: string, members: number) {
  const graph = { queryType: 'MicrosoftGraph' as const };
  return {
    displayName: `Records bench: ${members} members of ${groupId}`,
    descriptionForAdmins: 'Created by the records bench',
    scope: {
      '@odata.type': '#microsoft.graph.accessReviewQueryScope',
      query: `/groups/${groupId}/transitiveMembers`,
      ...graph,
    },
    stageSettings: [
      {
        stageId: '1',
        durationInDays: 7,
        reviewers: [{ query: './manager', queryRoot: 'decisions', ...graph }],
      },
    ],
    settings: {
      mailNotificationsEnabled: false,
      reminderNotificationsEnabled: false,
      autoApplyDecisionsEnabled: false,
      defaultDecisionEnabled: false,
    },
  };
}

async function waitFor<T>(ctx: Ctx, what: string, probe: () => Promise<T | undefined>, intervalMs = 200) {
  const t0 = performance.now();
  let lastError = '';
  for (;;) {
    if (ctx.cancelled) throw new Error(`${ctx.cancelled} while waiting for ${what}`);
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = message(err);
    }
    if (performance.now() - t0 > ctx.options.waitTimeoutMs) {
      throw new Error(`${what} did not happen in ${ctx.options.waitTimeoutMs / 1000} s ${lastError}`.trim());
    }
    await sleep(intervalMs);
  }
}

interface Review {
  definitionId: string;
  instanceId: string;
  groupId: string;
}

/** Creates one definition per group (the big one first) and waits until every instance runs and is recorded. */
async function startReviews(
  ctx: Ctx,
  stack: RecordsStack,
  rt: RecordsTenant,
  admin: string,
): Promise<Review[]> {
  const records = new ApiClient(stack.recordsUrl);
  const query = new ApiClient(stack.queryUrl);
  const t0 = performance.now();
  const created: { definitionId: string; groupId: string }[] = [];
  const create = async (groupId: string, size: number) => {
    const def = await records.call<{ id: string }>(
      'POST',
      `${REVIEWS}/definitions`,
      admin,
      definitionBody(groupId, size),
    );
    return { definitionId: def.id, groupId };
  };
  // The big one first; a create answers once the instance started and the records show the definition.
  created.push(await create(rt.groups[0]!, rt.memberIds.length));
  const small = rt.groups.slice(1);
  for (let i = 0; i < small.length; i += CREATE_CONCURRENCY) {
    const batch = small.slice(i, i + CREATE_CONCURRENCY);
    created.push(...(await Promise.all(batch.map((g) => create(g, rt.smallGroupSize)))));
  }
  ctx.results.setupMs.createDefinitions = Math.round(performance.now() - t0);
  log(
    `Created ${created.length} definitions in ${ctx.results.setupMs.createDefinitions} ms; waiting for the instances`,
  );
  const reviews: Review[] = [];
  for (const c of created) {
    const inProgress = (api: ApiClient) =>
      waitFor(ctx, `an InProgress instance of ${c.definitionId} (${api.baseUrl})`, async () => {
        const page = await api.call<GraphPage<{ id: string; status: string }>>(
          'GET',
          `${REVIEWS}/definitions/${c.definitionId}/instances`,
          admin,
        );
        return page.value.find((x) => x.status === 'InProgress');
      });
    const instance = await inProgress(records);
    await inProgress(query);
    reviews.push({ ...c, instanceId: instance.id });
  }
  ctx.results.setupMs.allInstancesInProgress = Math.round(performance.now() - t0);
  const expected = rt.memberIds.length + (rt.groups.length - 1) * rt.smallGroupSize;
  // Recorded: every item is there with its reviewers, and nothing more was written for SETTLED_MS (an item
  // is written again at each step of the stage start, and those writes would compete with the reads).
  let last = '';
  let stableSince = performance.now();
  await waitFor(ctx, `${n0(expected)} item records with their reviewers, and no more writes`, async () => {
    const { rows } = await sql<{ items: string; assigned: string; versions: string; events: string }>`
      select count(*) as items, count(*) filter (where cardinality(current_reviewer_ids) > 0) as assigned,
        coalesce(sum(version), 0) as versions, (select count(*) from review_events) as events
      from review_items`.execute(stack.db);
    const r = rows[0]!;
    const now = `${r.items}/${r.versions}/${r.events}`;
    if (now !== last) [last, stableSince] = [now, performance.now()];
    const complete = Number(r.items) >= expected && Number(r.assigned) >= expected;
    return complete && performance.now() - stableSince >= SETTLED_MS ? true : undefined;
  });
  ctx.results.setupMs.recordsSettled = Math.round(stableSince - t0);
  log(
    `All instances InProgress and ${n0(expected)} items recorded; the last record write ` +
      `${ctx.results.setupMs.recordsSettled} ms after the first create`,
  );
  return reviews;
}

/** `n` sequential GETs (after a warm-up), stopping early after `budgetMs`; the first answer is kept. */
async function sample(ctx: Ctx, api: ApiClient, ep: Endpoint, n: number, budgetMs: number) {
  const get = async () => {
    const res = await api.raw('GET', ep.path, ep.token);
    if (res.status !== 200) throw errorOf(res, `GET ${ep.path}`);
    return res;
  };
  for (let i = 0; i < WARMUP_REQUESTS; i++) await get();
  const latencies: number[] = [];
  const t0 = performance.now();
  let first: { body: unknown; bytes: number } | undefined;
  while (latencies.length < n && (latencies.length < 5 || performance.now() - t0 < budgetMs)) {
    if (ctx.cancelled) throw new Error(ctx.cancelled);
    const t = performance.now();
    const res = await get();
    latencies.push(performance.now() - t);
    first ??= res;
  }
  const value = (first?.body as GraphPage<{ id: string }> | undefined)?.value ?? [];
  return {
    n: latencies.length,
    latency: summarize(latencies)!,
    items: value.length,
    ids: value.map((v) => v.id),
    bytes: first?.bytes ?? 0,
  };
}

/** Every endpoint against both APIs; the read model's and the query path's first answers must list the same ids. */
async function measureReads(ctx: Ctx, stack: RecordsStack, endpoints: Endpoint[]): Promise<ReadResult[]> {
  const { requests, queryRequests, queryBudgetMs } = ctx.options;
  const apis = {
    'read model': new ApiClient(stack.recordsUrl),
    'query-based': new ApiClient(stack.queryUrl),
  };
  const out: ReadResult[] = [];
  for (const ep of endpoints) {
    log(`Reads: ${ep.name}`);
    const model = await sample(ctx, apis['read model'], ep, requests, Number.POSITIVE_INFINITY);
    const queried = await sample(ctx, apis['query-based'], ep, queryRequests, queryBudgetMs);
    const same = model.ids.length === queried.ids.length && model.ids.every((id, i) => id === queried.ids[i]);
    const modelIds = new Set(model.ids);
    const sameSet = model.ids.length === queried.ids.length && queried.ids.every((id) => modelIds.has(id));
    if (!sameSet) {
      ctx.results.failures.push({
        phase: `reads: ${ep.name}`,
        error: `the read model answered ${model.items} items, the query path ${queried.items}, not the same ids`,
      });
    }
    for (const [path, s] of [
      ['read model', model],
      ['query-based', queried],
    ] as const) {
      out.push({
        endpoint: ep.name,
        path,
        n: s.n,
        latencyMs: s.latency,
        items: s.items,
        bytes: s.bytes,
        sameOrder: same,
      });
    }
  }
  return out;
}

/** Decisions by the managers through the read-model API, then the records' lag from PostgreSQL. */
async function measureLag(ctx: Ctx, stack: RecordsStack, rt: RecordsTenant, big: Review) {
  const api = new ApiClient(stack.recordsUrl);
  const base = `${REVIEWS}/definitions/${big.definitionId}/instances/${big.instanceId}`;
  const work: { itemId: string; token: string }[] = [];
  const managers = [...new Set(rt.managerOf.values())].sort();
  for (const manager of managers) {
    if (work.length >= ctx.options.decisions) break;
    const token = await stack.issuer.issue(manager);
    const page = await api.call<GraphPage<{ id: string }>>(
      'GET',
      `${base}/decisions/filterByCurrentUser(on='reviewer')?$top=1000`,
      token,
    );
    for (const d of page.value.slice(0, ctx.options.decisions - work.length))
      work.push({ itemId: d.id, token });
  }
  const { rows } = await sql<{ now: Date }>`select now() as now`.execute(stack.db);
  const since = rows[0]!.now;
  log(`Lag: ${n0(work.length)} decisions, ${ctx.options.concurrency} in flight`);
  const patches = await burst(
    work,
    async ({ itemId, token }, i) => {
      const res = await api.raw('PATCH', `${base}/decisions/${itemId}`, token, {
        decision: i % 10 === 0 ? 'Deny' : 'Approve',
        justification: 'records bench',
      });
      if (res.status === 204) return { ok: true };
      const err = errorOf(res, `PATCH decision ${itemId}`);
      return { ok: false, key: err.key, message: err.message };
    },
    {
      label: 'decisions',
      concurrency: ctx.options.concurrency,
      maxFailureFraction: 0.05,
      minSample: Math.min(100, work.length),
      cancelled: () => ctx.cancelled ?? stack.workerFailure.error,
    },
  );
  if (patches.failed > 0 || patches.aborted) {
    ctx.results.failures.push({
      phase: 'decisions',
      error: `${patches.failed} of ${patches.attempted} decisions failed ${patches.aborted ?? ''}: ${JSON.stringify(patches.errors)}`,
    });
  }
  // A 204 means the decision is recorded (the Update answers after its batch is written).
  const decided = await stack.db
    .selectFrom('review_items')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('instance_id', '=', big.instanceId)
    .where(sql<boolean>`record -> 'view' ->> 'decision' <> 'NotReviewed'`)
    .executeTakeFirstOrThrow();
  if (Number(decided.n) !== patches.ok) {
    ctx.results.failures.push({
      phase: 'decisions',
      error: `${patches.ok} decisions were acknowledged, the records hold ${decided.n} decided items`,
    });
  }
  return {
    patches,
    recordedDecidedItems: Number(decided.n),
    allEvents: await eventLag(stack.db),
    duringDecisions: await eventLag(stack.db, since),
  };
}

function endpointsOf(big: Review, admin: string, reviewer: string): Endpoint[] {
  const bigDef = `${REVIEWS}/definitions/${big.definitionId}`;
  const bigInstance = `${bigDef}/instances/${big.instanceId}`;
  const filter = encodeURIComponent(
    `decision eq 'NotReviewed' and startswith(principal/displayName,'Bench u0012')`,
  );
  const orderBy = encodeURIComponent('principal/displayName desc');
  return [
    {
      name: "reviewer inbox: definitions/filterByCurrentUser(on='reviewer')",
      path: `${REVIEWS}/definitions/filterByCurrentUser(on='reviewer')`,
      token: reviewer,
    },
    {
      name: 'reviewer: instances/filterByCurrentUser of the big definition',
      path: `${bigDef}/instances/filterByCurrentUser(on='reviewer')`,
      token: reviewer,
    },
    {
      name: 'reviewer: decisions/filterByCurrentUser $top=100 (big instance)',
      path: `${bigInstance}/decisions/filterByCurrentUser(on='reviewer')?$top=100`,
      token: reviewer,
    },
    { name: 'admin: definitions?$top=100', path: `${REVIEWS}/definitions?$top=100`, token: admin },
    {
      name: 'admin: decisions?$top=100 (big instance)',
      path: `${bigInstance}/decisions?$top=100`,
      token: admin,
    },
    {
      name: 'admin: decisions $filter + $orderby, $top=100 (big instance)',
      path: `${bigInstance}/decisions?$top=100&$filter=${filter}&$orderby=${orderBy}`,
      token: admin,
    },
  ];
}

async function run(ctx: Ctx, closer: Closer, apiLog: LogCollector): Promise<RecordsStack> {
  const { options, results } = ctx;
  const rt = recordsTenant(options.reviewees, options.smallDefinitions, SMALL_GROUP_SIZE, SMALL_IN_INBOX);
  const explain: Record<string, string> =
    options.explainOverMs === null
      ? {}
      : {
          shared_preload_libraries: 'auto_explain',
          'auto_explain.log_min_duration': `${options.explainOverMs}ms`,
          'auto_explain.log_analyze': 'on',
          'auto_explain.log_buffers': 'on',
          'auto_explain.log_parameter_max_length': '100',
        };
  const stack = await startRecordsStack(
    projectRoot,
    rt.tenant,
    closer,
    log,
    apiLog,
    async (dir) => rmSync(dir, { recursive: true, force: true }),
    explain,
  );
  Object.assign(results.setupMs, stack.timings);
  const admin = await stack.issuer.issue(BENCH_ADMIN, { roles: [stack.adminRole] });
  const reviewer = await stack.issuer.issue(INBOX_REVIEWER);
  const reviews = await startReviews(ctx, stack, rt, admin);
  const big = reviews[0]!;
  results.reviews = {
    definitions: reviews.length,
    bigInstanceItems: rt.memberIds.length,
    smallGroupSize: rt.smallGroupSize,
    inboxReviewer: INBOX_REVIEWER,
    inboxDefinitions: 1 + rt.smallGroupsInInbox,
    inboxItemsInBig: rt.memberIds.length / rt.managerCount,
  };
  results.reads = await measureReads(ctx, stack, endpointsOf(big, admin, reviewer));
  results.lag = await measureLag(ctx, stack, rt, big);
  return stack;
}

async function main(): Promise<number> {
  let options: RecordsBenchOptions;
  try {
    options = parseRecordsArgs(process.argv.slice(2), projectRoot);
  } catch (err) {
    log(message(err));
    return 2;
  }
  const cpus = os.cpus();
  const results: RecordsResults = {
    ok: false,
    startedAt: new Date().toISOString(),
    options,
    environment: {
      node: process.versions.node,
      cpus: cpus.length,
      cpuModel: cpus[0]?.model.trim() ?? 'unknown',
      totalMemoryGB: Math.round(os.totalmem() / 1024 ** 3),
      loadAverageAtStart: loadAverage(),
      loadAverageAtEnd: '',
    },
    setupMs: {},
    reviews: null,
    reads: [],
    lag: null,
    slowStatements: null,
    failures: [],
    shutdownProblems: [],
    apiLog: [],
    totalRunMs: 0,
  };
  const ctx: Ctx = { options, results, cancelled: null };
  const onSignal = (signal: string) => {
    if (ctx.cancelled) process.exit(130);
    ctx.cancelled = `interrupted (${signal})`;
    log(`\n${signal}: stopping after the current step; press Ctrl-C again to quit at once`);
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  // A closed stderr (`| head`) must not crash the run before it has stopped PostgreSQL and the dev server.
  process.stderr.on('error', () => undefined);
  const closer = new Closer();
  const apiLog = new LogCollector();
  const t0 = performance.now();
  log(`Records bench: ${n0(options.reviewees)} reviewees, ${1 + options.smallDefinitions} definitions`);
  let stack: RecordsStack | undefined;
  try {
    stack = await run(ctx, closer, apiLog);
  } catch (err) {
    results.failures.push({ phase: 'run', error: message(err) });
    log(`FAILED: ${message(err)}`);
  } finally {
    if (stack && options.explainOverMs !== null) results.slowStatements = slowPlans(stack.pgLogFile);
    results.apiLog = apiLog.summary();
    log('Shutting down…');
    results.shutdownProblems = await closer.closeAll();
    results.totalRunMs = Math.round(performance.now() - t0);
    results.environment.loadAverageAtEnd = loadAverage();
    results.ok = results.failures.length === 0 && results.shutdownProblems.length === 0;
  }
  process.stdout.write(`\n${renderRecordsReport(results)}\n`);
  try {
    mkdirSync(path.dirname(options.out), { recursive: true });
    writeFileSync(options.out, `${JSON.stringify(results, null, 2)}\n`);
    process.stdout.write(`\nResults written to ${path.relative(process.cwd(), options.out)}\n`);
  } catch (err) {
    log(`Could not write ${options.out}: ${message(err)}`);
  }
  return results.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(`records bench crashed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
