import { spawn } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const projectRoot = path.resolve(__dirname, '..', '..');

interface Pin {
  package: string;
  version: string;
  envVar: string;
}

/** The pin of scripts/schemathesis-version.json. */
export function schemathesisPin(): Pin {
  return JSON.parse(
    readFileSync(path.join(projectRoot, 'scripts', 'schemathesis-version.json'), 'utf8'),
  ) as Pin;
}

/** The Schemathesis CLI: SCHEMATHESIS_PATH, else the one scripts/provision-schemathesis.mjs installed. */
export function schemathesisExecutable(): string {
  const pin = schemathesisPin();
  const file =
    process.env[pin.envVar] ||
    path.join(projectRoot, '.temporal-bin', `${pin.package}-${pin.version}`, 'bin', 'schemathesis');
  try {
    if (statSync(file).isFile()) return file;
  } catch {
    // reported below
  }
  throw new Error(
    `No Schemathesis CLI at ${file}: run \`node scripts/provision-schemathesis.mjs\` (\`npm test\` does) ` +
      `or set ${pin.envVar}`,
  );
}

/** Path parameter values for the operations with these operationIds or paths (they win over the global ones). */
export interface OperationParameters {
  operationIds?: string[];
  pathRegex?: string;
  path: Record<string, string>;
}

/** The environment variable the configuration reads the bearer token from (never on a command line). */
const TOKEN_VAR = 'STAGECOACH_SCHEMATHESIS_TOKEN';

/**
 * A schemathesis.toml: the bearer token from the environment, path parameters fixed to existing objects
 * (globally and per operation), and any further settings given as raw TOML.
 */
export function schemathesisConfig(options: {
  path: Record<string, string>;
  operations: OperationParameters[];
  extraToml?: string;
}): string {
  const str = (v: string) => JSON.stringify(v);
  const params = (p: Record<string, string>) =>
    Object.entries(p)
      .map(([name, value]) => `${str(`path.${name}`)} = ${str(value)}`)
      .join('\n');
  const operations = options.operations.map((op) =>
    [
      '[[operations]]',
      op.operationIds ? `include-operation-id = [${op.operationIds.map(str).join(', ')}]` : '',
      op.pathRegex ? `include-path-regex = ${str(op.pathRegex)}` : '',
      '[operations.parameters]',
      params(op.path),
    ]
      .filter(Boolean)
      .join('\n'),
  );
  return [
    '[headers]',
    `Authorization = "Bearer \${${TOKEN_VAR}}"`,
    '',
    '[parameters]',
    params(options.path),
    '',
    ...operations.flatMap((o) => [o, '']),
    options.extraToml ?? '',
  ].join('\n');
}

/** The outcome of one CLI run. */
export interface SchemathesisRun {
  code: number | null;
  seconds: number;
  /** stdout and stderr as the CLI wrote them (Authorization headers show as [Filtered]). */
  output: string;
  /** The failures and summary sections, or the tail of the output when there are none. */
  summary: string;
}

/**
 * Runs `schemathesis run` asynchronously (the API under test answers from this very process) with the
 * token in the environment, and kills it after `timeoutMs`.
 */
export function runSchemathesis(options: {
  args: string[];
  configFile: string;
  token: string;
  timeoutMs: number;
  cwd: string;
}): Promise<SchemathesisRun> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(
      schemathesisExecutable(),
      ['--config-file', options.configFile, '--no-color', 'run', ...options.args],
      {
        cwd: options.cwd,
        env: { ...process.env, [TOKEN_VAR]: options.token, PYTHONUNBUFFERED: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => chunks.push(c));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      let output = Buffer.concat(chunks).toString('utf8');
      if (timedOut) output += `\n[killed after ${options.timeoutMs / 1000} s]\n`;
      resolve({ code, seconds: (Date.now() - started) / 1000, output, summary: failureSummary(output) });
    });
  });
}

/** Lines of the summary are cut to this: a reproduction's generated URL can be tens of kilobytes. */
const SUMMARY_LINE_MAX = 600;

/** From the FAILURES (or ERRORS) banner to the end, else the last 80 lines; long lines cut. */
function failureSummary(output: string): string {
  const lines = output.split('\n');
  const start = lines.findIndex((l) => /^=+ (FAILURES|ERRORS) =+$/.test(l.trim()));
  return (start >= 0 ? lines.slice(start) : lines.slice(-80))
    .map((l) =>
      l.length > SUMMARY_LINE_MAX
        ? `${l.slice(0, SUMMARY_LINE_MAX)}… [${l.length - SUMMARY_LINE_MAX} more]`
        : l,
    )
    .join('\n');
}

/** Writes a file and returns its path (config files and full CLI outputs of a run). */
export function writeFileIn(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}
