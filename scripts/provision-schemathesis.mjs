#!/usr/bin/env node
// Provisions the pinned Schemathesis CLI, which test/api/schemathesis.test.ts runs against the API's
// OpenAPI document, into a Python venv in the git-ignored .temporal-bin/ (also ignored by eslint,
// prettier and docker builds). Runs before every `npm test`, so the provisioned path stays fast: it
// stats the CLI and reads the stamp written after a successful install. Pin in
// scripts/schemathesis-version.json.
//
// Usage: node scripts/provision-schemathesis.mjs [--quiet-fail]
//   --quiet-fail  never exit non-zero (the Schemathesis test then fails and says why; the rest runs)
// Honours SCHEMATHESIS_PATH: an existing file there is used instead.

import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const binRoot = path.join(projectRoot, '.temporal-bin');
const quietFail = process.argv.includes('--quiet-fail');
const tag = 'provision-schemathesis:';
const STAMP = 'stagecoach-pin.txt';

/** @typedef {{ package: string, version: string, envVar: string }} Pin */

/** @returns {Pin} */
function readPin() {
  return JSON.parse(readFileSync(path.join(projectRoot, 'scripts', 'schemathesis-version.json'), 'utf8'));
}

/** @param {Pin} pin */
function venvDir(pin) {
  return path.join(binRoot, `${pin.package}-${pin.version}`);
}

/** @param {Pin} pin */
function spec(pin) {
  return `${pin.package}==${pin.version}`;
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
function readOrEmpty(p) {
  try {
    return readFileSync(p, 'utf8').trim();
  } catch {
    return '';
  }
}

/** A Python that can make venvs with pip (Debian's python3 lacks ensurepip without python3-venv). */
function findPython() {
  for (const cmd of ['python3', 'python']) {
    const r = spawnSync(cmd, ['-c', 'import venv, ensurepip'], { stdio: 'ignore' });
    if (r.status === 0) return cmd;
  }
  return null;
}

/**
 * Makes the venv from scratch and installs the pin into it; the stamp is written last, so an
 * interrupted run is redone by the next one instead of trusted.
 * @param {Pin} pin
 * @returns {string | null} error message, or null on success
 */
function install(pin) {
  const python = findPython();
  if (!python) {
    return 'no python3 with the venv module was found (Debian/Ubuntu: apt-get install python3-venv)';
  }
  const dir = venvDir(pin);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(binRoot, { recursive: true });
  const env = {
    ...process.env,
    PIP_DISABLE_PIP_VERSION_CHECK: '1',
    PIP_NO_INPUT: '1',
    PIP_ROOT_USER_ACTION: 'ignore',
  };
  const stdio = /** @type {const} */ (['ignore', 'inherit', 'inherit']);
  const venv = spawnSync(python, ['-m', 'venv', dir], { stdio, env });
  if (venv.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return `${python} -m venv exited with ${venv.status ?? venv.error?.message}`;
  }
  const pip = spawnSync(path.join(dir, 'bin', 'python'), ['-m', 'pip', 'install', '-q', spec(pin)], {
    stdio,
    env,
  });
  if (pip.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return `pip install ${spec(pin)} exited with ${pip.status ?? pip.error?.message}`;
  }
  const cli = path.join(dir, 'bin', 'schemathesis');
  const version = spawnSync(cli, ['--version'], { encoding: 'utf8' });
  if (version.status !== 0 || !version.stdout.includes(pin.version)) {
    rmSync(dir, { recursive: true, force: true });
    return `${cli} --version answered ${JSON.stringify(version.stdout?.trim() ?? version.error?.message)}`;
  }
  writeFileSync(path.join(dir, STAMP), `${spec(pin)}\n`);
  pruneOtherVersions(pin);
  return null;
}

/** Removes venvs of earlier pins. @param {Pin} pin */
function pruneOtherVersions(pin) {
  const keep = path.basename(venvDir(pin));
  for (const name of readdirSync(binRoot)) {
    if (
      name !== keep &&
      name.startsWith(`${pin.package}-`) &&
      /^\d/.test(name.slice(pin.package.length + 1))
    ) {
      rmSync(path.join(binRoot, name), { recursive: true, force: true });
    }
  }
}

function main() {
  let pin;
  try {
    pin = readPin();
  } catch (e) {
    console.warn(
      `${tag} cannot read scripts/schemathesis-version.json: ${e instanceof Error ? e.message : e}`,
    );
    return 1;
  }
  const fromEnv = process.env[pin.envVar];
  if (fromEnv) {
    if (isFile(fromEnv)) {
      console.log(`${tag} ${pin.envVar}=${fromEnv}`);
      return 0;
    }
    console.warn(
      `${tag} ${pin.envVar}=${fromEnv} is not a file; provisioning the pinned Schemathesis instead`,
    );
  }
  const dir = venvDir(pin);
  if (isFile(path.join(dir, 'bin', 'schemathesis')) && readOrEmpty(path.join(dir, STAMP)) === spec(pin)) {
    console.log(`${tag} Schemathesis ${pin.version}`);
    return 0;
  }
  const started = Date.now();
  console.log(`${tag} installing ${spec(pin)} into ${path.relative(projectRoot, dir)}/ …`);
  const error = install(pin);
  if (error) {
    console.warn(
      [
        `${tag} could not provision Schemathesis (${error}).`,
        `  test/api/schemathesis.test.ts fails until it is. Fix the cause (python3 with venv, PyPI reachable`,
        `  through pip) and run \`node scripts/provision-schemathesis.mjs\` again, or point ${pin.envVar}`,
        `  at a schemathesis ${pin.version} CLI.`,
      ].join('\n'),
    );
    return 1;
  }
  console.log(
    `${tag} Schemathesis ${pin.version} installed in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  return 0;
}

try {
  const code = main();
  process.exitCode = quietFail ? 0 : code;
} catch (e) {
  console.warn(`${tag} unexpected failure: ${e instanceof Error ? e.stack : e}`);
  process.exitCode = quietFail ? 0 : 1;
}
