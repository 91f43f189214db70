import { applyDecisionItems } from '../../src/activities/apply';
import { EmbeddedDirectory } from '../../src/directory/embedded';
import type { Directory, DirectoryWriteResult } from '../../src/directory/port';
import { DirectoryUnavailableError } from '../../src/directory/port';
import { InMemoryApplyLedger } from '../../src/store/apply-ledger';

const user = (id: string) => ({
  id,
  displayName: id,
  userPrincipalName: `${id}@x.test`,
  userType: 'Member' as const,
  accountEnabled: true,
  createdDateTime: '2025-01-01T00:00:00Z',
});
const members = Array.from({ length: 250 }, (_, i) => `u${i}`);

/** The embedded directory with a batch removal that counts its calls and can refuse or fail. */
function batching(fail?: { refuse?: string; outage?: boolean }) {
  const inner = EmbeddedDirectory.inMemory({
    users: members.map(user),
    groups: [{ id: 'g', displayName: 'G', memberIds: members, ownerIds: [] }],
  });
  const calls: number[] = [];
  const directory: Directory = Object.assign(Object.create(inner) as Directory, {
    async removeGroupMembers(groupId: string, userIds: readonly string[]): Promise<DirectoryWriteResult[]> {
      calls.push(userIds.length);
      if (fail?.outage) throw new DirectoryUnavailableError('down');
      if (fail?.refuse && userIds.includes(fail.refuse)) throw new Error('constraint violation');
      const out: DirectoryWriteResult[] = [];
      for (const id of userIds) out.push(await inner.removeGroupMember(groupId, id));
      return out;
    },
  });
  return { directory, inner, calls };
}

const input = (items: { principalId: string; decision: 'Approve' | 'Deny' }[]) => ({
  instanceId: 'i',
  resource: { type: 'group' as const, id: 'g' },
  denyAction: 'removeAccess' as const,
  items: items.map((it, n) => ({ itemId: `item-${n}`, ...it })),
});

describe('applying denied members in batches', () => {
  it('sends denied members 100 at a time, keeps the order of results and ledger lines per item', async () => {
    const { directory, inner, calls } = batching();
    const ledger = new InMemoryApplyLedger();
    const items = members.map(
      (principalId, i) => ({ principalId, decision: i === 120 ? 'Approve' : 'Deny' }) as const,
    );
    items.push({ principalId: 'nobody', decision: 'Deny' });
    const { results } = await applyDecisionItems(directory, ledger, input(items), () => undefined);
    expect(calls).toEqual([100, 20, 100, 30]); // the approval splits the run of denials
    expect(results.map((r) => r.itemId)).toEqual(items.map((_, n) => `item-${n}`));
    expect(results[120]?.result).toBe('AppliedSuccessfully');
    expect(results.at(-1)?.result).toBe('AppliedSuccessfullyButObjectNotFound');
    expect(await ledger.get('i/item-7')).toBe('AppliedSuccessfully');
    expect((await inner.getGroup('g'))?.memberIds).toEqual(['u120']);
  });

  it('applies a refused batch one member at a time, so only the refused one fails', async () => {
    const { directory, inner } = batching({ refuse: 'u3' });
    const broken = Object.assign(Object.create(directory) as Directory, {
      removeGroupMember: async (g: string, u: string) => {
        if (u === 'u3') throw new Error('insufficientAccessRights');
        return inner.removeGroupMember(g, u);
      },
    });
    const items = ['u1', 'u2', 'u3', 'u4'].map((principalId) => ({ principalId, decision: 'Deny' }) as const);
    const { results } = await applyDecisionItems(
      broken,
      new InMemoryApplyLedger(),
      input(items),
      () => undefined,
    );
    expect(results.map((r) => r.result)).toEqual([
      'AppliedSuccessfully',
      'AppliedSuccessfully',
      'AppliedWithUnknownFailure',
      'AppliedSuccessfully',
    ]);
  });

  it('fails the activity on an outage, leaving the batch Pending for the retry', async () => {
    const { directory } = batching({ outage: true });
    const ledger = new InMemoryApplyLedger();
    const items = ['u1', 'u2'].map((principalId) => ({ principalId, decision: 'Deny' }) as const);
    await expect(applyDecisionItems(directory, ledger, input(items), () => undefined)).rejects.toThrow(
      DirectoryUnavailableError,
    );
    expect(await ledger.get('i/item-0')).toBe('Pending');
    expect(await ledger.get('i/item-1')).toBe('Pending');
  });
});
