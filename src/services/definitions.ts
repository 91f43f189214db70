import { randomUUID } from 'node:crypto';
import type { Definition, DefinitionInput, ReviewerScope } from '../domain/definition-schema';
import { AppError } from '../domain/errors';
import { seriesWorkflowId } from '../domain/ids';
import { withGraphTypes } from '../domain/graph-types';
import { compileDefinition } from '../domain/validate-definition';
import { definitionIdSearchAttribute } from '../search-attributes';
import type { Filter, OrderKey } from '../domain/odata-filter';
import type { DefinitionRecord } from '../domain/review-records';
import type { ReviewRecordStore } from '../store/review-records';
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

/** How long a write waits for the records to show it, so that a read right after the answer does. */
const RECORDED_WITHIN_MS = 10_000;

/** A definition list request: a page, filtered and sorted; with `reviewerId`, only what they review now. */
export interface DefinitionListOptions {
  skip: number;
  top: number;
  filter?: Filter;
  orderBy?: OrderKey[];
  reviewerId?: string;
}

/** Waits until `ready` answers true, polling, but at most `ms`. */
async function until(ready: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await ready()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const seriesViewOf = (r: DefinitionRecord): SeriesView => ({
  definition: withGraphTypes(r.definition),
  instances: r.instances,
  nextOccurrenceDateTime: r.nextOccurrenceDateTime,
});

/** Looks up display data of a user for createdBy. */
export type IdentityLookup = (
  userId: string,
) => Promise<{ displayName: string; userPrincipalName: string } | undefined>;

/**
 * Access review definitions: each one is a running review-series workflow, which keeps the definition's
 * record in the review records. Reads answer from the records (also while no worker runs); a series that
 * keeps no record (started before records were kept) is read from the workflow.
 */
export class DefinitionService {
  private readonly recent = new Map<string, { view: SeriesView; expires: number }>();

  constructor(
    private readonly gw: TemporalGateway,
    private readonly lookup: IdentityLookup,
    private readonly references: DirectoryReferences,
    private readonly settings: { shardSize?: number } = {},
    private readonly records?: ReviewRecordStore,
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
    if (this.records) await this.untilRecorded(id, (r) => this.firstInstanceOpen(r));
    else await this.untilFirstInstance(id);
    return definition;
  }

  /**
   * Whether the records show the definition's first instance open for its reviewers (its first stage
   * started), or the first occurrence lies ahead: what listing instances right after the 201 should see.
   */
  private async firstInstanceOpen(r: DefinitionRecord): Promise<boolean> {
    const [first] = r.instances;
    if (!first) {
      // Before the series has looked at its schedule its record says neither: no instance, no next one.
      const next = r.nextOccurrenceDateTime;
      return next !== null && Date.parse(next) > Date.now();
    }
    const view = (await this.records?.instance(first.instanceId))?.view;
    if (!view || view.status === 'NotStarted' || view.status === 'Initializing') return false;
    return view.status !== 'InProgress' || view.currentStageId !== null;
  }

  /**
   * Waits (at most RECORDED_WITHIN_MS) until the definition's record satisfies `done`: the series writes
   * it in the background, and a read right after this request's answer reads the records.
   */
  private async untilRecorded(id: string, done: (r: DefinitionRecord) => boolean | Promise<boolean>) {
    const records = this.records;
    if (!records) return;
    await until(async () => {
      const r = await records.definition(id);
      return r !== undefined && (await done(r));
    }, RECORDED_WITHIN_MS);
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
    const recorded = await this.records?.definition(id);
    if (recorded) {
      if (recorded.ended) throw this.notFound(id);
      return seriesViewOf(recorded);
    }
    return this.live(id);
  }

  /** The definition as its series answers (a series that keeps no record, or whose record is not written yet). */
  private async live(id: string): Promise<SeriesView> {
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

  /**
   * A page of definitions (`total` counts every match), from the records: $filter and $orderby in SQL, and
   * for a reviewer only the definitions in which they review something now.
   */
  async page(options: DefinitionListOptions): Promise<{ value: Definition[]; total: number }> {
    if (!this.records) throw new Error('definition pages are read from the review records');
    const page = await this.records.definitions(options);
    return { value: page.value.map((r) => seriesViewOf(r).definition), total: page.total };
  }

  /** Whether definitions are listed from the records (else from the series workflows). */
  get recorded(): boolean {
    return this.records !== undefined;
  }

  async list(skip: number, top: number): Promise<{ value: Definition[]; more: boolean }> {
    if (this.records) {
      const page = await this.page({ skip, top });
      return { value: page.value, more: skip + page.value.length < page.total };
    }
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
    if (this.records) return (await this.page({ skip: 0, top: 0 })).total;
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
    await this.untilRecorded(
      id,
      (r) => r.definition.lastModifiedDateTime === definition.lastModifiedDateTime,
    );
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
    await this.untilRecorded(id, (r) => r.ended);
  }

  private notFound(id: string) {
    return new AppError('definition.not_found', `Definition '${id}' not found`);
  }
}

class NotFoundMarker extends Error {}
