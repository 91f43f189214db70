import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import pino from 'pino';
import { createActivities } from '../../src/activities';
import { LocalIssuer } from '../../src/api/auth';
import { createApp } from '../../src/api/app';
import { EmbeddedDirectory } from '../../src/directory/embedded';
import type { TenantFileInput } from '../../src/directory/tenant-file';
import { DefinitionService } from '../../src/services/definitions';
import { DirectoryService } from '../../src/services/directory';
import { InstanceService } from '../../src/services/instances';
import { TemporalGateway } from '../../src/services/temporal-gateway';
import { InMemoryApplyLedger } from '../../src/store/apply-ledger';
import { workflowBundle } from './review-harness';
import { portOf } from './process-stack';
import { createDevServerEnv } from './temporal';

export const ADMIN_ROLE = 'AccessReview.ReadWrite.All';

/** The whole system in one process for HTTP tests: dev server, worker, API on a random port. */
export interface Stack {
  env: TestWorkflowEnvironment;
  directory: EmbeddedDirectory;
  issuer: LocalIssuer;
  baseUrl: string;
  /** Bearer token for a user; admins get the admin role claim. */
  token(userId: string, admin?: boolean): Promise<string>;
  stop(): Promise<void>;
}

/** Options of a test stack. */
export interface StackOptions {
  /** ES256 JWK file for the local issuer; a test that writes it holds the private key and can sign any token. */
  keyFile?: string;
  /** Reviewees above which an instance is split into shards (REVIEW_SHARD_SIZE). */
  shardSize?: number;
}

/** Starts the stack over the given tenant (default: the demo tenant). */
export async function startStack(tenant?: TenantFileInput, options: StackOptions = {}): Promise<Stack> {
  const env = await createDevServerEnv();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'stagecoach-stack-'));
  const directory = tenant
    ? EmbeddedDirectory.inMemory(tenant)
    : await EmbeddedDirectory.open({
        stateFile: path.join(dir, 'directory.json'),
        seedFile: path.resolve(__dirname, '../../data/demo-tenant.json'),
      });
  const taskQueue = `api-test-${randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: createActivities({ directory, applyLedger: new InMemoryApplyLedger() }),
  });
  const running = worker.run();
  const issuer = await LocalIssuer.open(options.keyFile ?? path.join(dir, 'key.json'));
  const gw = new TemporalGateway(env.client, taskQueue);
  const definitions = new DefinitionService(gw, (id) => directory.getUser(id), {
    shardSize: options.shardSize,
  });
  const instances = new InstanceService(gw, definitions);
  const app = createApp({
    definitions,
    instances,
    directory: new DirectoryService(directory, gw),
    health: () => gw.liveness.health(),
    auth: { verifier: issuer, userClaim: 'oid', rolesClaim: 'roles', adminRole: ADMIN_ROLE, admins: [] },
    localIssuer: issuer,
    logger: pino({ level: 'silent' }),
    bodyLimit: '1mb',
    rateLimitPerMinute: 100_000,
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const port = portOf(server);
  return {
    env,
    directory,
    issuer,
    baseUrl: `http://127.0.0.1:${port}`,
    token: (userId, admin = false) => issuer.issue(userId, { roles: admin ? [ADMIN_ROLE] : [] }),
    async stop() {
      await new Promise((r) => server.close(r));
      worker.shutdown();
      await running;
      await env.teardown();
    },
  };
}
