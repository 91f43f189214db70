import type { Request, Response } from 'express';
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

/** The app setting (`app.locals`) that holds PUBLIC_BASE_URL, without a trailing slash. */
export const PUBLIC_BASE_URL = 'publicBaseUrl';

/**
 * Base URL for @odata.context, @odata.nextLink and Location: PUBLIC_BASE_URL when set (behind a proxy
 * the Host header names the proxy's upstream, not what clients call), else this request's scheme and host.
 */
export function requestBase(req: Request): string {
  return publicBaseUrl(req) ?? `${req.protocol}://${req.get('host') ?? 'localhost'}`;
}

/** PUBLIC_BASE_URL as the app was given it, if it was. */
export function publicBaseUrl(req: Request): string | undefined {
  const configured = (req.app.locals as Record<string, unknown>)[PUBLIC_BASE_URL];
  return typeof configured === 'string' ? configured : undefined;
}

/** Answers a `$count` path segment as Graph does: the number as plain text. */
export function sendCount(res: Response, count: number): void {
  res.type('text/plain').send(String(count));
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
    // Appended, not resolved: a PUBLIC_BASE_URL may carry a path prefix that an absolute path would drop.
    const url = new URL(`${base}${req.originalUrl}`);
    url.searchParams.set('$skip', String(q.$skip + q.$top));
    url.searchParams.set('$top', String(q.$top));
    body['@odata.nextLink'] = url.toString();
  }
  return body;
}
