import { chunks, mapLimit } from '../batching';
import type { DirectoryUser } from '../port';
import type { LdapConnectionPool } from './connection';
import { LDAP, resultCode } from './connection';
import { EntryMapping, EntryView } from './entries';
import type { LdapSettings } from './settings';

/** Values of a multi-valued attribute Active Directory returns per read (MaxValRange). */
const RANGE = 1500;

/** Object classes that make an entry a group (the `member` strategy tells groups from users by them). */
const GROUP_CLASSES = new Set(['group', 'groupofnames', 'groupofuniquenames']);

/** The searches the LDAP adapter is built from: users with their guest flag and manager, DNs, ids. */
export class LdapReads {
  readonly mapping: EntryMapping;
  /** DN (lowercased) → object id: every entry read fills it, so managers and owners resolve without a read. */
  private readonly idsByDn = new Map<string, string>();

  constructor(
    private readonly pool: LdapConnectionPool,
    private readonly settings: LdapSettings,
  ) {
    this.mapping = new EntryMapping(settings);
  }

  private remember(view: EntryView): string | undefined {
    const id = this.mapping.idOf(view);
    if (id !== undefined) {
      if (this.idsByDn.size > 200_000) this.idsByDn.clear();
      this.idsByDn.set(view.dn.toLowerCase(), id);
    }
    return id;
  }

  /** Entries under `base` matching `filter`, paged. */
  async find(base: string, filter: string, attributes: string[]): Promise<EntryView[]> {
    const entries = await this.pool.search(base, {
      scope: 'sub',
      filter,
      attributes,
      explicitBufferAttributes: this.mapping.bufferAttributes(),
    });
    return entries.map((e) => new EntryView(e));
  }

  /** The entry at `dn` if it matches `filter`; undefined when there is no such entry. */
  async read(dn: string, attributes: string[], filter = '(objectClass=*)'): Promise<EntryView | undefined> {
    try {
      const [entry] = await this.pool.search(dn, {
        scope: 'base',
        filter,
        attributes,
        explicitBufferAttributes: this.mapping.bufferAttributes(),
      });
      return entry && new EntryView(entry);
    } catch (err) {
      if (resultCode(err) === LDAP.noSuchObject) return undefined;
      throw err;
    }
  }

  /**
   * Users matching `filter` (ANDed with the user filter), with their guest flag and manager's id. The guest
   * flag comes from the guest filter asked about these users' ids, not from `filter` again: an in-chain
   * filter can cost seconds on its own.
   */
  async users(filter: string): Promise<DirectoryUser[]> {
    const { userBaseDn, userFilter } = this.settings;
    const views = await this.find(userBaseDn, `(&${userFilter}${filter})`, this.mapping.userAttributes());
    const ids = views.map((v) => this.mapping.idOf(v)).filter((id) => id !== undefined);
    return this.toUsers(views, await this.guestIdsAmong(ids));
  }

  /** Users for ids, in chunks of one OR filter each; unknown ids are left out, order is not kept. */
  async usersById(ids: readonly string[]): Promise<DirectoryUser[]> {
    const filters = [...new Set(ids)].map((id) => this.mapping.idFilter(id)).filter((f) => f !== undefined);
    const parts = await mapLimit(chunks(filters, 100), this.settings.poolSize, (part) =>
      this.users(part.length === 1 ? part[0]! : `(|${part.join('')})`),
    );
    return parts.flat();
  }

  /**
   * Users at these DNs, one read each, a few at once; `others` are the DNs that exist but are no user
   * (nested groups, for the `member` strategy's walk). Missing DNs are left out of both.
   */
  async usersByDn(dns: readonly string[]): Promise<{ users: DirectoryUser[]; others: string[] }> {
    const attributes = [...this.mapping.userAttributes(), 'objectClass'];
    const { userFilter, groupFilter } = this.settings;
    const views = await mapLimit(dns, this.settings.poolSize * 4, async (dn) => {
      const view = await this.read(dn, attributes, `(|${userFilter}${groupFilter})`);
      if (!view) return undefined;
      const classes = view.all('objectClass').map((c) => c.toLowerCase());
      return { view, group: classes.some((c) => GROUP_CLASSES.has(c)) };
    });
    const found = views.filter((v) => v !== undefined);
    const userViews = found.filter((v) => !v.group).map((v) => v.view);
    const ids = userViews.map((v) => this.remember(v)).filter((id) => id !== undefined);
    const guests = await this.guestIdsAmong(ids);
    return {
      users: await this.toUsers(userViews, guests),
      others: found.filter((v) => v.group).map((v) => v.view.dn),
    };
  }

  private async guestIdsAmong(ids: readonly string[]): Promise<Set<string | undefined>> {
    const { userBaseDn, userFilter, guestFilter, attributes } = this.settings;
    const filters = ids.map((id) => this.mapping.idFilter(id)).filter((f) => f !== undefined);
    const parts = await mapLimit(chunks(filters, 100), this.settings.poolSize, (part) =>
      this.find(userBaseDn, `(&${userFilter}${guestFilter}(|${part.join('')}))`, [attributes.id]),
    );
    return new Set(parts.flat().map((v) => this.mapping.idOf(v)));
  }

  private async toUsers(views: EntryView[], guests: Set<string | undefined>): Promise<DirectoryUser[]> {
    for (const v of views) this.remember(v);
    const managerDns = views
      .map((v) => v.first(this.settings.attributes.manager))
      .filter((dn) => dn !== undefined);
    const managerIds = await this.idsOfDns(managerDns);
    return views
      .map((v) => this.mapping.user(v, guests.has(this.mapping.idOf(v)), managerIds))
      .filter((u) => u !== undefined);
  }

  /** DN (lowercased) → id for these DNs; DNs of missing entries are left out. */
  async idsOfDns(dns: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const unknown = new Set<string>();
    for (const dn of dns) {
      const key = dn.toLowerCase();
      const id = this.idsByDn.get(key);
      if (id !== undefined) out.set(key, id);
      else if (dn !== '') unknown.add(dn);
    }
    await mapLimit([...unknown], this.settings.poolSize * 4, async (dn) => {
      const view = await this.read(dn, [this.settings.attributes.id]);
      const id = view && this.remember(view);
      if (id !== undefined) out.set(dn.toLowerCase(), id);
    });
    return out;
  }

  /** DNs of the users with these ids (lowercased id → DN); unknown ids are left out. */
  async userDnsById(ids: readonly string[]): Promise<Map<string, string>> {
    const { userBaseDn, userFilter, attributes } = this.settings;
    const filters = [...new Set(ids)].map((id) => this.mapping.idFilter(id)).filter((f) => f !== undefined);
    const parts = await mapLimit(chunks(filters, 100), this.settings.poolSize, (part) =>
      this.find(userBaseDn, `(&${userFilter}(|${part.join('')}))`, [attributes.id]),
    );
    const out = new Map<string, string>();
    for (const view of parts.flat()) {
      const id = this.remember(view);
      if (id !== undefined) out.set(id, view.dn);
    }
    return out;
  }

  /** The DN of the entry with this id under `base` that matches `filter`. */
  async dnOf(
    id: string,
    base: string,
    filter: string,
    attributes: string[] = [],
  ): Promise<EntryView | undefined> {
    const byId = this.mapping.idFilter(id);
    if (byId === undefined) return undefined;
    const [view] = await this.find(base, `(&${filter}${byId})`, [this.settings.attributes.id, ...attributes]);
    if (view) this.remember(view);
    return view;
  }

  /**
   * Every value of a DN-valued attribute. With `ranged` (Active Directory's `member`) it asks for windows
   * of MaxValRange (1,500) values, `member;range=0-1499`, `member;range=1500-2999` …, as AD hands out no
   * more per read and names the last window `member;range=9000-*`.
   */
  async values(dn: string, attribute: string, ranged = false): Promise<string[]> {
    if (!ranged) return (await this.read(dn, [attribute]))?.all(attribute) ?? [];
    const out: string[] = [];
    for (let start = 0; ;) {
      const view = await this.read(dn, [`${attribute};range=${start}-${start + RANGE - 1}`]);
      if (!view) return out;
      const name = view.names().find((n) => n.startsWith(`${attribute.toLowerCase()};range=`));
      if (!name) return [...out, ...view.all(attribute)];
      const values = view.all(name);
      out.push(...values);
      const end = name.split('-').pop();
      if (end === '*' || values.length === 0) return out;
      start = Number(end) + 1;
    }
  }
}
