import type { Directory } from '../../src/directory/port';
import { Api } from '../helpers/api-fixtures';
import type { Stack } from '../helpers/stack';
import { startStack } from '../helpers/stack';

/** A directory server loaded with `contractTenant({ bulk: false })`, an adapter in front of it, and a way to read it back. */
export interface ReviewTarget {
  directory: Directory;
  idOf(key: string): string;
  /** Ids of the group's direct members (users and groups), read from the server itself, not through the adapter. */
  serverMemberIds(groupKey: string): Promise<string[]>;
  stop(): Promise<void>;
}

/** The Api helper with an administrator from the contract tenant instead of the demo tenant's. */
class TenantApi extends Api {
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
 * An end-to-end review over a real directory server through the HTTP API: the members of `sales` review
 * themselves, then their managers, then the group's owner; decisions are applied automatically, and the
 * denied members are verified gone by reading the server back.
 */
export function describeDirectoryReview(name: string, start: () => Promise<ReviewTarget>) {
  describe(`an access review on ${name}`, () => {
    let target: ReviewTarget;
    let stack: Stack;
    let api: TenantApi;
    const id = (key: string) => target.idOf(key);

    beforeAll(async () => {
      target = await start();
      stack = await startStack({}, { directory: target.directory });
      api = new TenantApi(stack, id('patti'));
    }, 600_000);
    afterAll(async () => {
      await stack?.stop();
      await target?.stop();
    }, 120_000);

    it('self-review, then managers, then the owner; denied members are removed from the server', async () => {
      const before = await target.serverMemberIds('sales');
      for (const key of ['adele', 'alex', 'grady', 'gina']) expect(before).toContain(id(key));
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

      // Managers from the directory; gina and isaiah have none: the fallback reviewer.
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

      const after = await target.serverMemberIds('sales');
      for (const denied of ['alex', 'grady', 'adele']) expect(after).not.toContain(id(denied));
      expect(after).toContain(id('gina'));
      expect(after).toContain(id('sales-emea'));
      // The API reads the same server: the group's members no longer include them.
      const members = await api.http().get(`/v1.0/groups/${sales}/members`).set(admin);
      expect(members.status).toBe(200);
      const memberIds = (members.body.value as { id: string }[]).map((m) => m.id);
      expect(memberIds).not.toContain(id('alex'));
      expect(memberIds).toContain(id('gina'));
    });
  });
}
