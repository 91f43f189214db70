import { decisionItemIdFor } from './ids';
import type { RecommendationValue } from './recommendations';
import type { ApplyResult, DecisionValue, ReviewerDecision } from './review-events';
import type { ItemState, RecordedDecision, ReviewState, StageState } from './review-state';

/**
 * A review state packed to carry over continue-as-new: items by position instead of by id (ids are
 * derived from instance and principal), user ids and justifications interned, Maps as arrays. A shard
 * of 500 reviewees with three decided stages, each with its own reviewer, packs into about 220 KB.
 */
export interface ReviewSnapshot {
  v: 1;
  head: Omit<ReviewState, 'items' | 'stages' | 'contacted'>;
  /** Interned user ids (reviewers, appliers) and justifications. */
  ids: string[];
  texts: string[];
  /** [id, displayName, userPrincipalName, userType] per item, in item order. */
  principals: [string, string, string, 'Member' | 'Guest'][];
  /** [lastStage, recommendation, final decision, final source, apply result, applied at, applied by] per item. */
  items: [
    number,
    RecommendationValue | 0,
    DecisionValue | 0,
    string | 0,
    ApplyResult | 0,
    string | 0,
    number,
  ][];
  /** [item, stage, decision, text, reviewer, at, source] per recorded decision. */
  decisions: [number, number, ReviewerDecision, number, number, string, 'r' | 'c'][];
  stages: (Omit<StageState, 'itemIds' | 'sharedReviewerIds' | 'reviewersByItem' | 'noReviewerItemIds'> & {
    items: number[];
    shared: number[];
    byItem: [number, number[]][];
    none: number[];
  })[];
  contacted: [number, string][];
  /** [item, stageId, at, by, from (-1: every reviewer), to, justification] per reassignment, in order. */
  reassigned?: [number, string, string, number, number, number, number][];
}

class Interner {
  readonly list: string[] = [];
  private readonly index = new Map<string, number>();
  of(value: string): number {
    let i = this.index.get(value);
    if (i === undefined) {
      i = this.list.length;
      this.list.push(value);
      this.index.set(value, i);
    }
    return i;
  }
}

/** Packs a review state for continue-as-new; `restoreState(snapshotState(s))` equals `s`. */
export function snapshotState(state: ReviewState): ReviewSnapshot {
  const ids = new Interner();
  const texts = new Interner();
  const position = new Map<string, number>();
  const principals: ReviewSnapshot['principals'] = [];
  const items: ReviewSnapshot['items'] = [];
  const decisions: ReviewSnapshot['decisions'] = [];
  const reassigned: NonNullable<ReviewSnapshot['reassigned']> = [];
  for (const item of state.items.values()) {
    const at = principals.length;
    position.set(item.id, at);
    const p = item.principal;
    principals.push([p.id, p.displayName, p.userPrincipalName, p.userType]);
    items.push([
      item.lastStage,
      item.recommendation ?? 0,
      item.final?.decision ?? 0,
      item.final?.source ?? 0,
      item.apply?.result ?? 0,
      item.apply?.appliedDateTime ?? 0,
      item.apply ? ids.of(item.apply.appliedBy) : -1,
    ]);
    for (const [stage, d] of Object.entries(item.stageDecisions)) {
      decisions.push([
        at,
        Number(stage),
        d.decision,
        texts.of(d.justification),
        ids.of(d.reviewerId),
        d.reviewedDateTime,
        d.source === 'reviewer' ? 'r' : 'c',
      ]);
    }
    for (const r of item.reassignments ?? []) {
      reassigned.push([
        at,
        r.stageId,
        r.at,
        ids.of(r.by),
        r.fromReviewerId === null ? -1 : ids.of(r.fromReviewerId),
        ids.of(r.toReviewerId),
        texts.of(r.justification),
      ]);
    }
  }
  const pos = (id: string) => position.get(id) ?? -1;
  const { items: _items, stages: _stages, contacted: _contacted, ...head } = state;
  return {
    v: 1,
    head: structuredCopy(head),
    ids: ids.list,
    texts: texts.list,
    principals,
    items,
    decisions,
    stages: state.stages.map(
      ({ itemIds, sharedReviewerIds, reviewersByItem, noReviewerItemIds, ...rest }) => ({
        ...structuredCopy(rest),
        items: itemIds.map(pos),
        shared: sharedReviewerIds.map((id) => ids.of(id)),
        byItem: Object.entries(reviewersByItem).map(([itemId, reviewers]) => [
          pos(itemId),
          reviewers.map((id) => ids.of(id)),
        ]),
        none: noReviewerItemIds.map(pos),
      }),
    ),
    contacted: [...state.contacted].map(([id, at]) => [ids.of(id), at]),
    ...(reassigned.length > 0 ? { reassigned } : {}),
  };
}

/** Unpacks a snapshot into the state it was taken from. */
export function restoreState(s: ReviewSnapshot): ReviewState {
  const itemIds = s.principals.map(([principalId]) => decisionItemIdFor(s.head.instanceId, principalId));
  const idAt = (i: number) => s.ids[i] ?? '';
  const itemAt = (i: number) => itemIds[i] ?? '';
  const items = new Map<string, ItemState>();
  s.principals.forEach(([id, displayName, userPrincipalName, userType], i) => {
    const [lastStage, recommendation, finalDecision, finalSource, result, appliedAt, appliedBy] = s.items[i]!;
    const item: ItemState = {
      id: itemAt(i),
      principal: { id, displayName, userPrincipalName, userType },
      lastStage,
      stageDecisions: {},
    };
    if (recommendation) item.recommendation = recommendation;
    if (finalDecision) {
      item.final = {
        decision: finalDecision,
        source: finalSource as NonNullable<ItemState['final']>['source'],
      };
    }
    if (result) item.apply = { result, appliedDateTime: appliedAt || '', appliedBy: idAt(appliedBy) };
    items.set(item.id, item);
  });
  for (const [at, stage, decision, text, reviewer, when, source] of s.decisions) {
    const item = items.get(itemAt(at));
    if (!item) continue;
    const recorded: RecordedDecision = {
      decision,
      justification: s.texts[text] ?? '',
      reviewerId: idAt(reviewer),
      reviewedDateTime: when,
      source: source === 'r' ? 'reviewer' : 'recommendation',
    };
    item.stageDecisions[stage] = recorded;
  }
  for (const [at, stageId, when, by, from, to, text] of s.reassigned ?? []) {
    const item = items.get(itemAt(at));
    if (!item) continue;
    (item.reassignments ??= []).push({
      stageId,
      at: when,
      by: idAt(by),
      fromReviewerId: from < 0 ? null : idAt(from),
      toReviewerId: idAt(to),
      justification: s.texts[text] ?? '',
    });
  }
  return {
    ...structuredCopy(s.head),
    items,
    stages: s.stages.map(({ items: its, shared, byItem, none, ...rest }) => ({
      ...structuredCopy(rest),
      itemIds: its.map(itemAt),
      sharedReviewerIds: shared.map(idAt),
      reviewersByItem: Object.fromEntries(byItem.map(([i, rs]) => [itemAt(i), rs.map(idAt)])),
      noReviewerItemIds: none.map(itemAt),
    })),
    contacted: new Map(s.contacted.map(([i, at]) => [idAt(i), at])),
  };
}

/** A deep copy of plain JSON data (workflow code has no structuredClone guarantee across runtimes). */
function structuredCopy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
