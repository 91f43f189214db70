import { randomUUID } from 'node:crypto';
import type { Definition, DefinitionInput, ReviewerScope } from '../domain/definition-schema';
import { AppError } from '../domain/errors';
import { seriesWorkflowId } from '../domain/ids';
import { withGraphTypes } from '../domain/graph-types';
import { compileDefinition } from '../domain/validate-definition';
import { definitionIdSearchAttribute } from '../search-attributes';
import type { SeriesView } from '../workflows';
import { endSeriesSignal, reviewSeries, seriesQuery, updateDefinitionSignal } from '../workflows';
import type { Caller } from './caller';
import { requireAdmin } from './caller';
import type { DirectoryReferences } from './directory-references';
import type { TemporalGateway } from './temporal-gateway';
import { isWorkflowNotFound } from './temporal-gateway';

/** How long DELETE waits for the series workflow to close before answering anyway. */
const DELETE_SETTLE_MS = 5_000;

/** How long POST waits for the series to record its first instance before answering anyway. */
const FIRST_INSTANCE_MS = 10_000;

/** How long getRecent reuses a lookup. */
const RECENT_MS = 1_000;

/** The visibility query of the definitions: their review series that still run. */
const SERIES_QUERY = `WorkflowType = 'reviewSeries' AND ExecutionStatus = 'Running'`;

const noop = () => undefined;

/** Waits for `promise` to settle, but at most `ms`; its outcome is ignored. */
async function settledWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  await Promise.race([promise.then(noop, noop), timeout]);
  clearTimeout(timer);
}

/** Looks up display data of a user for createdBy. */
export type IdentityLookup = (
  userId: string,
) => Promise<{ displayName: string; userPrincipalName: string } | undefined>;

/** Access review definitions: each one is a running review-series workflow. */
export class DefinitionService {
  private readonly recent = new Map<string, { view: SeriesView; expires: number }>();

  constructor(
    private readonly gw: TemporalGateway,
    private readonly lookup: IdentityLookup,
    private readonly references: DirectoryReferences,
    private readonly settings: { shardSize?: number } = {},
  ) {}

  /**
   * `get`, answered from a lookup of the last second when there is one: recording decisions looks up
   * the definition on every request, and its instances only ever grow. PUT and DELETE forget it.
   */
  async getRecent(id: string): Promise<SeriesView> {
    const hit = this.recent.get(id);
    if (hit && hit.expires > Date.now()) return hit.view;
    const view = await this.get(id);
    if (this.recent.size > 10_000) this.recent.clear();
    this.recent.set(id, { view, expires: Date.now() + RECENT_MS });
    return view;
  }

  async create(input: DefinitionInput, caller: Caller): Promise<Definition> {
    requireAdmin(caller);
    const id = randomUUID();
    const plan = compileDefinition(id, input);
    await this.references.checkDefinition(input, plan);
    const now = new Date().toISOString();
    const who = await this.lookup(caller.userId);
    const definition: Definition = withGraphTypes({
      ...input,
      id,
      status: 'NotStarted',
      createdBy: {
        id: caller.userId,
        displayName: who?.displayName ?? null,
        userPrincipalName: who?.userPrincipalName ?? null,
      },
      createdDateTime: now,
      lastModifiedDateTime: now,
    });
    await this.gw.client.workflow.start(reviewSeries, {
      workflowId: seriesWorkflowId(id),
      taskQueue: this.gw.taskQueue,
      args: [{ definition, plan, shardSize: this.settings.shardSize }],
      memo: { displayName: definition.displayName },
      typedSearchAttributes: [{ key: definitionIdSearchAttribute, value: id }],
    });
    await this.untilFirstInstance(id);
    return definition;
  }

  /**
   * Waits (at most FIRST_INSTANCE_MS) until the new series has started the instance of an occurrence
   * that is due now, so that listing instances right after the 201 shows it and a stop or DELETE reaches
   * it. A series whose first occurrence lies ahead has nothing to wait for.
   */
  private async untilFirstInstance(id: string): Promise<void> {
    const series = this.gw.handle(seriesWorkflowId(id));
    const deadline = Date.now() + FIRST_INSTANCE_MS;
    while (Date.now() < deadline) {
      const view = await series.query(seriesQuery).catch((err: unknown) => {
        // The series may not have answered its first query yet; a missing worker is the caller's 503.
        if (err instanceof AppError && err.status === 503) throw err;
        return undefined;
      });
      if (view) {
        const next = view.nextOccurrenceDateTime;
        if (view.instances.length > 0 || next === null || Date.parse(next) > Date.now()) return;
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** The definition and its instances; 404 when unknown or deleted. */
  async get(id: string): Promise<SeriesView> {
    return this.gw
      .with(seriesWorkflowId(id), 'definition.not_found', `Definition '${id}'`, async (h) => {
        const description = await h.describe();
        if (description.status.name !== 'RUNNING') throw new NotFoundMarker();
        const view = await h.query(seriesQuery);
        // Definitions stored before every polymorphic object got its type are answered typed too.
        return { ...view, definition: withGraphTypes(view.definition) };
      })
      .catch((err) => {
        if (err instanceof NotFoundMarker) throw this.notFound(id);
        throw err;
      });
  }

  async list(skip: number, top: number): Promise<{ value: Definition[]; more: boolean }> {
    const value: Definition[] = [];
    let index = 0;
    let more = false;
    for await (const wf of this.gw.client.workflow.list({ query: SERIES_QUERY })) {
      if (index++ < skip) continue;
      if (value.length === top) {
        more = true;
        break;
      }
      try {
        value.push(withGraphTypes((await this.gw.handle(wf.workflowId).query(seriesQuery)).definition));
      } catch (err) {
        if (!isWorkflowNotFound(err)) throw err;
      }
    }
    return { value, more };
  }

  /** How many definitions `list` would show in all: the running review series. */
  async count(): Promise<number> {
    const { count } = await this.gw.client.workflow.count(SERIES_QUERY);
    return count;
  }

  async update(id: string, input: DefinitionInput, caller: Caller): Promise<Definition> {
    requireAdmin(caller);
    this.recent.delete(id);
    const current = await this.get(id);
    const plan = compileDefinition(id, input);
    await this.references.checkDefinition(input, plan);
    const definition: Definition = withGraphTypes({
      ...input,
      id,
      status: current.definition.status,
      createdBy: current.definition.createdBy,
      createdDateTime: current.definition.createdDateTime,
      lastModifiedDateTime: new Date().toISOString(),
    });
    await this.gw.handle(seriesWorkflowId(id)).signal(updateDefinitionSignal, { definition, plan });
    return definition;
  }

  /**
   * 400 definition.unknown_object when new reviewer scopes of an instance or stage name a user, group or
   * service principal the directory does not have; admins only, so nobody else can probe the directory.
   */
  async checkReviewerScopes(
    caller: Caller,
    scopes: { reviewers?: ReviewerScope[] | undefined; fallbackReviewers?: ReviewerScope[] | undefined },
  ): Promise<void> {
    requireAdmin(caller);
    await this.references.checkReviewers(scopes);
  }

  /** Ends the series and stops its running instances (they complete and apply per their settings). */
  async delete(id: string, caller: Caller): Promise<void> {
    requireAdmin(caller);
    this.recent.delete(id);
    await this.get(id); // 404 for an unknown or deleted definition
    const series = this.gw.handle(seriesWorkflowId(id));
    // The series stops its running instances itself: it knows every occurrence it started, also one it
    // starts while this request is under way.
    await series.signal(endSeriesSignal, { by: caller.userId, stopInstances: true });
    // The series closes as soon as it has handled the signal; waiting for that (briefly) makes a GET right
    // after the 204 answer 404 instead of racing the worker.
    await settledWithin(series.result(), DELETE_SETTLE_MS);
  }

  private notFound(id: string) {
    return new AppError('definition.not_found', `Definition '${id}' not found`);
  }
}

class NotFoundMarker extends Error {}
