import { readFile } from 'node:fs/promises';
import { LdapDirectory } from '../../src/directory/ldap/ldap-directory';
import type { LdapTestServer } from '../helpers/ldap-test-server';
import { Api } from '../helpers/api-fixtures';
import type { Stack } from '../helpers/stack';
import { startStack } from '../helpers/stack';
import { ldapSettings } from './ldap-fixture';

/** The Api helper with an administrator from the LDAP tenant instead of the demo tenant's. */
class LdapApi extends Api {
  constructor(
    stack: Stack,
    private readonly adminId: string,
  ) {
    super(stack);
  }

  override admin() {
    return this.as(this.adminId, true);
  }
}

/**
 * An end-to-end review over a real LDAP server through the HTTP API: the members of `sales` review
 * themselves, then their managers, then the group's owner; decisions are applied automatically, and the
 * denied members are verified gone by reading the server back with ldapsearch.
 */
export function describeLdapReview(
  name: string,
  start: () => Promise<LdapTestServer>,
  options: { tls?: boolean } = {},
) {
  describe(`an access review on ${name}`, () => {
    let server: LdapTestServer;
    let directory: LdapDirectory;
    let stack: Stack;
    let api: LdapApi;
    const id = (key: string) => server.idOf(key);

    beforeAll(async () => {
      server = await start();
      // With `tls`, over LDAPS and verified against the server's CA file.
      const settings = options.tls
        ? { ...(await ldapSettings(server, {}, server.ldapsUrl)), ca: await readFile(server.caFile!, 'utf8') }
        : await ldapSettings(server);
      directory = await LdapDirectory.connect(settings);
      stack = await startStack({}, { directory });
      api = new LdapApi(stack, id('patti'));
    }, 600_000);
    afterAll(async () => {
      await stack?.stop();
      await directory?.close();
      await server?.stop();
    }, 120_000);

    const memberDns = async () =>
      (await server.cliSearch(server.dnOf('sales'), '(objectClass=*)', ['member'], 'base'))[0]?.member?.map(
        (dn) => dn.toLowerCase(),
      ) ?? [];

    it('self-review, then managers, then the owner; denied members are removed from the server', async () => {
      const before = await memberDns();
      for (const key of ['adele', 'alex', 'grady', 'gina'])
        expect(before).toContain(server.dnOf(key).toLowerCase());
      const sales = id('sales');
      const r = await api.startReview({
        displayName: 'Sales membership review',
        scope: { query: `/groups/${sales}/transitiveMembers`, queryType: 'MicrosoftGraph' },
        stageSettings: [
          {
            stageId: '1',
            durationInDays: 3,
            reviewers: [],
            decisionsThatWillMoveToNextStage: ['Approve', 'NotReviewed'],
          },
          {
            stageId: '2',
            dependsOn: ['1'],
            durationInDays: 3,
            reviewers: [{ query: './manager', queryType: 'MicrosoftGraph', queryRoot: 'decisions' }],
            fallbackReviewers: [{ query: `/users/${id('lynne')}`, queryType: 'MicrosoftGraph' }],
            decisionsThatWillMoveToNextStage: ['Approve', 'NotReviewed'],
          },
          {
            stageId: '3',
            dependsOn: ['2'],
            durationInDays: 3,
            reviewers: [{ query: `/groups/${sales}/owners`, queryType: 'MicrosoftGraph' }],
          },
        ],
        settings: { autoApplyDecisionsEnabled: true, instanceDurationInDays: 0 },
      });
      const admin = await api.admin();
      const decide = async (reviewer: string, principal: string, decision: string, stage: string) => {
        const items = await api.decisionsByPrincipal(r.base, stage);
        const item = items[id(principal)];
        if (!item) throw new Error(`${principal} has no item in stage ${stage}`);
        const res = await api
          .http()
          .patch(`${r.base}/decisions/${item.id}`)
          .set(await api.as(id(reviewer)))
          .send({ decision, justification: `${reviewer} says ${decision}` });
        expect(res.status).toBe(204);
      };
      const stop = async (stage: string, next?: string) => {
        expect((await api.http().post(`${r.base}/stages/${stage}/stop`).set(admin)).status).toBe(204);
        if (next) await api.untilStage(r.base, next, 'InProgress');
      };

      const stage1 = await api.decisionsByPrincipal(r.base, '1');
      expect(Object.keys(stage1).sort()).toEqual(
        ['adele', 'alex', 'grady', 'gina', 'nestor', 'isaiah', 'diego'].map(id).sort(),
      );
      await decide('alex', 'alex', 'Deny', '1');
      await decide('adele', 'adele', 'Approve', '1');
      await api.untilDecisions(r.base, (d) => d[id('alex')]?.decision === 'Deny', 'alex decided', '1');
      await stop('1', '2');

      // Managers from the directory's `manager` attribute; gina and isaiah have none: the fallback reviewer.
      const stage2 = await api.decisionsByPrincipal(r.base, '2');
      expect(Object.keys(stage2)).not.toContain(id('alex'));
      await decide('megan', 'grady', 'Deny', '2');
      await decide('lynne', 'nestor', 'Approve', '2');
      await decide('lynne', 'gina', 'Approve', '2');
      await api.untilDecisions(r.base, (d) => d[id('grady')]?.decision === 'Deny', 'grady decided', '2');
      await stop('2', '3');

      await decide('megan', 'adele', 'Deny', '3');
      await decide('megan', 'gina', 'Approve', '3');
      await api.untilDecisions(r.base, (d) => d[id('adele')]?.decision === 'Deny', 'adele decided', '3');
      await stop('3');
      await api.untilInstance(r.base, 'Applied');

      const final = await api.decisionsByPrincipal(r.base);
      const result = (key: string) => final[id(key)]?.applyResult;
      for (const denied of ['alex', 'grady', 'adele']) expect(result(denied)).toBe('AppliedSuccessfully');

      const after = await memberDns();
      for (const denied of ['alex', 'grady', 'adele'])
        expect(after).not.toContain(server.dnOf(denied).toLowerCase());
      expect(after).toContain(server.dnOf('gina').toLowerCase());
      expect(after).toContain(server.dnOf('sales-emea').toLowerCase());
      // The API reads the same server: the group's members no longer include them.
      const members = await api.http().get(`/v1.0/groups/${sales}/members`).set(admin);
      expect(members.status).toBe(200);
      const memberIds = (members.body.value as { id: string }[]).map((m) => m.id);
      expect(memberIds).not.toContain(id('alex'));
      expect(memberIds).toContain(id('gina'));
    });
  });
}
