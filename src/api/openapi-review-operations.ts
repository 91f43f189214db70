import { definitionInputSchema, definitionSchema } from '../domain/definition-schema';
import { odataQuerySchema } from './odata';
import type { ApiOperation } from './openapi-operations';
import { contactedReviewerSchema, decisionItemSchema, instanceSchema, stageSchema } from './response-schemas';
import {
  batchRecordDecisionsSchema,
  decisionParams,
  decisionPatchSchema,
  definitionParams,
  instanceParams,
  reviewersUpdateSchema,
  stageDecisionParams,
  stageParams,
} from './routes/params';

const REVIEWS = '/v1.0/identityGovernance/accessReviews';
const DEFINITION = `${REVIEWS}/definitions/{definitionId}`;
const INSTANCE = `${DEFINITION}/instances/{instanceId}`;
const STAGE = `${INSTANCE}/stages/{stageId}`;
/** Graph's function call; the app maps it onto the plain `filterByCurrentUser` segment its routes use. */
export const MINE = "filterByCurrentUser(on='reviewer')";

/** The paging and selection options a collection honours. */
export const page = odataQuerySchema.pick({ $top: true, $skip: true, $select: true });
const decisionPage = page.extend(odataQuerySchema.pick({ $filter: true, $count: true }).shape);
const decisionCount = odataQuerySchema.pick({ $filter: true });
/** Said of operations only access review administrators may call. */
export const ADMIN = 'Access review administrators only.';
const FOR_REVIEWER =
  "The caller's own share: only what they review now (Graph's filterByCurrentUser(on='reviewer')).";

const GROUP = '56b642ff-312b-4458-9263-d915740b44fe';
const definitionExample = {
  displayName: 'Finance Team quarterly review',
  descriptionForReviewers: 'Does this person still need access to the Finance Team?',
  scope: {
    '@odata.type': '#microsoft.graph.accessReviewQueryScope',
    query: `/groups/${GROUP}/transitiveMembers`,
    queryType: 'MicrosoftGraph',
  },
  stageSettings: [
    {
      stageId: '1',
      durationInDays: 7,
      reviewers: [{ query: './manager', queryType: 'MicrosoftGraph', queryRoot: 'decisions' }],
      decisionsThatWillMoveToNextStage: ['NotReviewed', 'Approve'],
    },
    {
      stageId: '2',
      dependsOn: ['1'],
      durationInDays: 7,
      reviewers: [{ query: `/groups/${GROUP}/owners`, queryType: 'MicrosoftGraph' }],
    },
  ],
  settings: { instanceDurationInDays: 14, autoApplyDecisionsEnabled: true, defaultDecision: 'None' },
};
const REVIEWERS_UPDATE = `${ADMIN} Only reviewers and fallbackReviewers change (at least one is required); scope is ignored.`;
const reviewersExample = {
  reviewers: [{ query: '/users/7c32e15c-d4d0-49aa-9eb3-0793e032aa70', queryType: 'MicrosoftGraph' }],
};
const decisionExample = { decision: 'Deny', justification: 'Moved to sales' };

function decisionOperations(prefix: string, level: 'instances' | 'stages'): ApiOperation[] {
  const tag = 'accessReviewInstanceDecisionItem';
  const params = level === 'stages' ? stageParams : instanceParams;
  const itemParams = level === 'stages' ? stageDecisionParams : decisionParams;
  const of = level === 'stages' ? 'a stage' : 'an instance';
  return [
    {
      method: 'get',
      path: `${prefix}/decisions`,
      operationId: `${level}.decisions.list`,
      tag,
      summary: `List the decision items of ${of}`,
      description: 'Admins see every item; reviewers see the items they review.',
      params,
      query: decisionPage,
      success: { status: 200, page: decisionItemSchema },
      errors: [404],
    },
    {
      method: 'get',
      path: `${prefix}/decisions/${MINE}`,
      operationId: `${level}.decisions.filterByCurrentUser`,
      tag,
      summary: `List the caller's decision items of ${of}`,
      description: FOR_REVIEWER,
      params,
      query: decisionPage,
      success: { status: 200, page: decisionItemSchema },
      errors: [404],
    },
    {
      method: 'get',
      path: `${prefix}/decisions/$count`,
      operationId: `${level}.decisions.count`,
      tag,
      summary: `Count the decision items of ${of} (text/plain), honouring $filter`,
      description: 'Admins count every item; reviewers the items they review.',
      params,
      query: decisionCount,
      success: { status: 200, body: 'count' },
      errors: [404],
    },
    {
      method: 'get',
      path: `${prefix}/decisions/{decisionId}`,
      operationId: `${level}.decisions.get`,
      tag,
      summary: `Read a decision item of ${of}`,
      params: itemParams,
      query: odataQuerySchema.pick({ $select: true }),
      success: { status: 200, entity: decisionItemSchema },
      errors: [403, 404],
    },
    {
      method: 'patch',
      path: `${prefix}/decisions/{decisionId}`,
      operationId: `${level}.decisions.update`,
      tag,
      summary: `Record the caller's decision on an item of ${of}`,
      params: itemParams,
      body: { schema: decisionPatchSchema, example: decisionExample },
      success: { status: 204 },
      errors: [403, 404, 409],
    },
    {
      method: 'post',
      path: `${prefix}/batchRecordDecisions`,
      operationId: `${level}.batchRecordDecisions`,
      tag,
      summary: `Record one decision on all the caller's items of ${of}, optionally of one principal`,
      params,
      body: {
        schema: batchRecordDecisionsSchema,
        example: { decision: 'Approve', justification: 'Still needed' },
      },
      success: { status: 204 },
      errors: [404, 409],
    },
  ];
}

const instanceAction = (
  action: 'stop' | 'applyDecisions' | 'resetDecisions' | 'sendReminder',
  summary: string,
): ApiOperation => ({
  method: 'post',
  path: `${INSTANCE}/${action}`,
  operationId: `instances.${action}`,
  tag: 'accessReviewInstance',
  summary,
  description: ADMIN,
  params: instanceParams,
  success: { status: 204 },
  errors: [403, 404, 409],
});

/** The access review operations: definitions, instances, stages and decision items. */
export const reviewOperations: ApiOperation[] = [
  {
    method: 'get',
    path: `${REVIEWS}/definitions`,
    operationId: 'definitions.list',
    tag: 'accessReviewScheduleDefinition',
    summary: 'List access review definitions',
    description: ADMIN,
    query: page,
    success: { status: 200, page: definitionSchema },
    errors: [403],
  },
  {
    method: 'post',
    path: `${REVIEWS}/definitions`,
    operationId: 'definitions.create',
    tag: 'accessReviewScheduleDefinition',
    summary: 'Create an access review definition (its first instance starts at once)',
    description: ADMIN,
    body: { schema: definitionInputSchema, example: definitionExample },
    success: { status: 201, entity: definitionSchema },
    errors: [403],
  },
  {
    method: 'get',
    path: `${REVIEWS}/definitions/${MINE}`,
    operationId: 'definitions.filterByCurrentUser',
    tag: 'accessReviewScheduleDefinition',
    summary: 'List the definitions in which the caller reviews something now',
    description: FOR_REVIEWER,
    query: page,
    success: { status: 200, page: definitionSchema },
  },
  {
    method: 'get',
    path: `${REVIEWS}/definitions/$count`,
    operationId: 'definitions.count',
    tag: 'accessReviewScheduleDefinition',
    summary: 'Count the access review definitions (text/plain)',
    description: ADMIN,
    success: { status: 200, body: 'count' },
    errors: [403],
  },
  {
    method: 'get',
    path: DEFINITION,
    operationId: 'definitions.get',
    tag: 'accessReviewScheduleDefinition',
    summary: 'Read an access review definition',
    description:
      'Administrators, and the reviewers of a stage in progress of one of its instances; anyone else ' +
      'gets 403 auth.admin_required, whether or not the id exists.',
    params: definitionParams,
    success: { status: 200, entity: definitionSchema },
    errors: [403, 404],
  },
  {
    method: 'put',
    path: DEFINITION,
    operationId: 'definitions.replace',
    tag: 'accessReviewScheduleDefinition',
    summary: 'Replace an access review definition',
    description: ADMIN,
    params: definitionParams,
    body: { schema: definitionInputSchema, example: definitionExample },
    success: { status: 204 },
    errors: [403, 404],
  },
  {
    method: 'delete',
    path: DEFINITION,
    operationId: 'definitions.delete',
    tag: 'accessReviewScheduleDefinition',
    summary: 'Delete an access review definition; running instances stop and apply per their settings',
    description: ADMIN,
    params: definitionParams,
    success: { status: 204 },
    errors: [403, 404],
  },
  ...[false, true].map((mine): ApiOperation => ({
    method: 'get',
    path: `${DEFINITION}/instances${mine ? `/${MINE}` : ''}`,
    operationId: `instances.${mine ? 'filterByCurrentUser' : 'list'}`,
    tag: 'accessReviewInstance',
    summary: mine ? 'List the instances in which the caller reviews something now' : 'List instances',
    description: mine ? FOR_REVIEWER : 'Admins see every instance; reviewers the ones they review.',
    params: definitionParams,
    query: page,
    success: { status: 200, page: instanceSchema },
    errors: [404],
  })),
  {
    method: 'get',
    path: `${DEFINITION}/instances/$count`,
    operationId: 'instances.count',
    tag: 'accessReviewInstance',
    summary: 'Count the instances (text/plain): admins every one, reviewers the ones they review',
    params: definitionParams,
    success: { status: 200, body: 'count' },
    errors: [404],
  },
  {
    method: 'get',
    path: INSTANCE,
    operationId: 'instances.get',
    tag: 'accessReviewInstance',
    summary: 'Read an instance (admins and its reviewers)',
    params: instanceParams,
    success: { status: 200, entity: instanceSchema },
    errors: [403, 404],
  },
  ...(['put', 'patch'] as const).map((method): ApiOperation => ({
    method,
    path: INSTANCE,
    operationId: method === 'put' ? 'instances.update' : 'instances.patch',
    tag: 'accessReviewInstance',
    summary: "Change the reviewers of a running instance's stages that have not completed",
    description:
      method === 'put'
        ? REVIEWERS_UPDATE
        : `${REVIEWERS_UPDATE} The same as PUT; the Graph SDKs' update() sends PATCH.`,
    params: instanceParams,
    body: { schema: reviewersUpdateSchema, example: reviewersExample },
    success: { status: 204 },
    errors: [403, 404, 409],
  })),
  {
    method: 'get',
    path: `${INSTANCE}/contactedReviewers`,
    operationId: 'instances.contactedReviewers',
    tag: 'accessReviewInstance',
    summary: 'List everyone asked to review in the instance so far',
    description: ADMIN,
    params: instanceParams,
    query: page,
    success: { status: 200, page: contactedReviewerSchema },
    errors: [403, 404],
  },
  instanceAction('stop', 'Stop the instance; decisions are applied if autoApplyDecisionsEnabled'),
  instanceAction('applyDecisions', 'Apply the decisions of a Completed instance'),
  instanceAction('resetDecisions', 'Reset the decisions of the stage in progress'),
  instanceAction('sendReminder', 'Remind the reviewers of the stage in progress'),
  {
    method: 'post',
    path: `${INSTANCE}/acceptRecommendations`,
    operationId: 'instances.acceptRecommendations',
    tag: 'accessReviewInstance',
    summary: 'Accept the recommendations (admins: every item; reviewers: their NotReviewed items)',
    params: instanceParams,
    success: { status: 204 },
    errors: [403, 404, 409],
  },
  ...[false, true].map((mine): ApiOperation => ({
    method: 'get',
    path: `${INSTANCE}/stages${mine ? `/${MINE}` : ''}`,
    operationId: `stages.${mine ? 'filterByCurrentUser' : 'list'}`,
    tag: 'accessReviewStage',
    summary: mine
      ? "List the instance's stages if the caller reviews in it"
      : 'List the stages of an instance',
    description: mine ? FOR_REVIEWER : undefined,
    params: instanceParams,
    query: page,
    success: { status: 200, page: stageSchema },
    errors: [404],
  })),
  {
    method: 'get',
    path: STAGE,
    operationId: 'stages.get',
    tag: 'accessReviewStage',
    summary: 'Read a stage',
    params: stageParams,
    success: { status: 200, entity: stageSchema },
    errors: [404],
  },
  {
    method: 'patch',
    path: STAGE,
    operationId: 'stages.update',
    tag: 'accessReviewStage',
    summary: 'Change the reviewers of a stage that has not completed',
    description: REVIEWERS_UPDATE,
    params: stageParams,
    body: { schema: reviewersUpdateSchema, example: reviewersExample },
    success: { status: 204 },
    errors: [403, 404, 409],
  },
  {
    method: 'post',
    path: `${STAGE}/stop`,
    operationId: 'stages.stop',
    tag: 'accessReviewStage',
    summary: 'Stop the stage in progress',
    description: ADMIN,
    params: stageParams,
    success: { status: 204 },
    errors: [403, 404, 409],
  },
  {
    method: 'post',
    path: `${STAGE}/acceptRecommendations`,
    operationId: 'stages.acceptRecommendations',
    tag: 'accessReviewStage',
    summary: 'Accept the recommendations in the stage in progress',
    params: stageParams,
    success: { status: 204 },
    errors: [403, 404, 409],
  },
  ...decisionOperations(INSTANCE, 'instances'),
  ...decisionOperations(STAGE, 'stages'),
];
