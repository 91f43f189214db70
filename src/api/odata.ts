import type { Request } from 'express';
import { z } from 'zod';
import { badRequest } from '../domain/errors';

/** Graph's paging and selection query options. */
export const odataQuerySchema = z.object({
  $top: z.coerce.number().int().min(1).max(1000).default(100),
  $skip: z.coerce.number().int().min(0).default(0),
  $select: z.string().max(1000).optional(),
  $filter: z.string().max(2000).optional(),
  $count: z.enum(['true', 'false']).optional(),
  $orderby: z.string().max(200).optional(),
});
export type ODataQuery = z.infer<typeof odataQuerySchema>;

/** The simple equality filters Graph shows on decisions: `decision eq 'Deny' and principal/id eq '…'`. */
export interface DecisionFilter {
  decision?: 'Approve' | 'Deny' | 'NotReviewed' | 'DontKnow';
  principalId?: string;
}

const CLAUSE = /^\(?\s*([A-Za-z/]+)\s+eq\s+'([^']*)'\s*\)?$/;

export function parseDecisionFilter(filter: string | undefined): DecisionFilter {
  if (!filter) return {};
  const out: DecisionFilter = {};
  for (const clause of filter.split(/\s+and\s+/i)) {
    const m = CLAUSE.exec(clause.trim());
    const [, field, value = ''] = m ?? [];
    if (field === 'decision' && ['Approve', 'Deny', 'NotReviewed', 'DontKnow'].includes(value)) {
      out.decision = value as DecisionFilter['decision'];
    } else if (field === 'principal/id' || field === 'principalId') {
      out.principalId = value;
    } else {
      throw badRequest(
        'request.unsupported_filter',
        `$filter: unsupported clause '${clause}'. Supported: decision eq 'Approve|Deny|NotReviewed|DontKnow', principal/id eq '{id}', joined with 'and'`,
      );
    }
  }
  return out;
}

/** Keeps only the `$select`ed properties (plus id), as Graph does. */
export function select<T extends object>(items: T[], $select: string | undefined): Partial<T>[] {
  if (!$select) return items;
  const keys = new Set([
    'id',
    ...$select
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  ]);
  return items.map(
    (item) => Object.fromEntries(Object.entries(item).filter(([k]) => keys.has(k))) as Partial<T>,
  );
}

/** Absolute URL of this request, for @odata.context and @odata.nextLink. */
export function requestBase(req: Request): string {
  return `${req.protocol}://${req.get('host') ?? 'localhost'}`;
}

/** A Graph collection response with @odata.nextLink when more items exist. */
export function collection<T extends object>(
  req: Request,
  context: string,
  items: T[],
  q: Pick<ODataQuery, '$top' | '$skip' | '$select'>,
  more: boolean,
  count?: number,
) {
  const base = requestBase(req);
  const body: Record<string, unknown> = { '@odata.context': `${base}/v1.0/$metadata#${context}` };
  if (count !== undefined) body['@odata.count'] = count;
  body.value = select(items, q.$select);
  if (more) {
    const url = new URL(req.originalUrl, base);
    url.searchParams.set('$skip', String(q.$skip + q.$top));
    url.searchParams.set('$top', String(q.$top));
    body['@odata.nextLink'] = url.toString();
  }
  return body;
}
