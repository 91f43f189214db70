import fc from 'fast-check';
import type { EvidenceHeader, EvidenceRecord } from '../../src/domain/evidence';
import { evidenceHeaderSchema, evidenceRecordSchema } from '../../src/domain/evidence';
import { canonicalJson, GENESIS_HASH, linkHash } from '../../src/evidence/chain';
import { csvEvidence } from '../../src/evidence/csv-file';
import { jsonEvidence } from '../../src/evidence/json-file';
import { verifyEvidence } from '../../src/evidence/verify';

type Unlinked<T> = Omit<T, 'prevHash' | 'hash'>;

const header: Unlinked<EvidenceHeader> = evidenceHeaderSchema.omit({ prevHash: true, hash: true }).parse({
  sequence: 0,
  recordType: 'accessReviewInstance',
  definitionId: 'def-1',
  instanceId: 'inst-1',
  displayName: 'Team review, "quoted", with commas',
  status: 'Applied',
  startDateTime: '2025-01-01T00:00:00.000Z',
  endDateTime: '2025-01-07T00:00:00.000Z',
  appliedDateTime: '2025-01-07T00:00:01.000Z',
  scope: {
    resourceType: 'group',
    resourceId: 'team',
    resourceDisplayName: 'Team',
    principals: 'all',
    inactiveDurationInDays: null,
  },
  settings: {
    justificationRequiredOnApproval: false,
    defaultDecisionEnabled: false,
    defaultDecision: 'None',
    autoApplyDecisionsEnabled: true,
    decisionHistoriesForReviewersEnabled: false,
    mailNotificationsEnabled: true,
    reminderNotificationsEnabled: true,
    denyAction: 'removeAccess',
  },
  stages: ['1', '2'].map((stageId) => ({
    stageId,
    status: 'Completed',
    startDateTime: '2025-01-01T00:00:00.000Z',
    endDateTime: '2025-01-04T00:00:00.000Z',
    durationInDays: 3,
    reviewers: [{ kind: 'user', userId: 'rev' }],
    fallbackReviewers: [],
    recommendationsEnabled: true,
    recommendationLookBackDays: 30,
    decisionsThatWillMoveToNextStage: stageId === '1' ? ['Approve'] : null,
  })),
  reviewerChanges: [],
  itemCount: 3,
  generatedDateTime: '2025-02-01T00:00:00.000Z',
});

const rev = { id: 'rev', displayName: 'Rev Iewer', userPrincipalName: 'rev@example.com' };
const record = (sequence: number, principal: string, justification: string): Unlinked<EvidenceRecord> =>
  evidenceRecordSchema.omit({ prevHash: true, hash: true }).parse({
    sequence,
    recordType: 'decisionItem',
    itemId: `item-${principal}`,
    principal: {
      id: principal,
      displayName: `Ü ${principal}`,
      userPrincipalName: `${principal}@example.com`,
    },
    decision: 'Deny',
    decisionSource: 'reviewer',
    reviewedBy: rev,
    reviewedDateTime: '2025-01-02T00:00:00.000Z',
    justification,
    stages: [
      {
        stageId: '1',
        reviewers: [rev],
        recommendation: 'Deny',
        decision: 'Deny',
        decisionSource: 'reviewer',
        reviewedBy: rev,
        reviewedDateTime: '2025-01-02T00:00:00.000Z',
        justification,
      },
    ],
    applyResult: 'AppliedSuccessfully',
    appliedBy: rev,
    appliedDateTime: '2025-01-07T00:00:01.000Z',
    directoryState: {
      check: 'groupMembership',
      groupId: 'team',
      groupFound: true,
      directMember: false,
      transitiveMember: false,
      observedDateTime: '2025-01-07T00:00:01.000Z',
    },
  });

const records = [
  record(1, 'ann', 'left the team'),
  record(2, 'bob', '=HYPERLINK("http://x")'),
  record(3, 'cy', 'line one\nline two, "quoted"'),
];

async function* from<T>(items: T[]) {
  yield* items;
}
const render = async (gen: AsyncIterable<string>) => {
  let text = '';
  for await (const chunk of gen) text += chunk;
  return Buffer.from(text, 'utf8');
};
const verify = (bytes: Buffer, chunk = 7) =>
  verifyEvidence(
    from(
      Array.from({ length: Math.ceil(bytes.length / chunk) }, (_, k) =>
        bytes.subarray(k * chunk, (k + 1) * chunk),
      ),
    ),
  );

describe.each([
  ['JSON', () => render(jsonEvidence(header, from(records)))],
  ['CSV', () => render(csvEvidence(header, from(records)))],
] as const)('a %s evidence file', (_format, file) => {
  let bytes: Buffer;
  beforeAll(async () => {
    bytes = await file();
  });

  it('verifies, read in chunks of any size, with the record count and the final hash of its digest', async () => {
    const whole = await verify(bytes, bytes.length);
    expect(whole).toMatchObject({ ok: true, records: 3 });
    for (const chunk of [1, 2, 3, 64]) expect(await verify(bytes, chunk)).toEqual(whole);
    const text = bytes.toString('utf8');
    expect(text).toContain((whole as { digest: string }).digest);
  });

  it('fails when any single byte is changed', async () => {
    for (let i = 0; i < bytes.length; i++) {
      const changed = Buffer.from(bytes);
      changed[i] = changed[i]! ^ 0x01;
      const result = await verify(changed, 4096);
      if (result.ok) throw new Error(`byte ${i} changed and the file still verifies`);
    }
  });

  it('fails when any byte is replaced by any other byte', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.integer({ min: 1, max: 255 }), async (at, delta) => {
        const changed = Buffer.from(bytes);
        const i = at % bytes.length;
        changed[i] = (changed[i]! + delta) % 256;
        expect((await verify(changed, 4096)).ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('fails when a record is removed, two are swapped, or the file is cut short', async () => {
    const text = bytes.toString('utf8');
    const eol = text.includes('\r\n') ? '\r\n' : '\n';
    // Records are the lines naming an item (a CSV justification may span two physical lines).
    const lines = text.split(eol);
    const itemLines = lines.flatMap((l, i) => (l.includes('"item-') || l.includes(',item-') ? [i] : []));
    expect(itemLines.length).toBeGreaterThanOrEqual(2);
    const without = lines.filter((_, i) => i !== itemLines[0]).join(eol);
    expect((await verify(Buffer.from(without))).ok).toBe(false);
    const swapped = [...lines];
    [swapped[itemLines[0]!], swapped[itemLines[1]!]] = [swapped[itemLines[1]!]!, swapped[itemLines[0]!]!];
    expect((await verify(Buffer.from(swapped.join(eol)))).ok).toBe(false);
    for (const cut of [1, 10, Math.floor(bytes.length / 2), bytes.length - 1]) {
      expect((await verify(bytes.subarray(0, bytes.length - cut))).ok).toBe(false);
    }
    expect((await verify(Buffer.concat([bytes, Buffer.from(eol)]))).ok).toBe(false);
  });
});

describe('the hash chain', () => {
  it('hashes the canonical JSON (sorted keys, no spaces) after the previous hash', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], c: { z: 'é', y: '"' } })).toBe(
      '{"a":[true,null,"x"],"b":1,"c":{"y":"\\"","z":"é"}}',
    );
    // printf '%s%s' "$(printf '0%.0s' $(seq 64))" '{"a":1}' | sha256sum
    expect(linkHash(GENESIS_HASH, { a: 1 })).toBe(
      'fc6cee09194dd2578bd7664604fcb72a539066fd34544cea0009c43eb6cdc289',
    );
  });

  it('keeps what a spreadsheet would run as a formula as text in CSV, and as typed in JSON', async () => {
    const csv = (await render(csvEvidence(header, from(records)))).toString('utf8');
    expect(csv).toContain(`"'=HYPERLINK(""http://x"")"`);
    const json = (await render(jsonEvidence(header, from(records)))).toString('utf8');
    expect(json).toContain('"justification":"=HYPERLINK(\\"http://x\\")"');
  });
});
