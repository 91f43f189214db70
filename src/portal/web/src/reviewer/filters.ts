import type { DecisionItem } from './api';

/** Which items the table shows: by decision state, by recommendation, by name. */
export interface ItemFilters {
  decided: 'all' | 'decided' | 'notDecided';
  recommendation: 'all' | 'Approve' | 'Deny' | 'none';
  search: string;
}

export const NO_FILTERS: ItemFilters = { decided: 'all', recommendation: 'all', search: '' };

/** OData string literal: quotes doubled. */
const literal = (text: string) => `'${text.replace(/'/g, "''")}'`;

/** The $filter of the decision routes for these filters; undefined when nothing narrows the list. */
export function odataFilter(f: ItemFilters): string | undefined {
  const parts: string[] = [];
  if (f.decided === 'decided') parts.push("decision ne 'NotReviewed'");
  if (f.decided === 'notDecided') parts.push("decision eq 'NotReviewed'");
  if (f.recommendation === 'Approve' || f.recommendation === 'Deny') {
    parts.push(`recommendation eq '${f.recommendation}'`);
  }
  // Items without a recommendation: none was made (null) or there was nothing to base it on.
  if (f.recommendation === 'none')
    parts.push("(recommendation eq null or recommendation eq 'NoInfoAvailable')");
  const search = f.search.trim();
  if (search) {
    const q = literal(search);
    parts.push(`(contains(principal/displayName,${q}) or contains(principal/userPrincipalName,${q}))`);
  }
  return parts.length ? parts.join(' and ') : undefined;
}

/** The filters from the page's URL (?decided=…&recommendation=…&q=…). */
export function filtersFrom(params: URLSearchParams): ItemFilters {
  const decided = params.get('decided');
  const recommendation = params.get('recommendation');
  return {
    decided: decided === 'decided' || decided === 'notDecided' ? decided : 'all',
    recommendation:
      recommendation === 'Approve' || recommendation === 'Deny' || recommendation === 'none'
        ? recommendation
        : 'all',
    search: params.get('q') ?? '',
  };
}

/** The earlier stages' $filter for a page of items: `id eq …` joined with or, short enough for the API. */
export function idFilters(items: Pick<DecisionItem, 'id'>[], perFilter = 35): string[] {
  const out: string[] = [];
  for (let at = 0; at < items.length; at += perFilter) {
    out.push(
      items
        .slice(at, at + perFilter)
        .map((i) => `id eq ${literal(i.id)}`)
        .join(' or '),
    );
  }
  return out;
}
