// Provisions a pinned PyPI package into its own Python venv in the git-ignored .temporal-bin/ (also
// ignored by eslint, prettier and docker builds), for scripts/provision-schemathesis.mjs and
// scripts/provision-scim-server.mjs. The provisioned path stays fast: it stats the command and reads
// the stamp written after a successful install. The pin file is JSON: `package`, `version`, `envVar`
// (an existing file named there is used instead) and optionally `with` (further pins installed in the
// same pip run). `--quiet-fail` on the command line: never exit non-zero.

import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const binRoot = path.join(projectRoot, '.temporal-bin');
const STAMP = 'stagecoach-pin.txt';
/** The newest Python tried by name (`python3.13`, down to the floor) when `python3` is too old. */
const NEWEST_PYTHON_MINOR = 13;

/** @typedef {{ package: string, version: string, with?: string[], envVar: string }} Pin */

/**
 * @typedef {object} VenvTool
 * @property {string} tag  prefix of every output line, such as `provision-schemathesis:`
 * @property {string} pinFile  the pin file, relative to the project root
 * @property {string} displayName  the tool's name in messages
 * @property {string} command  the command the package installs in the venv's bin/
 * @property {[number, number]} [minPython]  the lowest Python (major, minor) the package runs on
 * @property {'--version' | 'metadata'} verify  how the installed version is checked: the command's
 *   `--version` output must contain the pinned version, or the venv's importlib.metadata must report
 *   exactly the pinned versions of the package and its `with` pins (and the command must exist)
 * @property {(pin: Pin) => string[]} hint  the lines after "could not provision …" on failure
 */

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
 * A Python (at least `minPython`) that can make venvs with pip (Debian's python3 lacks ensurepip without
 * python3-venv).
 * @param {[number, number] | undefined} minPython
 */
function findPython(minPython) {
  let check = 'import venv, ensurepip';
  const candidates = ['python3'];
  if (minPython) {
    const [major, minor] = minPython;
    check = `import sys, venv, ensurepip; sys.exit(0 if sys.version_info >= (${major}, ${minor}) else 1)`;
    for (let m = NEWEST_PYTHON_MINOR; m >= minor; m--) candidates.push(`python${major}.${m}`);
  }
  candidates.push('python');
  for (const cmd of candidates) {
    const r = spawnSync(cmd, ['-c', check], { stdio: 'ignore' });
    if (r.status === 0) return cmd;
  }
  return null;
}

/**
 * Checks the freshly installed venv holds the pinned versions.
 * @param {VenvTool} tool
 * @param {Pin} pin
 * @returns {string | null} error message, or null when they match
 */
function verifyInstalled(tool, pin) {
  const dir = venvDir(pin);
  const cli = path.join(dir, 'bin', tool.command);
  if (tool.verify === '--version') {
    const version = spawnSync(cli, ['--version'], { encoding: 'utf8' });
    if (version.status !== 0 || !version.stdout.includes(pin.version)) {
      return `${cli} --version answered ${JSON.stringify(version.stdout?.trim() ?? version.error?.message)}`;
    }
    return null;
  }
  // Ask the venv's Python which versions it imports.
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
  if (version.status !== 0 || found !== wanted.join(' ') || !isFile(cli)) {
    return `the venv holds ${JSON.stringify(found || version.stderr?.trim() || version.error?.message)}, not ${wanted.join(' ')}`;
  }
  return null;
}

/**
 * Makes the venv from scratch and installs the pin into it; the stamp is written last, so an
 * interrupted run is redone by the next one instead of trusted.
 * @param {VenvTool} tool
 * @param {Pin} pin
 * @returns {string | null} error message, or null on success
 */
function install(tool, pin) {
  const python = findPython(tool.minPython);
  if (!python) {
    const floor = tool.minPython ? ` >= ${tool.minPython.join('.')}` : '';
    return `no python3${floor} with the venv module was found (Debian/Ubuntu: apt-get install python3-venv)`;
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
  const wrong = verifyInstalled(tool, pin);
  if (wrong) {
    rmSync(dir, { recursive: true, force: true });
    return wrong;
  }
  writeFileSync(path.join(dir, STAMP), `${stamp(pin)}\n`);
  pruneOtherVersions(pin.package, path.basename(venvDir(pin)));
  return null;
}

/**
 * Removes the folders of earlier pins of a package under .temporal-bin/ (`<package>-<version>`), keeping
 * `keep` (each binary or venv is tens to hundreds of MB).
 * @param {string} pkg
 * @param {string} keep
 */
export function pruneOtherVersions(pkg, keep) {
  for (const name of readdirSync(binRoot)) {
    if (name !== keep && name.startsWith(`${pkg}-`) && /^\d/.test(name.slice(pkg.length + 1))) {
      rmSync(path.join(binRoot, name), { recursive: true, force: true });
    }
  }
}

/** @param {VenvTool} tool */
function provision(tool) {
  const { tag, displayName } = tool;
  /** @type {Pin} */
  let pin;
  try {
    pin = JSON.parse(readFileSync(path.join(projectRoot, tool.pinFile), 'utf8'));
  } catch (e) {
    console.warn(`${tag} cannot read ${tool.pinFile}: ${e instanceof Error ? e.message : e}`);
    return 1;
  }
  const fromEnv = process.env[pin.envVar];
  if (fromEnv) {
    if (isFile(fromEnv)) {
      console.log(`${tag} ${pin.envVar}=${fromEnv}`);
      return 0;
    }
    console.warn(
      `${tag} ${pin.envVar}=${fromEnv} is not a file; provisioning the pinned ${displayName} instead`,
    );
  }
  const dir = venvDir(pin);
  if (isFile(path.join(dir, 'bin', tool.command)) && readOrEmpty(path.join(dir, STAMP)) === stamp(pin)) {
    console.log(`${tag} ${displayName} ${pin.version}`);
    return 0;
  }
  const started = Date.now();
  console.log(`${tag} installing ${stamp(pin)} into ${path.relative(projectRoot, dir)}/ …`);
  const error = install(tool, pin);
  if (error) {
    console.warn([`${tag} could not provision ${displayName} (${error}).`, ...tool.hint(pin)].join('\n'));
    return 1;
  }
  console.log(
    `${tag} ${displayName} ${pin.version} installed in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  return 0;
}

/**
 * Provisions the tool unless it already is, printing one line when it is; returns the exit code
 * (always 0 with `--quiet-fail`).
 * @param {VenvTool} tool
 * @returns {number}
 */
export function provisionPythonTool(tool) {
  const quietFail = process.argv.includes('--quiet-fail');
  try {
    const code = provision(tool);
    return quietFail ? 0 : code;
  } catch (e) {
    console.warn(`${tool.tag} unexpected failure: ${e instanceof Error ? e.stack : e}`);
    return quietFail ? 0 : 1;
  }
}
