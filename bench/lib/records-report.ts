import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Database } from '../../src/store/schema';
import type { LoggedMessage } from './log-collector';
import type { BurstResult, LatencySummary } from './pool';
import { n0 } from './progress';
import type { RecordsBenchOptions } from './records-args';
import type { SlowStatementGroup } from './records-explain';

/** What the issue asks of the read model on this machine. */
export const GOALS = { inboxP99Ms: 50, lagP99Ms: 1000 };

/** One GET measured against both APIs. */
export interface Endpoint {
  name: string;
  path: string;
  token: string;
}

/** Sequential latency of one endpoint on one path. */
export interface ReadResult {
  endpoint: string;
  path: 'read model' | 'query-based';
  n: number;
  latencyMs: LatencySummary;
  /** Items in the first answer's `value`. */
  items: number;
  bytes: number;
  /** Whether both paths listed the same ids in the same order. */
  sameOrder: boolean;
}

/** Lag of recorded events behind the workflow time they carry: `recorded_at - event.at`. */
export interface LagRow {
  type: string;
  events: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface RecordsResults {
  ok: boolean;
  startedAt: string;
  options: RecordsBenchOptions;
  environment: {
    node: string;
    cpus: number;
    cpuModel: string;
    totalMemoryGB: number;
    loadAverageAtStart: string;
    loadAverageAtEnd: string;
  };
  setupMs: Record<string, number>;
  reviews: {
    definitions: number;
    bigInstanceItems: number;
    smallGroupSize: number;
    inboxReviewer: string;
    inboxDefinitions: number;
    inboxItemsInBig: number;
  } | null;
  reads: ReadResult[];
  lag: {
    patches: BurstResult;
    recordedDecidedItems: number;
    /** Every event in the database: the reviews' start (item assignments) and the decisions. */
    allEvents: LagRow[];
    /** Events recorded from the first decision on. */
    duringDecisions: LagRow[];
  } | null;
  slowStatements: SlowStatementGroup[] | null;
  failures: { phase: string; error: string }[];
  shutdownProblems: string[];
  apiLog: LoggedMessage[];
  totalRunMs: number;
}

/** Lag percentiles per event type and over all types ('all'), of the events recorded at or after `since`. */
export async function eventLag(db: Kysely<Database>, since?: Date): Promise<LagRow[]> {
  const where = since ? sql`where recorded_at >= ${since}` : sql``;
  const { rows } = await sql<{ type: string | null; events: string; p50: number; p99: number; max: number }>`
    select type, count(*) as events,
      percentile_cont(0.5) within group (order by ms) as p50,
      percentile_cont(0.99) within group (order by ms) as p99,
      max(ms) as max
    from (
      select event ->> 'type' as type,
        extract(epoch from recorded_at - (event ->> 'at')::timestamptz) * 1000 as ms
      from review_events ${where}
    ) lag
    group by rollup(type)
    order by type nulls first`.execute(db);
  const round = (x: number) => Math.round(Number(x) * 10) / 10;
  return rows.map((r) => ({
    type: r.type ?? 'all',
    events: Number(r.events),
    p50Ms: round(r.p50),
    p99Ms: round(r.p99),
    maxMs: round(r.max),
  }));
}

const pad = (s: string, w: number) => s.padEnd(w);
const num = (x: number, w = 8) => x.toFixed(1).padStart(w);

function table(header: string[], rows: string[][], numericFrom: number): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i >= numericFrom ? c.padStart(widths[i]!) : pad(c, widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
}

function lagTable(rows: LagRow[]): string[] {
  return table(
    ['event type', 'events', 'p50 ms', 'p99 ms', 'max ms'],
    rows.map((r) => [r.type, n0(r.events), num(r.p50Ms), num(r.p99Ms), num(r.maxMs)]),
    1,
  );
}

/** The report on stdout: read latency per endpoint and path, the lag, the decisions, the goals. */
export function renderRecordsReport(r: RecordsResults): string {
  const out: string[] = ['== Review records bench =='];
  const env = r.environment;
  out.push(
    `Node ${env.node}, ${env.cpus} × ${env.cpuModel}, ${env.totalMemoryGB} GB; load average ${env.loadAverageAtStart} at the start, ${env.loadAverageAtEnd} at the end; run took ${n0(r.totalRunMs / 1000)} s`,
  );
  if (r.reviews) {
    const v = r.reviews;
    out.push(
      `${v.definitions} definitions: one over ${n0(v.bigInstanceItems)} members reviewed by their managers, ` +
        `${v.definitions - 1} over ${v.smallGroupSize} members each; ${v.inboxReviewer} reviews ${v.inboxItemsInBig} ` +
        `items of the big review and is a reviewer in ${v.inboxDefinitions} definitions`,
    );
  }
  const s = r.setupMs;
  if (s.recordsSettled !== undefined) {
    out.push(
      `Setup: definitions created in ${n0(s.createDefinitions ?? 0)} ms; all instances InProgress after ` +
        `${n0(s.allInstancesInProgress ?? 0)} ms; the last record write of the starts after ${n0(s.recordsSettled)} ms ` +
        '(the reads start once nothing was written for 3 s)',
    );
  }
  if (r.reads.length) {
    out.push('', 'Read latency, sequential requests (ms):');
    out.push(
      ...table(
        ['endpoint', 'path', 'N', 'p50', 'p99', 'max', 'items', 'KB'],
        r.reads.map((x) => [
          x.endpoint,
          x.path,
          String(x.n),
          num(x.latencyMs.p50),
          num(x.latencyMs.p99),
          num(x.latencyMs.max),
          String(x.items),
          (x.bytes / 1024).toFixed(1),
        ]),
        2,
      ),
    );
    const reordered = [...new Set(r.reads.filter((x) => !x.sameOrder).map((x) => x.endpoint))];
    if (reordered.length) out.push(`Same items, another order on the two paths: ${reordered.join('; ')}`);
  }
  if (r.lag) {
    const p = r.lag.patches;
    const l = p.latencyMs;
    out.push(
      '',
      `Decisions: ${n0(p.ok)} of ${n0(p.total)} PATCHes answered 204 in ${n0(p.ms)} ms (${p.perSecond}/s, ` +
        `${r.options.concurrency} in flight); end-to-end latency (the Update answers once recorded) ` +
        (l ? `p50 ${l.p50} ms, p99 ${l.p99} ms, max ${l.max} ms` : 'n/a') +
        `; ${n0(r.lag.recordedDecidedItems)} decided items in the records`,
    );
    out.push('', 'Read-model lag, recorded_at − event.at, events recorded during the decisions:');
    out.push(...lagTable(r.lag.duringDecisions));
    out.push('', 'Read-model lag, every event of the run (review starts included):');
    out.push(...lagTable(r.lag.allEvents));
  }
  out.push('', ...goals(r));
  if (r.slowStatements) {
    // Reads only: the writes are the workflows' batches, whose lag the table above shows.
    const reads = r.slowStatements.filter((g) => /^\s*select/i.test(g.query));
    out.push(
      '',
      `Reads slower than ${r.options.explainOverMs} ms (auto_explain, all plans in the JSON): ${reads.length} kinds, ` +
        `${r.slowStatements.length - reads.length} kinds of writes`,
    );
    for (const g of reads.slice(0, 6)) {
      const plan = g.plan
        .split('\n')
        .filter((l) => !/^\s*Query (Text|Parameters):/.test(l))
        .map((l) => (l.length > 300 ? `${l.slice(0, 300)}…` : l))
        .join('\n')
        .trimEnd();
      out.push(
        `-- ${g.count}× up to ${g.maxMs.toFixed(1)} ms: ${g.query.slice(0, 300)}${g.query.length > 300 ? '…' : ''}`,
        plan,
      );
    }
  }
  const warnings = r.apiLog.filter((m) => m.level !== 'info' && m.level !== 'debug');
  if (warnings.length) {
    out.push('', 'API log:', ...warnings.slice(0, 10).map((m) => `  ${m.count}× ${m.level} ${m.message}`));
  }
  if (r.failures.length) out.push('', 'FAILURES:', ...r.failures.map((f) => `  ${f.phase}: ${f.error}`));
  if (r.shutdownProblems.length)
    out.push('', 'Shutdown problems:', ...r.shutdownProblems.map((p) => `  ${p}`));
  return out.join('\n');
}

function goals(r: RecordsResults): string[] {
  const inbox = r.reads.find((x) => x.path === 'read model' && x.endpoint.startsWith('reviewer inbox'));
  const lag = r.lag?.allEvents.find((x) => x.type === 'all');
  const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
  const lines = ['Goals:'];
  if (inbox) {
    lines.push(
      `  reviewer inbox p99 < ${GOALS.inboxP99Ms} ms: ${inbox.latencyMs.p99} ms, ${verdict(inbox.latencyMs.p99 < GOALS.inboxP99Ms)}`,
    );
  }
  if (lag) {
    lines.push(
      `  lag p99 < ${GOALS.lagP99Ms} ms (every event of the run): ${lag.p99Ms} ms, ${verdict(lag.p99Ms < GOALS.lagP99Ms)}`,
    );
  }
  return lines;
}
