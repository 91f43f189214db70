import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { TemporalConnectionSettings } from '../src/config';
import { EmbeddedDirectory } from '../src/directory/embedded';
import { definitionInputSchema } from '../src/domain/definition-schema';
import { compileDefinition } from '../src/domain/validate-definition';
import { createClient, createWorker } from '../src/runtime';
import { InMemoryApplyLedger } from '../src/store/apply-ledger';
import { accessReviewInstance, instanceQuery, stopInstanceSignal } from '../src/workflows';
import type { GrpcTlsProxy } from './helpers/grpc-tls-proxy';
import { startGrpcTlsProxy } from './helpers/grpc-tls-proxy';
import { freePort } from './helpers/process-stack';
import { group, until, user } from './helpers/review-harness';
import { createDevServerEnv } from './helpers/temporal';
import type { TestPki } from './helpers/tls-certs';
import { createTestPki, SERVER_NAME } from './helpers/tls-certs';

// TLS, mTLS and API keys against a real Temporal dev server behind a TLS-terminating gRPC proxy that
// verifies client certificates and API keys, with certificates made at test time: the API's client and
// the worker connect the way production does (src/runtime.ts), and run a review through the proxy.

const API_KEY = `api-key-${randomUUID()}`;
const NAMESPACE = 'default';
const taskQueue = `tls-${randomUUID()}`;
const tenant = { users: [user('ann'), user('bob')], groups: [group('team', ['ann', 'bob'])] };

let env: TestWorkflowEnvironment;
let pki: TestPki;
let tlsProxy: GrpcTlsProxy;
let mtlsProxy: GrpcTlsProxy;
let apiKeyFile: string;
let worker: Worker;
let running: Promise<void>;
const clients: Client[] = [];

/** Settings of a client that trusts the test CA and presents the client certificate and API key (mTLS proxy). */
const mtls = (): TemporalConnectionSettings => ({
  TEMPORAL_ADDRESS: `127.0.0.1:${mtlsProxy.port}`,
  TEMPORAL_TLS_CA_FILE: pki.caCert,
  TEMPORAL_TLS_SERVER_NAME: SERVER_NAME,
  TEMPORAL_TLS_CERT_FILE: pki.clientCert,
  TEMPORAL_TLS_KEY_FILE: pki.clientKey,
  TEMPORAL_API_KEY_FILE: apiKeyFile,
});

async function client(settings: TemporalConnectionSettings): Promise<Client> {
  const c = await createClient({ ...settings, TEMPORAL_NAMESPACE: NAMESPACE }, { connectTimeoutMs: 1000 });
  clients.push(c);
  return c;
}

/** Starts a one-stage self-review, stops it, and returns its final view: the worker ran every step. */
async function runReview(c: Client) {
  const definitionId = randomUUID();
  const input = definitionInputSchema.parse({
    displayName: 'Team review over TLS',
    scope: { query: '/groups/team/transitiveMembers', queryType: 'MicrosoftGraph' },
    settings: { instanceDurationInDays: 3, autoApplyDecisionsEnabled: true },
  });
  const instanceId = randomUUID();
  const handle = await c.workflow.start(accessReviewInstance, {
    workflowId: `access-review/${definitionId}/${instanceId}`,
    taskQueue,
    args: [{ instanceId, plan: compileDefinition(definitionId, input), searchAttributes: false }],
  });
  await until(
    () => handle.query(instanceQuery),
    (v) => v.status === 'InProgress',
    'the review in progress',
  );
  await handle.signal(stopInstanceSignal, { by: 'admin' });
  return handle.result();
}

beforeAll(async () => {
  env = await createDevServerEnv();
  pki = createTestPki();
  apiKeyFile = path.join(pki.dir, 'api-key');
  fs.writeFileSync(apiKeyFile, `${API_KEY}\n`);
  const server = { upstream: env.address, certFile: pki.serverCert, keyFile: pki.serverKey };
  tlsProxy = await startGrpcTlsProxy(server);
  mtlsProxy = await startGrpcTlsProxy({ ...server, clientCaFile: pki.caCert, apiKey: API_KEY });
  worker = await createWorker(
    { ...mtls(), TEMPORAL_NAMESPACE: NAMESPACE, TASK_QUEUE: taskQueue },
    { directory: EmbeddedDirectory.inMemory(tenant), applyLedger: new InMemoryApplyLedger() },
  );
  running = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await Promise.all(clients.map((c) => c.connection.close()));
  await mtlsProxy?.close();
  await tlsProxy?.close();
  pki?.remove();
  await env?.teardown();
});

describe('connecting to Temporal with TLS', () => {
  it('runs a review with the worker and the API client on mTLS with an API key read from a file', async () => {
    const refusedBefore = mtlsProxy.counts.refused;
    const view = await runReview(await client(mtls()));
    expect(view.status).toBe('Applied');
    expect(mtlsProxy.counts.refused).toBe(refusedBefore);
    expect(mtlsProxy.counts.passed).toBeGreaterThan(10);
  });

  it('connects the API client with a CA file and a server name (TLS without a client certificate)', async () => {
    const c = await client({
      TEMPORAL_ADDRESS: `127.0.0.1:${tlsProxy.port}`,
      TEMPORAL_TLS_CA_FILE: pki.caCert,
      TEMPORAL_TLS_SERVER_NAME: SERVER_NAME,
    });
    const passedBefore = tlsProxy.counts.passed;
    const view = await runReview(c);
    expect(view.status).toBe('Applied');
    expect(tlsProxy.counts.passed).toBeGreaterThan(passedBefore);
  });
});

describe('a Temporal connection that fails names TEMPORAL_ADDRESS and the reason', () => {
  const workerWith = (settings: TemporalConnectionSettings) =>
    createWorker(
      { ...settings, TEMPORAL_NAMESPACE: NAMESPACE, TASK_QUEUE: `never-${randomUUID()}` },
      { directory: EmbeddedDirectory.inMemory(tenant), applyLedger: new InMemoryApplyLedger() },
    );
  const both = async (settings: TemporalConnectionSettings, reason: RegExp) => {
    const address = settings.TEMPORAL_ADDRESS.replace(/\./g, '\\.');
    const message = new RegExp(
      `^Cannot connect to Temporal at TEMPORAL_ADDRESS=${address}: ${reason.source}`,
    );
    await expect(client(settings)).rejects.toThrow(message);
    await expect(workerWith(settings)).rejects.toThrow(message);
  };

  it('when the server certificate is signed by another CA than TEMPORAL_TLS_CA_FILE', async () => {
    await both(
      { ...mtls(), TEMPORAL_TLS_CA_FILE: pki.otherCaCert },
      /(unable to get local issuer certificate|self-signed certificate in certificate chain) \(server certificate not trusted: check TEMPORAL_TLS_CA_FILE and TEMPORAL_TLS_SERVER_NAME\)$/,
    );
  });

  it('when the server name does not match its certificate', async () => {
    await both(
      { ...mtls(), TEMPORAL_TLS_SERVER_NAME: 'elsewhere.test' },
      /Host: elsewhere\.test\. is not in the cert's altnames: DNS:temporal\.stagecoach\.test \(server certificate not trusted/,
    );
  });

  it('when the server requires a client certificate and none is configured', async () => {
    const { TEMPORAL_TLS_CERT_FILE: _cert, TEMPORAL_TLS_KEY_FILE: _key, ...withoutCert } = mtls();
    await both(
      withoutCert,
      /tlsv13 alert certificate required \(the server refused the client certificate: check TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE\)$/,
    );
  });

  it('when the API key is refused', async () => {
    const { TEMPORAL_API_KEY_FILE: _file, ...withoutKey } = mtls();
    await both(
      { ...withoutKey, TEMPORAL_API_KEY: 'wrong-key' },
      /missing or wrong API key \(check TEMPORAL_API_KEY or TEMPORAL_API_KEY_FILE\)/,
    );
  });

  it('when nothing listens on TEMPORAL_ADDRESS', async () => {
    const port = await freePort();
    await both(
      { TEMPORAL_ADDRESS: `127.0.0.1:${port}` },
      new RegExp(`connect ECONNREFUSED 127\\.0\\.0\\.1:${port}$`),
    );
  });

  it('when a TLS file cannot be read, naming its setting', async () => {
    const missing = path.join(pki.dir, 'missing-ca.pem');
    await expect(client({ ...mtls(), TEMPORAL_TLS_CA_FILE: missing })).rejects.toThrow(
      `Cannot read TEMPORAL_TLS_CA_FILE=${missing}: ENOENT`,
    );
  });
});
