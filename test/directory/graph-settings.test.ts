import { parseConfig } from '../../src/config';
import { graphEnvSchema, resolveGraphSettings } from '../../src/directory/graph/settings';

const noFiles = { read: () => Promise.reject(new Error('no files here')) };

describe('DIRECTORY=graph settings', () => {
  const env = (extra: Record<string, string>) =>
    graphEnvSchema.parse({
      GRAPH_TENANT_ID: '11111111-1111-4111-8111-111111111111',
      GRAPH_CLIENT_ID: '22222222-2222-4222-8222-222222222222',
      ...extra,
    });

  it('defaults to the public cloud and takes national clouds', async () => {
    const s = await resolveGraphSettings(env({ GRAPH_CLIENT_SECRET: 's' }), noFiles);
    expect(s).toMatchObject({
      authorityHost: 'https://login.microsoftonline.com',
      baseUrl: 'https://graph.microsoft.com',
      signInActivity: true,
      pageSize: 999,
    });
    const us = await resolveGraphSettings(
      env({
        GRAPH_CLIENT_SECRET: 's',
        GRAPH_AUTHORITY_HOST: 'https://login.microsoftonline.us/',
        GRAPH_BASE_URL: 'https://graph.microsoft.us',
      }),
      noFiles,
    );
    expect(us).toMatchObject({
      authorityHost: 'https://login.microsoftonline.us',
      baseUrl: 'https://graph.microsoft.us',
    });
  });

  it('wants exactly one credential and names the bad setting', async () => {
    await expect(resolveGraphSettings(env({}), noFiles)).rejects.toThrow(
      /GRAPH_CLIENT_SECRET or GRAPH_CLIENT_SECRET_FILE or GRAPH_CLIENT_CERTIFICATE_FILE/,
    );
    await expect(
      resolveGraphSettings(
        env({ GRAPH_CLIENT_SECRET: 's', GRAPH_CLIENT_CERTIFICATE_FILE: '/x.pem' }),
        noFiles,
      ),
    ).rejects.toThrow(/GRAPH_CLIENT_SECRET and GRAPH_CLIENT_CERTIFICATE_FILE/);
    await expect(
      resolveGraphSettings(env({ GRAPH_CLIENT_SECRET_FILE: '/missing' }), noFiles),
    ).rejects.toThrow(/^GRAPH_CLIENT_SECRET_FILE=\/missing: cannot read/);
    expect(() => graphEnvSchema.parse({ GRAPH_PAGE_SIZE: '1000' })).toThrow();
    expect(() => graphEnvSchema.parse({ GRAPH_AUTHORITY_HOST: 'http://login.microsoftonline.com' })).toThrow(
      /https/,
    );
    expect(() =>
      parseConfig({ DIRECTORY: 'graph', AUTH_MODE: 'local', GRAPH_CLIENT_ID: 'nope' }, 'all'),
    ).toThrow(/GRAPH_CLIENT_ID/);
  });

  it('reads the secret, certificate and CA files, and refuses files that are not what they should be', async () => {
    const files: Record<string, string> = {
      '/secret': 's3cret\n',
      '/cert-only.pem': '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
      '/both.pem':
        '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
      '/not-a-ca': 'hello',
    };
    const read = {
      read: (p: string) => (p in files ? Promise.resolve(files[p]!) : Promise.reject(new Error('ENOENT'))),
    };
    const s = await resolveGraphSettings(
      env({ GRAPH_CLIENT_SECRET_FILE: '/secret', GRAPH_CA_FILE: '/cert-only.pem' }),
      read,
    );
    expect(s.credential).toEqual({ kind: 'secret', secret: 's3cret', setting: 'GRAPH_CLIENT_SECRET_FILE' });
    expect(s.ca).toContain('BEGIN CERTIFICATE');
    const cert = await resolveGraphSettings(env({ GRAPH_CLIENT_CERTIFICATE_FILE: '/both.pem' }), read);
    expect(cert.credential).toMatchObject({ kind: 'certificate', setting: 'GRAPH_CLIENT_CERTIFICATE_FILE' });
    await expect(
      resolveGraphSettings(env({ GRAPH_CLIENT_CERTIFICATE_FILE: '/cert-only.pem' }), read),
    ).rejects.toThrow(
      /^GRAPH_CLIENT_CERTIFICATE_FILE=\/cert-only\.pem: must be a PEM file holding the private key and the certificate/,
    );
    await expect(
      resolveGraphSettings(env({ GRAPH_CLIENT_SECRET: 's', GRAPH_CA_FILE: '/not-a-ca' }), read),
    ).rejects.toThrow(/^GRAPH_CA_FILE=\/not-a-ca: not a PEM certificate/);
  });
});
