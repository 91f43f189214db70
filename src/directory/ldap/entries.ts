import type { Entry } from 'ldapts';
import type { DirectoryUser } from '../port';
import type { LdapSettings } from './settings';
import { ACCOUNTDISABLE, guidToBytes, guidToString, escapeFilterValue, ldapTimeToIso } from './values';

/** Reads an entry's attributes whatever case the server spelt them in. */
export class EntryView {
  private readonly byName = new Map<string, Entry[string]>();

  constructor(readonly entry: Entry) {
    for (const [key, value] of Object.entries(entry))
      if (key !== 'dn') this.byName.set(key.toLowerCase(), value);
  }

  get dn(): string {
    return this.entry.dn;
  }

  /** Every value of the attribute as text. */
  all(attribute: string): string[] {
    const v = this.byName.get(attribute.toLowerCase());
    if (v === undefined) return [];
    const list = Array.isArray(v) ? v : [v];
    return list.map((x) => (Buffer.isBuffer(x) ? x.toString('utf8') : x));
  }

  first(attribute: string): string | undefined {
    return this.all(attribute)[0];
  }

  buffer(attribute: string): Buffer | undefined {
    const v = this.byName.get(attribute.toLowerCase());
    const one = Array.isArray(v) ? v[0] : v;
    if (one === undefined) return undefined;
    return Buffer.isBuffer(one) ? one : Buffer.from(one, 'utf8');
  }

  /** Attribute names present, lowercased (ranged retrieval answers `member;range=0-1499`). */
  names(): string[] {
    return [...this.byName.keys()];
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NS_UNIQUE_ID = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$/i;

/** Maps entries to the port's objects and ids to filters, by the settings' attribute map and flavour. */
export class EntryMapping {
  readonly binaryId: boolean;

  constructor(private readonly settings: LdapSettings) {
    this.binaryId = settings.attributes.id.toLowerCase() === 'objectguid';
  }

  /** Attributes asked for a user: operational ones (entryUUID, authTimestamp, …) must be named. */
  userAttributes(): string[] {
    const a = this.settings.attributes;
    const lock = {
      ppolicy: 'pwdAccountLockedTime',
      nsAccountLock: 'nsAccountLock',
      userAccountControl: 'userAccountControl',
    }[this.settings.lockMethod];
    return [
      ...new Set([
        a.id,
        a.displayName,
        'cn',
        'uid',
        a.userPrincipalName,
        a.mail,
        a.manager,
        a.createdDateTime,
        a.lastSignInDateTime,
        lock,
      ]),
    ];
  }

  /** Search options that make the id attribute come back as bytes where it is binary. */
  bufferAttributes(): string[] {
    return this.binaryId ? [this.settings.attributes.id] : [];
  }

  /** The object id of an entry; undefined when the entry has none (not readable, wrong attribute). */
  idOf(view: EntryView): string | undefined {
    if (this.binaryId) {
      const bytes = view.buffer(this.settings.attributes.id);
      return bytes && bytes.length === 16 ? guidToString(bytes) : undefined;
    }
    return view.first(this.settings.attributes.id)?.toLowerCase();
  }

  /**
   * The filter that finds an object by id, or undefined when the text cannot be an id of this directory
   * (so nothing is sent: an unknown id is simply not found).
   */
  idFilter(id: string): string | undefined {
    const attribute = this.settings.attributes.id;
    const name = attribute.toLowerCase();
    if (this.binaryId) {
      const bytes = guidToBytes(id);
      return bytes && `(${attribute}=${escapeFilterValue(bytes)})`;
    }
    if (name === 'entryuuid' && !UUID.test(id)) return undefined;
    if (name === 'nsuniqueid' && !NS_UNIQUE_ID.test(id)) return undefined;
    return `(${attribute}=${escapeFilterValue(id)})`;
  }

  /** Whether the account can sign in, by the configured lock method. */
  accountEnabled(view: EntryView): boolean {
    switch (this.settings.lockMethod) {
      case 'ppolicy':
        return view.first('pwdAccountLockedTime') === undefined;
      case 'nsAccountLock':
        return (view.first('nsAccountLock') ?? '').toLowerCase() !== 'true';
      case 'userAccountControl':
        return (Number(view.first('userAccountControl') ?? '0') & ACCOUNTDISABLE) === 0;
    }
  }

  /** A user from its entry; `managerId` comes from `managerIds` (DN → id, resolved by the caller). */
  user(view: EntryView, guest: boolean, managerIds: ReadonlyMap<string, string>): DirectoryUser | undefined {
    const id = this.idOf(view);
    if (id === undefined) return undefined;
    const a = this.settings.attributes;
    const managerDn = view.first(a.manager);
    return {
      id,
      displayName: view.first(a.displayName) ?? view.first('cn') ?? view.dn,
      userPrincipalName:
        view.first(a.userPrincipalName) ?? view.first(a.mail) ?? view.first('uid') ?? view.dn,
      mail: view.first(a.mail) ?? null,
      userType: guest ? 'Guest' : 'Member',
      accountEnabled: this.accountEnabled(view),
      managerId: managerDn === undefined ? null : (managerIds.get(managerDn.toLowerCase()) ?? null),
      // An entry whose creation time the bind account may not read still needs one: the epoch says "unknown".
      createdDateTime: ldapTimeToIso(view.first(a.createdDateTime)) ?? '1970-01-01T00:00:00Z',
      lastSignInDateTime: ldapTimeToIso(view.first(a.lastSignInDateTime)),
    };
  }
}
