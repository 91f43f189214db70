import type { GraphRequest, GraphResponse } from './odata';
import {
  badRequest,
  checkCast,
  checkCollectionQuery,
  GraphFault,
  notFound,
  page,
  project,
  refuseSignInActivity,
  selectOf,
  unsupported,
} from './odata';
import type { TenantState, UserRecord } from './state';

type Handler = (req: GraphRequest, m: RegExpExecArray, s: TenantState) => GraphResponse;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ID = '([^/]+)';
const CAST = '(?:/(microsoft\\.graph\\.(?:user|group)))?';

/** Graph answers 400, not 404, for an object id that is not a GUID. */
function checkId(id: string): void {
  if (!GUID.test(id)) throw badRequest(`Invalid object identifier '${id}'.`);
}

const USER_DEFAULTS = ['displayName', 'mail', 'userPrincipalName', 'id'];

function graphUser(u: UserRecord): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.user',
    id: u.id,
    displayName: u.displayName,
    userPrincipalName: u.userPrincipalName,
    mail: u.mail,
    userType: u.userType,
    accountEnabled: u.accountEnabled,
    createdDateTime: u.createdDateTime,
    // Graph leaves signInActivity out for a user who never signed in.
    ...(u.lastSignInDateTime
      ? {
          signInActivity: {
            lastSignInDateTime: u.lastSignInDateTime,
            lastNonInteractiveSignInDateTime: null,
            lastSuccessfulSignInDateTime: u.lastSignInDateTime,
          },
        }
      : {}),
  };
}

function graphObject(s: TenantState, id: string): Record<string, unknown> {
  const o = s.objectOf(id);
  if (o?.type === 'user') return graphUser(o.value as UserRecord);
  return { '@odata.type': `#microsoft.graph.${o?.type ?? 'directoryObject'}`, ...(o?.value ?? { id }) };
}

function userOf(s: TenantState, key: string): UserRecord {
  const u = GUID.test(key)
    ? s.users.get(key)
    : [...s.users.values()].find((x) => x.userPrincipalName.toLowerCase() === key.toLowerCase());
  if (!u) throw notFound(key);
  return u;
}

const selectsSignIns = (req: GraphRequest) =>
  selectOf(req)?.some((p) => p.toLowerCase() === 'signinactivity');

/** Without Entra ID P1/P2 Graph refuses signInActivity with 403 (not a permission: a licence). */
function checkLicence(req: GraphRequest, s: TenantState): void {
  if (selectsSignIns(req) && !s.premium) {
    throw new GraphFault(
      403,
      'Authentication_RequestFromNonPremiumTenantOrB2CTenant',
      "Neither tenant is B2C or tenant doesn't have premium license",
    );
  }
}

/** `manager` or `manager($select=a,b)`: the only $expand the reproduction serves on a user. */
function expandManager(req: GraphRequest, s: TenantState, u: UserRecord, out: Record<string, unknown>) {
  const expand = req.query.get('$expand');
  if (expand === null) return;
  const m = /^manager(?:\(\$select=([\w,]+)\))?$/.exec(expand);
  if (!m) throw unsupported(`The $expand '${expand}' is not reproduced.`);
  const manager = u.managerId ? s.users.get(u.managerId) : undefined;
  if (manager) out.manager = project(graphUser(manager), m[1]?.split(','), USER_DEFAULTS);
}

/** A directory object collection: ids → Graph objects, optionally cast, paged. */
function objects(
  req: GraphRequest,
  s: TenantState,
  ids: string[],
  cast: string | undefined,
  context: string,
) {
  checkCollectionQuery(req);
  checkCast(req, cast);
  refuseSignInActivity(req);
  const type = cast?.replace('microsoft.graph.', '');
  const picked = ids.filter((id) => !type || s.objectOf(id)?.type === type);
  const items = picked.map((id) => project(graphObject(s, id), selectOf(req), USER_DEFAULTS));
  return page(req, items, context);
}

const groupOf = (s: TenantState, id: string) => {
  checkId(id);
  const g = s.groups.get(id);
  if (!g) throw notFound(id);
  return g;
};

const spOf = (s: TenantState, id: string) => {
  checkId(id);
  const sp = s.servicePrincipals.get(id);
  if (!sp) throw notFound(id);
  return sp;
};

const routes: [string, RegExp, Handler][] = [
  // https://learn.microsoft.com/en-us/graph/api/organization-get?view=graph-rest-1.0
  [
    'GET',
    /^\/organization$/,
    (req, _m, s) => page(req, [{ id: s.tenantId, displayName: 'Stagecoach test tenant' }], 'organization'),
  ],
  // https://learn.microsoft.com/en-us/graph/api/user-list?view=graph-rest-1.0
  [
    'GET',
    /^\/users$/,
    (req, _m, s) => {
      checkCollectionQuery(req);
      checkLicence(req, s);
      const items = [...s.users.values()].map((u) => project(graphUser(u), selectOf(req), USER_DEFAULTS));
      return page(req, items, 'users');
    },
  ],
  // https://learn.microsoft.com/en-us/graph/api/user-get?view=graph-rest-1.0
  [
    'GET',
    new RegExp(`^/users/${ID}$`),
    (req, m, s) => {
      const key = decodeURIComponent(m[1]!);
      checkLicence(req, s);
      if (!GUID.test(key) && selectsSignIns(req)) {
        throw badRequest('signInActivity can only be selected for a user addressed by its object id.');
      }
      const u = userOf(s, key);
      const out = project(graphUser(u), selectOf(req), USER_DEFAULTS);
      expandManager(req, s, u, out);
      return {
        status: 200,
        body: { '@odata.context': `${req.origin}/v1.0/$metadata#users/$entity`, ...out },
      };
    },
  ],
  // https://learn.microsoft.com/en-us/graph/api/user-update?view=graph-rest-1.0
  [
    'PATCH',
    new RegExp(`^/users/${ID}$`),
    (req, m, s) => {
      const u = userOf(s, decodeURIComponent(m[1]!));
      const body = (req.body ?? {}) as Record<string, unknown>;
      for (const [k, v] of Object.entries(body)) {
        if (k !== 'accountEnabled' || typeof v !== 'boolean') {
          throw badRequest(`Updating '${k}' is not reproduced (only accountEnabled: true|false).`);
        }
        u.accountEnabled = v;
      }
      return { status: 204 };
    },
  ],
  // https://learn.microsoft.com/en-us/graph/api/user-delete?view=graph-rest-1.0
  [
    'DELETE',
    new RegExp(`^/users/${ID}$`),
    (_req, m, s) => {
      s.deleteUser(userOf(s, decodeURIComponent(m[1]!)).id);
      return { status: 204 };
    },
  ],
  // https://learn.microsoft.com/en-us/graph/api/user-list-manager?view=graph-rest-1.0
  [
    'GET',
    new RegExp(`^/users/${ID}/manager$`),
    (req, m, s) => {
      refuseSignInActivity(req);
      const u = userOf(s, decodeURIComponent(m[1]!));
      const manager = u.managerId ? s.users.get(u.managerId) : undefined;
      if (!manager) throw notFound('manager');
      return { status: 200, body: project(graphUser(manager), selectOf(req), USER_DEFAULTS) };
    },
  ],
  // https://learn.microsoft.com/en-us/graph/api/user-list-approleassignments?view=graph-rest-1.0
  [
    'GET',
    new RegExp(`^/users/${ID}/appRoleAssignments$`),
    (req, m, s) => {
      checkCollectionQuery(req, { filter: true });
      const u = userOf(s, decodeURIComponent(m[1]!));
      const filter = req.query.get('$filter');
      const resource = filter === null ? undefined : /^resourceId eq ([0-9a-f-]{36})$/i.exec(filter)?.[1];
      if (filter !== null && !resource) throw badRequest(`Invalid filter clause: ${filter}`);
      const items = [...s.assignments.values()]
        .filter((a) => a.principalId === u.id && (!resource || a.resourceId === resource))
        .map((a) => project({ ...a }, selectOf(req), Object.keys(a)));
      return page(req, items, `users('${u.id}')/appRoleAssignments`);
    },
  ],
  // https://learn.microsoft.com/en-us/graph/api/group-get?view=graph-rest-1.0
  [
    'GET',
    new RegExp(`^/groups/${ID}$`),
    (req, m, s) => {
      const g = groupOf(s, m[1]!);
      const entity = { id: g.id, displayName: g.displayName, description: g.description };
      return { status: 200, body: project(entity, selectOf(req), Object.keys(entity)) };
    },
  ],
  // https://learn.microsoft.com/en-us/graph/api/group-list-members?view=graph-rest-1.0
  [
    'GET',
    new RegExp(`^/groups/${ID}/members${CAST}$`),
    (req, m, s) => objects(req, s, groupOf(s, m[1]!).members, m[2], 'directoryObjects'),
  ],
  // https://learn.microsoft.com/en-us/graph/api/group-list-transitivemembers?view=graph-rest-1.0
  [
    'GET',
    new RegExp(`^/groups/${ID}/transitiveMembers${CAST}$`),
    (req, m, s) => objects(req, s, s.transitiveMemberIds(groupOf(s, m[1]!).id), m[2], 'directoryObjects'),
  ],
  // https://learn.microsoft.com/en-us/graph/api/group-list-owners?view=graph-rest-1.0
  [
    'GET',
    new RegExp(`^/groups/${ID}/owners${CAST}$`),
    (req, m, s) => objects(req, s, groupOf(s, m[1]!).owners, m[2], 'directoryObjects'),
  ],
  // https://learn.microsoft.com/en-us/graph/api/group-delete-members?view=graph-rest-1.0
  [
    'DELETE',
    new RegExp(`^/groups/${ID}/members/${ID}/\\$ref$`),
    (_req, m, s) => {
      const g = groupOf(s, m[1]!);
      const member = m[2]!;
      checkId(member);
      if (!s.objectOf(member)) throw notFound(member);
      if (!g.members.includes(member)) {
        throw badRequest(
          "One or more removed object references do not exist for the following modified properties: 'members'.",
        );
      }
      g.members = g.members.filter((x) => x !== member);
      return { status: 204 };
    },
  ],
  // https://learn.microsoft.com/en-us/graph/api/serviceprincipal-get?view=graph-rest-1.0
  [
    'GET',
    new RegExp(`^/servicePrincipals/${ID}$`),
    (req, m, s) => {
      const sp = spOf(s, m[1]!);
      const entity = { id: sp.id, appId: sp.appId, displayName: sp.displayName, accountEnabled: true };
      return { status: 200, body: project(entity, selectOf(req), Object.keys(entity)) };
    },
  ],
  // https://learn.microsoft.com/en-us/graph/api/serviceprincipal-list-approleassignedto?view=graph-rest-1.0
  [
    'GET',
    new RegExp(`^/servicePrincipals/${ID}/appRoleAssignedTo$`),
    (req, m, s) => {
      checkCollectionQuery(req);
      const sp = spOf(s, m[1]!);
      const items = [...s.assignments.values()]
        .filter((a) => a.resourceId === sp.id)
        .map((a) => project({ ...a }, selectOf(req), Object.keys(a)));
      return page(req, items, `servicePrincipals('${sp.id}')/appRoleAssignedTo`);
    },
  ],
  // https://learn.microsoft.com/en-us/graph/api/serviceprincipal-delete-approleassignedto?view=graph-rest-1.0
  [
    'DELETE',
    new RegExp(`^/servicePrincipals/${ID}/appRoleAssignedTo/${ID}$`),
    (_req, m, s) => {
      const sp = spOf(s, m[1]!);
      const a = s.assignments.get(m[2]!);
      if (!a || a.resourceId !== sp.id) throw notFound(m[2]!);
      s.assignments.delete(a.id);
      return { status: 204 };
    },
  ],
  // https://learn.microsoft.com/en-us/graph/api/serviceprincipal-list-owners?view=graph-rest-1.0
  [
    'GET',
    new RegExp(`^/servicePrincipals/${ID}/owners${CAST}$`),
    (req, m, s) => objects(req, s, spOf(s, m[1]!).owners, m[2], 'directoryObjects'),
  ],
];

/** Runs the Graph v1.0 route for the request against the tenant; faults are thrown as GraphFault. */
export function route(req: GraphRequest, s: TenantState): GraphResponse {
  let pathMatched = false;
  for (const [method, re, handler] of routes) {
    const m = re.exec(req.path);
    if (!m) continue;
    pathMatched = true;
    if (method === req.method) return handler(req, m, s);
  }
  if (pathMatched)
    throw new GraphFault(405, 'Request_BadRequest', `The method ${req.method} is not allowed here.`);
  throw new GraphFault(
    400,
    'BadRequest',
    `Resource not found for the segment '${req.path.split('/')[1] ?? ''}'.`,
  );
}
