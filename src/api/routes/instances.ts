import type { Request } from 'express';
import { Router } from 'express';
import type { InstanceService } from '../../services/instances';
import { guard } from '../guard';
import { collection, odataQuerySchema, requestBase, sendCount } from '../odata';
import { definitionParams, instanceParams, reviewersUpdateSchema, stageParams } from './params';

const base = (p: { definitionId: string }) =>
  `identityGovernance/accessReviews/definitions('${p.definitionId}')`;
const entity = (req: Request, context: string) => `${requestBase(req)}/v1.0/$metadata#${context}/$entity`;

/** /instances and /stages: read review instances and stages, and the admin actions on them. */
export function instanceRoutes(instances: InstanceService): Router {
  const r = Router();
  const I = '/definitions/:definitionId/instances/:instanceId';

  for (const mine of [false, true]) {
    r.get(
      `/definitions/:definitionId/instances${mine ? '/filterByCurrentUser' : ''}`,
      guard(
        { params: definitionParams, query: odataQuerySchema },
        async ({ params, query, caller }, req, res) => {
          const all = await instances.list(params.definitionId, caller, mine);
          const page = all.slice(query.$skip, query.$skip + query.$top);
          res.json(
            collection(req, `${base(params)}/instances`, page, query, all.length > query.$skip + query.$top),
          );
        },
      ),
    );
  }

  r.get(
    '/definitions/:definitionId/instances/$count',
    guard({ params: definitionParams }, async ({ params, caller }, _req, res) => {
      sendCount(res, (await instances.list(params.definitionId, caller)).length);
    }),
  );

  r.get(
    I,
    guard({ params: instanceParams }, async ({ params, caller }, req, res) => {
      const instance = await instances.get(params.definitionId, params.instanceId, caller);
      res.json({ '@odata.context': entity(req, `${base(params)}/instances`), ...instance });
    }),
  );

  // PUT as Graph documents it; PATCH because the Graph SDKs' update() sends it. Both change the reviewers.
  const updateReviewers = guard(
    { params: instanceParams, body: reviewersUpdateSchema },
    async ({ params, body, caller }, _req, res) => {
      await instances.updateReviewers(params.definitionId, params.instanceId, caller, body);
      res.status(204).end();
    },
  );
  r.put(I, updateReviewers);
  r.patch(I, updateReviewers);

  r.patch(
    `${I}/stages/:stageId`,
    guard(
      { params: stageParams, body: reviewersUpdateSchema },
      async ({ params, body, caller }, _req, res) => {
        await instances.updateReviewers(params.definitionId, params.instanceId, caller, body, params.stageId);
        res.status(204).end();
      },
    ),
  );

  r.get(
    `${I}/contactedReviewers`,
    guard(
      { params: instanceParams, query: odataQuerySchema },
      async ({ params, query, caller }, req, res) => {
        const all = await instances.contactedReviewers(params.definitionId, params.instanceId, caller);
        const page = all.slice(query.$skip, query.$skip + query.$top);
        const ctx = `${base(params)}/instances('${params.instanceId}')/contactedReviewers`;
        res.json(collection(req, ctx, page, query, all.length > query.$skip + query.$top));
      },
    ),
  );

  const actions = ['stop', 'applyDecisions', 'resetDecisions', 'sendReminder'] as const;
  for (const action of actions) {
    r.post(
      `${I}/${action}`,
      guard({ params: instanceParams }, async ({ params, caller }, _req, res) => {
        await instances.adminAction(params.definitionId, params.instanceId, caller, action);
        res.status(204).end();
      }),
    );
  }

  r.post(
    `${I}/acceptRecommendations`,
    guard({ params: instanceParams }, async ({ params, caller }, _req, res) => {
      await instances.acceptRecommendations(params.definitionId, params.instanceId, caller);
      res.status(204).end();
    }),
  );

  for (const mine of [false, true]) {
    r.get(
      `${I}/stages${mine ? '/filterByCurrentUser' : ''}`,
      guard(
        { params: instanceParams, query: odataQuerySchema },
        async ({ params, query, caller }, req, res) => {
          const all = await instances.stages(params.definitionId, params.instanceId, caller, mine);
          const page = all.slice(query.$skip, query.$skip + query.$top);
          const ctx = `${base(params)}/instances('${params.instanceId}')/stages`;
          res.json(collection(req, ctx, page, query, all.length > query.$skip + query.$top));
        },
      ),
    );
  }

  r.get(
    `${I}/stages/:stageId`,
    guard({ params: stageParams }, async ({ params, caller }, req, res) => {
      const stage = await instances.stage(params.definitionId, params.instanceId, params.stageId, caller);
      const ctx = `${base(params)}/instances('${params.instanceId}')/stages`;
      res.json({ '@odata.context': entity(req, ctx), ...stage });
    }),
  );

  r.post(
    `${I}/stages/:stageId/stop`,
    guard({ params: stageParams }, async ({ params, caller }, _req, res) => {
      await instances.adminAction(
        params.definitionId,
        params.instanceId,
        caller,
        'stopStage',
        params.stageId,
      );
      res.status(204).end();
    }),
  );

  return r;
}
