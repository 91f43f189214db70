import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { StartedReview } from '../helpers/api-fixtures';
import { Api, DEMO, REVIEWS, twoStageReview } from '../helpers/api-fixtures';
import type { OperationParameters } from '../helpers/schemathesis';
import {
  runSchemathesis,
  schemathesisConfig,
  schemathesisExecutable,
  schemathesisPin,
  writeFileIn,
} from '../helpers/schemathesis';
import type { Stack } from '../helpers/stack';
import { startStack } from '../helpers/stack';

// Schemathesis (pinned in scripts/schemathesis-version.json, provisioned by `npm test`) against the
// served /openapi.json, once as an administrator and once as a reviewer: any 5xx, undocumented status
// code, content type that is not the documented one, or body that does not match its documented schema
// fails the test, which prints Schemathesis's failure summary (its curl reproductions included).

const ADMIN = DEMO.PATTI;
const REVIEWER = DEMO.MEGAN;
const SALESFORCE_ASSIGNMENTS = `/servicePrincipals/${DEMO.SALESFORCE}/appRoleAssignedTo`;

/** Each run is killed after this; both together normally take well under three minutes on 2 cores. */
const RUN_TIMEOUT_MS = 150_000;

const CHECKS = [
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_schema_conformance',
];

/**
 * The CLI flags of both runs; the token and the path parameters are in the config file. No operation is
 * excluded: the destructive ones are pointed at reviews of their own instead (see the admin run).
 */
function cliArgs(baseUrl: string): string[] {
  return [
    `${baseUrl}/openapi.json`,
    `--checks=${CHECKS.join(',')}`,
    '--phases=examples,coverage,fuzzing,stateful',
    '--max-examples=10',
    // Every distinct failure of an operation, not only its first one.
    '--continue-on-failure',
    // Same inputs every run and no example database (implied): a failure here is reproducible.
    '--generation-deterministic',
    '--request-timeout=10',
    // One operation at a time: with two workers Schemathesis 4.32.5 once failed POST definitions with an
    // internal Hypothesis error (FlakyFailure from a KeyError in its lambda-source cache), which is not a
    // finding about the API; sequential runs take only about 10 % longer here.
    '--workers=1',
  ];
}

/**
 * Operations that create definitions: each accepted body starts a review workflow, and the coverage
 * phase's positive variants of the documented example are about a hundred accepted creates, which load
 * the worker and make every definitions `filterByCurrentUser` call slower for the rest of the run (it
 * reads every definition). Positive creates still come from the examples and fuzzing phases; coverage
 * only sends invalid bodies there.
 */
const CREATE_BOUNDS = `
[[operations]]
include-operation-id = "definitions.create"
phases.coverage.generation.mode = "negative"
`;

let stack: Stack;
let api: Api;
let dir: string;
let reviews: Record<'admin' | 'reviewersChanged' | 'stopped' | 'deleted' | 'reviewer', StartedReview>;
/** Decided items (Lee's, denied) the runs read: the admin's in `reviews.admin`, Megan's in `reviews.reviewer`. */
let decided: { admin: string; reviewer: string };
/** Set when a run fails: its config and full output stay in `dir` then. */
let keepOutput = false;

/** The decision item id of a principal in a review, as the admin lists it. */
async function itemOf(review: StartedReview, principalId: string): Promise<string> {
  const item = (await api.decisionsByPrincipal(review.base))[principalId];
  if (!item) throw new Error(`no item for ${principalId} in ${review.base}`);
  return item.id;
}

/** Records a decision through the API, so the runs read decided items too. */
async function decide(review: StartedReview, reviewerId: string, principalId: string): Promise<string> {
  const itemId = await itemOf(review, principalId);
  const res = await api
    .http()
    .patch(`${review.base}/decisions/${itemId}`)
    .set(await api.as(reviewerId))
    .send({ decision: 'Deny', justification: 'Left the team' });
  if (res.status !== 204) throw new Error(`decision: ${res.status} ${JSON.stringify(res.body)}`);
  return itemId;
}

beforeAll(async () => {
  schemathesisExecutable(); // fails at once, saying how to provision it, when it is missing
  dir = mkdtempSync(path.join(os.tmpdir(), 'stagecoach-schemathesis-'));
  stack = await startStack(undefined, { records: 'postgres' });
  api = new Api(stack);
  reviews = {
    // The admin run's reads, decisions and admin actions: Patti reviews stage 1, so her decisions are
    // accepted rather than only 403.
    admin: await api.startReview(twoStageReview(ADMIN)),
    // The operations that would take that review away from the rest of the admin run get their own:
    // reviewer changes (the documented example bodies name other reviewers), stopping, deleting.
    reviewersChanged: await api.startReview(twoStageReview(DEMO.DEBRA)),
    stopped: await api.startReview({
      displayName: 'Salesforce assignments',
      scope: { query: SALESFORCE_ASSIGNMENTS, queryType: 'MicrosoftGraph' },
      reviewers: [{ query: `/users/${DEMO.DEBRA}`, queryType: 'MicrosoftGraph' }],
      settings: { instanceDurationInDays: 3 },
    }),
    deleted: await api.startReview(twoStageReview(DEMO.DEBRA)),
    // The reviewer run's review: Megan reviews the Finance Team in stage 1; the admin run leaves it alone.
    reviewer: await api.startReview(twoStageReview(REVIEWER)),
  };
  decided = {
    admin: await decide(reviews.admin, ADMIN, DEMO.LEE),
    reviewer: await decide(reviews.reviewer, REVIEWER, DEMO.LEE),
  };
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  if (dir && !keepOutput) rmSync(dir, { recursive: true, force: true });
});

/** Path parameters of the directory operations (they share the name `id`). */
function directoryParameters(userId: string): OperationParameters[] {
  return [
    { pathRegex: '^/v1\\.0/users/', path: { id: userId } },
    { pathRegex: '^/v1\\.0/groups/', path: { id: DEMO.FINANCE } },
    { pathRegex: '^/v1\\.0/servicePrincipals/', path: { id: DEMO.SALESFORCE } },
  ];
}

/** The definition and instance path parameters of a review. */
function ids(review: StartedReview): { path: Record<string, string> } {
  return { path: { definitionId: review.definitionId, instanceId: review.instanceId } };
}

/** The path parameters of every review operation: a review's stage 1 (in progress) and one of its items. */
function reviewParameters(review: StartedReview, decisionId: string): Record<string, string> {
  return {
    definitionId: review.definitionId,
    instanceId: review.instanceId,
    stageId: '1',
    decisionId,
  };
}

async function run(label: string, userId: string, admin: boolean, config: string) {
  const configFile = writeFileIn(dir, `schemathesis-${label}.toml`, config);
  const result = await runSchemathesis({
    args: cliArgs(stack.baseUrl),
    configFile,
    token: await stack.token(userId, admin),
    timeoutMs: RUN_TIMEOUT_MS,
    cwd: dir,
  });
  const outputFile = writeFileIn(dir, `schemathesis-${label}.txt`, result.output);
  process.stdout.write(
    `[schemathesis] ${schemathesisPin().version} as ${label}: exit ${result.code} in ` +
      `${result.seconds.toFixed(1)} s\n`,
  );
  if (result.code !== 0) {
    keepOutput = true;
    throw new Error(
      `Schemathesis as ${label} exited with ${result.code}; full output in ${outputFile}\n\n${result.summary}`,
    );
  }
}

describe(`Schemathesis against ${REVIEWS} and the directory`, () => {
  // First, while only the fixtures exist: a reviewer's filterByCurrentUser reads every definition.
  it(
    'finds no server error or schema violation as a reviewer',
    async () => {
      await run(
        'reviewer',
        REVIEWER,
        false,
        schemathesisConfig({
          path: reviewParameters(reviews.reviewer, decided.reviewer),
          // Lee's item is Megan's to review, so his user object is visible to her.
          operations: directoryParameters(DEMO.LEE),
        }),
      );
    },
    RUN_TIMEOUT_MS + 10_000,
  );

  it(
    'finds no server error or schema violation as an administrator',
    async () => {
      await run(
        'admin',
        ADMIN,
        true,
        schemathesisConfig({
          path: reviewParameters(reviews.admin, decided.admin),
          operations: [
            {
              operationIds: ['instances.update', 'instances.patch', 'stages.update'],
              ...ids(reviews.reviewersChanged),
            },
            { operationIds: ['instances.stop', 'stages.stop'], ...ids(reviews.stopped) },
            { operationIds: ['definitions.delete'], ...ids(reviews.deleted) },
            ...directoryParameters(DEMO.LEE),
          ],
          extraToml: CREATE_BOUNDS,
        }),
      );
    },
    RUN_TIMEOUT_MS + 10_000,
  );
});
