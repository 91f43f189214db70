import type { Context, Middleware } from '@microsoft/microsoft-graph-client';
import {
  Client,
  GraphError,
  HTTPMessageHandler,
  RedirectHandler,
  RetryHandler,
} from '@microsoft/microsoft-graph-client';
import type {
  AccessReviewInstance,
  AccessReviewInstanceDecisionItem,
  AccessReviewScheduleDefinition,
  Entity,
} from '@microsoft/microsoft-graph-types';
import { DEMO } from './api-fixtures';
import { until } from './review-harness';
import type { Stack } from './stack';

/** The access reviews API relative to the SDK's base URL and version. */
export const REVIEWS = '/identityGovernance/accessReviews';
export const PRADEEP = '2fd7f495-0ebb-4229-b124-13948878969d';

/** A Graph model as it arrives on the wire: with its OData annotations. */
export type OData<T> = T & { '@odata.type'?: string; '@odata.context'?: string };
/** A Graph collection response. */
export interface Collection<T> {
  '@odata.context'?: string;
  '@odata.count'?: number;
  '@odata.nextLink'?: string;
  value: OData<T>[];
}

/** `@odata.type` of a nested object (the graph-types models do not declare it). */
export const typeOf = (o: unknown): string | undefined =>
  (o as { '@odata.type'?: string } | null | undefined)?.['@odata.type'];

/**
 * Sends the bearer token. The SDK's AuthenticationHandler only attaches tokens to https hosts it knows;
 * the test stack serves plain http on 127.0.0.1 (see test/api/graph-client.test.ts).
 */
export class BearerToken implements Middleware {
  private next: Middleware | undefined;
  constructor(private readonly token: string) {}

  async execute(context: Context): Promise<void> {
    const headers = { ...(context.options?.headers as Record<string, string> | undefined) };
    headers.Authorization = `Bearer ${this.token}`;
    context.options = { ...context.options, headers };
    await this.next!.execute(context);
  }

  setNext(next: Middleware): void {
    this.next = next;
  }
}

/** A Graph SDK client for a demo user, pointed at the stack. */
export async function graphClient(stack: Stack, userId: string, admin = false): Promise<Client> {
  const token = await stack.token(userId, admin);
  return Client.initWithMiddleware({
    baseUrl: `${stack.baseUrl}/`,
    defaultVersion: 'v1.0',
    middleware: [new BearerToken(token), new RetryHandler(), new RedirectHandler(), new HTTPMessageHandler()],
  });
}

/** The GraphError an SDK call fails with. */
export async function graphError(call: Promise<unknown>): Promise<GraphError> {
  try {
    await call;
  } catch (err) {
    if (err instanceof GraphError) return err;
    throw err;
  }
  throw new Error('expected the call to fail');
}

/** Every item of a list (one page of up to 1000). */
export async function all<T extends Entity>(client: Client, path: string): Promise<OData<T>[]> {
  return ((await client.api(path).top(1000).get()) as Collection<T>).value;
}

const graph = { queryType: 'MicrosoftGraph' };
export const userScope = (id: string) => ({ query: `/users/${id}`, ...graph });
export const lastSignIn = (duration: string) => [
  {
    '@odata.type': '#microsoft.graph.userLastSignInRecommendationInsightSetting',
    recommendationLookBackDuration: duration,
    signInScope: 'tenant',
  },
];

/**
 * The reviews of the OData tests. No object in their bodies carries `@odata.type`.
 * - finance: the Finance Team, reviewed by Debra with last-sign-in recommendations (P60D), in progress;
 *   Debra approved Lee, denied Enrico and Fiona and answered DontKnow for Laura.
 * - salesforce: the users assigned to Salesforce, reviewed by Debra, who denied Pradeep; stopped (Completed).
 * - staged: a one-stage review of the Finance Team with stage-level insight settings and an
 *   instanceEnumerationScope, in progress.
 */
export const BODIES = {
  finance: {
    displayName: 'OData finance review',
    scope: { query: `/groups/${DEMO.FINANCE}/transitiveMembers`, ...graph },
    reviewers: [userScope(DEMO.DEBRA)],
    fallbackReviewers: [{ query: `/groups/${DEMO.AUDITORS}/transitiveMembers`, ...graph }],
    settings: {
      instanceDurationInDays: 3,
      recommendationsEnabled: true,
      recommendationInsightSettings: lastSignIn('P60D'),
    },
  },
  salesforce: {
    displayName: 'OData salesforce review',
    scope: { query: `/servicePrincipals/${DEMO.SALESFORCE}/appRoleAssignedTo`, ...graph },
    reviewers: [userScope(DEMO.DEBRA)],
    settings: { instanceDurationInDays: 5 },
  },
  staged: {
    displayName: 'OData staged review',
    scope: { query: `/groups/${DEMO.FINANCE}/transitiveMembers`, ...graph },
    instanceEnumerationScope: { query: `/groups/${DEMO.FINANCE}`, ...graph },
    stageSettings: [
      {
        stageId: '1',
        durationInDays: 3,
        recommendationsEnabled: true,
        recommendationInsightSettings: lastSignIn('P30D'),
        reviewers: [userScope(DEMO.DEBRA)],
        fallbackReviewers: [{ query: `/groups/${DEMO.AUDITORS}/transitiveMembers`, ...graph }],
      },
    ],
    settings: { instanceDurationInDays: 0, recommendationInsightSettings: lastSignIn('P45D') },
  },
};

export interface SeededReview {
  definitionId: string;
  instanceId: string;
  /** The instance's path, relative to the SDK's version. */
  base: string;
  /** Decision item ids by principal id. */
  items: Record<string, string>;
}
export type Seeded = Record<keyof typeof BODIES, SeededReview>;

async function start(admin: Client, debra: Client, body: object): Promise<SeededReview> {
  const created = (await admin.api(`${REVIEWS}/definitions`).post(body)) as AccessReviewScheduleDefinition;
  const definitionId = created.id!;
  const instances = await until(
    () =>
      admin.api(`${REVIEWS}/definitions/${definitionId}/instances`).get() as Promise<
        Collection<AccessReviewInstance>
      >,
    (r) => r.value.length === 1 && r.value[0]!.status === 'InProgress',
    `${created.displayName} InProgress`,
  );
  const instanceId = instances.value[0]!.id!;
  const base = `${REVIEWS}/definitions/${definitionId}/instances/${instanceId}`;
  await until(
    () => admin.api(`${base}/stages/1`).get() as Promise<{ status: string }>,
    (s) => s.status === 'InProgress',
    `${created.displayName} stage 1 InProgress`,
  );
  const mine = await all<AccessReviewInstanceDecisionItem>(
    debra,
    `${base}/decisions/filterByCurrentUser(on='reviewer')`,
  );
  const items = Object.fromEntries(mine.map((d) => [d.principal!.id!, d.id!]));
  return { definitionId, instanceId, base, items };
}

/** Creates the three reviews, records Debra's decisions and stops the Salesforce review. */
export async function seedReviews(stack: Stack): Promise<Seeded> {
  const admin = await graphClient(stack, DEMO.PATTI, true);
  const debra = await graphClient(stack, DEMO.DEBRA);
  const finance = await start(admin, debra, BODIES.finance);
  const salesforce = await start(admin, debra, BODIES.salesforce);
  const staged = await start(admin, debra, BODIES.staged);
  const decide = (review: SeededReview, principal: string, decision: string) =>
    debra
      .api(`${review.base}/decisions/${review.items[principal]}`)
      .patch({ decision, justification: `${decision} by the OData test` });
  await decide(finance, DEMO.LEE, 'Approve');
  await decide(finance, DEMO.ENRICO, 'Deny');
  await decide(finance, DEMO.FIONA, 'Deny');
  await decide(finance, DEMO.LAURA, 'DontKnow');
  await decide(salesforce, PRADEEP, 'Deny');
  await admin.api(`${salesforce.base}/stop`).post({});
  await until(
    () => admin.api(salesforce.base).get() as Promise<AccessReviewInstance>,
    (i) => i.status === 'Completed',
    'salesforce review Completed',
  );
  return { finance, salesforce, staged };
}
