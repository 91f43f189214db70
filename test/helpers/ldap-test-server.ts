/** A real LDAP server (OpenLDAP slapd or Samba AD DC) started by a test helper on loopback, loaded with a tenant. */
export interface LdapTestServer {
  flavour: 'openldap' | 'ad';
  /** ldap://127.0.0.1:PORT */
  url: string;
  /** ldaps://127.0.0.1:PORT, when the server was started with TLS */
  ldapsUrl?: string;
  /** PEM file of the CA that signed the server's certificate (LDAPS and StartTLS) */
  caFile?: string;
  baseDN: string;
  usersDN: string;
  groupsDN: string;
  /** The service account Stagecoach binds as: only the rights the README documents. */
  bindDN: string;
  bindPassword: string;
  /** The directory's administrator (rootdn / Administrator): for test setup only. */
  adminDN: string;
  adminPassword: string;
  /** Id the server gave the tenant object with this key (entryUUID / objectGUID string, lowercase). */
  idOf(key: string): string;
  /** DN of the tenant object with this key. */
  dnOf(key: string): string;
  /** Binds as the user (password CONTRACT_USER_PASSWORD), so the server records a sign-in. */
  signIn(key: string): Promise<void>;
  /** `ldapsearch -LLL` as the administrator; entries as attribute → values (attribute names lowercased, plus `dn`). */
  cliSearch(
    base: string,
    filter: string,
    attributes: string[],
    scope?: 'base' | 'one' | 'sub',
  ): Promise<Record<string, string[]>[]>;
  stop(): Promise<void>;
}
