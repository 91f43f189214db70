import { EmbeddedDirectory } from '../../src/directory/embedded';
import { forEachConcurrently, pollUntil, ProcessStack, ResilienceApi } from '../helpers/process-stack';

// The worker process is SIGKILLed while the applyDecisions activity removes denied members from the group
// (the embedded directory saves its file per write, so applying a few hundred denials takes a moment).
// Temporal retries the activity on the restarted worker once its heartbeat times out (heartbeatTimeout of
// 30 seconds in access-review-instance.ts, so this test waits about that long); the apply ledger must
// make the retry skip what the killed attempt already applied.

const stacks: ProcessStack[] = [];
afterAll(async () => {
  await Promise.all(stacks.map((s) => s.stop()));
}, 60_000);

const note = (line: string) => process.stdout.write(`[apply-crash] ${line}\n`);

/** Members who deny themselves although their recommendation is Approve. */
const selfDenies = (i: number) => i % 50 === 1;
/** Every 3rd member has not signed in for years: recommendation (and so default decision) Deny. */
const stale = (i: number) => i % 3 === 0;
const denied = (i: number) => stale(i) || selfDenies(i);

/** The ledger's results: Pending marks a directory write about to happen, only a result says it was applied. */
async function ledgerResults(stack: ProcessStack) {
  return (await stack.ledgerEntries()).filter((e) => e.entry !== 'Pending');
}

/** One attempt: a review of `members`, stopped, the worker killed mid-apply. Undefined when the kill missed. */
async function applyWithCrash(members: number) {
  const stack = new ProcessStack({ members, name: 'apply-crash' });
  stacks.push(stack);
  await stack.start();
  const api = new ResilienceApi(stack);
  const { memberIds, groupId } = stack.tenant;
  const { base, instanceId } = await api.startReview({
    displayName: `Apply crash review (${members} members)`,
    scope: { query: `/groups/${groupId}/transitiveMembers`, queryType: 'MicrosoftGraph' },
    settings: {
      instanceDurationInDays: 7,
      autoApplyDecisionsEnabled: true,
      recommendationsEnabled: true,
      defaultDecisionEnabled: true,
      defaultDecision: 'Recommendation',
    },
  });
  const items = await api.decisions(base);
  expect(items.size).toBe(members);
  const selfDeniers = memberIds.map((_, i) => i).filter(selfDenies);
  await forEachConcurrently(selfDeniers, 4, async (i) => {
    const res = await api.call('PATCH', `${base}/decisions/${items.get(memberIds[i]!)!.id}`, {
      as: await stack.auth(memberIds[i]!),
      body: { decision: 'Deny', justification: 'no longer needed' },
    });
    expect(res.status).toBe(204);
  });
  const deniedIds = memberIds.filter((_, i) => denied(i));
  const deniedKeys = new Set(deniedIds.map((id) => `${instanceId}/${items.get(id)!.id}`));

  // Stop, then watch the ledger: kill once a tenth of the denials are applied and before all are.
  const admin = await api.admin();
  const seen: string[] = [];
  let watching = true;
  const statusWatch = (async () => {
    while (watching) {
      const status = await api.status(base, 10_000).catch(() => 'unanswered');
      if (seen.at(-1) !== status) seen.push(status);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const stopped = await api.call('POST', `${base}/stop`, { as: admin });
  expect(stopped.status).toBe(204);
  const applying = await pollUntil(
    async () => (await ledgerResults(stack)).length,
    (n) => n >= Math.max(1, deniedKeys.size / 10),
    'the first applied denials in the ledger',
    { timeoutMs: 60_000, intervalMs: 2 },
  );
  await stack.killWorker();
  const killedAt = Date.now();
  watching = false; // its request in flight now waits for a worker; it is awaited below
  const seenBeforeKill = [...seen];
  const atKill = (await ledgerResults(stack)).length;
  note(
    `${members} members, ${deniedKeys.size} denied: SIGKILL with ${applying}→${atKill} ledger results; ` +
      `statuses seen before the kill: ${seenBeforeKill.join(' → ')}`,
  );
  if (atKill >= deniedKeys.size) {
    note(`the kill came after the apply had finished (${atKill}/${deniedKeys.size}): not caught`);
    await statusWatch;
    await stack.stop();
    return undefined;
  }

  await stack.startWorker();
  // Still Applying: the killed attempt is only retried once its heartbeat times out. The API may answer
  // 503 for a moment after the restart (it remembers for a second that no worker answered).
  const afterRestart = await pollUntil(
    () => api.status(base),
    () => true,
    'the instance after the restart',
  );
  await api.untilStatus(base, 'Applied', 240_000);
  note(`Applied ${Math.round((Date.now() - killedAt) / 1000)} s after the kill`);
  await statusWatch;
  return { stack, api, base, items, deniedIds, deniedKeys, atKill, afterRestart, seen: seenBeforeKill };
}

describe('a worker crash while decisions are applied', () => {
  it('removes every denied member exactly once when the worker is killed while applying', async () => {
    let run: Awaited<ReturnType<typeof applyWithCrash>>;
    for (const members of [600, 2000]) {
      run = await applyWithCrash(members);
      if (run) break;
    }
    if (!run) throw new Error('the worker was never killed inside the apply window (600 and 2,000 members)');
    const { stack, api, base, items, deniedIds, deniedKeys, atKill, afterRestart, seen } = run;

    // The crash hit the apply: it had started (ledger results) and not finished, and the instance said so.
    expect(atKill).toBeGreaterThan(0);
    expect(atKill).toBeLessThan(deniedKeys.size);
    expect(afterRestart).toBe('Applying');
    expect(seen).not.toContain('Applied');

    // The directory: every denied member is gone, every approved one is still there.
    const directory = await EmbeddedDirectory.open({ stateFile: stack.stateFile, seedFile: stack.seedFile });
    const remaining = new Set((await directory.getGroup(stack.tenant.groupId))!.memberIds);
    const approvedIds = stack.tenant.memberIds.filter((_, i) => !denied(i));
    expect(deniedIds.filter((id) => remaining.has(id))).toEqual([]);
    expect(approvedIds.filter((id) => !remaining.has(id))).toEqual([]);
    expect(remaining.size).toBe(approvedIds.length);

    // The ledger: one entry per denied item (the key is the table's primary key), none left Pending, all
    // applied on the first attempt at the directory.
    const entries = await stack.ledgerEntries();
    expect(new Set(entries.map((e) => e.key))).toEqual(deniedKeys);
    expect(entries.filter((e) => e.entry !== 'AppliedSuccessfully')).toEqual([]);

    // The decision items: every final decision as expected and applied once (a second removal of an
    // already removed member would say AppliedSuccessfullyButObjectNotFound).
    const final = await api.decisions(base);
    const wrong = stack.tenant.memberIds.flatMap((id, i) => {
      const d = final.get(id);
      const expected = denied(i) ? 'Deny' : 'Approve';
      return d?.decision === expected && d.applyResult === 'AppliedSuccessfully'
        ? []
        : [{ member: i, item: items.get(id)?.id, decision: d?.decision, applyResult: d?.applyResult }];
    });
    expect(wrong).toEqual([]);
  }, 600_000);
});
