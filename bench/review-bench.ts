/**
 * `npm run bench`: how fast Stagecoach moves a large 3-stage access review through its public API, next
 * to what the same Temporal dev server does with raw signals and raw Updates, and how close the workflows
 * come to Temporal's per-run limits. Everything but the dev server runs in this process. See USAGE in
 * lib/args.ts.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { instanceWorkflowId, seriesWorkflowId } from '../src/domain/ids';
import type { accessReviewInstance } from '../src/workflows';
import { benchUpdateBaseline, pingUpdate } from './baseline-update-workflow';
import { benchBaseline, doneSignal, pingCountQuery, pingSignal } from './baseline-workflow';
import { ApiClient, errorOf, REVIEWS } from './lib/api';
import type { BenchOptions } from './lib/args';
import { parseArgs } from './lib/args';
import { LogCollector } from './lib/log-collector';
import { diagnoseWorkflow, temporalErrorKey } from './lib/diagnose';
import { inspectRuns, TEMPORAL_THRESHOLDS } from './lib/history';
import { burst, PerKeyLimit } from './lib/pool';
import { TemporalProbe } from './lib/probe';
import { n0 } from './lib/progress';
import type {
  ApplyResultSummary,
  BaselineResult,
  BenchResults,
  StageResult,
  UpdateBaselineResult,
} from './lib/report';
import { cpuMsPerOperation, renderReport } from './lib/report';
import { findPid, ResourceMonitor } from './lib/resources';
import type { BenchStack } from './lib/stack';
import { BASELINE_TASK_QUEUE, Closer, startBenchStack } from './lib/stack';
import type { BenchTenant } from './lib/tenant';
import { BENCH_ADMIN, BENCH_GROUP, BENCH_OWNER, benchTenant } from './lib/tenant';

const projectRoot = path.resolve(__dirname, '..');
const log = (line: string) => process.stderr.write(`${line}\n`);
const message = (err: unknown) => (err instanceof Error ? err.message : String(err));
const since = (t0: number) => Math.round(performance.now() - t0);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MAX_FAILURE_FRACTION = 0.05;
/** Temporal's limit of Updates in flight per workflow execution (DESIGN.md §3). */
const MAX_UPDATES_IN_FLIGHT = 10;

/** Shared state of one run: what is cancelled, which phase runs (for failure reports). */
interface RunContext {
  options: BenchOptions;
  results: BenchResults;
  monitor: ResourceMonitor;
  cancelled: string | null;
  phase: string;
  api?: ApiClient;
}

function sdkVersion(): string {
  try {
    const file = path.join(projectRoot, 'node_modules', '@temporalio', 'client', 'package.json');
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/**
 * The checked-out commit, read from .git without running git (the tree may hold uncommitted changes). In a
 * linked worktree `.git` is a file naming the worktree's git directory, whose `commondir` holds the refs.
 */
function gitCommit(): string {
  try {
    let gitDir = path.join(projectRoot, '.git');
    if (statSync(gitDir).isFile()) {
      const pointer = readFileSync(gitDir, 'utf8').trim();
      if (!pointer.startsWith('gitdir: ')) return 'unknown';
      gitDir = path.resolve(projectRoot, pointer.slice('gitdir: '.length));
    }
    return commitIn(gitDir);
  } catch {
    return 'unknown';
  }
}

/** The commit HEAD names in a git directory: detached, a loose ref (here or in the common dir) or packed. */
function commitIn(gitDir: string): string {
  const head = readFileSync(path.join(gitDir, 'HEAD'), 'utf8').trim();
  if (!head.startsWith('ref: ')) return head.slice(0, 12);
  const ref = head.slice(5);
  let commonDir = gitDir;
  try {
    commonDir = path.resolve(gitDir, readFileSync(path.join(gitDir, 'commondir'), 'utf8').trim());
  } catch {
    // not a linked worktree
  }
  for (const dir of new Set([gitDir, commonDir])) {
    try {
      return readFileSync(path.join(dir, ref), 'utf8').trim().slice(0, 12);
    } catch {
      // not a loose ref here
    }
  }
  const packed = readFileSync(path.join(commonDir, 'packed-refs'), 'utf8');
  const line = packed.split('\n').find((l) => l.endsWith(` ${ref}`));
  return line ? line.slice(0, 12) : 'unknown';
}

function initialResults(options: BenchOptions): BenchResults {
  const cpus = os.cpus();
  return {
    ok: false,
    startedAt: new Date().toISOString(),
    finishedAt: null,
    options: { ...options },
    environment: {
      node: process.versions.node,
      platform: `${os.platform()} ${os.release()} ${os.arch()}`,
      cpus: cpus.length,
      cpuModel: cpus[0]?.model.trim() ?? 'unknown',
      totalMemoryGB: Math.round(os.totalmem() / 1024 ** 3),
      temporalCli: 'unknown',
      temporalSdk: sdkVersion(),
      gitCommit: gitCommit(),
      loadAverageAtStart: os
        .loadavg()
        .map((x) => x.toFixed(2))
        .join(' '),
    },
    setupMs: {},
    baseline: null,
    updateBaseline: null,
    review: {
      definitionId: null,
      instanceId: null,
      workflowId: null,
      createRequestMs: null,
      toStage1InProgressMs: null,
      stages: [],
      apply: null,
      endToEndMs: null,
    },
    directory: null,
    memory: {
      note: 'RSS of the bench process, which runs the Temporal worker, the API and the HTTP client together; sampled every 250 ms',
      peakRssBytes: 0,
      devServerPeakRssBytes: null,
    },
    resources: [],
    cpuMsPerOperation: {},
    workflows: [],
    thresholdsCrossed: [],
    failures: [],
    shutdownProblems: [],
    apiLog: [],
    largestApiResponses: {},
    totalRunMs: null,
  };
}

/**
 * Polls `probe` until it returns a value. Every 2 s `check` may report that waiting is pointless (the
 * workflow closed or its workflow task keeps failing); then, or after the timeout, it throws with the
 * last probe error.
 */
async function waitFor<T>(
  ctx: RunContext,
  what: string,
  probe: () => Promise<T | undefined>,
  check?: () => Promise<string | null>,
  intervalMs = 50,
): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  let lastError = '';
  let lastCheck = t0;
  for (;;) {
    if (ctx.cancelled) throw new Error(`${ctx.cancelled} while waiting for ${what}`);
    try {
      const value = await probe();
      if (value !== undefined) return { value, ms: since(t0) };
    } catch (err) {
      lastError = message(err);
    }
    const now = performance.now();
    if (check && now - lastCheck > 2000) {
      lastCheck = now;
      const problem = await check().catch((err: unknown) => `cannot describe the workflow: ${message(err)}`);
      if (problem) throw new Error(`gave up waiting for ${what}: ${problem}`);
    }
    if (now - t0 > ctx.options.waitTimeoutMs) {
      throw new Error(
        `${what} did not happen within ${ctx.options.waitTimeoutMs / 1000} s${lastError ? `; last error: ${lastError}` : ''}`,
      );
    }
    await sleep(intervalMs);
  }
}

/** Step 2: S signals to a trivial workflow on its own worker, with the same concurrency as the decisions. */
async function runBaseline(ctx: RunContext, stack: BenchStack): Promise<BaselineResult> {
  const signals = Math.min(ctx.options.reviewees, 5000);
  const workflowId = `bench-baseline/${randomUUID()}`;
  const result: BaselineResult = {
    workflowId,
    signals,
    send: null,
    processedMs: null,
    counted: null,
    queryDuringSignals: null,
    error: null,
  };
  try {
    const started = await stack.client.workflow.start(benchBaseline, {
      taskQueue: BASELINE_TASK_QUEUE,
      workflowId,
    });
    // The first workflow task has run (bundle loaded, workflow cached) before the clock starts.
    await waitFor(ctx, 'the baseline workflow to answer a query', () => started.query(pingCountQuery));
    log(`Raw baseline: ${n0(signals)} signals to ${workflowId}`);
    const probe = new TemporalProbe({ 'baseline query': () => started.query(pingCountQuery) });
    probe.start();
    const t0 = performance.now();
    result.send = await burst(
      Array.from({ length: signals }, (_, i) => i),
      async (i) => {
        try {
          await stack.client.workflow.getHandle(workflowId).signal(pingSignal, {
            reviewerId: `u${String(i + 1).padStart(6, '0')}`,
            decisions: [{ itemId: randomUUID(), decision: 'Approve', justification: 'bench' }],
          });
          return { ok: true };
        } catch (err) {
          return { ok: false, key: temporalErrorKey(err), message: message(err) };
        }
      },
      {
        label: 'raw signals',
        concurrency: ctx.options.concurrency,
        maxFailureFraction: MAX_FAILURE_FRACTION,
        minSample: Math.min(100, signals),
        cancelled: () => ctx.cancelled,
      },
    );
    result.queryDuringSignals = await probe.stop();
    await started.signal(doneSignal);
    result.counted = await started.result();
    result.processedMs = since(t0);
    if (result.send.aborted) result.error = result.send.aborted;
    else if (result.counted !== result.send.ok) {
      result.error = `the workflow counted ${result.counted} signals, ${result.send.ok} were acknowledged`;
    }
  } catch (err) {
    result.error = message(err);
  }
  if (result.error) ctx.results.failures.push({ phase: 'raw baseline', error: result.error });
  return result;
}

/**
 * Step 2b: as many Updates as step 2 sent signals, with the same concurrency, one per request, to
 * trivial workflows. Temporal allows 10 Updates in flight per workflow execution and 2,000 in one run's
 * history, so they are spread over k = max(ceil(n / 1000), ceil(concurrency / 8)) workflows, request i
 * to workflow i % k: at most about 1,000 per run and, on average, at most 8 in flight per workflow. A
 * workflow that falls behind gathers more of the senders, so a request whose workflow already has 10
 * in flight waits for one of them (the wait counts in its latency) rather than be refused by Temporal.
 */
async function runUpdateBaseline(ctx: RunContext, stack: BenchStack): Promise<UpdateBaselineResult> {
  const updates = Math.min(ctx.options.reviewees, 5000);
  const { concurrency } = ctx.options;
  const k = Math.max(Math.ceil(updates / 1000), Math.ceil(concurrency / 8));
  const workflowIds = Array.from({ length: k }, (_, j) => `bench-update-baseline/${j}/${randomUUID()}`);
  const result: UpdateBaselineResult = {
    workflowIds,
    updates,
    spread: `k = max(ceil(${n0(updates)} / 1,000), ceil(${concurrency} / 8)) = ${k} workflows, request i to workflow i % k`,
    send: null,
    maxInFlightPerWorkflow: 0,
    waitedForSlot: 0,
    acknowledgedPerWorkflow: workflowIds.map(() => 0),
    countedPerWorkflow: null,
    counted: null,
    queryDuringUpdates: null,
    error: null,
  };
  try {
    const handles = await Promise.all(
      workflowIds.map((workflowId) =>
        stack.client.workflow.start(benchUpdateBaseline, { taskQueue: BASELINE_TASK_QUEUE, workflowId }),
      ),
    );
    for (const h of handles) {
      await waitFor(ctx, 'a baseline workflow to answer a query', () => h.query(pingCountQuery));
    }
    log(`Raw Update baseline: ${n0(updates)} Updates to ${k} workflows (request i to workflow i % ${k})`);
    const probe = new TemporalProbe({ 'baseline query': () => handles[0]!.query(pingCountQuery) });
    const limit = new PerKeyLimit(MAX_UPDATES_IN_FLIGHT);
    probe.start();
    result.send = await burst(
      Array.from({ length: updates }, (_, i) => i),
      async (i) => {
        const j = i % k;
        try {
          await limit.run(j, () =>
            stack.client.workflow.getHandle(workflowIds[j]!).executeUpdate(pingUpdate, {
              args: [
                {
                  requests: [
                    {
                      reviewerId: `u${String(i + 1).padStart(6, '0')}`,
                      stageId: '1',
                      decisions: [{ itemId: randomUUID(), decision: 'Approve', justification: 'bench' }],
                    },
                  ],
                  notAfter: new Date(Date.now() + 10_000).toISOString(),
                },
              ],
            }),
          );
          result.acknowledgedPerWorkflow[j]!++;
          return { ok: true };
        } catch (err) {
          return { ok: false, key: temporalErrorKey(err), message: message(err) };
        }
      },
      {
        label: 'raw Updates',
        concurrency,
        maxFailureFraction: MAX_FAILURE_FRACTION,
        minSample: Math.min(100, updates),
        cancelled: () => ctx.cancelled,
      },
    );
    result.queryDuringUpdates = await probe.stop();
    result.maxInFlightPerWorkflow = limit.maxInFlight;
    result.waitedForSlot = limit.waited;
    await Promise.all(handles.map((h) => h.signal(doneSignal)));
    result.countedPerWorkflow = await Promise.all(handles.map((h) => h.result()));
    result.counted = result.countedPerWorkflow.reduce((a, b) => a + b, 0);
    const mismatch = result.countedPerWorkflow.findIndex((c, j) => c !== result.acknowledgedPerWorkflow[j]);
    if (result.send.aborted) result.error = result.send.aborted;
    else if (mismatch >= 0) {
      result.error = `workflow ${workflowIds[mismatch]} counted ${result.countedPerWorkflow[mismatch]} Updates, ${result.acknowledgedPerWorkflow[mismatch]} were acknowledged`;
    }
  } catch (err) {
    result.error = message(err);
  }
  if (result.error) ctx.results.failures.push({ phase: 'raw Update baseline', error: result.error });
  return result;
}

/** Step 3's definition: self-review, then managers, then the group owners; everybody moves on. */
function definitionBody(reviewees: number) {
  const graph = { queryType: 'MicrosoftGraph' as const };
  return {
    displayName: `Review bench: ${reviewees} members of ${BENCH_GROUP}`,
    descriptionForAdmins: 'Created by npm run bench',
    scope: {
      '@odata.type': '#microsoft.graph.accessReviewQueryScope',
      query: `/groups/${BENCH_GROUP}/transitiveMembers`,
      ...graph,
    },
    stageSettings: [
      { stageId: '1', durationInDays: 7, reviewers: [] },
      {
        stageId: '2',
        dependsOn: ['1'],
        durationInDays: 7,
        reviewers: [{ query: './manager', queryRoot: 'decisions', ...graph }],
      },
      {
        stageId: '3',
        dependsOn: ['2'],
        durationInDays: 7,
        reviewers: [{ query: `/groups/${BENCH_GROUP}/owners`, ...graph }],
      },
    ],
    settings: {
      mailNotificationsEnabled: false,
      reminderNotificationsEnabled: false,
      autoApplyDecisionsEnabled: true,
      defaultDecisionEnabled: false,
    },
  };
}

interface Item {
  id: string;
  principalId: string;
}
interface GraphPage<T> {
  value: T[];
  '@odata.nextLink'?: string;
}
interface GraphStage {
  id: string;
  status: string;
}
interface GraphInstance {
  id: string;
  status: string;
}

const STAGES = [
  { stageId: '1', rule: 'self-review' },
  { stageId: '2', rule: 'managers' },
  { stageId: '3', rule: 'group owner' },
] as const;

/** Whether a member is denied in stage 3: every tenth member by number (u000010, u000020, …). */
const deniedInStage3 = (principalId: string) => Number(principalId.slice(1)) % 10 === 0;

/** Items of one stage (or of the instance) by `decision`. */
async function countDecisions(api: ApiClient, admin: string, path: string) {
  const counts: Record<string, number> = {};
  for (let skip = 0; ; skip += 1000) {
    const sep = path.includes('?') ? '&' : '?';
    const page = await api.call<GraphPage<{ decision: string }>>(
      'GET',
      `${path}${sep}$top=1000&$skip=${skip}`,
      admin,
    );
    for (const d of page.value) {
      counts[d.decision] = (counts[d.decision] ?? 0) + 1;
    }
    if (page.value.length < 1000 || !page['@odata.nextLink']) break;
  }
  return counts;
}

/** Compares what a completed stage recorded with what the API acknowledged; a shortfall is a failure. */
async function checkRecorded(
  ctx: RunContext,
  api: ApiClient,
  admin: string,
  base: string,
  stage: StageResult,
) {
  try {
    stage.recorded = await countDecisions(api, admin, `${base}/stages/${stage.stageId}/decisions`);
    const recorded = Object.entries(stage.recorded)
      .filter(([k]) => k !== 'NotReviewed')
      .reduce((sum, [, c]) => sum + c, 0);
    const acknowledged = stage.decisions?.ok ?? 0;
    if (recorded < acknowledged) {
      const error = `stage ${stage.stageId}: the API acknowledged ${n0(acknowledged)} decisions (204) but the completed stage holds ${n0(recorded)} (${JSON.stringify(stage.recorded)}): ${n0(acknowledged - recorded)} decisions lost`;
      stage.error = [stage.error, error].filter(Boolean).join('; ');
      ctx.results.failures.push({ phase: `stage ${stage.stageId} read-back`, error });
    }
  } catch (err) {
    ctx.results.failures.push({ phase: `stage ${stage.stageId} read-back`, error: message(err) });
  }
}

/** Steps 3–5: the review through the public API, stage by stage, then apply and the directory check. */
async function runReview(ctx: RunContext, stack: BenchStack, bt: BenchTenant): Promise<void> {
  const { results, monitor, options } = ctx;
  const review = results.review;
  const api = new ApiClient(stack.baseUrl);
  ctx.api = api;
  const admin = await stack.issuer.issue(BENCH_ADMIN, { roles: [stack.adminRole] });

  ctx.phase = 'create review';
  monitor.phase('create review → stage 1 InProgress');
  const t0 = performance.now();
  const definition = await api.call<{ id: string }>(
    'POST',
    `${REVIEWS}/definitions`,
    admin,
    definitionBody(options.reviewees),
  );
  review.createRequestMs = since(t0);
  review.definitionId = definition.id;
  const { value: instance } = await waitFor(ctx, 'the definition to start its instance', async () => {
    const page = await api.call<GraphPage<GraphInstance>>(
      'GET',
      `${REVIEWS}/definitions/${definition.id}/instances`,
      admin,
    );
    return page.value[0];
  });
  review.instanceId = instance.id;
  const workflowId = instanceWorkflowId(definition.id, instance.id);
  review.workflowId = workflowId;
  const base = `${REVIEWS}/definitions/${definition.id}/instances/${instance.id}`;
  const running = () => diagnoseWorkflow(stack.client, workflowId, { allowCompleted: false });
  const workerDown = async () => stack.workerFailure.error;
  const check = async () => (await workerDown()) ?? (await running());
  const stageInProgress = (stageId: string) => async () => {
    const page = await api.call<GraphPage<GraphStage>>('GET', `${base}/stages`, admin);
    return page.value.find((s) => s.id === stageId && s.status === 'InProgress');
  };
  await waitFor(ctx, 'stage 1 to be InProgress', stageInProgress('1'), check);
  review.toStage1InProgressMs = since(t0);
  log(`Stage 1 InProgress after ${review.toStage1InProgressMs} ms (definition ${definition.id})`);

  const rawRate = results.baseline?.send?.perSecond ?? null;
  const rawUpdateRate = results.updateBaseline?.send?.perSecond ?? null;
  for (const { stageId, rule } of STAGES) {
    const stage: StageResult = {
      stageId,
      reviewerRule: rule,
      items: 0,
      listMs: null,
      largestPageBytes: 0,
      distinctReviewers: 0,
      tokensMs: null,
      denies: 0,
      decisions: null,
      ratioToRaw: null,
      ratioToRawUpdates: null,
      recorded: null,
      temporalCallsDuringDecisions: null,
      stopRequestMs: null,
      transitionMs: null,
      error: null,
    };
    review.stages.push(stage);

    ctx.phase = `stage ${stageId} item listing`;
    monitor.phase(`stage ${stageId} list items + tokens`);
    const items: Item[] = [];
    const tList = performance.now();
    for (let skip = 0; ; skip += 1000) {
      const { body: page, bytes } = await api.callSized<GraphPage<{ id: string; principal: { id: string } }>>(
        'GET',
        `${base}/stages/${stageId}/decisions?$top=1000&$skip=${skip}`,
        admin,
      );
      stage.largestPageBytes = Math.max(stage.largestPageBytes, bytes);
      for (const d of page.value) items.push({ id: d.id, principalId: d.principal.id });
      if (page.value.length < 1000 || !page['@odata.nextLink']) break;
    }
    stage.listMs = since(tList);
    stage.items = items.length;
    if (items.length !== options.reviewees) {
      throw new Error(`stage ${stageId} has ${items.length} items, expected ${options.reviewees}`);
    }

    const reviewerOf = (item: Item) =>
      stageId === '1'
        ? item.principalId
        : stageId === '2'
          ? bt.managerOf.get(item.principalId)!
          : BENCH_OWNER;
    const tTokens = performance.now();
    const tokens = new Map<string, string>();
    for (const item of items) {
      const reviewer = reviewerOf(item);
      if (!tokens.has(reviewer)) tokens.set(reviewer, await stack.issuer.issue(reviewer));
    }
    stage.tokensMs = since(tTokens);
    stage.distinctReviewers = tokens.size;
    const decide = (item: Item) => (stageId === '3' && deniedInStage3(item.principalId) ? 'Deny' : 'Approve');
    stage.denies = items.filter((i) => decide(i) === 'Deny').length;

    ctx.phase = `stage ${stageId} decisions`;
    monitor.phase(`stage ${stageId} decisions`);
    log(`Stage ${stageId} (${rule}): ${n0(items.length)} decisions by ${n0(tokens.size)} reviewers`);
    const probe = new TemporalProbe(
      TemporalProbe.reviewOps(stack.client, seriesWorkflowId(definition.id), workflowId),
    );
    probe.start();
    try {
      stage.decisions = await burst(
        items,
        async (item) => {
          const res = await api.raw('PATCH', `${base}/decisions/${item.id}`, tokens.get(reviewerOf(item))!, {
            decision: decide(item),
            justification: 'bench',
          });
          if (res.status === 204) return { ok: true };
          const err = errorOf(res, `PATCH decision of ${item.principalId}`);
          return { ok: false, key: err.key, message: err.message };
        },
        {
          label: `stage ${stageId} decisions`,
          concurrency: options.concurrency,
          maxFailureFraction: MAX_FAILURE_FRACTION,
          minSample: Math.min(100, items.length),
          cancelled: () => ctx.cancelled ?? stack.workerFailure.error,
        },
      );
    } finally {
      stage.temporalCallsDuringDecisions = await probe.stop();
    }
    const { perSecond } = stage.decisions;
    const ratio = (raw: number | null) => (raw ? Math.round((perSecond / raw) * 1000) / 1000 : null);
    stage.ratioToRaw = ratio(rawRate);
    stage.ratioToRawUpdates = ratio(rawUpdateRate);
    if (stage.decisions.failed > 0) {
      const kinds = Object.entries(stage.decisions.errors)
        .map(([k, e]) => `${e.count}× ${k} (e.g. ${e.example})`)
        .join('; ');
      const error = `${n0(stage.decisions.failed)} of ${n0(stage.decisions.attempted)} decisions failed${stage.decisions.aborted ? `, ${stage.decisions.aborted}` : ''}: ${kinds}`;
      stage.error = error;
      ctx.results.failures.push({ phase: ctx.phase, error });
    }
    if (ctx.cancelled) throw new Error(ctx.cancelled);
    // Read back while the stage runs (a 204 means the workflow accepted and ran the recordDecisions Update,
    // so queries see it; the workflow is cached, so no replay), before the stop.
    ctx.phase = `stage ${stageId} read-back`;
    monitor.phase(`stage ${stageId} read back decisions`);
    await checkRecorded(ctx, api, admin, base, stage);
    // Even after failed decisions the stage is stopped: the transition time and whether the engine still
    // takes an admin signal are part of the report.

    ctx.phase = `stage ${stageId} stop`;
    monitor.phase(
      stageId === '3' ? 'stage 3 stop → Applied' : `stage ${stageId} stop → stage ${Number(stageId) + 1}`,
    );
    const tStop = performance.now();
    const stop = await api.raw('POST', `${base}/stages/${stageId}/stop`, admin);
    stage.stopRequestMs = since(tStop);
    if (stop.status !== 204) {
      const err = errorOf(stop, `POST stages/${stageId}/stop`);
      stage.error = [stage.error, err.message].filter(Boolean).join('; ');
      throw err;
    }
    if (stageId !== '3') {
      const next = String(Number(stageId) + 1);
      ctx.phase = `stage ${stageId} → ${next} transition`;
      await waitFor(ctx, `stage ${next} to be InProgress`, stageInProgress(next), check);
      stage.transitionMs = since(tStop);
      log(`Stage ${stageId} stopped → stage ${next} InProgress in ${stage.transitionMs} ms`);
      continue;
    }

    ctx.phase = 'apply';
    const apply: ApplyResultSummary = {
      stopToAppliedMs: null,
      stopToWorkflowClosedMs: null,
      applyingToAppliedMs: null,
      appliedGetMs: null,
      items: 0,
      itemsPerSecond: null,
      statusesSeen: [],
      error: null,
    };
    review.apply = apply;
    const stopWallClock = Date.now() - (performance.now() - tStop);
    let leftInProgressAt: number | null = null;
    try {
      await waitFor(
        ctx,
        'the instance to be Applied',
        async () => {
          const tGet = performance.now();
          const view = await api.call<GraphInstance>('GET', base, admin);
          if (apply.statusesSeen.at(-1) !== view.status) apply.statusesSeen.push(view.status);
          if (view.status !== 'InProgress' && leftInProgressAt === null) {
            leftInProgressAt = performance.now();
            stage.transitionMs = since(tStop);
          }
          if (view.status !== 'Applied') return undefined;
          apply.appliedGetMs = since(tGet);
          return view;
        },
        async () =>
          (await workerDown()) ??
          (await diagnoseWorkflow(stack.client, workflowId, { allowCompleted: true })),
      );
      apply.stopToAppliedMs = since(tStop);
      apply.applyingToAppliedMs = leftInProgressAt === null ? null : since(leftInProgressAt);
      review.endToEndMs = since(t0);
      log(`Instance Applied (seen through the API) ${apply.stopToAppliedMs} ms after the stage 3 stop`);
    } catch (err) {
      apply.error = message(err);
      throw err;
    }

    ctx.phase = 'directory check';
    monitor.phase('check results');
    // The workflow's result and close time come from its history: no query, so no replay of a closed run.
    const handle = stack.client.workflow.getHandle<typeof accessReviewInstance>(workflowId);
    const final = await handle.result();
    const closeTime = (await handle.describe()).closeTime;
    if (closeTime) apply.stopToWorkflowClosedMs = Math.max(0, closeTime.getTime() - stopWallClock);
    const { total, ...byDecision } = final.counts;
    apply.items = (byDecision.Approve ?? 0) + (byDecision.Deny ?? 0);
    const applyMs = apply.stopToWorkflowClosedMs ?? apply.stopToAppliedMs;
    apply.itemsPerSecond =
      applyMs && apply.items ? Math.round((apply.items / applyMs) * 1000 * 10) / 10 : null;
    const group = await stack.directory.getGroup(BENCH_GROUP);
    const members = new Set(group?.memberIds ?? []);
    const denied = bt.memberIds.filter(deniedInStage3);
    const deniedStillMember = denied.filter((id) => members.has(id)).length;
    const approvedMissing = bt.memberIds.filter((id) => !deniedInStage3(id) && !members.has(id)).length;
    results.directory = {
      membersBefore: bt.memberIds.length,
      membersAfter: members.size,
      deniedExpected: denied.length,
      deniedRemoved: denied.length - deniedStillMember,
      deniedStillMember,
      approvedMissing,
      finalDecisions: { ...byDecision, total },
      finalStatus: final.status,
      ok:
        deniedStillMember === 0 &&
        approvedMissing === 0 &&
        final.status === 'Applied' &&
        byDecision.Deny === denied.length,
    };
    if (!results.directory.ok) {
      results.failures.push({
        phase: 'directory check',
        error: `${deniedStillMember} denied members are still in ${BENCH_GROUP}, ${approvedMissing} approved members are missing; final ${JSON.stringify(results.directory.finalDecisions)}, status ${final.status}`,
      });
    }
  }
}

function summarizeThresholds(results: BenchResults): string[] {
  return results.workflows.flatMap((w) => w.crossed.map((c) => `${c} — ${w.type} ${w.workflowId}`));
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms / 1000} s`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function main(): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseArgs(process.argv.slice(2), projectRoot);
  } catch (err) {
    log(message(err));
    return 2;
  }
  const results = initialResults(options);
  const monitor = new ResourceMonitor();
  const ctx: RunContext = { options, results, monitor, cancelled: null, phase: 'setup' };
  const closer = new Closer();
  const apiLog = new LogCollector();
  const onSignal = (signal: string) => {
    if (ctx.cancelled) process.exit(130);
    ctx.cancelled = `interrupted (${signal})`;
    log(`\n${signal}: stopping after the current step; press Ctrl-C again to quit at once`);
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  monitor.start();
  let stack: BenchStack | undefined;
  const tAll = performance.now();
  log(`Review bench: ${n0(options.reviewees)} reviewees, concurrency ${options.concurrency}`);
  try {
    monitor.phase('setup');
    const bt = benchTenant(options.reviewees);
    stack = await startBenchStack(projectRoot, bt.tenant, closer, log, apiLog);
    monitor.attachDevServer(findPid(stack.dbFile));
    results.setupMs = stack.timings;
    results.environment.temporalCli = stack.cliVersion;
    log(`Stack up: API ${stack.baseUrl}, Temporal ${stack.address}`);

    ctx.phase = 'raw baseline';
    monitor.phase('raw baseline');
    results.baseline = await runBaseline(ctx, stack);
    ctx.phase = 'raw Update baseline';
    monitor.phase('raw Update baseline');
    results.updateBaseline = await runUpdateBaseline(ctx, stack);

    await runReview(ctx, stack, bt);
  } catch (err) {
    results.failures.push({ phase: ctx.phase, error: message(err) });
    log(`FAILED in ${ctx.phase}: ${message(err)}`);
  } finally {
    if (stack) {
      monitor.phase('inspect workflow histories');
      log('Inspecting workflow runs and histories…');
      try {
        results.workflows = await withTimeout(
          inspectRuns(stack.client),
          300_000,
          'inspecting workflow histories',
        );
      } catch (err) {
        results.failures.push({ phase: 'inspect workflows', error: message(err) });
      }
    }
    monitor.stop();
    results.resources = monitor.phases;
    results.cpuMsPerOperation = cpuMsPerOperation(results);
    results.memory.peakRssBytes = monitor.peakRssBytes;
    results.memory.devServerPeakRssBytes = monitor.devServerPeakRssBytes;
    results.thresholdsCrossed = summarizeThresholds(results);
    results.apiLog = apiLog.summary();
    results.largestApiResponses = Object.fromEntries(
      [...(ctx.api?.largestResponses ?? new Map<string, number>())].sort((a, b) => b[1] - a[1]),
    );
    log('Shutting down…');
    results.shutdownProblems = await closer.closeAll();
    results.ok = results.failures.length === 0;
    results.finishedAt = new Date().toISOString();
    results.totalRunMs = since(tAll);
    results.environment.loadAverageAtEnd = os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ');
  }

  const report = renderReport(results);
  process.stdout.write(`\n${report}\n`);
  try {
    mkdirSync(path.dirname(options.out), { recursive: true });
    writeFileSync(
      options.out,
      `${JSON.stringify({ ...results, thresholds: TEMPORAL_THRESHOLDS }, null, 2)}\n`,
    );
    process.stdout.write(`\nResults written to ${path.relative(process.cwd(), options.out)}\n`);
  } catch (err) {
    log(`Could not write ${options.out}: ${message(err)}`);
  }
  if (stack) {
    if (results.ok) rmSync(stack.tmpDir, { recursive: true, force: true });
    else process.stdout.write(`Dev server state and log kept in ${stack.tmpDir}\n`);
  }
  return results.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(`review bench crashed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
