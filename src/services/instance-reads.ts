import type { Definition } from '../domain/definition-schema';
import type { GraphInstance, GraphStage } from '../domain/graph-resources';
import type { Filter, OrderKey } from '../domain/odata-filter';
import { comparator } from '../domain/odata-filter';
import { AppError } from '../domain/errors';
import type { DecisionValue } from '../domain/review-events';
import type {
  ContactedReviewerView,
  DecisionItemView,
  DecisionPage,
  InstanceView,
} from '../domain/review-views';
import type { SeriesInstance } from '../workflows';
import { contactedReviewersQuery, decisionQuery, decisionsQuery } from '../workflows';
import type { Caller } from './caller';
import { requireAdmin, viewerOf } from './caller';
import type { ReviewLocator } from './review-locator';
import { isViolation, violation } from './review-locator';

/** Largest slice of decision items one query returns (keeps query results far below 512 KB). */
const QUERY_PAGE = 250;

export type { GraphInstance, GraphStage };

/** Which decision items to list: a stage's or the instance's, filtered, sorted and paged. */
export interface DecisionListOptions {
  stageId?: string;
  filter?: Filter;
  orderBy?: OrderKey[];
  decision?: DecisionValue;
  principalId?: string;
  skip: number;
  top: number;
  asReviewer?: boolean;
}

/** Reads of review instances, their stages, decision items and contacted reviewers, in Graph's shape. */
export class InstanceReads {
  constructor(private readonly at: ReviewLocator) {}

  private graphInstance(definition: Definition, view: InstanceView): GraphInstance {
    const changed = (view.stages.find((s) => s.id === view.currentStageId) ?? view.stages.at(-1))
      ?.reviewerScopes;
    return {
      id: view.id,
      startDateTime: view.startDateTime,
      endDateTime: view.endDateTime,
      status: view.status as GraphInstance['status'],
      scope: definition.instanceEnumerationScope ?? definition.scope,
      reviewers: changed?.reviewers ?? definition.reviewers,
      fallbackReviewers: changed?.fallbackReviewers ?? definition.fallbackReviewers,
    };
  }

  /** Instances of a definition; non-admins only see those where they review something now. */
  async list(definitionId: string, caller: Caller, asReviewer = false): Promise<GraphInstance[]> {
    const series = await this.at.definitions.get(definitionId);
    const out: GraphInstance[] = [];
    for (const record of series.instances) {
      if ((!caller.isAdmin || asReviewer) && !(await this.at.isReviewer(record, caller))) continue;
      out.push(this.graphInstance(series.definition, await this.at.view(record)));
    }
    return out;
  }

  async get(definitionId: string, instanceId: string, caller: Caller): Promise<GraphInstance> {
    const { definition, record } = await this.at.located(definitionId, instanceId);
    await this.at.requireParticipant(record, caller);
    return this.graphInstance(definition, await this.at.view(record));
  }

  async stages(
    definitionId: string,
    instanceId: string,
    caller: Caller,
    asReviewer = false,
  ): Promise<GraphStage[]> {
    const { definition, record } = await this.at.located(definitionId, instanceId);
    if ((!caller.isAdmin || asReviewer) && !(await this.at.isReviewer(record, caller))) return [];
    return this.graphStages(definition, await this.at.view(record));
  }

  private graphStages(definition: Definition, view: InstanceView): GraphStage[] {
    return view.stages.map((s, i) => {
      const settings = definition.stageSettings?.[i];
      return {
        id: s.id,
        startDateTime: s.startDateTime,
        endDateTime: s.endDateTime,
        status: s.status as GraphStage['status'],
        reviewers: s.reviewerScopes?.reviewers ?? settings?.reviewers ?? definition.reviewers,
        fallbackReviewers:
          s.reviewerScopes?.fallbackReviewers ?? settings?.fallbackReviewers ?? definition.fallbackReviewers,
      };
    });
  }

  /** contactedReviewers: everyone asked to review in this instance so far. */
  async contactedReviewers(
    definitionId: string,
    instanceId: string,
    caller: Caller,
  ): Promise<ContactedReviewerView[]> {
    requireAdmin(caller);
    const { record } = await this.at.located(definitionId, instanceId);
    const lists = await this.at.fromRecords(
      instanceId,
      async (records) => [await records.contacted(instanceId)],
      () => this.at.queryAll(record, (h) => h.query(contactedReviewersQuery)),
    );
    if (lists.length === 1) return lists[0]!;
    // Shards ask some reviewers each; a reviewer was first contacted when the first shard asked.
    const first = new Map<string, ContactedReviewerView>();
    for (const r of lists.flat()) {
      const seen = first.get(r.id);
      if (!seen || r.createdDateTime < seen.createdDateTime) first.set(r.id, r);
    }
    return [...first.values()];
  }

  /** One stage; like the instance itself, 403 for callers who review nothing in it now. */
  async stage(
    definitionId: string,
    instanceId: string,
    stageId: string,
    caller: Caller,
  ): Promise<GraphStage> {
    const { definition, record } = await this.at.located(definitionId, instanceId);
    await this.at.requireParticipant(record, caller);
    const found = this.graphStages(definition, await this.at.view(record)).find((s) => s.id === stageId);
    if (!found) throw new AppError('stage.not_found', `Stage '${stageId}' not found`);
    return found;
  }

  async decisions(
    definitionId: string,
    instanceId: string,
    caller: Caller,
    options: DecisionListOptions,
  ): Promise<DecisionPage> {
    const { record } = await this.at.located(definitionId, instanceId);
    return this.at.fromRecords(
      instanceId,
      async (records) => {
        const page = await records.decisions(instanceId, {
          viewer: viewerOf(caller, options.asReviewer),
          stageId: options.stageId,
          decision: options.decision,
          principalId: options.principalId,
          filter: options.filter,
          orderBy: options.orderBy,
          skip: options.skip,
          top: options.top,
        });
        if (isViolation(page)) throw violation(page);
        return page;
      },
      () => this.liveDecisions(record, caller, options),
    );
  }

  private async liveDecisions(
    record: SeriesInstance,
    caller: Caller,
    options: DecisionListOptions,
  ): Promise<DecisionPage> {
    const ids = await this.at.holders(record);
    const query = {
      viewer: viewerOf(caller, options.asReviewer),
      stageId: options.stageId,
      decision: options.decision,
      principalId: options.principalId,
      ...(options.filter ? { filter: options.filter } : {}),
      ...(options.orderBy?.length ? { orderBy: options.orderBy } : {}),
    };
    const ask = async (id: string, skip: number, top: number) => {
      const page = await this.at.gw.handle(id).query(decisionsQuery, { ...query, skip, top });
      if (isViolation(page)) throw violation(page);
      return page;
    };
    // Holders (the instance, or its shards in order) each hold a slice of the list: count everywhere,
    // then read the slices that overlap the page, at most QUERY_PAGE items per query so that every
    // query result stays small.
    const totals = (await Promise.all(ids.map((id) => ask(id, 0, 0)))).map((p) => p.total);
    const total = totals.reduce((a, b) => a + b, 0);
    if (options.orderBy?.length && ids.length > 1) {
      return { total, value: await this.merged(ids, totals, options, ask) };
    }
    const value: DecisionItemView[] = [];
    let offset = 0;
    for (const [k, id] of ids.entries()) {
      const held = totals[k]!;
      let from = Math.max(0, options.skip - offset);
      while (from < held && value.length < options.top) {
        const top = Math.min(QUERY_PAGE, options.top - value.length);
        value.push(...(await ask(id, from, top)).value);
        from += top;
      }
      offset += held;
    }
    return { total, value };
  }

  /** A sorted page over shards that each answer in order: a merge of their sorted lists, read lazily. */
  private async merged(
    ids: string[],
    totals: number[],
    options: DecisionListOptions,
    ask: (id: string, skip: number, top: number) => Promise<DecisionPage>,
  ): Promise<DecisionItemView[]> {
    const compare = comparator(options.orderBy ?? []);
    const cursors = ids.map((id, k) => ({
      id,
      total: totals[k]!,
      read: 0,
      buffer: [] as DecisionItemView[],
    }));
    const head = async (c: (typeof cursors)[number]) => {
      if (c.buffer.length === 0 && c.read < c.total) {
        const page = await ask(c.id, c.read, QUERY_PAGE);
        c.read += QUERY_PAGE;
        c.buffer.push(...page.value);
      }
      return c.buffer[0];
    };
    const value: DecisionItemView[] = [];
    for (let taken = 0; taken < options.skip + options.top; taken++) {
      let best: (typeof cursors)[number] | undefined;
      let bestItem: DecisionItemView | undefined;
      for (const c of cursors) {
        const item = await head(c);
        if (item && (!bestItem || compare(item, bestItem) < 0)) {
          best = c;
          bestItem = item;
        }
      }
      if (!best || !bestItem) break;
      best.buffer.shift();
      if (taken >= options.skip) value.push(bestItem);
    }
    return value;
  }

  async decision(
    definitionId: string,
    instanceId: string,
    itemId: string,
    caller: Caller,
    stageId?: string,
  ): Promise<DecisionItemView> {
    const { record } = await this.at.located(definitionId, instanceId);
    const view = await this.at.fromRecords(
      instanceId,
      (records) => records.decision(instanceId, itemId, viewerOf(caller), stageId),
      async () => {
        const holder = await this.at.holderOf(record, itemId);
        return holder.query(decisionQuery, { viewer: viewerOf(caller), itemId, stageId });
      },
    );
    if (isViolation(view)) throw violation(view);
    return view;
  }
}
