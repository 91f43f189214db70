import type { GraphInstance } from '../../domain/graph-resources';
import { stageSchema } from '../../domain/graph-resources';
import type { OperationInput } from '../operation';
import { operation } from '../operation';
import { pageOf } from '../odata';
import { contactedReviewerSchema, instanceEntitySchema } from '../response-schemas';
import { definitionParams, instanceParams, reviewersUpdateSchema, stageParams } from '../params';
import {
  DEFINITION,
  FOR_REVIEWER,
  INSTANCE,
  instanceContext,
  instancesContext,
  MINE,
  REVIEWERS_UPDATE,
  reviewersExample,
  STAGE,
  stagesContext,
} from './paths';

const tag = 'accessReviewInstance';
const stageTag = 'accessReviewStage';

type InstanceInput = OperationInput<{ definitionId: string; instanceId?: string }, undefined>;
const expandStages = {
  stages: {
    schema: stageSchema,
    load: (i: GraphInstance, { params, caller, services }: InstanceInput) =>
      services.instances.stages(params.definitionId, i.id, caller),
  },
};

const instanceAction = (
  action: 'stop' | 'applyDecisions' | 'resetDecisions' | 'sendReminder',
  summary: string,
) =>
  operation({
    method: 'post',
    path: `${INSTANCE}/${action}`,
    operationId: `instances.${action}`,
    tag,
    summary,
    role: 'admin',
    params: instanceParams,
    success: { kind: 'none' },
    errors: [404, 409],
    handler: ({ params, caller, services }) =>
      services.instances.adminAction(params.definitionId, params.instanceId, caller, action),
  });

const reviewersUpdate = (method: 'put' | 'patch') =>
  operation({
    method,
    path: INSTANCE,
    operationId: method === 'put' ? 'instances.update' : 'instances.patch',
    tag,
    summary: "Change the reviewers of a running instance's stages that have not completed",
    description:
      method === 'put'
        ? REVIEWERS_UPDATE
        : `${REVIEWERS_UPDATE} The same as PUT; the Graph SDKs' update() sends PATCH.`,
    role: 'admin',
    params: instanceParams,
    body: { schema: reviewersUpdateSchema, example: reviewersExample },
    success: { kind: 'none' },
    errors: [404, 409],
    handler: ({ params, body, caller, services }) =>
      services.instances.updateReviewers(params.definitionId, params.instanceId, caller, body),
  });

/** Review instances and their stages: reads, and the admin actions on them. */
export const instanceOperations = [
  ...[false, true].map((mine) =>
    operation({
      method: 'get',
      path: `${DEFINITION}/instances${mine ? `/${MINE}` : ''}`,
      operationId: `instances.${mine ? 'filterByCurrentUser' : 'list'}`,
      tag,
      summary: mine ? 'List the instances in which the caller reviews something now' : 'List instances',
      description: mine ? FOR_REVIEWER : 'Admins see every instance; reviewers the ones they review.',
      role: 'user',
      params: definitionParams,
      success: {
        kind: 'collection',
        schema: instanceEntitySchema,
        context: instancesContext,
        expand: expandStages,
      },
      errors: [404],
      handler: ({ params, caller, services }) => services.instances.list(params.definitionId, caller, mine),
    }),
  ),
  operation({
    method: 'get',
    path: `${DEFINITION}/instances/$count`,
    operationId: 'instances.count',
    tag,
    summary:
      'Count the instances (text/plain), honouring $filter: admins every one, reviewers the ones they review',
    role: 'user',
    params: definitionParams,
    success: { kind: 'count', schema: instanceEntitySchema },
    errors: [404],
    handler: async ({ params, caller, services, options }) =>
      pageOf(await services.instances.list(params.definitionId, caller), options).total,
  }),
  operation({
    method: 'get',
    path: INSTANCE,
    operationId: 'instances.get',
    tag,
    summary: 'Read an instance (admins and its reviewers)',
    role: 'user',
    params: instanceParams,
    success: {
      kind: 'entity',
      schema: instanceEntitySchema,
      context: instancesContext,
      expand: expandStages,
    },
    errors: [403, 404],
    handler: ({ params, caller, services }) =>
      services.instances.get(params.definitionId, params.instanceId, caller),
  }),
  reviewersUpdate('put'),
  reviewersUpdate('patch'),
  operation({
    method: 'get',
    path: `${INSTANCE}/contactedReviewers`,
    operationId: 'instances.contactedReviewers',
    tag,
    summary: 'List everyone asked to review in the instance so far',
    role: 'admin',
    params: instanceParams,
    success: {
      kind: 'collection',
      schema: contactedReviewerSchema,
      context: (p: { definitionId: string; instanceId: string }) =>
        `${instanceContext(p)}/contactedReviewers`,
    },
    errors: [404],
    handler: ({ params, caller, services }) =>
      services.instances.contactedReviewers(params.definitionId, params.instanceId, caller),
  }),
  instanceAction('stop', 'Stop the instance; decisions are applied if autoApplyDecisionsEnabled'),
  instanceAction('applyDecisions', 'Apply the decisions of a Completed instance'),
  instanceAction('resetDecisions', 'Reset the decisions of the stage in progress'),
  instanceAction('sendReminder', 'Remind the reviewers of the stage in progress'),
  operation({
    method: 'post',
    path: `${INSTANCE}/acceptRecommendations`,
    operationId: 'instances.acceptRecommendations',
    tag,
    summary: 'Accept the recommendations (admins: every item; reviewers: their NotReviewed items)',
    role: 'user',
    params: instanceParams,
    success: { kind: 'none' },
    errors: [403, 404, 409],
    handler: ({ params, caller, services }) =>
      services.instances.acceptRecommendations(params.definitionId, params.instanceId, caller),
  }),
  ...[false, true].map((mine) =>
    operation({
      method: 'get',
      path: `${INSTANCE}/stages${mine ? `/${MINE}` : ''}`,
      operationId: `stages.${mine ? 'filterByCurrentUser' : 'list'}`,
      tag: stageTag,
      summary: mine
        ? "List the instance's stages if the caller reviews in it"
        : 'List the stages of an instance',
      ...(mine ? { description: FOR_REVIEWER } : {}),
      role: 'user',
      params: instanceParams,
      success: { kind: 'collection', schema: stageSchema, context: stagesContext },
      errors: [404],
      handler: ({ params, caller, services }) =>
        services.instances.stages(params.definitionId, params.instanceId, caller, mine),
    }),
  ),
  operation({
    method: 'get',
    path: STAGE,
    operationId: 'stages.get',
    tag: stageTag,
    summary: 'Read a stage',
    role: 'user',
    params: stageParams,
    success: { kind: 'entity', schema: stageSchema, context: stagesContext },
    errors: [403, 404],
    handler: ({ params, caller, services }) =>
      services.instances.stage(params.definitionId, params.instanceId, params.stageId, caller),
  }),
  operation({
    method: 'patch',
    path: STAGE,
    operationId: 'stages.update',
    tag: stageTag,
    summary: 'Change the reviewers of a stage that has not completed',
    description: REVIEWERS_UPDATE,
    role: 'admin',
    params: stageParams,
    body: { schema: reviewersUpdateSchema, example: reviewersExample },
    success: { kind: 'none' },
    errors: [404, 409],
    handler: ({ params, body, caller, services }) =>
      services.instances.updateReviewers(
        params.definitionId,
        params.instanceId,
        caller,
        body,
        params.stageId,
      ),
  }),
  operation({
    method: 'post',
    path: `${STAGE}/stop`,
    operationId: 'stages.stop',
    tag: stageTag,
    summary: 'Stop the stage in progress',
    role: 'admin',
    params: stageParams,
    success: { kind: 'none' },
    errors: [404, 409],
    handler: ({ params, caller, services }) =>
      services.instances.adminAction(
        params.definitionId,
        params.instanceId,
        caller,
        'stopStage',
        params.stageId,
      ),
  }),
  operation({
    method: 'post',
    path: `${STAGE}/acceptRecommendations`,
    operationId: 'stages.acceptRecommendations',
    tag: stageTag,
    summary: 'Accept the recommendations in the stage in progress',
    role: 'user',
    params: stageParams,
    success: { kind: 'none' },
    errors: [403, 404, 409],
    handler: ({ params, caller, services }) =>
      services.instances.acceptRecommendations(
        params.definitionId,
        params.instanceId,
        caller,
        params.stageId,
      ),
  }),
];
