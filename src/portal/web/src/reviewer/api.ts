import { api, unwrap } from '../api/client';

import type { Definition, DecisionItem, Instance, ReviewerDecision, Stage } from '../api/types';

export type { Definition, DecisionItem, Instance, ReviewerDecision, Stage };

const DEFINITIONS = '/v1.0/identityGovernance/accessReviews/definitions';
const MY_DEFINITIONS = `${DEFINITIONS}/filterByCurrentUser(on='reviewer')` as const;
const MY_INSTANCES = `${DEFINITIONS}/{definitionId}/instances/filterByCurrentUser(on='reviewer')` as const;
const MY_STAGES =
  `${DEFINITIONS}/{definitionId}/instances/{instanceId}/stages/filterByCurrentUser(on='reviewer')` as const;
const MY_STAGE_DECISIONS =
  `${DEFINITIONS}/{definitionId}/instances/{instanceId}/stages/{stageId}/decisions/filterByCurrentUser(on='reviewer')` as const;

/** Which review, and which of its stages. */
export interface StageRef {
  definitionId: string;
  instanceId: string;
  stageId: string;
}

/** The definitions in which the caller reviews something now (every page of them). */
export async function myDefinitions(): Promise<Definition[]> {
  const out: Definition[] = [];
  for (let skip = 0; ; skip += 100) {
    const page = unwrap(await api.GET(MY_DEFINITIONS, { params: { query: { $top: 100, $skip: skip } } }));
    out.push(...(page.value as Definition[]));
    if (!page['@odata.nextLink'] || page.value.length === 0) return out;
  }
}

/** The instances of a definition in which the caller reviews something now. */
export async function myInstances(definitionId: string): Promise<Instance[]> {
  const page = unwrap(await api.GET(MY_INSTANCES, { params: { path: { definitionId } } }));
  return page.value as Instance[];
}

/** The stages of an instance the caller reviews in (empty when they review nothing there now). */
export async function myStages(definitionId: string, instanceId: string): Promise<Stage[]> {
  const page = unwrap(await api.GET(MY_STAGES, { params: { path: { definitionId, instanceId } } }));
  return page.value as Stage[];
}

/** One definition (reviewers of a stage in progress may read it). */
export async function definition(definitionId: string): Promise<Definition> {
  return unwrap(
    await api.GET(`${DEFINITIONS}/{definitionId}`, { params: { path: { definitionId } } }),
  ) as Definition;
}

/** Query options of a page of the caller's items. */
export interface ItemQuery {
  filter?: string;
  orderBy?: string;
  skip: number;
  top: number;
  select?: string;
  expand?: string;
}

/** A page of the caller's decision items of a stage, with the number that match. */
export async function myItems(
  ref: StageRef,
  q: ItemQuery,
  signal?: AbortSignal,
): Promise<{ total: number; value: DecisionItem[] }> {
  const page = unwrap(
    await api.GET(MY_STAGE_DECISIONS, {
      params: {
        path: ref,
        query: {
          $top: q.top,
          $skip: q.skip,
          $count: 'true',
          ...(q.filter ? { $filter: q.filter } : {}),
          ...(q.orderBy ? { $orderby: q.orderBy } : {}),
          ...(q.select ? { $select: q.select } : {}),
          ...(q.expand ? { $expand: q.expand } : {}),
        },
      },
      signal,
    }),
  );
  return { total: page['@odata.count'] ?? page.value.length, value: page.value as DecisionItem[] };
}

/** One of the caller's items with its insights (the reviewee's last sign-in), for the details panel. */
export async function itemDetails(ref: StageRef, decisionId: string): Promise<DecisionItem> {
  return unwrap(
    await api.GET(
      `${DEFINITIONS}/{definitionId}/instances/{instanceId}/stages/{stageId}/decisions/{decisionId}`,
      {
        params: { path: { ...ref, decisionId }, query: { $expand: 'insights' } },
      },
    ),
  ) as DecisionItem;
}

/** Records one decision on one item (PATCH). */
export async function decideOne(
  ref: StageRef,
  decisionId: string,
  decision: ReviewerDecision,
  justification: string,
): Promise<void> {
  unwrap(
    await api.PATCH(
      `${DEFINITIONS}/{definitionId}/instances/{instanceId}/stages/{stageId}/decisions/{decisionId}`,
      {
        params: { path: { ...ref, decisionId } },
        body: { decision, justification: justification || null },
      },
    ),
  );
}

/** Largest decisionIds list one batchRecordDecisions takes. */
export const MAX_BATCH_IDS = 10_000;

/**
 * One decision on many items: batchRecordDecisions with the listed ids (in requests of up to 10,000),
 * or, without ids, on every item the caller reviews in the stage.
 */
export async function decideMany(
  ref: StageRef,
  decision: ReviewerDecision,
  justification: string,
  decisionIds?: string[],
): Promise<void> {
  const path =
    `${DEFINITIONS}/{definitionId}/instances/{instanceId}/stages/{stageId}/batchRecordDecisions` as const;
  const body = { decision, justification: justification || null };
  if (!decisionIds) {
    unwrap(await api.POST(path, { params: { path: ref }, body }));
    return;
  }
  for (let at = 0; at < decisionIds.length; at += MAX_BATCH_IDS) {
    const ids = decisionIds.slice(at, at + MAX_BATCH_IDS);
    unwrap(await api.POST(path, { params: { path: ref }, body: { ...body, decisionIds: ids } }));
  }
}

/** Accepts the recommendations on the caller's undecided items of the stage. */
export async function acceptRecommendations(ref: StageRef): Promise<void> {
  unwrap(
    await api.POST(
      `${DEFINITIONS}/{definitionId}/instances/{instanceId}/stages/{stageId}/acceptRecommendations`,
      {
        params: { path: ref },
      },
    ),
  );
}

/** The ids of every item of the caller that matches a filter, read 1,000 at a time. */
export async function matchingIds(ref: StageRef, filter: string | undefined): Promise<string[]> {
  const ids: string[] = [];
  for (let skip = 0; ; skip += 1000) {
    const page = await myItems(ref, { filter, select: 'id', skip, top: 1000 });
    ids.push(...page.value.map((i) => i.id));
    if (page.value.length < 1000 || ids.length >= page.total) return ids;
  }
}
