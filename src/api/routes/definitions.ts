import { Router } from 'express';
import { definitionInputSchema } from '../../domain/definition-schema';
import { requireAdmin } from '../../services/caller';
import { requireDefinitionReader, reviewsIn } from '../../services/definition-readers';
import type { DefinitionService } from '../../services/definitions';
import type { InstanceService } from '../../services/instances';
import { guard } from '../guard';
import { collection, odataQuerySchema, publicBaseUrl, requestBase, sendCount } from '../odata';
import { definitionParams } from './params';

const CONTEXT = 'identityGovernance/accessReviews/definitions';

/** /definitions: create, list, count, read, replace and delete access review schedule definitions. */
export function definitionRoutes(definitions: DefinitionService, instances: InstanceService): Router {
  const r = Router();

  r.post(
    '/definitions',
    guard({ body: definitionInputSchema }, async ({ body, caller }, req, res) => {
      const created = await definitions.create(body, caller);
      res
        .status(201)
        // Relative unless PUBLIC_BASE_URL says where clients reach the API (a proxy may add a path prefix).
        .location(`${publicBaseUrl(req) ?? ''}/v1.0/${CONTEXT}/${created.id}`)
        .json({
          '@odata.context': `${requestBase(req)}/v1.0/$metadata#${CONTEXT}/$entity`,
          ...created,
        });
    }),
  );

  r.get(
    '/definitions',
    guard({ query: odataQuerySchema }, async ({ query, caller }, req, res) => {
      requireAdmin(
        caller,
        "Only access review administrators can list definitions; reviewers use filterByCurrentUser(on='reviewer')",
      );
      const page = await definitions.list(query.$skip, query.$top);
      res.json(collection(req, CONTEXT, page.value, query, page.more));
    }),
  );

  r.get(
    '/definitions/filterByCurrentUser',
    guard({ query: odataQuerySchema }, async ({ query, caller }, req, res) => {
      const all = await definitions.list(0, 1000);
      const mine = [];
      for (const d of all.value) if (await reviewsIn(instances, d.id, caller)) mine.push(d);
      const page = mine.slice(query.$skip, query.$skip + query.$top);
      res.json(collection(req, CONTEXT, page, query, mine.length > query.$skip + query.$top));
    }),
  );

  r.get(
    '/definitions/$count',
    guard({}, async ({ caller }, _req, res) => {
      requireAdmin(caller, 'Only access review administrators can count definitions');
      sendCount(res, await definitions.count());
    }),
  );

  r.get(
    '/definitions/:definitionId',
    guard({ params: definitionParams }, async ({ params, caller }, req, res) => {
      await requireDefinitionReader(instances, params.definitionId, caller);
      const series = await definitions.get(params.definitionId);
      res.json({
        '@odata.context': `${requestBase(req)}/v1.0/$metadata#${CONTEXT}/$entity`,
        ...series.definition,
      });
    }),
  );

  r.put(
    '/definitions/:definitionId',
    guard(
      { params: definitionParams, body: definitionInputSchema },
      async ({ params, body, caller }, _req, res) => {
        await definitions.update(params.definitionId, body, caller);
        res.status(204).end();
      },
    ),
  );

  r.delete(
    '/definitions/:definitionId',
    guard({ params: definitionParams }, async ({ params, caller }, _req, res) => {
      await definitions.delete(params.definitionId, caller);
      res.status(204).end();
    }),
  );

  return r;
}
