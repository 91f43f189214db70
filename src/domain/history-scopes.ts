import type { Filter } from './odata-filter';
import { matches, ODataSyntaxError, parseFilter } from './odata-filter';
import type { ScopeSpec } from './review-plan';

// Which reviews a history definition reports on. Graph writes each of its scopes as a query over the
// access review definitions, `/identityGovernance/accessReviews/definitions?$filter=contains(scope/query,
// '/groups')`; a review belongs to the report when any scope's filter holds for the definition it came
// from. Stagecoach also takes a definition's own path (`…/definitions/{id}`) and the unfiltered list.

/** What a history scope is matched against: a reviewed definition as its review records know it. */
export interface ReviewedDefinition {
  id: string;
  displayName: string;
  scope: { '@odata.type': string; query: string };
}

/** A parsed history scope: every definition, one definition, or those a $filter selects. */
export type HistoryScopeMatcher =
  { kind: 'all' } | { kind: 'definition'; id: string } | { kind: 'filter'; filter: Filter };

const DEFINITIONS = '/identityGovernance/accessReviews/definitions';
const FILTERABLE = new Set([
  'id',
  'displayName',
  'scope/query',
  'scope/microsoft.graph.accessReviewQueryScope/query',
  'scope/microsoft.graph.accessReviewInactiveUsersQueryScope/query',
]);
const SUPPORTED =
  `Use ${DEFINITIONS}?$filter=contains(scope/query, '/groups') (contains, startswith, endswith or eq on ` +
  `scope/query, id or displayName, combined with and, or, not), ${DEFINITIONS}/{id}, or ${DEFINITIONS}`;

/** Parses the query of one history scope; throws an Error whose message says what is wrong. */
export function parseHistoryScope(query: string): HistoryScopeMatcher {
  const q = query
    .trim()
    .replace(/^https:\/\/graph\.microsoft\.com/i, '')
    .replace(/^\/(v1\.0|beta)(?=\/)/i, '');
  const [path = '', search] = q.split(/\?(.*)/s, 2);
  if (path.replace(/\/$/, '') === DEFINITIONS) {
    if (search === undefined || search === '') return { kind: 'all' };
    let decoded: string;
    try {
      decoded = decodeURIComponent(search.replace(/\+/g, ' '));
    } catch {
      throw new Error(`malformed percent-encoding in scope query '${query}'`);
    }
    const m = /^\$filter=(.*)$/s.exec(decoded);
    if (!m) throw new Error(`scope query '${query}' may only have a $filter. ${SUPPORTED}`);
    try {
      const filter = parseFilter(m[1]!, (p) =>
        FILTERABLE.has(p.join('/')) ? undefined : `'${p.join('/')}' cannot be filtered on in a history scope`,
      );
      return { kind: 'filter', filter };
    } catch (err) {
      if (err instanceof ODataSyntaxError) throw new Error(`scope query '${query}': ${err.message}`);
      throw err;
    }
  }
  const one = new RegExp(`^${DEFINITIONS}/([A-Za-z0-9._~-]+)/?$`).exec(path);
  if (one?.[1] && search === undefined) return { kind: 'definition', id: one[1] };
  throw new Error(`unsupported scope query '${query}'. ${SUPPORTED}`);
}

/** Whether a reviewed definition is in a history scope. */
export function inHistoryScope(matcher: HistoryScopeMatcher, reviewed: ReviewedDefinition): boolean {
  if (matcher.kind === 'all') return true;
  if (matcher.kind === 'definition') return matcher.id === reviewed.id;
  return matches(reviewed, matcher.filter);
}

/**
 * The scope query of a reviewed definition, written back from what its review plan kept: the canonical
 * spelling of each supported form (`/groups/{id}/transitiveMembers`, `/servicePrincipals/{id}/
 * appRoleAssignedTo`, with `?$filter=(userType eq 'Guest')` for guests only), which is what history scopes
 * are matched against.
 */
export function canonicalScopeQuery(scope: ScopeSpec): ReviewedDefinition['scope'] {
  const base =
    scope.resource.type === 'group'
      ? `/groups/${scope.resource.id}/transitiveMembers`
      : `/servicePrincipals/${scope.resource.id}/appRoleAssignedTo`;
  return {
    '@odata.type':
      scope.inactiveDays !== undefined
        ? '#microsoft.graph.accessReviewInactiveUsersQueryScope'
        : '#microsoft.graph.accessReviewQueryScope',
    query: scope.principals === 'guests' ? `${base}?$filter=(userType eq 'Guest')` : base,
  };
}
