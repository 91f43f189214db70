import type { WorkflowHandle } from '@temporalio/client';
import type { Definition } from '../domain/definition-schema';
import type { ReviewerScope } from '../domain/definition-schema';
import { AppError, badRequest, conflict, forbidden } from '../domain/errors';
import { parseReviewerQuery, QueryError } from '../domain/queries';
import type { DecisionValue, ReviewerDecision } from '../domain/review-events';
import { shardOf, shardWorkflowId } from '../domain/ids';
import type { DecisionRequest, RuleViolation } from '../domain/review-rules';
import type {
  ContactedReviewerView,
  DecisionItemView,
  DecisionPage,
  InstanceView,
} from '../domain/review-views';
import type { SeriesInstance } from '../workflows';
import {
  acceptRecommendationsSignal,
  applyDecisionsSignal,
  contactedReviewersQuery,
  decisionQuery,
  decisionsQuery,
  instanceQuery,
  resetDecisionsSignal,
  reviewerQuery,
  sendReminderSignal,
  stopInstanceSignal,
  stopStageSignal,
  updateReviewersSignal,
} from '../workflows';
import type { Caller } from './caller';
import { requireAdmin } from './caller';
import { viewerOf } from './caller';
import { DecisionDispatcher } from './decision-dispatcher';
import type { DefinitionService } from './definitions';
import type { TemporalGateway } from './temporal-gateway';

/** Largest slice of decision items one query returns (keeps query results far below 512 KB). */
const QUERY_PAGE = 250;

const violation = (v: RuleViolation) => new AppError(v.code, v.status, v.message);
const isViolation = (x: object): x is RuleViolation => 'code' in x && 'status' in x;
/** accessReviewInstance in Graph's shape. */
export interface GraphInstance {
  id: string;
  startDateTime: string;
  endDateTime: string;
  status: string;
  scope: Definition['scope'];
  reviewers: Definition['reviewers'];
  fallbackReviewers: Definition['fallbackReviewers'];
}

/** accessReviewStage in Graph's shape. */
export interface GraphStage {
  id: string;
  startDateTime: string | null;
  endDateTime: string | null;
  status: string;
  reviewers: Definition['reviewers'];
  fallbackReviewers: Definition['fallbackReviewers'];
}

export interface DecisionListOptions {
  stageId?: string;
  decision?: DecisionValue;
  principalId?: string;
  skip: number;
  top: number;
  asReviewer?: boolean;
}

/** Review instances, their stages and decision items: queries and signals to instance workflows. */
export class InstanceService {
  constructor(
    private readonly gw: TemporalGateway,
    private readonly definitions: DefinitionService,
    private readonly dispatcher = new DecisionDispatcher(),
  ) {}

  private readonly holdersOf = new Map<string, string[]>();

  private async located(definitionId: string, instanceId: string, recent = false) {
    const series = recent
      ? await this.definitions.getRecent(definitionId)
      : await this.definitions.get(definitionId);
    const record = series.instances.find((i) => i.instanceId === instanceId);
    if (!record) throw new AppError('instance.not_found', 404, `Instance '${instanceId}' not found`);
    return { definition: series.definition, record };
  }

  /**
   * The workflows that hold an instance's decision items: the instance itself, or its shards (see
   * shardOf). Known for good once the instance has decided, so remembered per instance.
   */
  private async holders(record: SeriesInstance): Promise<string[]> {
    const known = this.holdersOf.get(record.workflowId);
    if (known) return known;
    const view = await this.view(record);
    const ids =
      view.shards > 0
        ? Array.from({ length: view.shards }, (_, k) => shardWorkflowId(record.workflowId, k))
        : [record.workflowId];
    if (view.shards > 0 || (view.status !== 'NotStarted' && view.status !== 'Initializing')) {
      if (this.holdersOf.size > 10_000) this.holdersOf.clear();
      this.holdersOf.set(record.workflowId, ids);
    }
    return ids;
  }

  /** The workflow holding one decision item. */
  private async holderOf(record: SeriesInstance, itemId: string): Promise<WorkflowHandle> {
    const ids = await this.holders(record);
    return this.gw.handle(ids[shardOf(itemId, ids.length)]!);
  }

  /** Runs a query on every holder of an instance's items, in parallel. */
  private async queryAll<T>(record: SeriesInstance, ask: (h: WorkflowHandle) => Promise<T>): Promise<T[]> {
    const ids = await this.holders(record);
    return Promise.all(ids.map((id) => ask(this.gw.handle(id))));
  }

  private view(record: SeriesInstance): Promise<InstanceView> {
    return this.gw.with(record.workflowId, 'instance.not_found', `Instance '${record.instanceId}'`, (h) =>
      h.query(instanceQuery),
    );
  }

  private graphInstance(definition: Definition, view: InstanceView): GraphInstance {
    const changed = (view.stages.find((s) => s.id === view.currentStageId) ?? view.stages.at(-1))
      ?.reviewerScopes;
    return {
      id: view.id,
      startDateTime: view.startDateTime,
      endDateTime: view.endDateTime,
      status: view.status,
      scope: definition.instanceEnumerationScope ?? definition.scope,
      reviewers: changed?.reviewers ?? definition.reviewers,
      fallbackReviewers: changed?.fallbackReviewers ?? definition.fallbackReviewers,
    };
  }

  /** Instances of a definition; non-admins only see those where they review something now. */
  async list(definitionId: string, caller: Caller, asReviewer = false): Promise<GraphInstance[]> {
    const series = await this.definitions.get(definitionId);
    const out: GraphInstance[] = [];
    for (const record of series.instances) {
      if ((!caller.isAdmin || asReviewer) && !(await this.isReviewer(record, caller))) continue;
      out.push(this.graphInstance(series.definition, await this.view(record)));
    }
    return out;
  }

  async get(definitionId: string, instanceId: string, caller: Caller): Promise<GraphInstance> {
    const { definition, record } = await this.located(definitionId, instanceId);
    await this.requireParticipant(record, caller);
    return this.graphInstance(definition, await this.view(record));
  }

  async stages(
    definitionId: string,
    instanceId: string,
    caller: Caller,
    asReviewer = false,
  ): Promise<GraphStage[]> {
    const { definition, record } = await this.located(definitionId, instanceId);
    if ((!caller.isAdmin || asReviewer) && !(await this.isReviewer(record, caller))) return [];
    return this.graphStages(definition, await this.view(record));
  }

  private graphStages(definition: Definition, view: InstanceView): GraphStage[] {
    return view.stages.map((s, i) => {
      const settings = definition.stageSettings?.[i];
      return {
        id: s.id,
        startDateTime: s.startDateTime,
        endDateTime: s.endDateTime,
        status: s.status,
        reviewers: s.reviewerScopes?.reviewers ?? settings?.reviewers ?? definition.reviewers,
        fallbackReviewers:
          s.reviewerScopes?.fallbackReviewers ?? settings?.fallbackReviewers ?? definition.fallbackReviewers,
      };
    });
  }

  /**
   * PUT instance (every stage not yet completed) or PATCH stage (that stage): new reviewer scopes. A
   * running stage's reviewers are resolved again at once; decisions already recorded stay.
   */
  async updateReviewers(
    definitionId: string,
    instanceId: string,
    caller: Caller,
    scopes: { reviewers?: ReviewerScope[] | undefined; fallbackReviewers?: ReviewerScope[] | undefined },
    stageId?: string,
  ): Promise<void> {
    requireAdmin(caller);
    const { definition, record } = await this.located(definitionId, instanceId);
    const handle = this.gw.handle(record.workflowId);
    const view = await handle.query(instanceQuery);
    if (view.status !== 'InProgress') {
      throw conflict(
        'review.instance_not_in_progress',
        `Reviewers can only change while the review is InProgress; it is ${view.status}`,
      );
    }
    const targets =
      stageId === undefined
        ? view.stages.filter((s) => s.status !== 'Completed')
        : view.stages.filter((s) => s.id === stageId);
    if (stageId !== undefined && targets.length === 0)
      throw new AppError('stage.not_found', 404, `Stage '${stageId}' not found`);
    for (const stage of targets) {
      if (stage.status === 'Completed') {
        throw conflict(
          'review.stage_completed',
          `Stage '${stage.id}' is Completed; its reviewers can no longer change`,
        );
      }
      const index = view.stages.indexOf(stage);
      const current = definition.stageSettings?.[index];
      const reviewers =
        scopes.reviewers ?? stage.reviewerScopes?.reviewers ?? current?.reviewers ?? definition.reviewers;
      const fallbackReviewers =
        scopes.fallbackReviewers ??
        stage.reviewerScopes?.fallbackReviewers ??
        current?.fallbackReviewers ??
        definition.fallbackReviewers;
      const field = stageId === undefined ? '' : `stage ${stage.id} `;
      const specs = (list: ReviewerScope[], name: string) =>
        list.map((r, i) => {
          try {
            return parseReviewerQuery(r, `${field}${name}[${i}]`);
          } catch (err) {
            if (err instanceof QueryError) throw badRequest('request.invalid_body', err.message);
            throw err;
          }
        });
      await handle.signal(updateReviewersSignal, {
        by: caller.userId,
        stageId: stage.id,
        reviewers: specs(reviewers, 'reviewers'),
        fallbackReviewers: specs(fallbackReviewers, 'fallbackReviewers'),
        scopes: { reviewers, fallbackReviewers },
      });
    }
  }

  /** contactedReviewers: everyone asked to review in this instance so far. */
  async contactedReviewers(
    definitionId: string,
    instanceId: string,
    caller: Caller,
  ): Promise<ContactedReviewerView[]> {
    requireAdmin(caller);
    const { record } = await this.located(definitionId, instanceId);
    const lists = await this.queryAll(record, (h) => h.query(contactedReviewersQuery));
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
    const { definition, record } = await this.located(definitionId, instanceId);
    await this.requireParticipant(record, caller);
    const found = this.graphStages(definition, await this.view(record)).find((s) => s.id === stageId);
    if (!found) throw new AppError('stage.not_found', 404, `Stage '${stageId}' not found`);
    return found;
  }

  /** Whether the caller reviews anything in the stage in progress. */
  private async isReviewer(record: SeriesInstance, caller: Caller): Promise<boolean> {
    const roles = await this.queryAll(record, (h) => h.query(reviewerQuery, { userId: caller.userId }));
    return roles.some((r) => r.isReviewer);
  }

  private async requireParticipant(record: SeriesInstance, caller: Caller) {
    if (caller.isAdmin) return;
    if (!(await this.isReviewer(record, caller)))
      throw forbidden('review.not_a_reviewer', 'You are not a reviewer of this access review');
  }

  async decisions(
    definitionId: string,
    instanceId: string,
    caller: Caller,
    options: DecisionListOptions,
  ): Promise<DecisionPage> {
    const { record } = await this.located(definitionId, instanceId);
    const ids = await this.holders(record);
    const query = {
      viewer: viewerOf(caller, options.asReviewer),
      stageId: options.stageId,
      decision: options.decision,
      principalId: options.principalId,
    };
    const ask = async (id: string, skip: number, top: number) => {
      const page = await this.gw.handle(id).query(decisionsQuery, { ...query, skip, top });
      if (isViolation(page)) throw violation(page);
      return page;
    };
    // Holders (the instance, or its shards in order) each hold a slice of the list: count everywhere,
    // then read the slices that overlap the page, at most QUERY_PAGE items per query so that every
    // query result stays small.
    const totals = (await Promise.all(ids.map((id) => ask(id, 0, 0)))).map((p) => p.total);
    const value: DecisionItemView[] = [];
    let offset = 0;
    for (const [k, id] of ids.entries()) {
      const total = totals[k]!;
      let from = Math.max(0, options.skip - offset);
      while (from < total && value.length < options.top) {
        const top = Math.min(QUERY_PAGE, options.top - value.length);
        value.push(...(await ask(id, from, top)).value);
        from += top;
      }
      offset += total;
    }
    return { total: offset, value };
  }

  async decision(
    definitionId: string,
    instanceId: string,
    itemId: string,
    caller: Caller,
    stageId?: string,
  ): Promise<DecisionItemView> {
    const { record } = await this.located(definitionId, instanceId);
    const holder = await this.holderOf(record, itemId);
    const view = await holder.query(decisionQuery, { viewer: viewerOf(caller), itemId, stageId });
    if (isViolation(view)) throw violation(view);
    return view;
  }

  /** Records decisions after the workflow's own rules accepted them in a dry run (R5). */
  async recordDecisions(
    definitionId: string,
    instanceId: string,
    caller: Caller,
    decisions: { itemId: string; decision: ReviewerDecision; justification?: string | null }[],
    stageId?: string,
  ): Promise<void> {
    const { record } = await this.located(definitionId, instanceId, true);
    if (stageId !== undefined) await this.requireCurrentStage(record, stageId);
    await this.submit(record, caller.userId, decisions);
  }

  /** Sends decisions to the workflows holding their items (one dispatcher queue per holder). */
  private async submit(record: SeriesInstance, reviewerId: string, decisions: DecisionRequest[]) {
    const ids = await this.holders(record);
    const byHolder = new Map<string, DecisionRequest[]>();
    for (const d of decisions) {
      const id = ids[shardOf(d.itemId, ids.length)]!;
      const mine = byHolder.get(id);
      if (mine) mine.push(d);
      else byHolder.set(id, [d]);
    }
    await Promise.all(
      [...byHolder].map(([id, mine]) =>
        this.dispatcher.submit(this.gw.handle(id), { reviewerId, decisions: mine }),
      ),
    );
  }

  /** 404 for an unknown stage, 409 unless it is the stage in progress. */
  private async requireCurrentStage(record: SeriesInstance, stageId: string): Promise<InstanceView> {
    const view = await this.gw.handle(record.workflowId).query(instanceQuery);
    const stage = view.stages.find((s) => s.id === stageId);
    if (!stage) throw new AppError('stage.not_found', 404, `Stage '${stageId}' not found`);
    if (view.currentStageId !== stageId) {
      throw conflict(
        'review.stage_not_in_progress',
        `Stage '${stageId}' is ${stage.status}, not in progress`,
      );
    }
    return view;
  }

  /** Graph's batchRecordDecisions: one decision for all the caller's current items, optionally of one principal. */
  async batchRecordDecisions(
    definitionId: string,
    instanceId: string,
    caller: Caller,
    body: {
      decision: ReviewerDecision;
      justification?: string | null;
      principalId?: string | null;
      resourceId?: string | null;
    },
    stageId?: string,
  ): Promise<number> {
    const { record } = await this.located(definitionId, instanceId);
    const handle = this.gw.handle(record.workflowId);
    const view = await handle.query(instanceQuery);
    if (view.currentStageId === null || (stageId !== undefined && stageId !== view.currentStageId)) {
      throw conflict(
        'review.stage_not_in_progress',
        'Decisions can only be recorded while the stage is in progress',
      );
    }
    // Admins too: only reviewers of the stage in progress record decisions (R5).
    if (!(await this.isReviewer(record, caller))) {
      throw forbidden('review.not_a_reviewer', 'You are not a reviewer of the stage in progress');
    }
    if (body.resourceId && body.resourceId !== (await this.resourceIdOf(record))) return 0;
    const pages = await this.queryAll(record, (h) =>
      h.query(decisionsQuery, {
        viewer: { kind: 'reviewer', userId: caller.userId },
        principalId: body.principalId ?? undefined,
        skip: 0,
        top: Number.MAX_SAFE_INTEGER,
      }),
    );
    const decisions: DecisionRequest[] = [];
    for (const page of pages) {
      if (isViolation(page)) throw violation(page);
      for (const d of page.value) {
        decisions.push({ itemId: d.id, decision: body.decision, justification: body.justification ?? null });
      }
    }
    if (decisions.length === 0) return 0;
    await this.submit(record, caller.userId, decisions);
    return decisions.length;
  }

  private async resourceIdOf(record: SeriesInstance): Promise<string | undefined> {
    const [first] = await this.holders(record);
    const page = await this.gw.handle(first!).query(decisionsQuery, {
      viewer: { kind: 'admin', userId: 'system' },
      skip: 0,
      top: 1,
    });
    return isViolation(page) ? undefined : page.value[0]?.resource?.id;
  }

  /** Admin actions that need a given instance status (409 otherwise). */
  async adminAction(
    definitionId: string,
    instanceId: string,
    caller: Caller,
    action: 'stop' | 'stopStage' | 'applyDecisions' | 'resetDecisions' | 'sendReminder',
    stageId?: string,
  ): Promise<void> {
    requireAdmin(caller);
    const { record } = await this.located(definitionId, instanceId);
    const handle = this.gw.handle(record.workflowId);
    const view = await handle.query(instanceQuery);
    const by = { by: caller.userId };
    const inProgress =
      view.status === 'InProgress' || view.status === 'Initializing' || view.status === 'NotStarted';
    switch (action) {
      case 'stop':
        if (!inProgress)
          throw conflict('review.instance_not_in_progress', `The review is already ${view.status}`);
        return handle.signal(stopInstanceSignal, by);
      case 'applyDecisions':
        if (view.status !== 'Completed') {
          throw conflict(
            'review.instance_not_completed',
            `Decisions can only be applied to a Completed review; it is ${view.status}`,
          );
        }
        return handle.signal(applyDecisionsSignal, by);
      case 'stopStage': {
        const stage = view.stages.find((s) => s.id === stageId);
        if (!stage) throw new AppError('stage.not_found', 404, `Stage '${stageId}' not found`);
        if (view.currentStageId !== stageId) {
          throw conflict(
            'review.stage_not_in_progress',
            `Stage '${stageId}' is ${stage.status}, not in progress`,
          );
        }
        return handle.signal(stopStageSignal, by);
      }
      case 'resetDecisions':
      case 'sendReminder':
        if (view.currentStageId === null) {
          throw conflict(
            'review.stage_not_in_progress',
            `No stage is in progress; the review is ${view.status}`,
          );
        }
        return handle.signal(action === 'resetDecisions' ? resetDecisionsSignal : sendReminderSignal, by);
    }
  }

  /** acceptRecommendations: admins for every item, reviewers for their own NotReviewed items. */
  async acceptRecommendations(
    definitionId: string,
    instanceId: string,
    caller: Caller,
    stageId?: string,
  ): Promise<void> {
    const { record } = await this.located(definitionId, instanceId);
    const handle = this.gw.handle(record.workflowId);
    if (stageId !== undefined) {
      await this.requireCurrentStage(record, stageId);
    } else {
      const view = await handle.query(instanceQuery);
      if (view.currentStageId === null) {
        throw conflict(
          'review.stage_not_in_progress',
          `No stage is in progress; the review is ${view.status}`,
        );
      }
    }
    if (!caller.isAdmin) await this.requireParticipant(record, caller);
    await handle.signal(acceptRecommendationsSignal, { viewer: viewerOf(caller) });
  }
}
