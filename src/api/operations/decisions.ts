import type { DecisionItemView } from '../../domain/graph-resources';
import { signInInsightSchema } from '../../domain/graph-resources';
import type { OperationInput } from '../operation';
import { operation } from '../operation';
import { decisionEntitySchema } from '../response-schemas';
import {
  batchRecordDecisionsSchema,
  decisionParams,
  decisionPatchSchema,
  instanceParams,
  reassignDecisionSchema,
  reassignDecisionsSchema,
  reassignResultSchema,
  stageDecisionParams,
  stageParams,
} from '../params';
import { decisionExample, decisionsContext, FOR_REVIEWER, INSTANCE, MINE, STAGE } from './paths';

const tag = 'accessReviewInstanceDecisionItem';
type Ids = { definitionId: string; instanceId: string; stageId?: string };
type ItemIds = Ids & { decisionId: string };

const expandInsights = {
  insights: {
    schema: signInInsightSchema,
    load: (item: DecisionItemView, { services }: OperationInput<unknown, undefined>) =>
      services.insights.of(item),
  },
};

const readItem = ({ params, caller, services }: OperationInput<ItemIds, unknown>) =>
  services.instances.decision(
    params.definitionId,
    params.instanceId,
    params.decisionId,
    caller,
    params.stageId,
  );

/** The decision operations of an instance, or of one of its stages. */
function decisionOperations(prefix: string, level: 'instances' | 'stages') {
  const params = level === 'stages' ? stageParams : instanceParams;
  const itemParams = level === 'stages' ? stageDecisionParams : decisionParams;
  const of = level === 'stages' ? 'a stage' : 'an instance';
  return [
    ...[false, true].map((mine) =>
      operation({
        method: 'get',
        path: `${prefix}/decisions${mine ? `/${MINE}` : ''}`,
        operationId: `${level}.decisions.${mine ? 'filterByCurrentUser' : 'list'}`,
        tag,
        summary: mine ? `List the caller's decision items of ${of}` : `List the decision items of ${of}`,
        description: mine ? FOR_REVIEWER : 'Admins see every item; reviewers see the items they review.',
        role: 'user',
        params,
        success: {
          kind: 'collection',
          schema: decisionEntitySchema,
          context: decisionsContext,
          paged: true,
          expand: expandInsights,
        },
        errors: [404],
        handler: ({ params: p, caller, services, options }: OperationInput<Ids, undefined>) =>
          services.instances.decisions(p.definitionId, p.instanceId, caller, {
            stageId: p.stageId,
            filter: options.filter,
            orderBy: options.orderBy,
            skip: options.skip,
            top: options.top,
            asReviewer: mine,
          }),
      }),
    ),
    operation({
      method: 'get',
      path: `${prefix}/decisions/$count`,
      operationId: `${level}.decisions.count`,
      tag,
      summary: `Count the decision items of ${of} (text/plain), honouring $filter`,
      description: 'Admins count every item; reviewers the items they review.',
      role: 'user',
      params,
      success: { kind: 'count', schema: decisionEntitySchema },
      errors: [404],
      handler: async ({ params: p, caller, services, options }: OperationInput<Ids, undefined>) =>
        (
          await services.instances.decisions(p.definitionId, p.instanceId, caller, {
            stageId: p.stageId,
            filter: options.filter,
            skip: 0,
            top: 0,
          })
        ).total,
    }),
    operation({
      method: 'get',
      path: `${prefix}/decisions/{decisionId}`,
      operationId: `${level}.decisions.get`,
      tag,
      summary: `Read a decision item of ${of}`,
      role: 'user',
      params: itemParams,
      success: {
        kind: 'entity',
        schema: decisionEntitySchema,
        context: decisionsContext,
        expand: expandInsights,
      },
      errors: [403, 404],
      handler: readItem,
    }),
    operation({
      method: 'get',
      path: `${prefix}/decisions/{decisionId}/insights`,
      operationId: `${level}.decisions.insights`,
      tag,
      summary: `List the insights of a decision item of ${of}: the reviewee's last sign-in`,
      role: 'user',
      params: itemParams,
      success: {
        kind: 'collection',
        schema: signInInsightSchema,
        context: (p: ItemIds) => `${decisionsContext(p)}('${p.decisionId}')/insights`,
      },
      errors: [403, 404],
      handler: async (input: OperationInput<ItemIds, undefined>) =>
        input.services.insights.of(await readItem(input)),
    }),
    operation({
      method: 'patch',
      path: `${prefix}/decisions/{decisionId}`,
      operationId: `${level}.decisions.update`,
      tag,
      summary: `Record the caller's decision on an item of ${of}`,
      role: 'user',
      params: itemParams,
      body: { schema: decisionPatchSchema, example: decisionExample },
      success: { kind: 'none' },
      errors: [403, 404, 409],
      handler: async ({ params: p, body, caller, services }) => {
        await services.instances.recordDecisions(
          p.definitionId,
          p.instanceId,
          caller,
          [{ itemId: p.decisionId, ...body }],
          (p as Ids).stageId,
        );
      },
    }),
    operation({
      method: 'post',
      path: `${prefix}/batchRecordDecisions`,
      operationId: `${level}.batchRecordDecisions`,
      tag,
      summary: `Record one decision on all the caller's items of ${of}, optionally of one principal`,
      description: BATCH,
      role: 'user',
      params,
      body: {
        schema: batchRecordDecisionsSchema,
        example: { decision: 'Approve', justification: 'Still needed' },
      },
      success: { kind: 'none' },
      errors: [403, 404, 409],
      handler: async ({ params: p, body, caller, services }) => {
        await services.instances.batchRecordDecisions(
          p.definitionId,
          p.instanceId,
          caller,
          body,
          (p as Ids).stageId,
        );
      },
    }),
    operation({
      method: 'post',
      path: `${prefix}/decisions/{decisionId}/reassign`,
      operationId: `${level}.decisions.reassign`,
      tag,
      summary: `Hand a decision item of ${of} to another reviewer for the stage in progress (Stagecoach)`,
      description: REASSIGN,
      role: 'user',
      params: itemParams,
      body: { schema: reassignDecisionSchema, example: reassignExample },
      success: { kind: 'json', schema: reassignResultSchema },
      errors: [403, 404, 409],
      handler: ({ params: p, body, caller, services }) =>
        services.instances.reassign(
          p.definitionId,
          p.instanceId,
          caller,
          { ...body, decisionIds: [p.decisionId] },
          (p as Ids).stageId,
        ),
    }),
    operation({
      method: 'post',
      path: `${prefix}/decisions/reassign`,
      operationId: `${level}.decisions.reassignMany`,
      tag,
      summary: `Hand many decision items of ${of}, or all of a reviewer's, to another reviewer (Stagecoach)`,
      description: `${REASSIGN} Without decisionIds, every item of the caller (or of fromReviewerId) in the stage.`,
      role: 'user',
      params,
      body: { schema: reassignDecisionsSchema, example: reassignExample },
      success: { kind: 'json', schema: reassignResultSchema },
      errors: [403, 404, 409],
      handler: ({ params: p, body, caller, services }) =>
        services.instances.reassign(p.definitionId, p.instanceId, caller, body, (p as Ids).stageId),
    }),
  ];
}

const BATCH =
  "Graph's batchRecordDecisions: every item the caller reviews in the stage (the one named, or the one in " +
  'progress), or those of principalId. Stagecoach extension: `decisionIds` (1–10,000 ids) records the ' +
  'decision on just those items in one request, each checked as its PATCH would be (404 ' +
  "review.decision_not_found for an unknown id, 403 review.not_a_reviewer for an item that is not the caller's, " +
  '403 review.own_access for their own): a refused request records none of them (in a sharded review, ' +
  'each shard decides for the ids it holds, and the error says how many the others recorded). It cannot ' +
  'be combined with principalId (400).';
const REASSIGN =
  'The new reviewer reviews the items for the rest of the stage in progress only and is told by e-mail; ' +
  'the caller (or the reviewer named by fromReviewerId, administrators only) no longer does. Every ' +
  'reassignment is kept in the item (`reassignments`). Separation of duties: nobody gets their own item.';
const reassignExample = {
  reviewerId: '7c32e15c-d4d0-49aa-9eb3-0793e032aa70',
  justification: 'She manages this team since November',
};

/** Decision items of an instance and of its stages: list, count, read, insights, record. */
export const decisionItemOperations = [
  ...decisionOperations(INSTANCE, 'instances'),
  ...decisionOperations(STAGE, 'stages'),
];
