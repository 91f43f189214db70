import type { DirectoryUser } from '../port';
import type { LdapReads } from './reads';
import { mapLimit } from '../batching';
import { ReadCache } from '../read-cache';
import type { LdapSettings } from './settings';
import { dnKey, escapeFilterValue } from './values';

/** AD's LDAP_MATCHING_RULE_IN_CHAIN: the server follows nested memberships. */
const IN_CHAIN = '1.2.840.113556.1.4.1941';

const dedupe = (users: DirectoryUser[]) => [...new Map(users.map((u) => [u.id, u])).values()];

/**
 * Who is in a group, by the configured strategy (LDAP_MEMBERSHIP): direct members, owners and transitive
 * members, each list reused for LDAP_CACHE_SECONDS within this process until a write clears it.
 */
export class LdapMemberships {
  private readonly cache: ReadCache;

  constructor(
    private readonly reads: LdapReads,
    private readonly settings: LdapSettings,
  ) {
    this.cache = new ReadCache(settings.cacheMs);
  }

  /** Forgets every cached list: called around each write. */
  clear(): void {
    this.cache.clear();
  }

  /** Ids of the entries whose back-link names the group: its direct members, users and groups. */
  async directMemberIds(groupDn: string): Promise<string[]> {
    return this.cached('direct', groupDn, () => this.readDirectMemberIds(groupDn));
  }

  private async readDirectMemberIds(groupDn: string): Promise<string[]> {
    const { settings, reads } = this;
    if (settings.membership === 'member') {
      const dns = await this.memberDns(groupDn);
      return [...(await reads.idsOfDns(dns)).values()];
    }
    const byLink = reads.find(
      settings.baseDn,
      `(${settings.attributes.memberOf}=${escapeFilterValue(groupDn)})`,
      [settings.attributes.id],
    );
    // 389 DS's MemberOf plugin also names the groups a member belongs to through nested groups (unless
    // memberOfSkipNested is on): there a back-link proves a direct membership only when the group's own
    // values name the entry. (OpenLDAP's memberof overlay and AD link direct memberships only.)
    const [views, direct] = await Promise.all([
      byLink,
      settings.flavour === 'ad' ? undefined : this.memberDns(groupDn).then((dns) => new Set(dns.map(dnKey))),
    ]);
    return views
      .filter((v) => direct === undefined || direct.has(dnKey(v.dn)))
      .map((v) => reads.mapping.idOf(v))
      .filter((id) => id !== undefined);
  }

  /** DNs a group names as its direct members (`member`, and `uniqueMember` outside AD). */
  async memberDns(groupDn: string): Promise<string[]> {
    const attributes = this.settings.flavour === 'ad' ? ['member'] : ['member', 'uniqueMember'];
    const ranged = this.settings.flavour === 'ad';
    const values = (await Promise.all(attributes.map((a) => this.reads.values(groupDn, a, ranged)))).flat();
    // uniqueMember may carry an optional `#'…'B` uid suffix; the empty DN is groupOfNames' placeholder.
    return values.map((v) => v.replace(/#'[01]*'B$/, '')).filter((v) => v !== '');
  }

  /** DNs of a group's owners (`owner`, AD's `managedBy`). */
  async ownerDns(groupDn: string): Promise<string[]> {
    return this.reads.values(groupDn, this.settings.attributes.groupOwner);
  }

  /** What `read` gives for `key`, reused for `cacheMs` (writes by this process clear it). */
  private cached<T>(kind: string, key: string, read: () => Promise<T>): Promise<T> {
    return this.cache.get(`${kind}\n${key.toLowerCase()}`, read);
  }

  /** Transitive user members of the group at `dn`. */
  transitiveMembers(dn: string): Promise<DirectoryUser[]> {
    return this.cached('transitive', dn, () => this.readTransitiveMembers(dn));
  }

  private async readTransitiveMembers(groupDn: string): Promise<DirectoryUser[]> {
    const { settings, reads } = this;
    const memberOf = settings.attributes.memberOf;
    if (settings.membership === 'inChain') {
      return reads.users(`(${memberOf}:${IN_CHAIN}:=${escapeFilterValue(groupDn)})`);
    }
    const seen = new Set([groupDn.toLowerCase()]);
    const users: DirectoryUser[] = [];
    let level = [groupDn];
    while (level.length > 0) {
      const found = await mapLimit(level, settings.poolSize, async (dn) => {
        if (settings.membership === 'member') return reads.usersByDn(await this.memberDns(dn));
        const byLink = `(${memberOf}=${escapeFilterValue(dn)})`;
        const [direct, groups] = await Promise.all([
          reads.users(byLink),
          reads.find(settings.groupBaseDn, `(&${settings.groupFilter}${byLink})`, ['objectClass']),
        ]);
        return { users: direct, others: groups.map((g) => g.dn) };
      });
      level = [];
      for (const f of found) {
        users.push(...f.users);
        for (const dn of f.others) {
          if (seen.has(dn.toLowerCase())) continue; // nesting cycles end here
          seen.add(dn.toLowerCase());
          level.push(dn);
        }
      }
    }
    return dedupe(users);
  }
}
