import path from 'node:path';

/** Command-line options of the records bench. */
export interface RecordsBenchOptions {
  reviewees: number;
  /** Definitions besides the big one, each over a small group. */
  smallDefinitions: number;
  /** Sequential requests per endpoint against the read model. */
  requests: number;
  /** Sequential requests per endpoint against the query path, at most (see queryBudgetMs). */
  queryRequests: number;
  /** Time after which the query path stops sampling an endpoint, even below queryRequests. */
  queryBudgetMs: number;
  /** Decisions recorded through the API for the lag measurement. */
  decisions: number;
  concurrency: number;
  /** Log the plan (EXPLAIN ANALYZE) of every statement slower than this many ms; null: off. */
  explainOverMs: number | null;
  out: string;
  waitTimeoutMs: number;
}

export const RECORDS_USAGE = `Usage: npm run bench:records -- [options]
  --reviewees N          members of the big reviewed group (default 10000; one manager per 100)
  --small N              definitions over small groups besides the big one (default 29)
  --requests N           sequential requests per endpoint to the read-model API (default 200)
  --query-requests N     at most this many per endpoint to the query-based API (default 50)
  --query-budget S       and for at most S seconds per endpoint (default 20)
  --decisions N          decisions recorded for the lag measurement (default 3000, 100 per manager)
  --concurrency C        decision requests in flight (default 16)
  --explain-over MS      log PostgreSQL plans (auto_explain) of statements slower than MS and print them
  --out FILE             JSON results (default bench-results/records-bench-<timestamp>.json)
  --wait-timeout S       longest wait for the reviews to start and be recorded (default 300)`;

function positiveInt(name: string, value: string | undefined, allowZero = false): number {
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n) || n < (allowZero ? 0 : 1)) {
    throw new Error(
      `${name} needs a ${allowZero ? 'non-negative' : 'positive'} integer, got '${value ?? ''}'`,
    );
  }
  return n;
}

/** Parses `--name value` and `--name=value`; throws with the usage on anything else. */
export function parseRecordsArgs(
  argv: readonly string[],
  projectRoot: string,
  now = new Date(),
): RecordsBenchOptions {
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  const o: RecordsBenchOptions = {
    reviewees: 10_000,
    smallDefinitions: 29,
    requests: 200,
    queryRequests: 50,
    queryBudgetMs: 20_000,
    decisions: 3000,
    concurrency: 16,
    explainOverMs: null,
    out: path.join(projectRoot, 'bench-results', `records-bench-${stamp}.json`),
    waitTimeoutMs: 300_000,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    switch (name) {
      case '--reviewees':
        o.reviewees = positiveInt(name, value);
        break;
      case '--small':
        o.smallDefinitions = positiveInt(name, value, true);
        break;
      case '--requests':
        o.requests = positiveInt(name, value);
        break;
      case '--query-requests':
        o.queryRequests = positiveInt(name, value);
        break;
      case '--query-budget':
        o.queryBudgetMs = positiveInt(name, value) * 1000;
        break;
      case '--decisions':
        o.decisions = positiveInt(name, value, true);
        break;
      case '--concurrency':
        o.concurrency = positiveInt(name, value);
        break;
      case '--explain-over':
        o.explainOverMs = positiveInt(name, value, true);
        break;
      case '--out':
        if (!value) throw new Error('--out needs a file name');
        o.out = path.resolve(value);
        break;
      case '--wait-timeout':
        o.waitTimeoutMs = positiveInt(name, value) * 1000;
        break;
      case '--help':
      case '-h':
        throw new Error(RECORDS_USAGE);
      default:
        throw new Error(`Unknown option '${arg}'\n${RECORDS_USAGE}`);
    }
  }
  return o;
}
