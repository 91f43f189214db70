import type { ReviewerSpec, ScopeSpec } from './review-plan';

/** Why a Graph query could not be understood; `field` is the JSON path to name in the 400. */
export class QueryError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

const ID = '([A-Za-z0-9._~-]+)';
const GUEST_FILTER = /\$filter=\(?\s*userType\s+eq\s+'Guest'\s*\)?/i;

function stripVersion(query: string): string {
  return query
    .trim()
    .replace(/^https:\/\/graph\.microsoft\.com/i, '')
    .replace(/^\/(v1\.0|beta)(?=\/)/i, '');
}

/** Decodes an accessReview scope query into what it covers (members of a group, app assignees, guests only). */
export function parseScopeQuery(query: string, field: string, inactiveDays?: number): ScopeSpec {
  const q = stripVersion(query);
  const [path = '', search = ''] = q.split('?', 2);
  let decoded: string;
  try {
    decoded = decodeURIComponent(search);
  } catch {
    throw new QueryError(field, `${field}: malformed percent-encoding in scope query '${query}'`);
  }
  const principals = GUEST_FILTER.test(decoded) ? 'guests' : 'all';
  const group = new RegExp(`^/groups/${ID}/(transitiveMembers|members)(/microsoft\\.graph\\.user)?/?$`).exec(
    path,
  );
  const withInactive = (spec: ScopeSpec): ScopeSpec =>
    inactiveDays === undefined ? spec : { ...spec, inactiveDays };
  if (group?.[1]) return withInactive({ resource: { type: 'group', id: group[1] }, principals });
  const app = new RegExp(`^/servicePrincipals/${ID}/appRoleAssignedTo/?$`).exec(path);
  if (app?.[1]) return withInactive({ resource: { type: 'application', id: app[1] }, principals });
  throw new QueryError(
    field,
    `${field}: unsupported scope query '${query}'. Use /groups/{id}/transitiveMembers, /groups/{id}/members or /servicePrincipals/{id}/appRoleAssignedTo, optionally with ?$filter=(userType eq 'Guest')`,
  );
}

/** Decodes an accessReviewReviewerScope query into a reviewer kind. */
export function parseReviewerQuery(
  scope: { query: string; queryRoot?: string | null | undefined },
  field: string,
): ReviewerSpec {
  const q = stripVersion(scope.query);
  if (q === './manager' || q === 'manager' || q === '/manager') {
    if (scope.queryRoot != null && scope.queryRoot !== 'decisions') {
      throw new QueryError(field, `${field}: queryRoot for './manager' must be 'decisions'`);
    }
    return { kind: 'manager' };
  }
  const match = (re: string) => new RegExp(`^${re}/?$`).exec(q)?.[1];
  const userId = match(`/users/${ID}`);
  if (userId) return { kind: 'user', userId };
  const ownerGroup = match(`/groups/${ID}/owners`);
  if (ownerGroup) return { kind: 'groupOwners', groupId: ownerGroup };
  const ownerApp = match(`/servicePrincipals/${ID}/owners`);
  if (ownerApp) return { kind: 'applicationOwners', applicationId: ownerApp };
  const memberGroup = match(`/groups/${ID}/(?:transitiveMembers|members)(?:/microsoft\\.graph\\.user)?`);
  if (memberGroup) return { kind: 'groupMembers', groupId: memberGroup };
  throw new QueryError(
    field,
    `${field}: unsupported reviewer query '${scope.query}'. Use ./manager (queryRoot 'decisions'), /users/{id}, /groups/{id}/owners, /groups/{id}/transitiveMembers or /servicePrincipals/{id}/owners`,
  );
}
