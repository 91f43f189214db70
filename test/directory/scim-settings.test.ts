import { retryAfterSeconds } from '../../src/directory/scim/client';
import { isoSeconds, toDirectoryUser } from '../../src/directory/scim/resources';
import { resolveScimSettings, scimEnvSchema } from '../../src/directory/scim/settings';

const base = { SCIM_BASE_URL: 'https://idp.example.com/scim/v2/', SCIM_TOKEN: 'secret-token' };
const files = (content: Record<string, string>) => ({
  read: async (p: string) => {
    if (!(p in content)) throw Object.assign(new Error('nope'), { code: 'ENOENT' });
    return content[p]!;
  },
});
const resolve = (env: Record<string, string>, f = files({})) =>
  resolveScimSettings(scimEnvSchema.parse(env), f);

describe('SCIM settings', () => {
  it('fills in the defaults and trims the base URL', async () => {
    expect(await resolve(base)).toMatchObject({
      baseUrl: 'https://idp.example.com/scim/v2',
      auth: { kind: 'bearer', token: 'secret-token' },
      guestUserType: 'Guest',
      ownersGroupSuffix: ' Owners',
      applications: [],
      pageSize: 1000,
      retries: 3,
    });
    expect((await resolve(base)).lastSignInAttribute).toBeUndefined();
  });

  it('reads the token, the OAuth secret and the applications from files', async () => {
    const f = files({
      '/run/token': 'from-file\n',
      '/run/secret': 'oauth-secret\n',
      '/etc/apps.json': '[{"id":"crm","displayName":"CRM","groups":["CRM users"]}]',
    });
    expect(
      (await resolve({ SCIM_BASE_URL: base.SCIM_BASE_URL, SCIM_TOKEN_FILE: '/run/token' }, f)).auth,
    ).toEqual({
      kind: 'bearer',
      token: 'from-file',
    });
    const oauth = await resolve(
      {
        SCIM_BASE_URL: base.SCIM_BASE_URL,
        SCIM_OAUTH_TOKEN_URL: 'https://idp.example.com/oauth2/token',
        SCIM_OAUTH_CLIENT_ID: 'stagecoach',
        SCIM_OAUTH_CLIENT_SECRET_FILE: '/run/secret',
        SCIM_OAUTH_SCOPE: 'scim',
        SCIM_APPLICATIONS_FILE: '/etc/apps.json',
      },
      f,
    );
    expect(oauth.auth).toEqual({
      kind: 'oauth',
      tokenUrl: 'https://idp.example.com/oauth2/token',
      clientId: 'stagecoach',
      clientSecret: 'oauth-secret',
      scope: 'scim',
    });
    expect(oauth.applications).toEqual([{ id: 'crm', displayName: 'CRM', groups: ['CRM users'] }]);
  });

  it('names what is missing or contradictory', async () => {
    await expect(resolve({ SCIM_TOKEN: 'x' })).rejects.toThrow('DIRECTORY=scim needs SCIM_BASE_URL');
    await expect(resolve({ SCIM_BASE_URL: base.SCIM_BASE_URL })).rejects.toThrow(
      'DIRECTORY=scim needs SCIM_TOKEN, SCIM_TOKEN_FILE or SCIM_OAUTH_TOKEN_URL',
    );
    await expect(resolve({ ...base, SCIM_TOKEN_FILE: '/x' })).rejects.toThrow(
      'set SCIM_TOKEN or SCIM_TOKEN_FILE, not both',
    );
    await expect(resolve({ ...base, SCIM_OAUTH_TOKEN_URL: 'https://idp/token' })).rejects.toThrow('not both');
    await expect(
      resolve({ SCIM_BASE_URL: base.SCIM_BASE_URL, SCIM_OAUTH_TOKEN_URL: 'https://idp/token' }),
    ).rejects.toThrow(
      'SCIM_OAUTH_TOKEN_URL needs SCIM_OAUTH_CLIENT_ID, SCIM_OAUTH_CLIENT_SECRET or SCIM_OAUTH_CLIENT_SECRET_FILE',
    );
    await expect(resolve({ ...base, SCIM_TOKEN: undefined!, SCIM_TOKEN_FILE: '/missing' })).rejects.toThrow(
      'SCIM_TOKEN_FILE=/missing: cannot read the file (ENOENT)',
    );
    await expect(
      resolve({ ...base, SCIM_APPLICATIONS: '[{"id":"a","displayName":"A","groups":[]}]' }),
    ).rejects.toThrow(/^SCIM_APPLICATIONS: 0.groups/);
    await expect(
      resolve({
        ...base,
        SCIM_APPLICATIONS:
          '[{"id":"a","displayName":"A","groups":["x"]},{"id":"a","displayName":"B","groups":["y"]}]',
      }),
    ).rejects.toThrow('the application id "a" is used twice');
    expect(() => scimEnvSchema.parse({ SCIM_BASE_URL: 'idp.example.com' })).toThrow('must be an http(s) URL');
    expect(() => scimEnvSchema.parse({ SCIM_LAST_SIGN_IN_ATTRIBUTE: 'lastLogin' })).toThrow(
      'must be the schema URN and the attribute',
    );
  });

  it('splits extension attributes into schema and attribute', async () => {
    const s = await resolve({
      ...base,
      SCIM_LAST_SIGN_IN_ATTRIBUTE: 'urn:ietf:params:scim:schemas:extension:acme:2.0:User:lastLogin',
    });
    expect(s.lastSignInAttribute).toEqual({
      schema: 'urn:ietf:params:scim:schemas:extension:acme:2.0:User',
      attribute: 'lastLogin',
    });
  });
});

describe('SCIM values', () => {
  it.each([
    ['7', 7],
    [' 120 ', 120],
    ['Wed, 02 Dec 2026 12:00:30 GMT', 30],
    ['Wed, 02 Dec 2026 11:00:00 GMT', 0],
    ['soon', undefined],
    [undefined, undefined],
  ])('Retry-After %p is %p seconds', (header, seconds) => {
    expect(retryAfterSeconds(header, Date.parse('2026-12-02T12:00:00Z'))).toBe(seconds);
  });

  it('maps a User to the Graph shape: guest by userType, disabled by active, manager, primary mail, sign-in', async () => {
    const settings = await resolve({
      ...base,
      SCIM_GUEST_USER_TYPE: 'external',
      SCIM_LAST_SIGN_IN_ATTRIBUTE: 'urn:x:ext:User:lastLogin',
    });
    const user = toDirectoryUser(
      {
        id: 'u1',
        userName: 'ann@example.com',
        name: { formatted: 'Ann Example' },
        emails: [{ value: 'ann@home.test' }, { value: 'ann@example.com', primary: true }],
        userType: 'External',
        active: false,
        meta: { created: '2025-01-02T03:04:05.678+01:00' },
        'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { manager: { value: 'm1' } },
        'urn:x:ext:User': { lastLogin: '2026-11-28T09:30:00.250Z' },
      },
      settings,
    );
    expect(user).toEqual({
      id: 'u1',
      displayName: 'Ann Example',
      userPrincipalName: 'ann@example.com',
      mail: 'ann@example.com',
      userType: 'Guest',
      accountEnabled: false,
      managerId: 'm1',
      createdDateTime: '2025-01-02T02:04:05Z',
      lastSignInDateTime: '2026-11-28T09:30:00Z',
    });
    expect(toDirectoryUser({ id: 'u2', userName: 'bo' }, settings)).toMatchObject({
      displayName: 'bo',
      mail: null,
      userType: 'Member',
      accountEnabled: true,
      managerId: null,
      lastSignInDateTime: null,
    });
    expect(isoSeconds('not a date')).toBeNull();
  });
});
