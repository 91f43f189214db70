/**
 * `npm run bench -- --directory ldap|scim [--reviewees N] [--removals M]`: the directory work of a review
 * on a real OpenLDAP slapd or SCIM 2.0 server (scim2-server), started on loopback and loaded with N
 * members, next to the embedded directory with the same tenant. Measures what the review activities do: resolve the reviewees (whole list, and
 * as the instance's shards do), resolve each reviewee's manager for a manager stage, and apply M removals
 * through the apply ledger. Prints a table and writes JSON to bench-results/.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { applyDecisionItems } from '../src/activities/apply';
import { resolveReviewees, resolveStage } from '../src/activities/resolve';
import { EmbeddedDirectory } from '../src/directory/embedded';
import { LdapDirectory } from '../src/directory/ldap/ldap-directory';
import type { Directory } from '../src/directory/port';
import { decisionItemIdFor } from '../src/domain/ids';
import type { StagePlan } from '../src/domain/review-plan';
import { InMemoryApplyLedger } from '../src/store/apply-ledger';
import type { ContractTenant } from '../test/directory/contract-tenant';
import { embeddedTenantFile } from '../test/directory/contract-tenant';
import { ldapSettings } from '../test/directory/ldap-fixture';
import { scimSettings } from '../test/directory/scim-fixture';
import { startScimServer } from '../test/helpers/scim-server';
import { startSlapd } from '../test/helpers/slapd';
import { ScimDirectory } from '../src/directory/scim/scim-directory';
import { n0 } from './lib/progress';

const USAGE = `Usage: npm run bench -- --directory ldap|scim [--reviewees N] [--removals M] [--shard-size S]
  --directory ldap  measure the LDAP adapter on a local OpenLDAP slapd next to the embedded directory
  --directory scim  measure the SCIM adapter on a local scim2-server next to the embedded directory
  --reviewees N     members of the reviewed group (default 10000)
  --removals M      denied members removed by the apply activity (default 1000)
  --shard-size S    reviewees per shard, as REVIEW_SHARD_SIZE (default 500)`;

/** The servers the bench can measure. */
const SERVERS = ['ldap', 'scim'] as const;
type Server = (typeof SERVERS)[number];

interface Options {
  directory: Server;
  reviewees: number;
  removals: number;
  shardSize: number;
}

function parse(argv: string[]): Options {
  const options: Options = { directory: 'ldap', reviewees: 10_000, removals: 1_000, shardSize: 500 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    const int = () => {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1) throw new Error(`${name} needs a positive integer\n${USAGE}`);
      return n;
    };
    if (name === '--directory') {
      if (!SERVERS.includes(value as Server))
        throw new Error(`--directory: ldap or scim (got '${value}')\n${USAGE}`);
      options.directory = value as Server;
    } else if (name === '--reviewees') options.reviewees = int();
    else if (name === '--removals') options.removals = int();
    else if (name === '--shard-size') options.shardSize = int();
    else throw new Error(`Unknown option '${arg}'\n${USAGE}`);
  }
  if (options.removals > options.reviewees) throw new Error('--removals cannot exceed --reviewees');
  return options;
}

/** N members of `bench`, one manager per 50 of them, every tenth a guest. */
function benchTenant(n: number): ContractTenant {
  const key = (i: number) => `m${String(i).padStart(6, '0')}`;
  const managers = Math.ceil(n / 50);
  const boss = (i: number) => `boss${String(i).padStart(4, '0')}`;
  return {
    users: [
      { key: 'owner', displayName: 'Bench Owner', upn: 'owner@stagecoach.test' },
      ...Array.from({ length: managers }, (_, i) => ({
        key: boss(i),
        displayName: `Manager ${i}`,
        upn: `${boss(i)}@stagecoach.test`,
      })),
      ...Array.from({ length: n }, (_, i) => ({
        key: key(i),
        displayName: `Member ${i}`,
        upn: `${key(i)}@stagecoach.test`,
        managerKey: boss(Math.floor(i / 50)),
        ...(i % 10 === 0 ? { guest: true } : {}),
        ...(i % 3 === 0 ? { lastSignIn: '2026-10-01T00:00:00Z' } : {}),
      })),
    ],
    groups: [
      {
        key: 'bench',
        displayName: 'Bench group',
        memberKeys: Array.from({ length: n }, (_, i) => key(i)),
        ownerKeys: ['owner'],
      },
      // The ldap-fixture's application names these two groups.
      { key: 'payroll-users', displayName: 'Payroll users', memberKeys: [], ownerKeys: ['owner'] },
      { key: 'payroll-admins', displayName: 'Payroll admins', memberKeys: [], ownerKeys: ['owner'] },
    ],
    applications: [],
  };
}

interface Row {
  directory: string;
  resolveMs: number;
  shardedResolveMs: number;
  shards: number;
  managersMs: number;
  applyMs: number;
  removals: number;
  removalsPerSecond: number;
}

async function time<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const out = await fn();
  return [out, performance.now() - start];
}

const MANAGER_STAGE: StagePlan = {
  stageId: '2',
  durationInDays: 3,
  reviewers: [{ kind: 'manager' }],
  fallbackReviewers: [],
  recommendationsEnabled: true,
  recommendationLookBackDays: 30,
  decisionsThatWillMoveToNextStage: null,
};

async function measure(name: string, directory: Directory, groupId: string, o: Options): Promise<Row> {
  const instanceId = `bench-${name}`;
  const scope = { resource: { type: 'group' as const, id: groupId }, principals: 'all' as const };
  const started = new Date().toISOString();
  const [all, resolveMs] = await time(() =>
    resolveReviewees(directory, { scope, instanceStartDateTime: started }),
  );
  if (all.total !== o.reviewees)
    throw new Error(`${name}: resolved ${all.total} reviewees, expected ${o.reviewees}`);
  const shards = Math.ceil(o.reviewees / o.shardSize);
  const [, shardedResolveMs] = await time(async () => {
    for (let shard = 0; shard < shards; shard++) {
      await resolveReviewees(directory, {
        scope,
        instanceStartDateTime: started,
        partition: { instanceId, shard, count: shards },
      });
    }
  });
  const items = all.principals.map((p) => ({
    itemId: decisionItemIdFor(instanceId, p.id),
    principalId: p.id,
  }));
  const [, managersMs] = await time(async () => {
    for (let i = 0; i < items.length; i += o.shardSize) {
      const assignment = await resolveStage(directory, {
        scope,
        stage: MANAGER_STAGE,
        instanceStartDateTime: started,
        items: items.slice(i, i + o.shardSize),
      });
      if (Object.keys(assignment.reviewersByItem).length === 0)
        throw new Error(`${name}: no managers resolved`);
    }
  });
  const denied = items.slice(0, o.removals).map((i) => ({ ...i, decision: 'Deny' as const }));
  const [applied, applyMs] = await time(() =>
    applyDecisionItems(
      directory,
      new InMemoryApplyLedger(),
      { instanceId, resource: scope.resource, denyAction: 'removeAccess', items: denied },
      () => undefined,
    ),
  );
  const failed = applied.results.filter((r) => r.result !== 'AppliedSuccessfully').length;
  if (failed > 0) throw new Error(`${name}: ${failed} removals did not apply`);
  const left = await directory.listGroupTransitiveMembers(groupId);
  if (left?.length !== o.reviewees - o.removals) {
    throw new Error(`${name}: ${left?.length} members left after ${o.removals} removals`);
  }
  return {
    directory: name,
    resolveMs,
    shardedResolveMs,
    shards,
    managersMs,
    applyMs,
    removals: o.removals,
    removalsPerSecond: (o.removals / applyMs) * 1000,
  };
}

/** The server under measurement, loaded with the tenant, and the adapter in front of it. */
async function startServer(kind: Server, tenant: ContractTenant) {
  if (kind === 'ldap') {
    const server = await startSlapd(tenant);
    const directory = await LdapDirectory.connect(await ldapSettings(server));
    return {
      name: 'ldap (OpenLDAP)',
      url: server.url,
      directory,
      groupId: server.idOf('bench'),
      stop: async () => {
        await directory.close();
        await server.stop();
      },
    };
  }
  const server = await startScimServer(tenant);
  const directory = await ScimDirectory.connect(
    await scimSettings(server, { SCIM_APPLICATIONS: '[]', SCIM_TIMEOUT_MS: '120000' }),
  );
  return {
    name: 'scim (scim2-server)',
    url: server.baseUrl,
    directory,
    groupId: server.idOf('bench'),
    stop: async () => {
      await directory.close();
      await server.stop();
    },
  };
}

async function main() {
  const o = parse(process.argv.slice(2));
  const tenant = benchTenant(o.reviewees);
  process.stdout.write(`Directory bench: ${n0(o.reviewees)} reviewees, ${n0(o.removals)} removals\n`);
  const rows: Row[] = [
    await measure('embedded', EmbeddedDirectory.inMemory(embeddedTenantFile(tenant)), 'bench', o),
  ];
  const [target, loadMs] = await time(() => startServer(o.directory, tenant));
  process.stdout.write(`${target.name} loaded on ${target.url} in ${(loadMs / 1000).toFixed(1)} s\n`);
  try {
    rows.push(await measure(target.name, target.directory, target.groupId, o));
  } finally {
    await target.stop();
  }
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const lines = [
    '',
    `| directory | resolve ${n0(o.reviewees)} | as ${rows[0]!.shards} shards | managers | apply ${n0(o.removals)} removals | removals/s |`,
    '|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.directory} | ${s(r.resolveMs)} | ${s(r.shardedResolveMs)} | ${s(r.managersMs)} | ${s(r.applyMs)} | ${n0(r.removalsPerSecond)} |`,
    ),
    '',
    o.directory === 'ldap'
      ? `Goals on LDAP: resolve ${n0(o.reviewees)} members < 5 s, apply 1,000 removals < 10 s.`
      : `Goal on SCIM: resolve ${n0(o.reviewees)} members < 15 s (paging through scim2-server's users takes most of it). Removals cost what the server takes per PATCH operation.`,
    '',
  ];
  process.stdout.write(lines.join('\n'));
  const out = path.join(
    __dirname,
    '..',
    'bench-results',
    `directory-bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`,
  );
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ options: o, rows }, null, 2)}\n`);
  process.stdout.write(`Results: ${path.relative(process.cwd(), out)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
