import path from 'node:path';

/** Command-line options of the review bench. */
export interface BenchOptions {
  reviewees: number;
  concurrency: number;
  out: string;
  /** Longest wait for any one state change (stage start, transition, apply), in ms. */
  waitTimeoutMs: number;
}

export const USAGE = `Usage: npm run bench -- [--reviewees N] [--concurrency C] [--out FILE] [--wait-timeout SECONDS]
  --reviewees N        members of the reviewed group (default 10000)
  --concurrency C      HTTP requests / signals in flight (default 32)
  --out FILE           JSON results (default bench-results/review-bench-<timestamp>.json)
  --wait-timeout S     longest wait for one state change such as a stage transition (default 600)`;

function positiveInt(name: string, value: string | undefined): number {
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n) || n < 1) {
    throw new Error(
      `${name} needs a positive integer, got ${value === undefined ? 'nothing' : `'${value}'`}`,
    );
  }
  return n;
}

/** Parses `--name value` and `--name=value` options; throws with a usage hint on anything else. */
export function parseArgs(argv: readonly string[], projectRoot: string, now = new Date()): BenchOptions {
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  const options: BenchOptions = {
    reviewees: 10_000,
    concurrency: 32,
    out: path.join(projectRoot, 'bench-results', `review-bench-${stamp}.json`),
    waitTimeoutMs: 600_000,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    switch (name) {
      case '--reviewees':
        options.reviewees = positiveInt(name, value);
        break;
      case '--concurrency':
        options.concurrency = positiveInt(name, value);
        break;
      case '--out':
        if (!value) throw new Error('--out needs a file name');
        options.out = path.resolve(value);
        break;
      case '--wait-timeout':
        options.waitTimeoutMs = positiveInt(name, value) * 1000;
        break;
      case '--help':
      case '-h':
        throw new Error(USAGE);
      default:
        throw new Error(`Unknown option '${arg}'\n${USAGE}`);
    }
  }
  return options;
}
