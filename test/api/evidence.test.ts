import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { instanceWorkflowId, shardWorkflowId } from '../../src/domain/ids';
import type { EvidenceRecord } from '../../src/domain/evidence';
import type { DecisionItem, StartedReview } from '../helpers/api-fixtures';
import { Api, DEMO, expectError, FINANCE_TEAM_SIZE, twoStageReview } from '../helpers/api-fixtures';
import type { Stack } from '../helpers/stack';
import { startStack } from '../helpers/stack';
import { parseCsv } from '../helpers/csv';
import { deleteWorkflows } from '../helpers/temporal';

// An auditor's evidence of a finished two-stage review, exported from the records in PostgreSQL after
// Temporal deleted the review's workflows, and checked with `npm run verify-evidence`.

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');
const SHARD_SIZE = 4;

/** Runs the documented command on a file: its exit code and what it printed. */
async function verifyEvidence(file: string): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await run('npm', ['run', '--silent', 'verify-evidence', '--', file], { cwd: ROOT });
    return { code: 0, out: stdout.trim() };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}`.trim() };
  }
}

const withoutChain = ({ prevHash: _p, hash: _h, ...rest }: EvidenceRecord) => rest;

describe('audit evidence of a finished multi-stage review (records in PostgreSQL, sharded)', () => {
  let stack: Stack;
  let api: Api;
  let review: StartedReview;
  let evidencePath: string;
  let csvPath: string;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'stagecoach-evidence-'));
  let instanceItems: Record<string, DecisionItem>;
  let stageItems: Record<string, Record<string, DecisionItem>>;

  beforeAll(async () => {
    stack = await startStack(undefined, { shardSize: SHARD_SIZE, records: 'postgres' });
    api = new Api(stack);
    const definition = twoStageReview(DEMO.DEBRA, { autoApplyDecisionsEnabled: true });
    (definition.stageSettings as Record<string, unknown>[])[1]!.recommendationsEnabled = true;
    review = await api.startReview(definition);
    const admin = await api.admin();
    const items = await api.untilDecisions(
      review.base,
      (d) => Object.keys(d).length === FINANCE_TEAM_SIZE,
      'every item listed',
    );
    const decide = async (reviewer: string, principal: string, decision: string, justification: string) =>
      api
        .http()
        .patch(`${review.base}/decisions/${items[principal]!.id}`)
        .set(await api.as(reviewer))
        .send({ decision, justification })
        .expect(204);
    // Stage 1 (Debra): Lee is denied and stays out of stage 2; Enrico approved and moves on.
    await decide(DEMO.DEBRA, DEMO.LEE, 'Deny', 'Left the finance team');
    await decide(DEMO.DEBRA, DEMO.ENRICO, 'Approve', 'Still in finance');
    await api.http().post(`${review.base}/stages/1/stop`).set(admin).expect(204);
    await api.untilStage(review.base, '2', 'InProgress');
    // Stage 2 (managers): Diego denies Enrico, then accepts the recommendations of his other reports.
    await api.untilDecisions(review.base, (d) => d[DEMO.ENRICO] !== undefined, 'stage 2 items', '2');
    await decide(DEMO.DIEGO, DEMO.ENRICO, 'Deny', 'Moved to sales');
    await api
      .http()
      .post(`${review.base}/stages/2/acceptRecommendations`)
      .set(await api.as(DEMO.DIEGO))
      .expect(204);
    await api.http().post(`${review.base}/stop`).set(admin).expect(204);
    await api.untilInstance(review.base, 'Applied');
    instanceItems = await api.decisionsByPrincipal(review.base);
    stageItems = {
      '1': await api.decisionsByPrincipal(review.base, '1'),
      '2': await api.decisionsByPrincipal(review.base, '2'),
    };

    // Temporal deletes closed workflows after its retention; the evidence must not need them.
    const workflowId = instanceWorkflowId(review.definitionId, review.instanceId);
    const ids = [
      workflowId,
      ...Array.from({ length: Math.ceil(FINANCE_TEAM_SIZE / SHARD_SIZE) }, (_, k) =>
        shardWorkflowId(workflowId, k),
      ),
    ];
    await deleteWorkflows(stack.env.client, ids);
    evidencePath = path.join(dir, 'evidence.json');
    csvPath = path.join(dir, 'evidence.csv');
  }, 300_000);

  afterAll(async () => {
    await stack?.stop();
  });

  const get = async (suffix: string) =>
    api
      .http()
      .get(`${review.base}/${suffix}`)
      .set(await api.admin())
      .buffer(true)
      .parse((res, done) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => done(null, text));
      });

  it('exports every item with its trail across stages, as the decisions were made and applied', async () => {
    const res = await get('evidence');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers['content-disposition']).toBe(
      `attachment; filename="access-review-evidence-${review.instanceId}.json"`,
    );
    writeFileSync(evidencePath, res.body as string);
    const file = JSON.parse(res.body as string);

    expect(file.header).toMatchObject({
      definitionId: review.definitionId,
      instanceId: review.instanceId,
      displayName: 'Finance Team two-stage review',
      status: 'Applied',
      scope: { resourceType: 'group', resourceId: DEMO.FINANCE, resourceDisplayName: 'Finance Team' },
      settings: { autoApplyDecisionsEnabled: true, denyAction: 'removeAccess' },
      itemCount: FINANCE_TEAM_SIZE,
    });
    expect(file.header.stages.map((s: { stageId: string; status: string }) => [s.stageId, s.status])).toEqual(
      [
        ['1', 'Completed'],
        ['2', 'Completed'],
      ],
    );
    expect(file.header.stages[0].reviewers).toEqual([{ kind: 'user', userId: DEMO.DEBRA }]);

    const records = file.records as EvidenceRecord[];
    expect(records).toHaveLength(FINANCE_TEAM_SIZE);
    expect(records.map((r) => r.sequence)).toEqual(records.map((_, i) => i + 1));
    expect(file.digest).toEqual({ recordCount: FINANCE_TEAM_SIZE, finalHash: records.at(-1)!.hash });

    const members = new Set(
      (await stack.directory.listGroupTransitiveMembers(DEMO.FINANCE))!.map((u) => u.id),
    );
    for (const r of records) {
      const api = instanceItems[r.principal.id]!;
      expect({
        itemId: r.itemId,
        decision: r.decision,
        reviewedBy: r.reviewedBy?.id ?? null,
        reviewedDateTime: r.reviewedDateTime,
        justification: r.justification,
        applyResult: r.applyResult,
      }).toEqual({
        itemId: api.id,
        decision: api.decision,
        reviewedBy: api.reviewedBy?.id ?? null,
        reviewedDateTime: api.reviewedDateTime,
        justification: api.justification,
        applyResult: api.applyResult,
      });
      for (const s of r.stages) {
        const inStage = stageItems[s.stageId]![r.principal.id]!;
        expect({
          decision: s.decision,
          by: s.reviewedBy?.id ?? null,
          justification: s.justification,
        }).toEqual({
          decision: inStage.decision,
          by: inStage.reviewedBy?.id ?? null,
          justification: inStage.justification,
        });
        expect(s.reviewers.length).toBeGreaterThan(0);
        expect(s.reviewers.every((p) => typeof p.displayName === 'string')).toBe(true);
      }
      // Only denials reach the directory; what it held right after agrees with what it holds now.
      if (r.decision === 'Deny') {
        expect(r.directoryState).toEqual({
          check: 'groupMembership',
          groupId: DEMO.FINANCE,
          groupFound: true,
          directMember: false,
          transitiveMember: false,
          observedDateTime: expect.any(String),
        });
        expect(members.has(r.principal.id)).toBe(false);
        expect(Date.parse(r.directoryState!.observedDateTime)).toBeGreaterThanOrEqual(
          Date.parse(r.appliedDateTime!) - 60_000,
        );
      } else {
        expect(r.directoryState).toBeNull();
        expect(members.has(r.principal.id)).toBe(true);
      }
    }

    const byPrincipal = Object.fromEntries(records.map((r) => [r.principal.id, r]));
    const lee = byPrincipal[DEMO.LEE]!;
    expect(lee).toMatchObject({
      decision: 'Deny',
      decisionSource: 'reviewer',
      justification: 'Left the finance team',
      applyResult: 'AppliedSuccessfully',
      // Auto-applied when the admin stopped the review: the system applied it.
      appliedBy: { id: 'system', displayName: 'Stagecoach' },
    });
    expect(lee.stages.map((s) => s.stageId)).toEqual(['1']);
    expect(lee.stages[0]!.reviewers).toEqual([
      {
        id: DEMO.DEBRA,
        displayName: expect.stringContaining('Debra'),
        userPrincipalName: expect.any(String),
      },
    ]);
    const enrico = byPrincipal[DEMO.ENRICO]!;
    expect(
      enrico.stages.map((s) => [s.stageId, s.decision, s.decisionSource, s.reviewedBy?.id, s.justification]),
    ).toEqual([
      ['1', 'Approve', 'reviewer', DEMO.DEBRA, 'Still in finance'],
      ['2', 'Deny', 'reviewer', DEMO.DIEGO, 'Moved to sales'],
    ]);
    expect(enrico.stages[1]!.reviewers.map((p) => p.id)).toContain(DEMO.DIEGO);
    expect(enrico).toMatchObject({
      decision: 'Deny',
      decisionSource: 'reviewer',
      applyResult: 'AppliedSuccessfully',
    });
    // Diego's other reports in stage 2 were decided by accepting their recommendations.
    const accepted = records.filter(
      (r) => r.principal.id !== DEMO.ENRICO && r.stages[1]?.reviewedBy?.id === DEMO.DIEGO,
    );
    expect(accepted.length).toBeGreaterThan(0);
    for (const r of accepted) {
      expect(r.stages[1]).toMatchObject({
        decisionSource: 'recommendation',
        decision: r.stages[1]!.recommendation,
      });
      expect(r.decisionSource).toBe('recommendation');
    }
  });

  it('exports the same trail as CSV, one row per item', async () => {
    const res = await get('evidence/csv');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    writeFileSync(csvPath, res.body as string);
    const rows = parseCsv(res.body as string);
    const [columns, instance, ...rest] = rows;
    const trailer = rest.pop()!;
    expect(instance![0]).toBe('accessReviewInstance');
    expect(JSON.parse(instance![columns!.indexOf('details')]!)).toMatchObject({
      instanceId: review.instanceId,
    });
    expect(trailer).toEqual([
      'digest',
      `recordCount=${FINANCE_TEAM_SIZE}`,
      expect.stringMatching(/^finalHash=[0-9a-f]{64}$/),
    ]);
    const json = JSON.parse(readFileSync(evidencePath, 'utf8')).records as EvidenceRecord[];
    expect(rest).toHaveLength(json.length);
    const col = (row: string[], name: string) => row[columns!.indexOf(name)];
    rest.forEach((row, i) => {
      const r = json[i]!;
      expect({
        itemId: col(row, 'itemId'),
        decision: col(row, 'decision'),
        reviewedById: col(row, 'reviewedById'),
        justification: col(row, 'justification'),
        applyResult: col(row, 'applyResult'),
        stage1Decision: col(row, 'stage1Decision'),
        stage2Decision: col(row, 'stage2Decision'),
        transitiveMember: col(row, 'transitiveMember'),
      }).toEqual({
        itemId: r.itemId,
        decision: r.decision,
        reviewedById: r.reviewedBy?.id ?? '',
        justification: r.justification ?? '',
        applyResult: r.applyResult,
        stage1Decision: r.stages.find((s) => s.stageId === '1')?.decision ?? '',
        stage2Decision: r.stages.find((s) => s.stageId === '2')?.decision ?? '',
        transitiveMember:
          r.directoryState?.check === 'groupMembership' ? String(r.directoryState.transitiveMember) : '',
      });
    });
  });

  it('verifies with `npm run verify-evidence`, and fails once a byte of a record or the digest changes', async () => {
    const json = readFileSync(evidencePath, 'utf8');
    const digest = JSON.parse(json).digest.finalHash as string;
    expect(await verifyEvidence(evidencePath)).toEqual({
      code: 0,
      out: `verified ${FINANCE_TEAM_SIZE} records, digest ${digest}`,
    });
    const csv = readFileSync(csvPath, 'utf8');
    const csvDigest = /finalHash=([0-9a-f]{64})/.exec(csv)![1];
    expect(await verifyEvidence(csvPath)).toEqual({
      code: 0,
      out: `verified ${FINANCE_TEAM_SIZE} records, digest ${csvDigest}`,
    });

    const tampered = path.join(dir, 'tampered.json');
    writeFileSync(
      tampered,
      json.replace('"justification":"Left the finance team"', '"justification":"Left the finance tean"'),
    );
    const bad = await verifyEvidence(tampered);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/line \d+ \(record \d+\): hash does not match the record/);

    const tamperedCsv = path.join(dir, 'tampered.csv');
    writeFileSync(tamperedCsv, csv.replace(/recordCount=\d+/, `recordCount=${FINANCE_TEAM_SIZE - 1}`));
    const badCsv = await verifyEvidence(tamperedCsv);
    expect(badCsv.code).toBe(1);
    expect(badCsv.out).toMatch(/the trailer does not say/);
  }, 60_000);

  it('exports the same records again (nothing depends on the deleted workflows)', async () => {
    const again = JSON.parse((await get('evidence')).body as string);
    const first = JSON.parse(readFileSync(evidencePath, 'utf8'));
    expect((again.records as EvidenceRecord[]).map(withoutChain)).toEqual(
      (first.records as EvidenceRecord[]).map(withoutChain),
    );
  });

  it('is for administrators only, and 404 for an instance the records do not know', async () => {
    const reviewer = await api.as(DEMO.DEBRA);
    for (const suffix of ['evidence', 'evidence/csv']) {
      expectError(await api.http().get(`${review.base}/${suffix}`).set(reviewer), 403, 'auth.admin_required');
      const unknown = review.base.replace(review.instanceId, '00000000-0000-0000-0000-000000000000');
      expectError(
        await api
          .http()
          .get(`${unknown}/${suffix}`)
          .set(await api.admin()),
        404,
        'instance.not_found',
      );
      const otherDefinition = review.base.replace(
        review.definitionId,
        '00000000-0000-0000-0000-000000000000',
      );
      expectError(
        await api
          .http()
          .get(`${otherDefinition}/${suffix}`)
          .set(await api.admin()),
        404,
        'instance.not_found',
      );
    }
  });
});
