import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ContractTenant, ContractUser } from '../directory/contract-tenant';
import { freePort } from './ports';

// A real SCIM 2.0 server for the SCIM tests: PyPI scim2-server (pinned in scripts/scim-server-version.json,
// provisioned by scripts/provision-scim-server.mjs), in memory, on a loopback port, requiring a random bearer
// token, loaded with the contract tenant. The helper reads back over plain HTTP (never through an adapter).
//
// FACTS about scim2-server 0.8.3 (scim2-models 0.12.3), as test/helpers/scim-server.test.ts checks them
// (timings measured here with the full contract tenant):
// - Base URL http://127.0.0.1:PORT/v2. Without `Authorization: Bearer <token>`, or with a wrong one: 401.
// - ServiceProviderConfig (its default, used here): patch, bulk (maxOperations 1,000, maxPayloadSize 1 MiB),
//   filter (maxResults 1,000), sort, etag, changePassword supported; index paging (startIndex/count).
// - Count cap: count > 1,000 gets itemsPerPage 1,000 (filter.maxResults bounds every list, filtered or
//   not); no count: 1,000 too; count=0 (and count=-1) gives totalResults only; startIndex 0 is taken as 1.
// - Filters: RFC 7644 filters (eq, gt, value paths such as members[value eq "…"], extension attributes by
//   URN, e.g. `<SCIM_SIGN_IN_SCHEMA>:lastSignInDateTime gt "…"`); an unknown attribute: 400 invalidFilter.
//   userName eq is case-insensitive (caseExact false). sortBy works.
// - ETag: meta.version W/"n" (one counter for all writes) and an ETag header on GET and PATCH; If-Match with
//   a stale version: 412; with the current one: applied.
// - PATCH answers 204 (no body, ETag header) unless attributes/excludedAttributes are asked for.
//   remove `members[value eq "x"]`: 204; the same remove again, or of a non-member: 204 as well (no
//   noTarget error). Adding a member already there: 204, not duplicated. A path that is no attribute: 400
//   invalidPath. PATCH on an unknown id: 404. replace active=false: 204, GET then shows active false.
// - DELETE /Users/{id}: 204, then GET and DELETE 404; the user STAYS in the members of its groups (no
//   referential integrity), and stays manager.value of its reports. Member values are not checked either.
// - Concurrency: one lock serialises every storage operation, a PATCH's read-modify-write included, so
//   concurrent PATCHes of one group all apply (50 at once checked); the threaded WSGI server takes
//   requests in parallel but they queue on that lock. Concurrent bulk requests are no faster than serial.
// - Cost grows with group size: on the 10,050-member group one PATCH remove takes ~1.6 s, 20 removes in one
//   PATCH ~10 s, 200 ~100 s; a GET of it ~1.2 s (even with excludedAttributes=members) and a Groups filter
//   members[value eq …] ~1 s. On small groups a PATCH takes ~10 ms. A single-user POST ~60 ms at 20-way
//   concurrency; /Bulk creates ~1,000 users/s, so loading the contract tenant takes ~10 s.

// MAPPING of the contract tenant (keep in step with the code below):
// - user → User: userName = emails[0].value (work, primary) = upn; displayName; userType "Guest" | "Member";
//   active = !disabled; Enterprise User extension manager.value = the manager's id (no $ref);
//   lastSignIn → `${SCIM_SIGN_IN_SCHEMA}`.lastSignInDateTime (dateTime), a custom extension schema this
//   helper registers with the server (absent: never signed in).
// - group → Group: displayName; members [{ value, $ref, type: "User" | "Group" }] (nested groups as Group
//   members); description → `${SCIM_GROUP_DESCRIPTION_SCHEMA}`.description (custom extension).
// - owners → a companion Group "<displayName><ownerGroupSuffix>" (default " Owners") holding the owner
//   users, only for groups that have owners.
// - application → a Group named the application's displayName ("Payroll") whose members are its groups
//   (type Group), plus the owners Group "Payroll Owners" holding the union of those groups' owners (for
//   payroll: patti and lynne). scimApplicationGroups / ScimTestServer.application tell the ids.

/** Custom User extension carrying the last sign-in time (`lastSignInDateTime`, dateTime). */
export const SCIM_SIGN_IN_SCHEMA = 'urn:ietf:params:scim:schemas:extension:stagecoach:2.0:User';
/** Custom Group extension carrying the group's description (`description`, string). */
export const SCIM_GROUP_DESCRIPTION_SCHEMA = 'urn:ietf:params:scim:schemas:extension:stagecoach:2.0:Group';
export const SCIM_ENTERPRISE_USER_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const SCIM_USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const SCIM_GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const SCIM_PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const BULK_REQUEST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';

/** The server's own limits (its default ServiceProviderConfig), used to size bulk requests. */
const BULK_MAX_OPERATIONS = 1000;
const BULK_MAX_PAYLOAD = 1024 * 1024;

export interface ScimServerOptions {
  /** Suffix of the companion group that holds a group's owners; default " Owners". */
  ownerGroupSuffix?: string;
}

/** The groups an application is made of on the SCIM server. */
export interface ScimApplicationGroups {
  /** The group named after the application; its members are `groupIds`. */
  id: string;
  /** The application's groups (their transitive members are the assignees). */
  groupIds: string[];
  /** The owners group ("Payroll Owners"), when the application has owners. */
  ownersGroupId?: string;
}

/** A raw SCIM resource as the server returned it. */
export type ScimResource = Record<string, unknown> & { id: string; schemas: string[] };

export interface ScimTestServer {
  /** http://127.0.0.1:PORT/v2 */
  baseUrl: string;
  /** The bearer token the server requires. */
  token: string;
  /** Id the server gave the tenant object with this key (users, groups, applications' groups). */
  idOf(key: string): string;
  /** Id of the owners group of the group or application with this key; undefined when it has no owners. */
  ownersGroupIdOf(key: string): string | undefined;
  /** The groups that form the application with this key. */
  application(key: string): ScimApplicationGroups;
  /** GET /Groups/{id}: displayName and the member ids. */
  readGroup(key: string): Promise<{ displayName: string; memberIds: string[] }>;
  /** GET /Users/{id} by tenant key or server id: the raw resource. */
  readUser(keyOrId: string): Promise<ScimResource>;
  /** fetch with the bearer token against a path under baseUrl (or an absolute URL). */
  request(
    method: string,
    pathOrUrl: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<Response>;
  /** Milliseconds the tenant took to load (after the server answered). */
  loadMs: number;
  pid: number;
  stop(): Promise<void>;
}

const projectRoot = path.resolve(__dirname, '..', '..');

interface Pin {
  package: string;
  version: string;
  envVar: string;
}

/** The `scim2-server` command: SCIM_SERVER_PATH, else the one scripts/provision-scim-server.mjs installed. */
export function scimServerExecutable(): string {
  const pin = JSON.parse(
    readFileSync(path.join(projectRoot, 'scripts', 'scim-server-version.json'), 'utf8'),
  ) as Pin;
  const file =
    process.env[pin.envVar] ||
    path.join(projectRoot, '.temporal-bin', `${pin.package}-${pin.version}`, 'bin', 'scim2-server');
  try {
    if (statSync(file).isFile()) return file;
  } catch {
    // reported below
  }
  throw new Error(
    `No scim2-server at ${file}: run \`node scripts/provision-scim-server.mjs\` (\`npm test\` does) ` +
      `or set ${pin.envVar}`,
  );
}

/** The Python interpreter of a pip console script (its #! line), which imports scim2_server. */
function pythonOf(script: string): string {
  const first = readFileSync(script, 'utf8').split('\n', 1)[0] ?? '';
  const m = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(first);
  if (!m) throw new Error(`${script} has no #! line naming its Python`);
  // `#!/usr/bin/env python3` names the interpreter in the second word.
  return path.basename(m[1]!) === 'env' && m[2] ? m[2] : m[1]!;
}

/**
 * Runs scim2-server's own CLI (scim2_server.testserver.cli) with the RFC 7643 schemas plus this helper's
 * extensions, and the bearer token from the environment, so that it never shows on a command line.
 */
const LAUNCHER = `
import json, os, sys
from scim2_server.utils import load_json_resource
from scim2_server.testserver import cli
work, port = sys.argv[1], sys.argv[2]
with open(os.path.join(work, "extra-schemas.json")) as f:
    extra = json.load(f)
schemas = os.path.join(work, "schemas.json")
with open(schemas, "w") as f:
    json.dump(load_json_resource("default-schemas.json") + extra, f)
token = os.environ.pop("STAGECOACH_SCIM_TOKEN")
sys.argv = ["scim2-server", "--schema", schemas,
            "--resource-type", os.path.join(work, "resource-types.json"),
            "--hostname", "127.0.0.1", "--port", port, "--bearer-token", token]
cli.main()
`;

const attribute = (name: string, type: string, description: string) => ({
  name,
  type,
  multiValued: false,
  description,
  required: false,
  caseExact: false,
  mutability: 'readWrite',
  returned: 'default',
  uniqueness: 'none',
});

const EXTRA_SCHEMAS = [
  {
    id: SCIM_SIGN_IN_SCHEMA,
    name: 'StagecoachUser',
    description: 'Stagecoach test extension: when the user last signed in',
    attributes: [attribute('lastSignInDateTime', 'dateTime', 'Last interactive sign-in')],
  },
  {
    id: SCIM_GROUP_DESCRIPTION_SCHEMA,
    name: 'StagecoachGroup',
    description: 'Stagecoach test extension: the group description',
    attributes: [attribute('description', 'string', 'What the group is for')],
  },
];

const RESOURCE_TYPES = [
  {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
    id: 'User',
    name: 'User',
    endpoint: '/Users',
    description: 'User Account',
    schema: SCIM_USER_SCHEMA,
    schemaExtensions: [
      { schema: SCIM_ENTERPRISE_USER_SCHEMA, required: false },
      { schema: SCIM_SIGN_IN_SCHEMA, required: false },
    ],
  },
  {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
    id: 'Group',
    name: 'Group',
    endpoint: '/Groups',
    description: 'Group',
    schema: SCIM_GROUP_SCHEMA,
    schemaExtensions: [{ schema: SCIM_GROUP_DESCRIPTION_SCHEMA, required: false }],
  },
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Managers before their reports, so a bulk request can name a manager created earlier. */
function managersFirst(users: ContractUser[]): ContractUser[] {
  const byKey = new Map(users.map((u) => [u.key, u]));
  const out: ContractUser[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (u: ContractUser) => {
    const s = state.get(u.key);
    if (s === 'done') return;
    if (s === 'visiting') throw new Error(`Manager cycle through ${u.key}`);
    state.set(u.key, 'visiting');
    if (u.managerKey !== undefined) {
      const m = byKey.get(u.managerKey);
      if (!m) throw new Error(`Manager ${u.managerKey} of ${u.key} is not a tenant user`);
      visit(m);
    }
    state.set(u.key, 'done');
    out.push(u);
  };
  users.forEach(visit);
  return out;
}

/** Starts scim2-server on loopback, loads `tenant`; `stop()` kills it (and so does the test process's exit). */
export async function startScimServer(
  tenant: ContractTenant,
  options: ScimServerOptions = {},
): Promise<ScimTestServer> {
  const ownerSuffix = options.ownerGroupSuffix ?? ' Owners';
  const executable = scimServerExecutable();
  const python = pythonOf(executable);
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'stagecoach-scim-'));
  await fs.writeFile(path.join(work, 'extra-schemas.json'), JSON.stringify(EXTRA_SCHEMAS));
  await fs.writeFile(path.join(work, 'resource-types.json'), JSON.stringify(RESOURCE_TYPES));
  const token = randomBytes(24).toString('base64url');

  let child: ChildProcess | undefined;
  let output = '';
  const killOnExit = () => child?.kill('SIGKILL');
  const cleanup = async () => {
    process.off('exit', killOnExit);
    const proc = child;
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      proc.kill('SIGTERM');
      const killTimer = setTimeout(() => proc.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(killTimer);
    }
    await fs.rm(work, { recursive: true, force: true });
  };

  try {
    // freePort releases the port before the server binds it; another process may take it in between, so a
    // server that exits while starting is retried on a new port.
    let baseUrl = '';
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      output = '';
      const proc = spawn(python, ['-c', LAUNCHER, work, String(port)], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, STAGECOACH_SCIM_TOKEN: token, PYTHONUNBUFFERED: '1' },
      });
      child = proc;
      process.on('exit', killOnExit);
      let spawnError: Error | undefined;
      proc.on('error', (err) => (spawnError = err));
      let serving = false;
      for (const stream of [proc.stdout, proc.stderr]) {
        stream?.setEncoding('utf8');
        stream?.on('data', (chunk: string) => {
          // wsgiref logs every request to stderr: keep only the tail.
          output = (output + chunk).slice(-20_000);
          if (output.includes('Serving SCIM on')) serving = true;
        });
      }
      const deadline = Date.now() + 20_000;
      while (!serving) {
        if (spawnError) throw new Error(`${python} could not be started: ${spawnError.message}`);
        if (proc.exitCode !== null || proc.signalCode !== null) break;
        if (Date.now() > deadline)
          throw new Error(`scim2-server did not start within 20 s: ${output.trim()}`);
        await sleep(25);
      }
      if (serving) {
        baseUrl = `http://127.0.0.1:${port}/v2`;
        break;
      }
      if (attempt >= 3 || !/Address already in use/.test(output))
        throw new Error(
          `scim2-server exited (${proc.exitCode ?? proc.signalCode}) while starting: ${output.trim()}`,
        );
    }
    const pid = child.pid!;

    const request = (
      method: string,
      pathOrUrl: string,
      body?: unknown,
      headers: Record<string, string> = {},
    ): Promise<Response> =>
      fetch(pathOrUrl.startsWith('http') ? pathOrUrl : `${baseUrl}${pathOrUrl}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/scim+json',
          ...(body === undefined ? {} : { 'content-type': 'application/scim+json' }),
          ...headers,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const json = async <T>(method: string, p: string, body: unknown, expected: number): Promise<T> => {
      const res = await request(method, p, body);
      const text = await res.text();
      if (res.status !== expected)
        throw new Error(
          `${method} ${p} answered ${res.status} (expected ${expected}): ${text.slice(0, 2000)}`,
        );
      return JSON.parse(text) as T;
    };

    const started = Date.now();
    const ids = new Map<string, string>();
    const idOf = (key: string): string => {
      const id = ids.get(key);
      if (!id) throw new Error(`No SCIM object for tenant key ${key}`);
      return id;
    };
    const userRef = (id: string) => `${baseUrl}/Users/${id}`;
    const groupRef = (id: string) => `${baseUrl}/Groups/${id}`;

    // Users: bulk requests within the server's limits. Managers come first, so a manager is either created
    // by an earlier request (its id is known) or earlier in the same one (a bulkId reference).
    const userBody = (u: ContractUser, inChunk: Set<string>) => {
      // manager.value only: a bulkId reference cannot make the $ref URL, so no manager gets one.
      let manager: { value: string } | undefined;
      if (u.managerKey !== undefined) {
        const known = ids.get(u.managerKey);
        if (known) manager = { value: known };
        else if (inChunk.has(u.managerKey)) manager = { value: `bulkId:${u.managerKey}` };
        else throw new Error(`Manager ${u.managerKey} of ${u.key} is not created before it`);
      }
      return {
        schemas: [
          SCIM_USER_SCHEMA,
          ...(manager ? [SCIM_ENTERPRISE_USER_SCHEMA] : []),
          ...(u.lastSignIn !== undefined ? [SCIM_SIGN_IN_SCHEMA] : []),
        ],
        userName: u.upn,
        displayName: u.displayName,
        emails: [{ value: u.upn, type: 'work', primary: true }],
        userType: u.guest ? 'Guest' : 'Member',
        active: !u.disabled,
        ...(manager ? { [SCIM_ENTERPRISE_USER_SCHEMA]: { manager } } : {}),
        ...(u.lastSignIn !== undefined
          ? { [SCIM_SIGN_IN_SCHEMA]: { lastSignInDateTime: u.lastSignIn } }
          : {}),
      };
    };
    interface BulkResponse {
      Operations: { bulkId?: string; status: string; location?: string; response?: unknown }[];
    }
    const ordered = managersFirst(tenant.users);
    let i = 0;
    while (i < ordered.length) {
      const inChunk = new Set<string>();
      const operations: unknown[] = [];
      // Envelope plus a margin; each operation adds its JSON and a comma.
      let size = 200;
      while (i < ordered.length && operations.length < BULK_MAX_OPERATIONS) {
        const u = ordered[i]!;
        const op = { method: 'POST', path: '/Users', bulkId: u.key, data: userBody(u, inChunk) };
        const opSize = Buffer.byteLength(JSON.stringify(op)) + 1;
        if (operations.length > 0 && size + opSize > BULK_MAX_PAYLOAD) break;
        operations.push(op);
        inChunk.add(u.key);
        size += opSize;
        i++;
      }
      const res = await json<BulkResponse>(
        'POST',
        '/Bulk',
        { schemas: [BULK_REQUEST_SCHEMA], failOnErrors: 1, Operations: operations },
        200,
      );
      for (const op of res.Operations) {
        if (op.status !== '201' || !op.bulkId || !op.location)
          throw new Error(`Bulk user creation failed: ${JSON.stringify(op).slice(0, 2000)}`);
        ids.set(op.bulkId, op.location.slice(op.location.lastIndexOf('/') + 1));
      }
    }

    // Groups: one POST each (a 10,050-member group is larger than a bulk request may be), nested groups first.
    const userKeys = new Set(tenant.users.map((u) => u.key));
    const groupKeys = new Set(tenant.groups.map((g) => g.key));
    const member = (key: string) => {
      const id = idOf(key);
      if (userKeys.has(key)) return { value: id, $ref: userRef(id), type: 'User' };
      if (groupKeys.has(key) || ids.has(key)) return { value: id, $ref: groupRef(id), type: 'Group' };
      throw new Error(`Member ${key} is not a tenant object`);
    };
    const createGroup = async (displayName: string, memberKeys: string[], description?: string) => {
      const created = await json<{ id: string }>(
        'POST',
        '/Groups',
        {
          schemas: [SCIM_GROUP_SCHEMA, ...(description !== undefined ? [SCIM_GROUP_DESCRIPTION_SCHEMA] : [])],
          displayName,
          members: memberKeys.map(member),
          ...(description !== undefined ? { [SCIM_GROUP_DESCRIPTION_SCHEMA]: { description } } : {}),
        },
        201,
      );
      return created.id;
    };
    const byKey = new Map(tenant.groups.map((g) => [g.key, g]));
    const pending = new Set(tenant.groups.map((g) => g.key));
    const owners = new Map<string, string>();
    while (pending.size > 0) {
      const ready = [...pending].filter((k) =>
        byKey.get(k)!.memberKeys.every((m) => !groupKeys.has(m) || ids.has(m)),
      );
      if (ready.length === 0) throw new Error(`Group membership cycle among ${[...pending].join(', ')}`);
      await Promise.all(
        ready.map(async (k) => {
          const g = byKey.get(k)!;
          ids.set(k, await createGroup(g.displayName, g.memberKeys, g.description));
          pending.delete(k);
        }),
      );
    }
    await Promise.all(
      tenant.groups
        .filter((g) => g.ownerKeys.length > 0)
        .map(async (g) =>
          owners.set(g.key, await createGroup(`${g.displayName}${ownerSuffix}`, g.ownerKeys)),
        ),
    );
    const applications = new Map<string, ScimApplicationGroups>();
    for (const a of tenant.applications) {
      if (ids.has(a.key)) throw new Error(`Tenant key ${a.key} is used twice`);
      const id = await createGroup(a.displayName, a.groupKeys);
      ids.set(a.key, id);
      const ownerKeys = [...new Set(a.groupKeys.flatMap((k) => byKey.get(k)?.ownerKeys ?? []))];
      const app: ScimApplicationGroups = { id, groupIds: a.groupKeys.map(idOf) };
      if (ownerKeys.length > 0) {
        app.ownersGroupId = await createGroup(`${a.displayName}${ownerSuffix}`, ownerKeys);
        owners.set(a.key, app.ownersGroupId);
      }
      applications.set(a.key, app);
    }
    const loadMs = Date.now() - started;

    const get = async (p: string): Promise<ScimResource> => json<ScimResource>('GET', p, undefined, 200);
    return {
      baseUrl,
      token,
      idOf,
      ownersGroupIdOf: (key) => owners.get(key),
      application(key) {
        const app = applications.get(key);
        if (!app) throw new Error(`No application with key ${key}`);
        return app;
      },
      async readGroup(key) {
        const g = await get(`/Groups/${encodeURIComponent(idOf(key))}`);
        const members = (g.members as { value: string }[] | undefined) ?? [];
        return { displayName: String(g.displayName), memberIds: members.map((m) => m.value) };
      },
      readUser: (keyOrId) => get(`/Users/${encodeURIComponent(ids.get(keyOrId) ?? keyOrId)}`),
      request,
      loadMs,
      pid,
      stop: cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** The group ids that form an application on the server (the application group, its groups, its owners group). */
export function scimApplicationGroups(server: ScimTestServer, key: string): ScimApplicationGroups {
  return server.application(key);
}
