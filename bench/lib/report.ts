import type { RunReport } from './history';
import type { LoggedMessage } from './log-collector';
import type { BurstResult, LatencySummary } from './pool';
import type { PhaseResources } from './resources';

/** One review stage as measured. */
export interface StageResult {
  stageId: string;
  reviewerRule: string;
  /** Items of the stage, from paging its decisions as admin. */
  items: number;
  listMs: number | null;
  /** Largest HTTP page of the listing (the API assembles it from decision queries of at most 250 items). */
  largestPageBytes: number;
  distinctReviewers: number;
  tokensMs: number | null;
  denies: number;
  decisions: BurstResult | null;
  /** API decisions/s ÷ raw signals/s. */
  ratioToRaw: number | null;
  /** API decisions/s ÷ raw Updates/s. */
  ratioToRawUpdates: number | null;
  /**
   * The stage's items by decision, read back (admin, stage decisions) once the stage completed. Every
   * 204 should be here: NotReviewed items after all-204 sends mean decisions were lost.
   */
  recorded: Record<string, number> | null;
  /** Latency of the Temporal calls behind a PATCH, sampled once a second while the decisions were sent. */
  temporalCallsDuringDecisions: ProbeResult | null;
  /** Latency of the POST …/stages/{n}/stop request itself. */
  stopRequestMs: number | null;
  /** Stop request → next stage InProgress (for the last stage: → instance no longer InProgress). */
  transitionMs: number | null;
  error: string | null;
}

export interface BaselineResult {
  workflowId: string;
  signals: number;
  send: BurstResult | null;
  /** First signal sent → workflow result (every signal handled, `done` included). */
  processedMs: number | null;
  counted: number | null;
  /** A query of the baseline workflow, timed once a second while the signals were sent. */
  queryDuringSignals: ProbeResult | null;
  error: string | null;
}

/**
 * The raw Update baseline: as many Updates as the signal baseline sends signals, with the same
 * concurrency, spread over `workflowIds.length` trivial workflows (request i to workflow i % k) so that
 * none has more than Temporal's 10 Updates in flight or more than about 1,000 in its run.
 */
export interface UpdateBaselineResult {
  workflowIds: string[];
  updates: number;
  /** How the number of workflows was chosen, e.g. `k = max(ceil(5,000 / 1,000), ceil(32 / 8)) = 5`. */
  spread: string;
  /** Each Update is answered once its handler ran, so this is send and processing in one. */
  send: BurstResult | null;
  /** Most Updates the bench had in flight to one workflow at any time (it keeps this ≤ 10). */
  maxInFlightPerWorkflow: number;
  /** Updates that waited because their workflow already had 10 in flight. */
  waitedForSlot: number;
  acknowledgedPerWorkflow: number[];
  /** The workflows' own counts (their results), in workflowIds order. */
  countedPerWorkflow: number[] | null;
  counted: number | null;
  /** A query of the first baseline workflow, timed once a second while the Updates were sent. */
  queryDuringUpdates: ProbeResult | null;
  error: string | null;
}

export interface ProbeResult {
  latencyMs: Record<string, LatencySummary | null>;
  errors: Record<string, number>;
}

export interface ApplyResultSummary {
  /** Stage 3 stop request → instance status Applied, as polled through GET instance. */
  stopToAppliedMs: number | null;
  /** Stage 3 stop request → the workflow's close time (it closes right after Applied): the engine's own time. */
  stopToWorkflowClosedMs: number | null;
  /** The GET instance that first answered Applied: a query on a closed run, which the worker replays. */
  appliedGetMs: number | null;
  /** First seen Completed/Applying → Applied through the API. */
  applyingToAppliedMs: number | null;
  /** Items with a final Approve or Deny (what apply processes). */
  items: number;
  /** items ÷ stopToWorkflowClosedMs (stopToAppliedMs when the close time is unknown). */
  itemsPerSecond: number | null;
  statusesSeen: string[];
  error: string | null;
}

export interface DirectoryCheck {
  membersBefore: number;
  membersAfter: number | null;
  deniedExpected: number;
  deniedRemoved: number | null;
  deniedStillMember: number | null;
  approvedMissing: number | null;
  /** Final decisions from the instance workflow's result (no query, no replay). */
  finalDecisions: Record<string, number>;
  finalStatus: string;
  ok: boolean | null;
}

export interface BenchResults {
  ok: boolean;
  startedAt: string;
  finishedAt: string | null;
  options: { reviewees: number; concurrency: number; out: string; waitTimeoutMs: number };
  environment: Record<string, string | number>;
  setupMs: Record<string, number>;
  baseline: BaselineResult | null;
  updateBaseline: UpdateBaselineResult | null;
  review: {
    definitionId: string | null;
    instanceId: string | null;
    workflowId: string | null;
    createRequestMs: number | null;
    /** POST definition → stage 1 InProgress (reviewees and stage 1 reviewers resolved). */
    toStage1InProgressMs: number | null;
    stages: StageResult[];
    apply: ApplyResultSummary | null;
    /** POST definition → instance Applied. */
    endToEndMs: number | null;
  };
  directory: DirectoryCheck | null;
  memory: {
    note: string;
    peakRssBytes: number;
    devServerPeakRssBytes: number | null;
  };
  resources: PhaseResources[];
  /**
   * CPU milliseconds (bench process + dev server) per raw signal, raw Update and API decision, from the
   * phases' CPU time: less sensitive than the rates to whatever else runs on the machine.
   */
  cpuMsPerOperation: Record<string, number>;
  workflows: RunReport[];
  thresholdsCrossed: string[];
  failures: { phase: string; error: string }[];
  shutdownProblems: string[];
  /** What the API logged at warn and above (the causes behind its 500s), most frequent first. */
  apiLog: LoggedMessage[];
  /**
   * Largest response per API route, in bytes. Reads are answered by workflow queries, so this is about
   * the size of the query result the worker uploads (the SDK warns above 512 KB; Temporal's limit is 2 MB).
   */
  largestApiResponses: Record<string, number>;
  totalRunMs: number | null;
}

const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const dec = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
const n = (x: number | null | undefined) => (x == null ? '—' : int.format(x));
const secs = (ms: number | null | undefined) =>
  ms == null
    ? '—'
    : ms < 1000
      ? `${int.format(ms)} ms`
      : ms < 120_000
        ? `${dec.format(ms / 1000)} s`
        : `${Math.floor(Math.round(ms / 1000) / 60)} m ${Math.round(ms / 1000) % 60} s`;
const rate = (x: number | null | undefined) => (x == null ? '—' : `${dec.format(x)}/s`);
const mb = (b: number | null | undefined) => (b == null ? '—' : `${int.format(b / 1024 / 1024)} MB`);
const kb = (b: number | null | undefined) =>
  b == null ? '—' : b < 1024 * 1024 ? `${dec.format(b / 1024)} KB` : `${dec.format(b / 1024 / 1024)} MB`;

function table(rows: string[][], rightAligned: Set<number>): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => (rightAligned.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

const errorsOf = (b: BurstResult | null) =>
  b && b.failed > 0
    ? Object.entries(b.errors)
        .map(([k, e]) => `${int.format(e.count)}× ${k}`)
        .join('; ')
    : b
      ? '0'
      : '—';
const lat = (b: BurstResult | null) =>
  b?.latencyMs
    ? `${dec.format(b.latencyMs.p50)} / ${dec.format(b.latencyMs.p95)} / ${dec.format(b.latencyMs.p99)}`
    : '—';

const times = (x: number | null | undefined) => (x == null ? '—' : `${x.toFixed(2)}×`);
const ratio = (a: number | null | undefined, b: number | null | undefined) => (a && b ? a / b : null);

function probeRow(label: string, p: ProbeResult): string[] {
  const calls = Object.entries(p.latencyMs)
    .map(([op, l]) => (l ? `${op} ${dec.format(l.p50)}/${dec.format(l.max)}` : `${op} —`))
    .join(', ');
  const errors = Object.entries(p.errors)
    .map(([op, c]) => `${op} failed ${c}×`)
    .join(', ');
  return [label, '', '', '', '', '', '', [calls, errors].filter(Boolean).join('; ')];
}

/** See BenchResults.cpuMsPerOperation. */
export function cpuMsPerOperation(
  r: Pick<BenchResults, 'resources' | 'baseline' | 'updateBaseline' | 'review'>,
): Record<string, number> {
  const out: Record<string, number> = {};
  const add = (label: string, phase: string, count: number | undefined) => {
    const p = r.resources.find((x) => x.phase === phase);
    if (!p || !count || p.devServerCpuS === null) return;
    out[label] = Math.round(((p.benchCpuS + p.devServerCpuS) / count) * 1000 * 100) / 100;
  };
  add('raw signal', 'raw baseline', r.baseline?.send?.ok);
  add('raw Update', 'raw Update baseline', r.updateBaseline?.send?.ok);
  for (const s of r.review.stages)
    add(`stage ${s.stageId} decision`, `stage ${s.stageId} decisions`, s.decisions?.ok);
  return out;
}

/**
 * How many decisions one recordDecisions Update carried on average: the decisions the API acknowledged
 * over the recordDecisions Updates the review's workflows accepted (read from their histories).
 */
function recordDecisionsBatching(r: BenchResults): string | null {
  const updates = r.workflows
    .filter((w) => w.type !== 'benchBaseline' && w.type !== 'benchUpdateBaseline')
    .reduce((sum, w) => sum + (w.updatesByName.recordDecisions ?? 0), 0);
  const decisions = r.review.stages.reduce((sum, s) => sum + (s.decisions?.ok ?? 0), 0);
  if (updates === 0) return decisions ? "No recordDecisions Update found in the review's histories." : null;
  return `recordDecisions Updates accepted by the review's workflows: ${n(updates)} for ${n(decisions)} acknowledged decisions (${dec.format(decisions / updates)} per Update).`;
}

/** The human-readable results: throughput table, engine usage per workflow run, failures. */
export function renderReport(r: BenchResults): string {
  const out: string[] = [];
  const env = r.environment;
  out.push(
    `Stagecoach review bench — ${n(r.options.reviewees)} reviewees, concurrency ${r.options.concurrency}, ` +
      `${env.cpus} CPUs (${env.cpuModel}), Node ${env.node}, Temporal CLI ${env.temporalCli}, SDK ${env.temporalSdk}, commit ${env.gitCommit}`,
  );
  out.push(
    `Load average (1/5/15 min) at start ${env.loadAverageAtStart}, at end ${env.loadAverageAtEnd ?? '—'}: anything else running on these CPUs skews the numbers.`,
  );
  out.push('');
  const rows: string[][] = [
    ['measure', 'count', 'time', 'throughput', 'p50 / p95 / p99 ms', 'vs signals', 'vs Updates', 'errors'],
  ];
  const b = r.baseline;
  const u = r.updateBaseline;
  const signalRate = b?.send?.perSecond;
  const updateRate = u?.send?.perSecond;
  if (b) {
    rows.push([
      'raw signals (trivial workflow, client.signal)',
      n(b.send?.ok ?? null),
      secs(b.send?.ms),
      rate(signalRate),
      lat(b.send),
      times(1),
      times(ratio(signalRate, updateRate)),
      b.error ?? errorsOf(b.send),
    ]);
    if (b.queryDuringSignals)
      rows.push(probeRow('  baseline Temporal calls meanwhile (p50/max ms)', b.queryDuringSignals));
    rows.push([
      'raw signals handled (send → result)',
      n(b.counted),
      secs(b.processedMs),
      rate(b.counted && b.processedMs ? (b.counted / b.processedMs) * 1000 : null),
      '',
      '',
      '',
      '',
    ]);
  }
  if (u) {
    rows.push([
      `raw Updates (${u.workflowIds.length} trivial workflows, executeUpdate)`,
      n(u.send?.ok ?? null),
      secs(u.send?.ms),
      rate(updateRate),
      lat(u.send),
      times(ratio(updateRate, signalRate)),
      times(1),
      u.error ?? errorsOf(u.send),
    ]);
    if (u.queryDuringUpdates)
      rows.push(probeRow('  baseline Temporal calls meanwhile (p50/max ms)', u.queryDuringUpdates));
    rows.push([
      '  raw Updates counted by the workflows',
      n(u.counted),
      '',
      '',
      `≤ ${n(u.maxInFlightPerWorkflow)} in flight per workflow, ${n(u.waitedForSlot)} waited`,
      '',
      '',
      u.spread,
    ]);
  }
  rows.push([
    'create definition → stage 1 InProgress',
    '',
    secs(r.review.toStage1InProgressMs),
    '',
    '',
    '',
    '',
    '',
  ]);
  for (const s of r.review.stages) {
    rows.push([
      `stage ${s.stageId} decisions via API (${s.reviewerRule}${s.denies ? `, ${n(s.denies)} Deny` : ''})`,
      s.decisions ? `${n(s.decisions.ok)}/${n(s.items)}` : n(s.items),
      secs(s.decisions?.ms),
      rate(s.decisions?.perSecond),
      lat(s.decisions),
      times(s.ratioToRaw),
      times(s.ratioToRawUpdates),
      s.decisions?.aborted
        ? `${errorsOf(s.decisions)} — ABORTED: ${s.decisions.aborted}`
        : errorsOf(s.decisions),
    ]);
    rows.push([
      `  stage ${s.stageId} item listing ($top=1000 pages)`,
      n(s.items),
      secs(s.listMs),
      '',
      '',
      '',
      '',
      s.largestPageBytes ? `largest page ${kb(s.largestPageBytes)}, read in queries of ≤ 250 items` : '',
    ]);
    if (s.recorded) {
      const decided = Object.entries(s.recorded)
        .filter(([k]) => k !== 'NotReviewed')
        .reduce((sum, [, c]) => sum + c, 0);
      const lost = (s.decisions?.ok ?? 0) - decided;
      rows.push([
        `  stage ${s.stageId} decisions read back (stage completed)`,
        `${n(decided)}/${n(s.items)}`,
        '',
        '',
        Object.entries(s.recorded)
          .map(([k, c]) => `${k} ${n(c)}`)
          .join(', '),
        '',
        '',
        lost > 0 ? `${n(lost)} acknowledged decisions LOST` : 'every 204 recorded',
      ]);
    }
    if (s.temporalCallsDuringDecisions) {
      rows.push(
        probeRow(
          `  stage ${s.stageId} Temporal calls meanwhile (p50/max ms)`,
          s.temporalCallsDuringDecisions,
        ),
      );
    }
    const next = Number(s.stageId) < 3 ? `stage ${Number(s.stageId) + 1} InProgress` : 'instance completed';
    rows.push([
      `  stage ${s.stageId} stop → ${next}`,
      '',
      secs(s.transitionMs),
      '',
      s.stopRequestMs == null ? '' : `stop request ${secs(s.stopRequestMs)}`,
      '',
      '',
      s.stopRequestMs == null
        ? 'not stopped'
        : s.transitionMs == null
          ? 'stopped, next state not reached (see failures)'
          : '',
    ]);
  }
  const a = r.review.apply;
  if (a) {
    rows.push([
      'apply (stage 3 stop → workflow closed, engine time)',
      n(a.items),
      secs(a.stopToWorkflowClosedMs),
      rate(a.itemsPerSecond),
      '',
      '',
      '',
      a.error ?? '',
    ]);
    rows.push([
      '  stage 3 stop → Applied seen via GET instance',
      '',
      secs(a.stopToAppliedMs),
      '',
      a.appliedGetMs == null ? '' : `that GET ${secs(a.appliedGetMs)}`,
      '',
      '',
      a.statusesSeen.join(' → '),
    ]);
  }
  rows.push(['end-to-end (POST definition → Applied)', '', secs(r.review.endToEndMs), '', '', '', '', '']);
  out.push(table(rows, new Set([1, 2, 3, 5, 6])));
  out.push('');

  const d = r.directory;
  if (d) {
    out.push(
      `Directory: bench-group had ${n(d.membersBefore)} members, now ${n(d.membersAfter)}; ${n(d.deniedExpected)} denied, ` +
        `${n(d.deniedRemoved)} removed, ${n(d.deniedStillMember)} denied still members, ${n(d.approvedMissing)} approved missing → ${d.ok == null ? 'not checked' : d.ok ? 'OK' : 'MISMATCH'}`,
    );
    out.push(
      `Instance result: ${d.finalStatus}; final decisions ${Object.entries(d.finalDecisions)
        .map(([k, c]) => `${k} ${n(c)}`)
        .join(', ')}`,
    );
  }
  out.push(
    `Memory: peak RSS ${mb(r.memory.peakRssBytes)} (${r.memory.note}); Temporal dev server peak RSS ${mb(r.memory.devServerPeakRssBytes)}`,
  );
  out.push('');
  const res: string[][] = [['phase', 'time', 'bench CPU s', 'dev server CPU s', 'busy cores', 'peak RSS']];
  for (const p of r.resources) {
    const busy = p.ms > 0 ? (p.benchCpuS + (p.devServerCpuS ?? 0)) / (p.ms / 1000) : 0;
    res.push([
      p.phase,
      secs(p.ms),
      dec.format(p.benchCpuS),
      p.devServerCpuS == null ? '—' : dec.format(p.devServerCpuS),
      dec.format(busy),
      mb(p.peakRssBytes),
    ]);
  }
  out.push(table(res, new Set([1, 2, 3, 4, 5])));
  const cpu = Object.entries(r.cpuMsPerOperation);
  if (cpu.length) {
    out.push(
      `CPU per operation (bench process + dev server, less sensitive to other load than the rates): ${cpu
        .map(([op, ms]) => `${op} ${dec.format(ms)} ms`)
        .join(', ')}`,
    );
  }
  out.push('');

  const wf: string[][] = [
    [
      'workflow run',
      'type',
      'status',
      'events',
      'history',
      'signals',
      'Updates',
      'largest payload',
      'thresholds',
    ],
  ];
  for (const w of r.workflows) {
    const lp = w.largestPayload;
    wf.push([
      w.workflowId.length > 60 ? `…${w.workflowId.slice(-59)}` : w.workflowId,
      w.type,
      w.status,
      n(w.historyLength),
      kb(w.historySizeBytes),
      n(w.signals),
      n(w.updates),
      lp ? `${kb(lp.bytes)} (${lp.eventType}#${lp.eventId})` : '—',
      w.error ? `error: ${w.error}` : w.crossed.length ? w.crossed.join('; ') : 'none',
    ]);
  }
  out.push(table(wf, new Set([3, 4, 5, 6])));
  const batching = recordDecisionsBatching(r);
  if (batching) out.push(batching);
  out.push('');
  out.push(
    r.thresholdsCrossed.length
      ? `Temporal thresholds crossed:\n${r.thresholdsCrossed.map((t) => `  ${t}`).join('\n')}`
      : 'No workflow run crossed a Temporal warning threshold (10,240 events, 10 MB history, 512 KB payload) or limit (51,200 events, 50 MB, 2 MB, 10,000 signals, 2,000 Updates).',
  );
  const big = Object.entries(r.largestApiResponses).filter(
    ([route]) => !route.startsWith('PATCH') && !route.startsWith('POST'),
  );
  if (big.length) {
    out.push('');
    out.push('Largest API responses (lists are read from the workflows in queries of at most 250 items):');
    for (const [route, bytes] of big.slice(0, 6)) out.push(`  ${kb(bytes).padStart(9)}  ${route}`);
  }
  if (r.apiLog.length) {
    out.push('');
    out.push('API log (warn and above, counted; the causes behind 500 responses):');
    for (const m of r.apiLog.slice(0, 10)) out.push(`  ${n(m.count)}× ${m.level}: ${m.message}`);
  }
  if (r.failures.length) {
    out.push('');
    out.push('FAILURES:');
    for (const f of r.failures) out.push(`  [${f.phase}] ${f.error}`);
  }
  if (r.shutdownProblems.length) {
    out.push('');
    out.push(`Shutdown problems: ${r.shutdownProblems.join('; ')}`);
  }
  out.push('');
  out.push(`Total run time ${secs(r.totalRunMs)}.`);
  out.push(
    r.ok
      ? 'Result: complete.'
      : 'Result: INCOMPLETE — see failures above; the numbers measured so far are reported.',
  );
  return out.join('\n');
}
