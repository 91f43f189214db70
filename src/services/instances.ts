import type { UpdateDefinition, WorkflowHandle } from '@temporalio/client';
import type { Definition } from '../domain/definition-schema';
import type { ReviewerScope } from '../domain/definition-schema';
import { AppError, badRequest, conflict, forbidden } from '../domain/errors';
import { parseReviewerQuery, QueryError } from '../domain/queries';
import type { DecisionValue, ReviewerDecision } from '../domain/review-events';
import { shardOf, shardWorkflowId } from '../domain/ids';
import type { DecisionRequest, DecisionsRequest, RuleViolation } from '../domain/review-rules';
import type {
  ContactedReviewerView,
  DecisionItemView,
  DecisionPage,
  InstanceView,
} from '../domain/review-views';
import type { AdminUpdateInput, Deadline, DecisionsOutcome, SeriesInstance } from '../workflows';
import {
  acceptRecommendationsUpdate,
  applyDecisionsUpdate,
  contactedReviewersQuery,
  decisionQuery,
  decisionsQuery,
  instanceQuery,
  resetDecisionsUpdate,
  reviewerQuery,
  sendReminderUpdate,
  stopReviewUpdate,
  stopStageUpdate,
  updateReviewersUpdate,
} from '../workflows';
import type { Caller } from './caller';
import { requireAdmin } from './caller';
import { viewerOf } from './caller';
import { DecisionDispatcher, violationError } from './decision-dispatcher';
import { isWorkflowClosed, refusalOf } from './temporal-errors';
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
    private readonly dispatcher = new DecisionDispatcher(gw),
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
    await this.definitions.checkReviewerScopes(caller, scopes);
    const { definition, record } = await this.located(definitionId, instanceId);
    const view = await this.view(record);
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
      await this.instanceUpdate(record, updateReviewersUpdate, {
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

  /**
   * Records decisions (R5): the workflows holding the items accept them in the stage the request names
   * (or the stage in progress), or refuse them with the rule's error; only accepted decisions get a 2xx.
   */
  async recordDecisions(
    definitionId: string,
    instanceId: string,
    caller: Caller,
    decisions: { itemId: string; decision: ReviewerDecision; justification?: string | null }[],
    stageId?: string,
  ): Promise<void> {
    const { record } = await this.located(definitionId, instanceId, true);
    const ids = await this.holders(record);
    const byHolder = new Map<string, DecisionRequest[]>();
    for (const d of decisions) {
      const id = ids[shardOf(d.itemId, ids.length)]!;
      const mine = byHolder.get(id);
      if (mine) mine.push(d);
      else byHolder.set(id, [d]);
    }
    const outcomes = await this.submitAll(
      record,
      [...byHolder].map(([id, mine]) => [id, { reviewerId: caller.userId, stageId, decisions: mine }]),
    );
    const refused = outcomes.find((o) => !o.ok);
    if (refused) throw violationError(refused);
  }

  /** Sends requests through the dispatcher (one queue per holder); a closed review refuses them all. */
  private async submitAll(
    record: SeriesInstance,
    requests: [string, DecisionsRequest][],
  ): Promise<DecisionsOutcome[]> {
    try {
      return await Promise.all(requests.map(([id, request]) => this.dispatcher.submit(id, request)));
    } catch (err) {
      if (isWorkflowClosed(err)) throw await this.notInProgress(record);
      throw err;
    }
  }

  /** The 409 for a request that reached a review no longer running. */
  private async notInProgress(record: SeriesInstance): Promise<AppError> {
    const view = await this.view(record);
    return conflict('review.stage_not_in_progress', `No stage is in progress; the review is ${view.status}`);
  }

  /**
   * Graph's batchRecordDecisions: one decision for all the caller's items in the stage (the one named,
   * or the one in progress when the request arrives), optionally of one principal. Every holder records
   * the caller's items itself; 403 when the caller reviews nothing in the stage.
   */
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
    // All holders must target one stage: the one named, else the one in progress now.
    const target = stageId ?? (await this.view(record)).currentStageId;
    if (target === null) {
      throw conflict(
        'review.stage_not_in_progress',
        'Decisions can only be recorded while the stage is in progress',
      );
    }
    if (body.resourceId && body.resourceId !== (await this.resourceIdOf(record))) {
      // Another resource: nothing to record, but only a reviewer of the stage hears so.
      if (!(await this.isReviewer(record, caller)))
        throw forbidden('review.not_a_reviewer', 'You are not a reviewer of the stage in progress');
      return 0;
    }
    const all = {
      decision: body.decision,
      justification: body.justification ?? null,
      principalId: body.principalId,
    };
    const ids = await this.holders(record);
    const outcomes = await this.submitAll(
      record,
      ids.map((id) => [id, { reviewerId: caller.userId, stageId: target, all }]),
    );
    return recordedOrThrow(outcomes);
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

  /** Admin actions: Updates the instance accepts or refuses (409) against its own state. */
  async adminAction(
    definitionId: string,
    instanceId: string,
    caller: Caller,
    action: 'stop' | 'stopStage' | 'applyDecisions' | 'resetDecisions' | 'sendReminder',
    stageId?: string,
  ): Promise<void> {
    requireAdmin(caller);
    const { record } = await this.located(definitionId, instanceId);
    const input: AdminUpdateInput = { by: caller.userId, ...(stageId === undefined ? {} : { stageId }) };
    const update = {
      stop: stopReviewUpdate,
      stopStage: stopStageUpdate,
      applyDecisions: applyDecisionsUpdate,
      resetDecisions: resetDecisionsUpdate,
      sendReminder: sendReminderUpdate,
    }[action];
    await this.instanceUpdate(record, update, input, async () => {
      const { status } = await this.view(record);
      if (action === 'applyDecisions') {
        return conflict(
          'review.instance_not_completed',
          `Decisions can only be applied to a Completed review; it is ${status}`,
        );
      }
      if (action === 'stop')
        return conflict('review.instance_not_in_progress', `The review is already ${status}`);
      return this.notInProgress(record);
    });
  }

  /** An Update to the instance workflow itself; a closed instance answers with `closed()`'s error. */
  private instanceUpdate<Ret, Arg extends Deadline>(
    record: SeriesInstance,
    update: UpdateDefinition<Ret, [Arg]>,
    input: Arg,
    closed: () => Promise<AppError> = () => this.notInProgress(record),
  ): Promise<Ret> {
    return this.gw.update(record.workflowId, update, input, {
      code: 'instance.not_found',
      what: `Instance '${record.instanceId}'`,
      closed,
    });
  }

  /**
   * acceptRecommendations: admins for every item, reviewers for their own NotReviewed items, in the stage
   * named (or the one in progress). Sent to every workflow holding items; each accepts or refuses it.
   */
  async acceptRecommendations(
    definitionId: string,
    instanceId: string,
    caller: Caller,
    stageId?: string,
  ): Promise<void> {
    const { record } = await this.located(definitionId, instanceId);
    const target = stageId ?? (await this.view(record)).currentStageId;
    if (target === null) {
      throw conflict('review.stage_not_in_progress', 'No stage is in progress');
    }
    const ids = await this.holders(record);
    const outcomes = await Promise.all(
      ids.map(async (id): Promise<DecisionsOutcome> => {
        try {
          return await this.gw.handle(id).executeUpdate(acceptRecommendationsUpdate, {
            args: [{ viewer: viewerOf(caller), stageId: target, notAfter: this.gw.notAfter() }],
          });
        } catch (err) {
          const refusal = refusalOf(err);
          if (refusal) return { ok: false, violation: refusal };
          if (isWorkflowClosed(err)) throw await this.notInProgress(record);
          throw err;
        }
      }),
    );
    recordedOrThrow(outcomes);
  }
}

/**
 * Decisions recorded across holders, or the error when none took the request: a closed stage (409) wins
 * over "not a reviewer here" (403), which a holder without the caller's items answers.
 */
function recordedOrThrow(outcomes: DecisionsOutcome[]): number {
  let recorded = 0;
  let reviewer = false;
  let refused: Extract<DecisionsOutcome, { ok: false }> | undefined;
  for (const o of outcomes) {
    if (o.ok) {
      recorded += o.recorded;
      reviewer = true;
    } else if (o.violation.code !== 'review.not_a_reviewer' || !refused) {
      refused = o;
    }
  }
  if (refused && (refused.violation.code !== 'review.not_a_reviewer' || !reviewer)) {
    const err = violationError(refused);
    if (recorded > 0 && err.status === 409) {
      throw new AppError(err.code, 409, `${err.message}; ${recorded} decisions were recorded before`);
    }
    throw err;
  }
  return recorded;
}
