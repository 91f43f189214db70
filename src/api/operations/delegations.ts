import { operation } from '../operation';
import { delegationInputSchema, delegationParams, delegationSchema } from '../params';

const tag = 'delegation';
const path = '/v1.0/identityGovernance/accessReviews/delegations/{userId}';
const WHO = "A user reads and sets their own; administrators anyone's (403 auth.admin_required otherwise).";

const needStore = (services: { delegations?: unknown }) => services.delegations !== undefined;

/** Out-of-office delegations (Stagecoach; Graph has none): while one lasts, the user's items go to the delegate. */
export const delegationOperations = [
  operation({
    method: 'get',
    path,
    operationId: 'delegations.get',
    tag,
    summary: "Read a user's out-of-office delegation (Stagecoach)",
    description: WHO,
    role: 'user',
    params: delegationParams,
    success: { kind: 'json', schema: delegationSchema },
    errors: [403, 404],
    enabled: needStore,
    handler: ({ params, caller, services }) => services.delegations!.get(params.userId, caller),
  }),
  operation({
    method: 'put',
    path,
    operationId: 'delegations.set',
    tag,
    summary:
      "Set a user's out-of-office delegation: their items go to the delegate until endDateTime (Stagecoach)",
    description:
      `${WHO} Every stage that starts before endDateTime gives the user's items to the delegate (kept in ` +
      "each item's reassignments); the items the user reviews in stages running now are handed over at once " +
      '(`reassigned` counts them). Separation of duties holds: the delegate never gets their own item.',
    role: 'user',
    params: delegationParams,
    body: {
      schema: delegationInputSchema,
      example: {
        delegateId: '0b286f07-2b2a-43cd-a0d8-2051f4ab3be7',
        endDateTime: '2027-01-15T00:00:00Z',
        justification: 'Parental leave',
      },
    },
    success: { kind: 'json', schema: delegationSchema },
    errors: [400, 403, 404],
    enabled: needStore,
    handler: async ({ params, body, caller, services }) => {
      const { delegation, reassigned } = await services.delegations!.put(params.userId, caller, body);
      return { ...delegation, reassigned };
    },
  }),
  operation({
    method: 'delete',
    path,
    operationId: 'delegations.delete',
    tag,
    summary: "End a user's delegation: stages that start from now on are the user's own again (Stagecoach)",
    description: `${WHO} Items already handed over stay with the delegate until their stage ends.`,
    role: 'user',
    params: delegationParams,
    success: { kind: 'none' },
    errors: [403, 404],
    enabled: needStore,
    handler: ({ params, caller, services }) => services.delegations!.delete(params.userId, caller),
  }),
];
