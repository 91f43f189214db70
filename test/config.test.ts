import { parseConfig } from '../src/config';

describe('configuration', () => {
  it('starts from embedded defaults when nothing is set', () => {
    const config = parseConfig({ AUTH_MODE: 'local' });
    expect(config).toMatchObject({
      TEMPORAL_ADDRESS: 'localhost:7233',
      TEMPORAL_NAMESPACE: 'default',
      TASK_QUEUE: 'stagecoach',
      PORT: 3000,
      DIRECTORY_FILE: '.stagecoach/directory.json',
      AUTH_USER_CLAIM: 'oid',
    });
  });

  it('names every bad setting in one message', () => {
    expect(() => parseConfig({ PORT: 'eighty', LOG_LEVEL: 'loud', AUTH_MODE: 'local' })).toThrow(
      /Invalid configuration:\n {2}PORT: .*\n {2}LOG_LEVEL: /,
    );
  });

  it('requires issuer, audience and JWKS for the API in jwt mode, but not for the worker', () => {
    expect(() => parseConfig({}, 'api')).toThrow(/AUTH_ISSUER, AUTH_AUDIENCE and AUTH_JWKS_URL/);
    expect(parseConfig({}, 'worker').AUTH_MODE).toBe('jwt');
    const api = parseConfig({
      AUTH_ISSUER: 'https://login.microsoftonline.com/t/v2.0',
      AUTH_AUDIENCE: 'api://stagecoach',
      AUTH_JWKS_URL: 'https://login.microsoftonline.com/t/discovery/v2.0/keys',
      AUTH_ADMINS: 'a, b,,c',
    });
    expect(api.AUTH_ADMINS).toEqual(['a', 'b', 'c']);
  });

  it('treats empty values as unset, as docker compose passes them', () => {
    expect(parseConfig({ AUTH_MODE: 'local', PORT: '', TASK_QUEUE: '' }).PORT).toBe(3000);
  });

  it('connects to Temporal in plaintext unless TLS is asked for or implied', () => {
    const worker = (env: Record<string, string | undefined>) => parseConfig(env, 'worker');
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
    expect(() => parseConfig({ TEMPORAL_TLS_CERT_FILE: 'c.pem' }, 'worker')).toThrow(
      /TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE go together/,
    );
    expect(() => parseConfig({ TEMPORAL_TLS_KEY_FILE: 'c.key' }, 'worker')).toThrow(
      /TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE go together/,
    );
    expect(() => parseConfig({ TEMPORAL_API_KEY: 'k', TEMPORAL_API_KEY_FILE: 'k.txt' }, 'worker')).toThrow(
      /TEMPORAL_API_KEY or TEMPORAL_API_KEY_FILE, not both/,
    );
    expect(() => parseConfig({ TEMPORAL_TLS: 'false', TEMPORAL_API_KEY: 'k' }, 'worker')).toThrow(
      /TEMPORAL_TLS=false conflicts with TEMPORAL_API_KEY/,
    );
    expect(() => parseConfig({ TEMPORAL_TLS: 'maybe' }, 'worker')).toThrow(/TEMPORAL_TLS: /);
  });

  it('never puts the API key into an error message', () => {
    let message = '';
    try {
      parseConfig({ TEMPORAL_API_KEY: 'secret-api-key', TEMPORAL_API_KEY_FILE: 'k', PORT: 'x' }, 'worker');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/Invalid configuration/);
    expect(message).not.toContain('secret-api-key');
  });
});
