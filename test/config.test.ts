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
});
