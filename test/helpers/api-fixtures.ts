import request from 'supertest';
import { until } from './review-harness';
import type { Stack } from './stack';

/** Demo tenant ids (docs/demo-tenant.md) the HTTP tests use. */
export const DEMO = {
  PATTI: 'f644c791-1b7c-4ab5-bcda-1fd65cc7538c',
  DEBRA: 'a2b28cb2-7c3e-4e13-a97e-2c7b7667d2fb',
  DIEGO: '0b286f07-2b2a-43cd-a0d8-2051f4ab3be7',
  LEE: '7c32e15c-d4d0-49aa-9eb3-0793e032aa70',
  ENRICO: 'aae1fc72-720e-4f0f-9561-a6bb7440df38',
  FIONA: '37786b28-5a06-426d-9b86-87bda3d6f3aa',
  LAURA: 'f86e595a-d843-4193-aa1d-f6f8d3f11294',
  FATIMA: '17559d9d-73eb-4c87-840c-3c5417a6d75f',
  MEGAN: 'd3ba6514-92d0-4ae4-bf0b-503c75a0026f',
  LIDIA: '342f1eed-0b19-49da-a584-f75c74f0c377',
  GRADY: 'adc3d67a-686c-4e71-8e88-47c1700e8674',
  HENRIETTA: 'ccf13fa8-405e-47a3-90b6-4dada6968d38',
  IRVIN: 'c706d080-793c-4117-9d17-4381ac334cf3',
  FINANCE: '56b642ff-312b-4458-9263-d915740b44fe',
  AUDITORS: '24d6edbb-9d02-4c63-a78a-8a9d75ca9108',
  SALESFORCE: '64e8821c-0e55-4631-bea6-fae1a68106bc',
} as const;

/** Finance Team members whose manager is Diego (his stage-2 items in a manager review). */
export const DIEGO_REPORTS_IN_FINANCE = [
  DEMO.LEE,
  'dafb101b-0f06-499b-8e93-560a56a7b500',
  DEMO.ENRICO,
  'b2461037-5b2c-442c-ad74-74d39fa6add2',
  'e8c69fb7-bfa7-480e-b1ad-28313be5871c',
  '775bacfa-392e-4200-a7e0-af6d52b42e9f',
  'd329f20f-01a2-46b6-878d-b9eef376ad17',
];
export const FINANCE_TEAM_SIZE = 11;

export const REVIEWS = '/v1.0/identityGovernance/accessReviews';

/**
 * A two-stage review of the Finance Team: stage 1 reviewed by one named user, stage 2 by managers with
 * the Contoso Auditors as fallback (Fatima has no manager). Overrides are merged into `settings`.
 */
export function twoStageReview(
  stage1Reviewer: string,
  settings: Record<string, unknown> = {},
  stage1: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    displayName: 'Finance Team two-stage review',
    descriptionForAdmins: 'HTTP test',
    scope: {
      '@odata.type': '#microsoft.graph.accessReviewQueryScope',
      query: `/groups/${DEMO.FINANCE}/transitiveMembers`,
      queryType: 'MicrosoftGraph',
    },
    stageSettings: [
      {
        stageId: '1',
        durationInDays: 3,
        decisionsThatWillMoveToNextStage: ['NotReviewed', 'Approve'],
        reviewers: [{ query: `/users/${stage1Reviewer}`, queryType: 'MicrosoftGraph' }],
        ...stage1,
      },
      {
        stageId: '2',
        dependsOn: ['1'],
        durationInDays: 3,
        reviewers: [{ query: './manager', queryType: 'MicrosoftGraph', queryRoot: 'decisions' }],
        fallbackReviewers: [
          { query: `/groups/${DEMO.AUDITORS}/transitiveMembers`, queryType: 'MicrosoftGraph' },
        ],
      },
    ],
    settings: { instanceDurationInDays: 0, ...settings },
  };
}

/** A started review: its definition, its one instance and the instance's API path. */
export interface StartedReview {
  definitionId: string;
  instanceId: string;
  /** `/v1.0/identityGovernance/accessReviews/definitions/{id}/instances/{id}` */
  base: string;
}

/** HTTP helpers over a running stack. */
export class Api {
  constructor(private readonly stack: Stack) {}

  http() {
    return request(this.stack.baseUrl);
  }

  /** Authorization header for a demo user (admins get the admin role). */
  async as(userId: string, admin = false): Promise<{ authorization: string }> {
    return { authorization: `Bearer ${await this.stack.token(userId, admin)}` };
  }

  admin() {
    return this.as(DEMO.PATTI, true);
  }

  /** Creates a definition as the admin and waits until its first instance's stage 1 is InProgress. */
  async startReview(body: Record<string, unknown>): Promise<StartedReview> {
    const admin = await this.admin();
    const created = await this.http().post(`${REVIEWS}/definitions`).set(admin).send(body);
    if (created.status !== 201) {
      throw new Error(`create failed: ${created.status} ${JSON.stringify(created.body)}`);
    }
    const definitionId = created.body.id as string;
    const list = await until(
      () => this.http().get(`${REVIEWS}/definitions/${definitionId}/instances`).set(admin),
      (r) => r.status === 200 && r.body.value.length === 1,
      'instance started',
    );
    const instanceId = list.body.value[0].id as string;
    const base = `${REVIEWS}/definitions/${definitionId}/instances/${instanceId}`;
    await this.untilStage(base, '1', 'InProgress');
    return { definitionId, instanceId, base };
  }

  /** Waits until a stage has the given status (as the admin sees it). */
  async untilStage(base: string, stageId: string, status: string) {
    const admin = await this.admin();
    return until(
      () => this.http().get(`${base}/stages/${stageId}`).set(admin),
      (r) => r.status === 200 && r.body.status === status,
      `stage ${stageId} ${status}`,
    );
  }

  /** Waits until the instance has the given status (as the admin sees it). */
  async untilInstance(base: string, status: string) {
    const admin = await this.admin();
    return until(
      () => this.http().get(base).set(admin),
      (r) => r.status === 200 && r.body.status === status,
      `instance ${status}`,
    );
  }

  /** All decision items of an instance (or stage) as the admin sees them, keyed by principal id. */
  async decisionsByPrincipal(base: string, stageId?: string): Promise<Record<string, DecisionItem>> {
    const path = stageId ? `${base}/stages/${stageId}/decisions` : `${base}/decisions`;
    const res = await this.http()
      .get(path)
      .query({ $top: 1000 })
      .set(await this.admin());
    if (res.status !== 200) throw new Error(`decisions: ${res.status} ${JSON.stringify(res.body)}`);
    return Object.fromEntries((res.body.value as DecisionItem[]).map((d) => [d.principal.id, d]));
  }

  /** Waits until the admin view of the decisions satisfies `ok`. */
  async untilDecisions(
    base: string,
    ok: (byPrincipal: Record<string, DecisionItem>) => boolean,
    what: string,
    stageId?: string,
  ) {
    return until(() => this.decisionsByPrincipal(base, stageId), ok, what);
  }
}

/** The decision item fields the tests look at. */
export interface DecisionItem {
  id: string;
  decision: string;
  justification: string | null;
  recommendation: string | null;
  reviewedDateTime: string | null;
  reviewedBy: { id: string } | null;
  applyResult: string;
  principal: { id: string; displayName: string };
}

/** Asserts a Graph-style error body and returns it. */
export function expectError(res: { status: number; body: unknown }, status: number, code: string) {
  expect({ status: res.status, code: (res.body as { error?: { code?: string } }).error?.code }).toEqual({
    status,
    code,
  });
  expect(typeof (res.body as { error: { message: unknown } }).error.message).toBe('string');
}
