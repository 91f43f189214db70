import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { isLoopbackHost, parseConfig } from '../src/config';
import { createAuth } from '../src/runtime';

/** A pino logger that keeps what it writes, parsed. */
function capturingLogger() {
  const lines: { level: number; msg: string }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as { level: number; msg: string });
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

/** A DATABASE_URL, which the API and the worker cannot start without. */
const db = { DATABASE_URL: 'postgres://stagecoach:db-password@db.internal:5432/stagecoach' };

describe('configuration', () => {
  it('starts from embedded defaults when nothing is set', () => {
    const config = parseConfig({ AUTH_MODE: 'local' }, 'all');
    expect(config).toMatchObject({
      TEMPORAL_ADDRESS: 'localhost:7233',
      TEMPORAL_NAMESPACE: 'default',
      TASK_QUEUE: 'stagecoach',
      PORT: 3000,
      DIRECTORY_FILE: '.stagecoach/directory.json',
      AUTH_USER_CLAIM: 'oid',
      EMBEDDED_POSTGRES_DIR: '.stagecoach/postgres',
      EMBEDDED_POSTGRES_PORT: 5433,
    });
    expect(config.DATABASE_URL).toBeUndefined();
  });

  it('requires DATABASE_URL for the API and the worker, not for npm start, in one message with the rest', () => {
    for (const role of ['api', 'worker'] as const) {
      expect(() => parseConfig({ AUTH_MODE: 'local' }, role)).toThrow(
        /^Invalid configuration:\n {2}DATABASE_URL is required: .*PostgreSQL/,
      );
    }
    expect(() => parseConfig({}, 'api')).toThrow(
      /\n {2}DATABASE_URL is required: .*\n {2}AUTH_MODE=jwt needs AUTH_ISSUER, AUTH_AUDIENCE and AUTH_JWKS_URL/,
    );
    expect(parseConfig({ ...db, AUTH_MODE: 'local' }, 'api').DATABASE_URL).toBe(db.DATABASE_URL);
    expect(parseConfig({ DATABASE_URL: 'postgresql://db.internal/reviews' }, 'worker').DATABASE_URL).toBe(
      'postgresql://db.internal/reviews',
    );
    expect(
      parseConfig({ AUTH_MODE: 'local', EMBEDDED_POSTGRES_PORT: '0' }, 'all').EMBEDDED_POSTGRES_PORT,
    ).toBe(0);
  });

  it('refuses a DATABASE_URL that is not a PostgreSQL URL without repeating it (it holds a password)', () => {
    for (const DATABASE_URL of ['mysql://stagecoach:s3cret-pw@db/x', 's3cret-pw', 'db.internal:5432']) {
      let message = '';
      try {
        parseConfig({ DATABASE_URL }, 'worker');
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toBe(
        'Invalid configuration:\n  DATABASE_URL: must be a postgres:// or postgresql:// URL',
      );
    }
    expect(() => parseConfig({ ...db, EMBEDDED_POSTGRES_PORT: '70000' }, 'worker')).toThrow(
      /EMBEDDED_POSTGRES_PORT: /,
    );
  });

  it('names every bad setting in one message', () => {
    expect(() => parseConfig({ ...db, PORT: 'eighty', LOG_LEVEL: 'loud', AUTH_MODE: 'local' })).toThrow(
      /Invalid configuration:\n {2}PORT: .*\n {2}LOG_LEVEL: /,
    );
  });

  it('requires issuer, audience and JWKS for the API in jwt mode, but not for the worker', () => {
    expect(() => parseConfig({ ...db }, 'api')).toThrow(/AUTH_ISSUER, AUTH_AUDIENCE and AUTH_JWKS_URL/);
    expect(parseConfig({ ...db }, 'worker').AUTH_MODE).toBe('jwt');
    const api = parseConfig({
      ...db,
      AUTH_ISSUER: 'https://login.microsoftonline.com/t/v2.0',
      AUTH_AUDIENCE: 'api://stagecoach',
      AUTH_JWKS_URL: 'https://login.microsoftonline.com/t/discovery/v2.0/keys',
      AUTH_ADMINS: 'a, b,,c',
    });
    expect(api.AUTH_ADMINS).toEqual(['a', 'b', 'c']);
  });

  it('treats empty values as unset, as docker compose passes them', () => {
    expect(parseConfig({ ...db, AUTH_MODE: 'local', PORT: '', TASK_QUEUE: '' }).PORT).toBe(3000);
  });

  it('connects to Temporal in plaintext unless TLS is asked for or implied', () => {
    const worker = (env: Record<string, string | undefined>) => parseConfig({ ...db, ...env }, 'worker');
    expect(worker({}).TEMPORAL_TLS).toBe(false);
    expect(worker({ TEMPORAL_TLS: 'true' }).TEMPORAL_TLS).toBe(true);
    for (const implied of [
      { TEMPORAL_TLS_CA_FILE: '/etc/temporal/ca.pem' },
      {
        TEMPORAL_TLS_CERT_FILE: '/etc/temporal/client.pem',
        TEMPORAL_TLS_KEY_FILE: '/etc/temporal/client.key',
      },
      { TEMPORAL_TLS_SERVER_NAME: 'temporal.internal' },
      { TEMPORAL_API_KEY: 'key' },
      { TEMPORAL_API_KEY_FILE: '/run/secrets/temporal-api-key' },
    ]) {
      expect({ implied, tls: worker(implied).TEMPORAL_TLS }).toEqual({ implied, tls: true });
    }
  });

  it('refuses contradictory Temporal connection settings, naming them', () => {
    expect(() => parseConfig({ ...db, TEMPORAL_TLS_CERT_FILE: 'c.pem' }, 'worker')).toThrow(
      /TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE go together/,
    );
    expect(() => parseConfig({ ...db, TEMPORAL_TLS_KEY_FILE: 'c.key' }, 'worker')).toThrow(
      /TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE go together/,
    );
    expect(() =>
      parseConfig({ ...db, TEMPORAL_API_KEY: 'k', TEMPORAL_API_KEY_FILE: 'k.txt' }, 'worker'),
    ).toThrow(/TEMPORAL_API_KEY or TEMPORAL_API_KEY_FILE, not both/);
    expect(() => parseConfig({ ...db, TEMPORAL_TLS: 'false', TEMPORAL_API_KEY: 'k' }, 'worker')).toThrow(
      /TEMPORAL_TLS=false conflicts with TEMPORAL_API_KEY/,
    );
    expect(() => parseConfig({ ...db, TEMPORAL_TLS: 'maybe' }, 'worker')).toThrow(/TEMPORAL_TLS: /);
  });

  it('never puts the API key into an error message', () => {
    let message = '';
    try {
      parseConfig(
        { ...db, TEMPORAL_API_KEY: 'secret-api-key', TEMPORAL_API_KEY_FILE: 'k', PORT: 'x' },
        'worker',
      );
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/Invalid configuration/);
    expect(message).not.toContain('secret-api-key');
  });

  it('listens on 127.0.0.1 by default with AUTH_MODE=local (as npm start runs), on 0.0.0.0 with jwt', () => {
    expect(parseConfig({ ...db, AUTH_MODE: 'local' }, 'all').HOST).toBe('127.0.0.1');
    expect(parseConfig({ ...db, AUTH_MODE: 'local' }, 'api').HOST).toBe('127.0.0.1');
    const jwt = {
      AUTH_ISSUER: 'https://login.example.com/',
      AUTH_AUDIENCE: 'api://stagecoach',
      AUTH_JWKS_URL: 'https://login.example.com/keys',
    };
    expect(parseConfig({ ...db, ...jwt }).HOST).toBe('0.0.0.0');
    expect(parseConfig({ ...db, ...jwt, HOST: '10.1.2.3' }).HOST).toBe('10.1.2.3');
  });

  it('refuses AUTH_MODE=local on a non-loopback HOST, naming HOST and AUTH_MODE', () => {
    for (const HOST of ['0.0.0.0', '::', '192.168.1.20', '10.0.0.5', 'stagecoach.example.com', 'fe80::1']) {
      for (const role of ['api', 'all'] as const) {
        expect(() => parseConfig({ ...db, AUTH_MODE: 'local', HOST }, role)).toThrow(
          new RegExp(`HOST=${HOST.replace(/[.]/g, '\\.')} is not a loopback address.*AUTH_MODE=local`),
        );
      }
    }
    // The worker listens on nothing, so HOST does not concern it.
    expect(parseConfig({ ...db, AUTH_MODE: 'local', HOST: '0.0.0.0' }, 'worker').HOST).toBe('0.0.0.0');
    for (const HOST of ['127.0.0.1', '127.0.1.1', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) {
      expect(parseConfig({ ...db, AUTH_MODE: 'local', HOST }, 'all').HOST).toBe(HOST);
    }
  });

  it('starts AUTH_MODE=local on a non-loopback HOST only with AUTH_LOCAL_ALLOW_REMOTE=true', () => {
    const config = parseConfig({
      ...db,
      AUTH_MODE: 'local',
      HOST: '0.0.0.0',
      AUTH_LOCAL_ALLOW_REMOTE: 'true',
    });
    expect(config).toMatchObject({ HOST: '0.0.0.0', AUTH_LOCAL_ALLOW_REMOTE: true });
    expect(() =>
      parseConfig({ ...db, AUTH_MODE: 'local', HOST: '0.0.0.0', AUTH_LOCAL_ALLOW_REMOTE: 'false' }),
    ).toThrow(/AUTH_LOCAL_ALLOW_REMOTE=true/);
    expect(() => parseConfig({ ...db, AUTH_MODE: 'local', AUTH_LOCAL_ALLOW_REMOTE: 'maybe' })).toThrow(
      /AUTH_LOCAL_ALLOW_REMOTE/,
    );
  });

  it('tells loopback addresses from the others', () => {
    const loopback = ['127.0.0.1', '127.255.0.9', '::1', '0:0:0:0:0:0:0:1', '[::1]', 'LOCALHOST'];
    const remote = ['0.0.0.0', '::', '::2', '128.0.0.1', '192.168.0.1', '::ffff:10.0.0.1', 'host.local'];
    expect(loopback.filter((h) => !isLoopbackHost(h))).toEqual([]);
    expect(remote.filter((h) => isLoopbackHost(h))).toEqual([]);
  });

  it('stops the API entry point with that message before it connects anywhere', () => {
    const root = path.resolve(__dirname, '..');
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: root,
      env: { PATH: process.env.PATH, AUTH_MODE: 'local', HOST: '0.0.0.0', LOG_LEVEL: 'silent' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/HOST=0\.0\.0\.0 is not a loopback address.*AUTH_MODE=local/);
  });

  it('warns on every start that AUTH_LOCAL_ALLOW_REMOTE=true serves the local issuer beyond loopback', async () => {
    const keyFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'stagecoach-config-')), 'key.json');
    const remote = parseConfig({
      ...db,
      AUTH_MODE: 'local',
      HOST: '0.0.0.0',
      AUTH_LOCAL_ALLOW_REMOTE: 'true',
      AUTH_LOCAL_KEY_FILE: keyFile,
    });
    for (let start = 0; start < 2; start++) {
      const { logger, lines } = capturingLogger();
      const { localIssuer } = await createAuth(remote, logger);
      expect(localIssuer).toBeDefined();
      const warnings = lines.filter((l) => l.level >= 40);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]!.msg).toMatch(/AUTH_MODE=local on HOST=0\.0\.0\.0.*administrator token/);
    }
    const { logger, lines } = capturingLogger();
    await createAuth(parseConfig({ ...db, AUTH_MODE: 'local', AUTH_LOCAL_KEY_FILE: keyFile }), logger);
    expect(lines.filter((l) => l.level >= 40)).toEqual([]);
    // A configuration that did not come through parseConfig meets the same rule.
    await expect(createAuth({ ...remote, AUTH_LOCAL_ALLOW_REMOTE: false }, logger)).rejects.toThrow(
      /HOST=0\.0\.0\.0 is not a loopback address/,
    );
  });
});
