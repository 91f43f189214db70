import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

// The deterministic sandbox has no Node built-ins: a workflow that imports one must fail `npm run lint`
// (and with it .ci/run) rather than fail at run time in the worker. ESLint runs in a child process with
// the project's own eslint.config.mjs (Jest cannot load an ES module config), on texts it is handed as
// if they were files at the given paths. Those files do not exist, so the type-aware rules (which need
// them in the TypeScript project) are switched off for them; no-restricted-imports does not need types.

const projectRoot = path.resolve(__dirname, '..');

const lintScript = `
const { ESLint } = require('eslint');
(async () => {
  const { disableTypeChecked } = require('typescript-eslint').configs;
  const eslint = new ESLint({
    cwd: process.cwd(),
    overrideConfig: [{ files: ['**/lint-probe.ts'], ...disableTypeChecked }],
  });
  const out = [];
  for (const { file, code } of JSON.parse(require('fs').readFileSync(0, 'utf8'))) {
    const [result] = await eslint.lintText(code, { filePath: require('path').resolve(file) });
    out.push(result.messages.map((m) => ({ ruleId: m.ruleId, severity: m.severity, message: m.message })));
  }
  process.stdout.write(JSON.stringify(out));
})().catch((err) => { process.stderr.write(String(err && err.stack)); process.exit(2); });
`;

interface Message {
  ruleId: string | null;
  severity: number;
  message: string;
}

function lint(files: { file: string; code: string }[]): Message[][] {
  const run = spawnSync(process.execPath, ['-e', lintScript], {
    cwd: projectRoot,
    input: JSON.stringify(files),
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`eslint failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as Message[][];
}

const builtInImports = [
  "import { readFileSync } from 'node:fs';\nexport const f = () => readFileSync('x');\n",
  "import crypto from 'crypto';\nexport const id = () => crypto.randomUUID();\n",
  "import type { Request } from 'express';\nexport type R = Request;\n",
];

describe('lint rules of workflow code', () => {
  it('rejects a Node built-in or the API imported in src/workflows, and not elsewhere', () => {
    const results = lint([
      ...builtInImports.map((code) => ({ file: 'src/workflows/lint-probe.ts', code })),
      { file: 'src/lint-probe.ts', code: builtInImports[0]! },
    ]);
    // A parsing error (ruleId null) would mean the rules never ran.
    expect(results.flat().filter((m) => m.ruleId === null)).toEqual([]);
    const restricted = results.map((messages) =>
      messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => [m.severity, m.message]),
    );
    expect(restricted).toEqual([
      [[2, expect.stringContaining('must not use Node built-ins')]],
      [[2, expect.stringContaining('must not use Node built-ins')]],
      [[2, expect.stringContaining('must not import the API')]],
      [],
    ]);
  });
});

describe('.ci/run', () => {
  it('lints and typechecks before it runs the tests', () => {
    const steps = fs
      .readFileSync(path.join(projectRoot, '.ci', 'run'), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => /^npm (run |test)/.test(line));
    expect(steps).toEqual(['npm run lint', 'npm run typecheck', 'npm test']);
  });
});
