import { Attribute, Change } from 'ldapts';
import type {
  Directory,
  DirectoryApplication,
  DirectoryGroup,
  DirectoryUser,
  DirectoryWriteResult,
} from '../port';
import { describe, isTransientLdapError, LDAP, LdapConnectionPool, resultCode } from './connection';
import type { EntryView } from './entries';
import { LdapMemberships } from './memberships';
import { mapLimit } from '../batching';
import { LdapReads } from './reads';
import type { LdapApplication, LdapSettings } from './settings';
import { ACCOUNTDISABLE, escapeFilterValue, PPOLICY_PERMANENT_LOCK } from './values';

const change = (operation: 'add' | 'delete' | 'replace', type: string, values: string[]) =>
  new Change({ operation, modification: new Attribute({ type, values }) });

const dedupe = (users: DirectoryUser[]) => [...new Map(users.map((u) => [u.id, u])).values()];

/**
 * DIRECTORY=ldap: OpenLDAP / 389 DS and Active Directory through one attribute map (see LdapSettings and
 * the README's "Connect your directory"). Ids are the directory's stable ids (entryUUID, nsUniqueId,
 * objectGUID); applications are configured groups. Writes are idempotent and say `notFound` when the
 * object or the link was already gone.
 */
export class LdapDirectory implements Directory {
  private readonly reads: LdapReads;
  private readonly memberships: LdapMemberships;

  private constructor(
    private readonly settings: LdapSettings,
    private readonly pool: LdapConnectionPool,
  ) {
    this.reads = new LdapReads(pool, settings);
    this.memberships = new LdapMemberships(this.reads, settings);
  }

  /**
   * Connects and checks the settings against the server before anything relies on them: the server is
   * reachable, the bind works, the base DNs and the applications' groups exist. Each failure is an Error
   * that names the setting to fix.
   */
  static async connect(settings: LdapSettings): Promise<LdapDirectory> {
    const pool = new LdapConnectionPool(settings);
    try {
      const probe = await pool.open();
      await probe.unbind().catch(() => undefined);
    } catch (err) {
      await pool.close();
      if (resultCode(err) === LDAP.invalidCredentials) {
        throw new Error(
          `LDAP_BIND_DN=${settings.bindDn}: the server refused the bind with the configured password (invalidCredentials)`,
        );
      }
      const tls = /certificate|self.signed|tls|ssl|handshake/i.test(String((err as Error).message));
      const setting = tls ? `LDAP_TLS_CA_FILE / LDAP_URL=${settings.url}` : `LDAP_URL=${settings.url}`;
      throw new Error(`${setting}: cannot connect to the LDAP server (${describe(err)})`);
    }
    const directory = new LdapDirectory(settings, pool);
    try {
      const bases = [
        ['LDAP_BASE_DN', settings.baseDn],
        ['LDAP_USER_BASE_DN', settings.userBaseDn],
        ['LDAP_GROUP_BASE_DN', settings.groupBaseDn],
      ] as const;
      for (const [setting, dn] of bases) {
        if (!(await directory.reads.read(dn, ['objectClass']))) {
          throw new Error(`${setting}=${dn}: no such entry on ${settings.url}`);
        }
      }
      for (const app of settings.applications) {
        for (const dn of app.groups) {
          if (!(await directory.reads.read(dn, ['objectClass'], settings.groupFilter))) {
            throw new Error(
              `LDAP_APPLICATIONS: application "${app.id}" names ${dn}, which is not a group on ${settings.url}`,
            );
          }
        }
      }
    } catch (err) {
      await pool.close();
      if (err instanceof Error && !isTransientLdapError(err) && /^LDAP_/.test(err.message)) throw err;
      throw new Error(`LDAP_BASE_DN=${settings.baseDn}: checking the settings failed (${describe(err)})`);
    }
    return directory;
  }

  /** Closes the connection pool. */
  close(): Promise<void> {
    return this.pool.close();
  }

  private userEntry(id: string, attributes: string[] = []): Promise<EntryView | undefined> {
    return this.reads.dnOf(id, this.settings.userBaseDn, this.settings.userFilter, attributes);
  }

  private groupEntry(id: string, attributes: string[] = []): Promise<EntryView | undefined> {
    return this.reads.dnOf(id, this.settings.groupBaseDn, this.settings.groupFilter, attributes);
  }

  private application(id: string): LdapApplication | undefined {
    return this.settings.applications.find((a) => a.id === id);
  }

  async getUser(id: string): Promise<DirectoryUser | undefined> {
    const filter = this.reads.mapping.idFilter(id);
    return filter === undefined ? undefined : (await this.reads.users(filter))[0];
  }

  async getUsers(ids: readonly string[]): Promise<DirectoryUser[]> {
    const byId = new Map((await this.reads.usersById(ids)).map((u) => [u.id, u]));
    return ids.map((id) => byId.get(id.toLowerCase())).filter((u) => u !== undefined);
  }

  async getManager(userId: string): Promise<DirectoryUser | undefined> {
    const managerId = (await this.getUser(userId))?.managerId;
    return managerId ? this.getUser(managerId) : undefined;
  }

  async getGroup(id: string): Promise<DirectoryGroup | undefined> {
    const view = await this.groupEntry(id, ['cn', 'displayName', 'description']);
    if (!view) return undefined;
    const [memberIds, owners] = await Promise.all([
      this.memberships.directMemberIds(view.dn),
      this.memberships.ownerDns(view.dn),
    ]);
    return {
      id: this.reads.mapping.idOf(view)!,
      displayName: view.first('displayName') ?? view.first('cn') ?? view.dn,
      description: view.first('description') ?? null,
      memberIds,
      ownerIds: [...(await this.reads.idsOfDns(owners)).values()],
    };
  }

  async listGroupTransitiveMembers(groupId: string): Promise<DirectoryUser[] | undefined> {
    const view = await this.groupEntry(groupId);
    return view && this.memberships.transitiveMembers(view.dn);
  }

  private async ownersOf(groupDns: string[]): Promise<DirectoryUser[]> {
    const dns = (await Promise.all(groupDns.map((dn) => this.memberships.ownerDns(dn)))).flat();
    const ids = [...(await this.reads.idsOfDns(dns)).values()];
    return this.getUsers(ids);
  }

  async listGroupOwners(groupId: string): Promise<DirectoryUser[] | undefined> {
    const view = await this.groupEntry(groupId);
    return view && this.ownersOf([view.dn]);
  }

  async getApplication(id: string): Promise<DirectoryApplication | undefined> {
    const app = this.application(id);
    if (!app) return undefined;
    const [assignees, owners] = await Promise.all([this.assignees(app), this.ownersOf(app.groups)]);
    return {
      id: app.id,
      appId: null,
      displayName: app.displayName,
      assignedUserIds: assignees.map((u) => u.id),
      ownerIds: owners.map((u) => u.id),
    };
  }

  private async assignees(app: LdapApplication): Promise<DirectoryUser[]> {
    return dedupe((await Promise.all(app.groups.map((dn) => this.memberships.transitiveMembers(dn)))).flat());
  }

  async listApplicationAssignees(appId: string): Promise<DirectoryUser[] | undefined> {
    const app = this.application(appId);
    return app && this.assignees(app);
  }

  async listApplicationOwners(appId: string): Promise<DirectoryUser[] | undefined> {
    const app = this.application(appId);
    return app && this.ownersOf(app.groups);
  }

  /** Removes the user's direct membership of the group at `groupDn`; notFound when there was none. */
  private async removeDirect(groupDn: string, userDn: string): Promise<DirectoryWriteResult> {
    const attrs = this.settings.flavour === 'ad' ? ['member'] : ['member', 'uniqueMember'];
    const holds = `(|${attrs.map((a) => `(${a}=${escapeFilterValue(userDn)})`).join('')})`;
    const group = await this.reads.read(groupDn, ['objectClass'], holds);
    if (!group) return 'notFound';
    const unique = group.all('objectClass').some((c) => c.toLowerCase() === 'groupofuniquenames');
    const attribute = unique ? 'uniqueMember' : 'member';
    try {
      await this.pool.modify(groupDn, [change('delete', attribute, [userDn])]);
    } catch (err) {
      const code = resultCode(err);
      // Someone else removed it between the read and the write (AD says unwillingToPerform for that).
      if (code === LDAP.noSuchAttribute || code === LDAP.noSuchObject || code === LDAP.unwillingToPerform) {
        return 'notFound';
      }
      // groupOfNames / groupOfUniqueNames must keep a value: the last member gives way to a placeholder.
      if (code !== LDAP.objectClassViolation) throw err;
      await this.pool.modify(groupDn, [
        change('delete', attribute, [userDn]),
        change('add', attribute, [this.settings.emptyGroupMember]),
      ]);
    }
    return 'done';
  }

  private written(): void {
    this.memberships.clear();
  }

  async removeGroupMember(groupId: string, userId: string): Promise<DirectoryWriteResult> {
    const [group, user] = await Promise.all([this.groupEntry(groupId), this.userEntry(userId)]);
    if (!group || !user) return 'notFound';
    this.written();
    const result = await this.removeDirect(group.dn, user.dn);
    this.written();
    return result;
  }

  /**
   * Removes several direct members with one modify (an LDAP server rewrites the whole group entry per
   * modify, so one per member is what makes large groups slow); members already gone are notFound.
   */
  async removeGroupMembers(groupId: string, userIds: readonly string[]): Promise<DirectoryWriteResult[]> {
    const group = await this.groupEntry(groupId, ['objectClass']);
    if (!group) return userIds.map(() => 'notFound');
    const unique = group.all('objectClass').some((c) => c.toLowerCase() === 'groupofuniquenames');
    const attribute = unique ? 'uniqueMember' : 'member';
    const dnById = await this.reads.userDnsById(userIds);
    const present = await mapLimit(userIds, this.settings.poolSize * 4, async (id) => {
      const dn = dnById.get(id.toLowerCase());
      if (dn === undefined) return undefined;
      const holds = await this.reads.read(
        group.dn,
        ['objectClass'],
        `(${attribute}=${escapeFilterValue(dn)})`,
      );
      return holds && dn;
    });
    const dns = [...new Set(present.filter((dn) => dn !== undefined))];
    if (dns.length > 0) {
      this.written();
      try {
        await this.pool.modify(group.dn, [change('delete', attribute, dns)]);
      } catch (err) {
        const code = resultCode(err);
        if (code === LDAP.objectClassViolation) {
          await this.pool.modify(group.dn, [
            change('delete', attribute, dns),
            change('add', attribute, [this.settings.emptyGroupMember]),
          ]);
        } else if (code === LDAP.noSuchAttribute || code === LDAP.unwillingToPerform) {
          // Someone removed one of them meanwhile, and a modify is all or nothing: one by one then.
          const results: DirectoryWriteResult[] = [];
          for (const dn of present)
            results.push(dn === undefined ? 'notFound' : await this.removeDirect(group.dn, dn));
          this.written();
          return results;
        } else {
          throw err;
        }
      }
      this.written();
    }
    return present.map((dn) => (dn === undefined ? 'notFound' : 'done'));
  }

  /** Removes the user's direct memberships of the application's groups; notFound when there were none. */
  async removeApplicationAssignment(appId: string, userId: string): Promise<DirectoryWriteResult> {
    const app = this.application(appId);
    const user = app && (await this.userEntry(userId));
    if (!app || !user) return 'notFound';
    this.written();
    const results = await Promise.all(app.groups.map((dn) => this.removeDirect(dn, user.dn)));
    this.written();
    return results.includes('done') ? 'done' : 'notFound';
  }

  async setAccountEnabled(userId: string, enabled: boolean): Promise<DirectoryWriteResult> {
    const lock = this.settings.lockMethod;
    const attribute = {
      ppolicy: 'pwdAccountLockedTime',
      nsAccountLock: 'nsAccountLock',
      userAccountControl: 'userAccountControl',
    }[lock];
    const user = await this.userEntry(userId, [attribute]);
    if (!user) return 'notFound';
    if (this.reads.mapping.accountEnabled(user) === enabled) return 'done';
    let changes: Change[];
    if (lock === 'userAccountControl') {
      const uac = Number(user.first(attribute) ?? '512');
      changes = [
        change('replace', attribute, [String(enabled ? uac & ~ACCOUNTDISABLE : uac | ACCOUNTDISABLE)]),
      ];
    } else if (enabled) {
      changes = [change('delete', attribute, [])];
    } else {
      changes = [change('replace', attribute, [lock === 'ppolicy' ? PPOLICY_PERMANENT_LOCK : 'TRUE'])];
    }
    this.written();
    try {
      await this.pool.modify(user.dn, changes);
    } catch (err) {
      const code = resultCode(err);
      if (code === LDAP.noSuchObject) return 'notFound';
      if (code !== LDAP.noSuchAttribute) throw err; // unlocked meanwhile: the wanted state
    }
    return 'done';
  }

  async deleteUser(userId: string): Promise<DirectoryWriteResult> {
    const user = await this.userEntry(userId);
    if (!user) return 'notFound';
    this.written();
    try {
      await this.pool.del(user.dn);
    } catch (err) {
      if (resultCode(err) === LDAP.noSuchObject) return 'notFound';
      throw err;
    }
    return 'done';
  }
}
