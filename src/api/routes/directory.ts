import { Router } from 'express';
import type { DirectoryService } from '../../services/directory';
import type { DirectoryAccess } from '../../services/directory-access';
import { guard } from '../guard';
import { collection, odataQuerySchema, requestBase } from '../odata';
import { directoryObjectParams as idParams, userPatchSchema } from './params';

/**
 * Graph-shaped reads of the directory under /v1.0, so people can see what a review changed. Who may
 * read what is DirectoryAccess's rule, checked before the directory is asked.
 */
export function directoryRoutes(directory: DirectoryService, access: DirectoryAccess): Router {
  const r = Router();
  const entity = (host: string, what: string) => `${host}/v1.0/$metadata#${what}/$entity`;

  r.get(
    '/users/:id',
    guard({ params: idParams }, async ({ params, caller }, req, res) => {
      await access.requireUser(caller, params.id);
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
    guard({ params: idParams }, async ({ params, caller }, req, res) => {
      await access.requireManagerOf(caller, params.id);
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
      guard({ params: idParams, query: odataQuerySchema }, async ({ params, query, caller }, req, res) => {
        await access.requireList(caller);
        const all = await load(params.id);
        const page = all.slice(query.$skip, query.$skip + query.$top);
        res.json(collection(req, 'directoryObjects', page, query, all.length > query.$skip + query.$top));
      }),
    );
  }
  return r;
}
