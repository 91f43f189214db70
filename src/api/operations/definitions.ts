import { definitionInputSchema } from '../../domain/definition-schema';
import { instanceSchema } from '../../domain/graph-resources';
import type { Definition } from '../../domain/definition-schema';
import { requireDefinitionReader, reviewsIn } from '../../services/definition-readers';
import type { OperationInput } from '../operation';
import { operation } from '../operation';
import { pageOf } from '../odata';
import { definitionEntitySchema } from '../response-schemas';
import { definitionParams } from '../params';
import { DEFINITION, DEFINITIONS, definitionExample, definitionsContext, FOR_REVIEWER, MINE } from './paths';

const tag = 'accessReviewScheduleDefinition';
/** More definitions than this are not filtered or sorted in memory (they are listed page by page). */
const ALL = 10_000;

const expandInstances = {
  instances: {
    schema: instanceSchema,
    load: (d: Definition, { services, caller }: OperationInput<unknown, undefined>) =>
      services.instances.list(d.id, caller),
  },
};

/**
 * A page of definitions. From the records, the query runs in SQL; without them, every definition is read
 * when the query needs them all ($filter, $orderby, $count), else just this page.
 */
async function definitionPage({ services, options }: OperationInput<unknown, unknown>, reviewerId?: string) {
  if (services.definitions.recorded) {
    const page = await services.definitions.page({
      skip: options.skip,
      top: options.top,
      filter: options.filter,
      orderBy: options.orderBy,
      reviewerId,
    });
    return { value: page.value, total: page.total, more: options.skip + page.value.length < page.total };
  }
  if (options.filter || options.orderBy.length || options.count) {
    return pageOf((await services.definitions.list(0, ALL)).value, options);
  }
  const page = await services.definitions.list(options.skip, options.top);
  return { value: page.value, more: page.more };
}

/** create, list, count, read, replace and delete access review schedule definitions. */
export const definitionOperations = [
  operation({
    method: 'get',
    path: DEFINITIONS,
    operationId: 'definitions.list',
    tag,
    summary: 'List access review definitions',
    role: 'admin',
    adminMessage:
      "Only access review administrators can list definitions; reviewers use filterByCurrentUser(on='reviewer')",
    success: {
      kind: 'collection',
      schema: definitionEntitySchema,
      context: definitionsContext,
      paged: true,
      expand: expandInstances,
    },
    handler: definitionPage,
  }),
  operation({
    method: 'post',
    path: DEFINITIONS,
    operationId: 'definitions.create',
    tag,
    summary: 'Create an access review definition (its first instance starts at once)',
    role: 'admin',
    body: { schema: definitionInputSchema, example: definitionExample },
    success: {
      kind: 'entity',
      status: 201,
      schema: definitionEntitySchema,
      context: definitionsContext,
      location: (_p: unknown, d: Definition) => `${DEFINITIONS}/${d.id}`,
    },
    handler: ({ body, caller, services }) => services.definitions.create(body, caller),
  }),
  operation({
    method: 'get',
    path: `${DEFINITIONS}/${MINE}`,
    operationId: 'definitions.filterByCurrentUser',
    tag,
    summary: 'List the definitions in which the caller reviews something now',
    description: FOR_REVIEWER,
    role: 'user',
    success: {
      kind: 'collection',
      schema: definitionEntitySchema,
      context: definitionsContext,
      paged: true,
      expand: expandInstances,
    },
    handler: async (input) => {
      const { services, caller, options } = input;
      if (services.definitions.recorded) return definitionPage(input, caller.userId);
      const all = await services.definitions.list(0, ALL);
      const mine: Definition[] = [];
      for (const d of all.value) if (await reviewsIn(services.instances, d.id, caller)) mine.push(d);
      return pageOf(mine, options);
    },
  }),
  operation({
    method: 'get',
    path: `${DEFINITIONS}/$count`,
    operationId: 'definitions.count',
    tag,
    summary: 'Count the access review definitions (text/plain), honouring $filter',
    role: 'admin',
    adminMessage: 'Only access review administrators can count definitions',
    success: { kind: 'count', schema: definitionEntitySchema },
    handler: async ({ services, options }) =>
      services.definitions.recorded
        ? (await services.definitions.page({ skip: 0, top: 0, filter: options.filter })).total
        : options.filter
          ? pageOf((await services.definitions.list(0, ALL)).value, options).total
          : services.definitions.count(),
  }),
  operation({
    method: 'get',
    path: DEFINITION,
    operationId: 'definitions.get',
    tag,
    summary: 'Read an access review definition',
    description:
      'Administrators, and the reviewers of a stage in progress of one of its instances; anyone else ' +
      'gets 403 auth.admin_required, whether or not the id exists.',
    role: 'user',
    params: definitionParams,
    success: {
      kind: 'entity',
      schema: definitionEntitySchema,
      context: definitionsContext,
      expand: expandInstances,
    },
    errors: [403, 404],
    handler: async ({ params, caller, services }) => {
      await requireDefinitionReader(services.instances, params.definitionId, caller);
      return (await services.definitions.get(params.definitionId)).definition;
    },
  }),
  operation({
    method: 'put',
    path: DEFINITION,
    operationId: 'definitions.replace',
    tag,
    summary: 'Replace an access review definition',
    role: 'admin',
    params: definitionParams,
    body: { schema: definitionInputSchema, example: definitionExample },
    success: { kind: 'none' },
    errors: [404],
    handler: async ({ params, body, caller, services }) => {
      await services.definitions.update(params.definitionId, body, caller);
    },
  }),
  operation({
    method: 'delete',
    path: DEFINITION,
    operationId: 'definitions.delete',
    tag,
    summary: 'Delete an access review definition; running instances stop and apply per their settings',
    role: 'admin',
    params: definitionParams,
    success: { kind: 'none' },
    errors: [404],
    handler: ({ params, caller, services }) => services.definitions.delete(params.definitionId, caller),
  }),
];
