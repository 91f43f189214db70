import { Router } from 'express';
import type { DirectoryService } from '../../services/directory';
import { guard } from '../guard';
import { collection, odataQuerySchema, requestBase } from '../odata';
import { directoryObjectParams as idParams, userPatchSchema } from './params';

/** Graph-shaped reads of the directory under /v1.0, so people can see what a review changed. */
export function directoryRoutes(directory: DirectoryService): Router {
  const r = Router();
  const entity = (host: string, what: string) => `${host}/v1.0/$metadata#${what}/$entity`;

  r.get(
    '/users/:id',
    guard({ params: idParams }, async ({ params }, req, res) => {
      res.json({ '@odata.context': entity(requestBase(req), 'users'), ...(await directory.user(params.id)) });
    }),
  );
  r.patch(
    '/users/:id',
    guard({ params: idParams, body: userPatchSchema }, async ({ params, body, caller }, _req, res) => {
      await directory.setAccountEnabled(params.id, body.accountEnabled, caller);
      res.status(204).end();
    }),
  );
  r.get(
    '/users/:id/manager',
    guard({ params: idParams }, async ({ params }, req, res) => {
      res.json({
        '@odata.context': entity(requestBase(req), 'directoryObjects'),
        ...(await directory.manager(params.id)),
      });
    }),
  );
  const lists = [
    ['/groups/:id/members', (id: string) => directory.groupMembers(id)],
    ['/groups/:id/owners', (id: string) => directory.groupOwners(id)],
    ['/servicePrincipals/:id/appRoleAssignedTo', (id: string) => directory.applicationAssignees(id)],
  ] as const;
  for (const [path, load] of lists) {
    r.get(
      path,
      guard({ params: idParams, query: odataQuerySchema }, async ({ params, query }, req, res) => {
        const all = await load(params.id);
        const page = all.slice(query.$skip, query.$skip + query.$top);
        res.json(collection(req, 'directoryObjects', page, query, all.length > query.$skip + query.$top));
      }),
    );
  }
  return r;
}
