import { Attribute, Change, Client } from 'ldapts';

/** Members a harness writes online, so the server's memberOf overlay or plugin sees them. */
export interface OnlineMembership {
  dn: string;
  attribute: 'member' | 'uniqueMember';
  values: string[];
}

/**
 * Binds as the administrator, writes the memberships online (`replace` also drops a placeholder value
 * the group was loaded with), then reads every user and group's id attribute: DN (lowercased) → id.
 */
export async function writeMembershipsAndReadIds(options: {
  url: string;
  adminDN: string;
  adminPassword: string;
  baseDN: string;
  memberships: readonly OnlineMembership[];
  operation: 'add' | 'replace';
  idAttribute: string;
}): Promise<Map<string, string>> {
  const admin = new Client({ url: options.url, timeout: 120_000 });
  const idByDn = new Map<string, string>();
  try {
    await admin.bind(options.adminDN, options.adminPassword);
    for (const m of options.memberships) {
      await admin.modify(
        m.dn,
        new Change({
          operation: options.operation,
          modification: new Attribute({ type: m.attribute, values: m.values }),
        }),
      );
    }
    const { searchEntries } = await admin.search(options.baseDN, {
      scope: 'sub',
      filter: '(|(objectClass=inetOrgPerson)(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))',
      attributes: [options.idAttribute],
      paged: { pageSize: 1000 },
    });
    for (const e of searchEntries) {
      idByDn.set(e.dn.toLowerCase(), String(e[options.idAttribute]).toLowerCase());
    }
  } finally {
    await admin.unbind().catch(() => undefined);
  }
  return idByDn;
}
