#!/usr/bin/env node
// Provisions the pinned scim2-server (an in-memory SCIM 2.0 server, Python >= 3.11), which
// test/helpers/scim-server.ts starts for the SCIM tests, into a Python venv in the git-ignored
// .temporal-bin/ (also ignored by eslint, prettier and docker builds). Runs before every `npm test`, so
// the provisioned path stays fast: it stats the command and reads the stamp written after a successful
// install. Pin in scripts/scim-server-version.json (`with`: further pins installed in the same pip run,
// such as scim2-models, whose API scim2-server follows closely).
//
// Usage: node scripts/provision-scim-server.mjs [--quiet-fail]
//   --quiet-fail  never exit non-zero (the SCIM tests then fail and say why; the rest runs)
// Honours SCIM_SERVER_PATH: an existing `scim2-server` command there is used instead (the helper runs
// the Python interpreter of its #! line).

import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const binRoot = path.join(projectRoot, '.temporal-bin');
const quietFail = process.argv.includes('--quiet-fail');
const tag = 'provision-scim-server:';
const STAMP = 'stagecoach-pin.txt';

/** @typedef {{ package: string, version: string, with?: string[], envVar: string }} Pin */

/** @returns {Pin} */
function readPin() {
  return JSON.parse(readFileSync(path.join(projectRoot, 'scripts', 'scim-server-version.json'), 'utf8'));
}

/** @param {Pin} pin */
function venvDir(pin) {
  return path.join(binRoot, `${pin.package}-${pin.version}`);
}

/** @param {Pin} pin */
function spec(pin) {
  return `${pin.package}==${pin.version}`;
}

/** What the stamp says: every pin of the venv. @param {Pin} pin */
function stamp(pin) {
  return [spec(pin), ...(pin.with ?? [])].join(' ');
}

/** @param {Pin} pin */
function cliPath(pin) {
  return path.join(venvDir(pin), 'bin', 'scim2-server');
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

/**
 * A Python >= 3.11 (scim2-server's floor) that can make venvs with pip (Debian's python3 lacks ensurepip
 * without python3-venv).
 */
function findPython() {
  const check = 'import sys, venv, ensurepip; sys.exit(0 if sys.version_info >= (3, 11) else 1)';
  for (const cmd of ['python3', 'python3.13', 'python3.12', 'python3.11', 'python']) {
    const r = spawnSync(cmd, ['-c', check], { stdio: 'ignore' });
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
    return 'no python3 >= 3.11 with the venv module was found (Debian/Ubuntu: apt-get install python3-venv)';
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
  const pip = spawnSync(
    path.join(dir, 'bin', 'python'),
    ['-m', 'pip', 'install', '-q', spec(pin), ...(pin.with ?? [])],
    { stdio, env },
  );
  if (pip.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return `pip install ${spec(pin)} exited with ${pip.status ?? pip.error?.message}`;
  }
  // The command has no --version: ask the venv's Python which versions it imports.
  const wanted = [spec(pin), ...(pin.with ?? [])];
  const names = wanted.map((s) => s.split('==')[0]);
  const version = spawnSync(
    path.join(dir, 'bin', 'python'),
    [
      '-c',
      'import sys, importlib.metadata as m; print(" ".join(f"{n}=={m.version(n)}" for n in sys.argv[1:]))',
      ...names,
    ],
    { encoding: 'utf8' },
  );
  const found = version.stdout?.trim() ?? '';
  if (version.status !== 0 || found !== wanted.join(' ') || !isFile(cliPath(pin))) {
    rmSync(dir, { recursive: true, force: true });
    return `the venv holds ${JSON.stringify(found || version.stderr?.trim() || version.error?.message)}, not ${wanted.join(' ')}`;
  }
  writeFileSync(path.join(dir, STAMP), `${stamp(pin)}\n`);
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
      `${tag} cannot read scripts/scim-server-version.json: ${e instanceof Error ? e.message : e}`,
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
      `${tag} ${pin.envVar}=${fromEnv} is not a file; provisioning the pinned scim2-server instead`,
    );
  }
  const dir = venvDir(pin);
  if (isFile(cliPath(pin)) && readOrEmpty(path.join(dir, STAMP)) === stamp(pin)) {
    console.log(`${tag} scim2-server ${pin.version}`);
    return 0;
  }
  const started = Date.now();
  console.log(`${tag} installing ${stamp(pin)} into ${path.relative(projectRoot, dir)}/ …`);
  const error = install(pin);
  if (error) {
    console.warn(
      [
        `${tag} could not provision scim2-server (${error}).`,
        `  The SCIM tests (test/helpers/scim-server.ts) fail until it is. Fix the cause (python3 >= 3.11 with`,
        `  venv, PyPI reachable through pip) and run \`node scripts/provision-scim-server.mjs\` again, or point`,
        `  ${pin.envVar} at a scim2-server ${pin.version} command.`,
      ].join('\n'),
    );
    return 1;
  }
  console.log(
    `${tag} scim2-server ${pin.version} installed in ${((Date.now() - started) / 1000).toFixed(1)} s`,
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
