import type { EqualityFilter } from 'ldapts';
import { AndFilter } from 'ldapts';
import { withBinaryValues } from '../../src/directory/ldap/connection';
import { ldapEnvSchema, resolveLdapSettings } from '../../src/directory/ldap/settings';
import {
  guidToBytes,
  guidToString,
  isoToFiletime,
  isoToGeneralized,
  ldapTimeToIso,
} from '../../src/directory/ldap/values';

const base = {
  LDAP_URL: 'ldap://ldap.example.com',
  LDAP_BASE_DN: 'dc=example,dc=com',
  LDAP_BIND_DN: 'cn=stagecoach,dc=example,dc=com',
  LDAP_BIND_PASSWORD: 'secret',
};
const files = (content: Record<string, string>) => ({
  read: async (p: string) => {
    if (!(p in content)) throw Object.assign(new Error('nope'), { code: 'ENOENT' });
    return content[p]!;
  },
});
const resolve = (env: Record<string, string>, f = files({})) =>
  resolveLdapSettings(ldapEnvSchema.parse(env), f);

describe('LDAP settings', () => {
  it('fills in the flavour defaults', async () => {
    const ad = await resolve({ ...base, LDAP_FLAVOUR: 'ad' });
    expect(ad).toMatchObject({
      membership: 'inChain',
      lockMethod: 'userAccountControl',
      userBaseDn: 'dc=example,dc=com',
      attributes: { id: 'objectGUID', groupOwner: 'managedBy', lastSignInDateTime: 'lastLogonTimestamp' },
    });
    const openldap = await resolve({
      ...base,
      LDAP_ATTRIBUTES: '{"id":"nsUniqueId"}',
      LDAP_LOCK_METHOD: 'nsAccountLock',
    });
    expect(openldap).toMatchObject({
      membership: 'memberOf',
      lockMethod: 'nsAccountLock',
      attributes: { id: 'nsUniqueId', groupOwner: 'owner' },
    });
  });

  it('names what is missing or contradictory', async () => {
    await expect(resolve({ LDAP_URL: base.LDAP_URL })).rejects.toThrow(
      'DIRECTORY=ldap needs LDAP_BASE_DN, LDAP_BIND_DN, LDAP_BIND_PASSWORD or LDAP_BIND_PASSWORD_FILE',
    );
    await expect(resolve({ ...base, LDAP_BIND_PASSWORD_FILE: '/x' })).rejects.toThrow('not both');
    await expect(resolve({ ...base, LDAP_URL: 'ldaps://x', LDAP_STARTTLS: 'true' })).rejects.toThrow(
      'LDAP_STARTTLS=true is for ldap://',
    );
    await expect(resolve({ ...base, LDAP_ATTRIBUTES: '{"idd":"x"}' })).rejects.toThrow(/^LDAP_ATTRIBUTES: /);
    await expect(
      resolve({ ...base, LDAP_APPLICATIONS: '[{"id":"a","displayName":"A","groups":[]}]' }),
    ).rejects.toThrow(/^LDAP_APPLICATIONS: 0.groups/);
    await expect(resolve({ ...base, LDAP_APPLICATIONS: 'nope' })).rejects.toThrow(
      /^LDAP_APPLICATIONS: not valid JSON/,
    );
    await expect(
      resolve({
        ...base,
        LDAP_APPLICATIONS:
          '[{"id":"a","displayName":"A","groups":["cn=g"]},{"id":"a","displayName":"B","groups":["cn=h"]}]',
      }),
    ).rejects.toThrow('the application id "a" is used twice');
    await expect(resolve({ ...base, LDAP_TLS_CA_FILE: '/missing.pem' })).rejects.toThrow(
      'LDAP_TLS_CA_FILE=/missing.pem: cannot read the file (ENOENT)',
    );
    expect(() => ldapEnvSchema.parse({ LDAP_URL: 'http://x' })).toThrow();
    expect(() => ldapEnvSchema.parse({ LDAP_USER_FILTER: 'objectClass=person' })).toThrow();
  });

  it('reads the password and applications from files, without the trailing newline', async () => {
    const { LDAP_BIND_PASSWORD: _p, ...rest } = base;
    const s = await resolve(
      { ...rest, LDAP_BIND_PASSWORD_FILE: '/run/secrets/pw', LDAP_APPLICATIONS_FILE: '/etc/apps.json' },
      files({
        '/run/secrets/pw': 's3cret\n',
        '/etc/apps.json': '[{"id":"crm","displayName":"CRM","groups":["cn=crm,dc=x"]}]',
      }),
    );
    expect(s.bindPassword).toBe('s3cret');
    expect(s.applications).toEqual([{ id: 'crm', displayName: 'CRM', groups: ['cn=crm,dc=x'] }]);
  });
});

describe('LDAP values', () => {
  it('converts objectGUID bytes to the Microsoft GUID string and back', () => {
    // The example of MS-DTYP 2.3.4.2: {00112233-4455-6677-8899-AABBCCDDEEFF}.
    const bytes = Buffer.from('33221100554477668899aabbccddeeff', 'hex');
    expect(guidToString(bytes)).toBe('00112233-4455-6677-8899-aabbccddeeff');
    expect(guidToBytes('00112233-4455-6677-8899-AABBCCDDEEFF')).toEqual(bytes);
    expect(guidToBytes('not-a-guid')).toBeUndefined();
  });

  it('reads generalized time and Windows FILETIME', () => {
    expect(ldapTimeToIso('20261128093000Z')).toBe('2026-11-28T09:30:00Z');
    expect(ldapTimeToIso('20261128093000.0Z')).toBe('2026-11-28T09:30:00Z');
    expect(ldapTimeToIso('20261128103000+0100')).toBe('2026-11-28T09:30:00Z');
    expect(ldapTimeToIso(isoToFiletime('2026-11-28T09:30:00Z'))).toBe('2026-11-28T09:30:00Z');
    expect(ldapTimeToIso('0')).toBeNull();
    expect(ldapTimeToIso('9223372036854775807')).toBeNull();
    expect(ldapTimeToIso(undefined)).toBeNull();
    expect(ldapTimeToIso('garbage')).toBeNull();
    expect(isoToGeneralized('2026-11-28T09:30:00.000Z')).toBe('20261128093000Z');
  });
});

describe('binary filter values', () => {
  it('sends escaped objectGUID bytes as bytes, not as UTF-8 of their characters', () => {
    const filter = withBinaryValues(
      '(&(objectClass=user)(objectGUID=\\33\\ff\\80\\00))',
      new Set(['objectguid']),
    );
    expect(filter).toBeInstanceOf(AndFilter);
    const [cls, guid] = (filter as AndFilter).filters as EqualityFilter[];
    expect(cls?.value).toBe('user');
    expect(guid?.value).toEqual(Buffer.from([0x33, 0xff, 0x80, 0x00]));
    expect(withBinaryValues('(cn=x)', new Set())).toBe('(cn=x)');
  });
});
