import type { Request } from 'express';
import { Router } from 'express';
import type { InstanceService } from '../../services/instances';
import { guard } from '../guard';
import { collection, odataQuerySchema, parseDecisionFilter, requestBase, select, sendCount } from '../odata';
import {
  batchRecordDecisionsSchema,
  decisionParams,
  decisionPatchSchema,
  instanceParams,
  stageDecisionParams,
  stageParams,
} from './params';

const context = (p: { definitionId: string; instanceId: string; stageId?: string }) =>
  `identityGovernance/accessReviews/definitions('${p.definitionId}')/instances('${p.instanceId}')` +
  `${p.stageId ? `/stages('${p.stageId}')` : ''}/decisions`;
const entity = (req: Request, ctx: string) => `${requestBase(req)}/v1.0/$metadata#${ctx}/$entity`;

/** Decision items of an instance and of its stages: list, read, record (PATCH / batch). */
export function decisionRoutes(instances: InstanceService): Router {
  const r = Router();
  const I = '/definitions/:definitionId/instances/:instanceId';

  for (const [prefix, params] of [
    [I, instanceParams],
    [`${I}/stages/:stageId`, stageParams],
  ] as const) {
    for (const mine of [false, true]) {
      r.get(
        `${prefix}/decisions${mine ? '/filterByCurrentUser' : ''}`,
        guard({ params, query: odataQuerySchema }, async ({ params: p, query, caller }, req, res) => {
          const filter = parseDecisionFilter(query.$filter);
          const stageId = 'stageId' in p ? p.stageId : undefined;
          const page = await instances.decisions(p.definitionId, p.instanceId, caller, {
            ...filter,
            stageId,
            skip: query.$skip,
            top: query.$top,
            asReviewer: mine,
          });
          const more = page.total > query.$skip + page.value.length;
          const count = query.$count === 'true' ? page.total : undefined;
          res.json(collection(req, context({ ...p, stageId }), page.value, query, more, count));
        }),
      );
    }

    r.get(
      `${prefix}/decisions/$count`,
      guard(
        { params, query: odataQuerySchema.pick({ $filter: true }) },
        async ({ params: p, query, caller }, _req, res) => {
          const stageId = 'stageId' in p ? p.stageId : undefined;
          const page = await instances.decisions(p.definitionId, p.instanceId, caller, {
            ...parseDecisionFilter(query.$filter),
            stageId,
            skip: 0,
            top: 0,
            asReviewer: false,
          });
          sendCount(res, page.total);
        },
      ),
    );

    r.post(
      `${prefix}/batchRecordDecisions`,
      guard({ params, body: batchRecordDecisionsSchema }, async ({ params: p, body, caller }, _req, res) => {
        const stageId = 'stageId' in p ? p.stageId : undefined;
        await instances.batchRecordDecisions(p.definitionId, p.instanceId, caller, body, stageId);
        res.status(204).end();
      }),
    );
  }

  r.post(
    `${I}/stages/:stageId/acceptRecommendations`,
    guard({ params: stageParams }, async ({ params, caller }, _req, res) => {
      await instances.acceptRecommendations(params.definitionId, params.instanceId, caller, params.stageId);
      res.status(204).end();
    }),
  );

  for (const [path, params] of [
    [`${I}/decisions/:decisionId`, decisionParams],
    [`${I}/stages/:stageId/decisions/:decisionId`, stageDecisionParams],
  ] as const) {
    r.get(
      path,
      guard(
        { params, query: odataQuerySchema.pick({ $select: true }) },
        async ({ params: p, query, caller }, req, res) => {
          const stageId = 'stageId' in p ? p.stageId : undefined;
          const item = await instances.decision(p.definitionId, p.instanceId, p.decisionId, caller, stageId);
          const [selected] = select([item], query.$select);
          res.json({ '@odata.context': entity(req, context({ ...p, stageId })), ...selected });
        },
      ),
    );
    r.patch(
      path,
      guard({ params, body: decisionPatchSchema }, async ({ params: p, body, caller }, _req, res) => {
        const stageId = 'stageId' in p ? p.stageId : undefined;
        await instances.recordDecisions(
          p.definitionId,
          p.instanceId,
          caller,
          [{ itemId: p.decisionId, ...body }],
          stageId,
        );
        res.status(204).end();
      }),
    );
  }

  return r;
}
