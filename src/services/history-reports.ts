import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { AppError } from '../domain/errors';
import type {
  HistoryDecision,
  HistoryDefinition,
  HistoryDefinitionInput,
  HistoryInstance,
} from '../domain/history-definitions';
import {
  ALL_HISTORY_DECISIONS,
  definitionStatus,
  DOWNLOAD_LINK_HOURS,
  dueOccurrences,
  expirationOf,
  HISTORY_SCOPE,
  historyDefinitionProblem,
} from '../domain/history-definitions';
import { csvHeader, csvRecord, historyRows } from '../domain/history-csv';
import type { HistoryScopeMatcher } from '../domain/history-scopes';
import { inHistoryScope, parseHistoryScope } from '../domain/history-scopes';
import { deterministicUuid } from '../domain/ids';
import { USER_IDENTITY } from '../domain/graph-names';
import type { HistoryReportStore, StoredHistoryInstance } from '../store/history-reports';
import type { Caller } from './caller';
import type { IdentityLookup } from './definitions';

/** Where a download link points: the API's download path for an instance, with its secret. */
export type DownloadUrl = (definitionId: string, instanceId: string, token: string) => string;

const HOUR_MS = 3_600_000;

/** The id of a history definition's n-th occurrence (0-based): the same every time it is materialised. */
export const historyInstanceIdFor = (definitionId: string, occurrence: number) =>
  deterministicUuid(`history-instance:${definitionId}:${occurrence}`);

/**
 * Review history reports (Graph's accessReviewHistoryDefinition): definitions, their instances
 * (materialised when read, one per occurrence whose time has come) and each instance's CSV report, read
 * from the review records as it streams.
 */
export class HistoryReportService {
  constructor(
    private readonly store: HistoryReportStore,
    private readonly lookup: IdentityLookup,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async create(input: HistoryDefinitionInput, caller: Caller): Promise<HistoryDefinition> {
    const problem = historyDefinitionProblem(input);
    if (problem) throw new AppError('history.invalid', problem);
    input.scopes.forEach((scope, i) => {
      try {
        parseHistoryScope(scope.query);
      } catch (err) {
        throw new AppError('history.invalid', `scopes[${i}]: ${(err as Error).message}`);
      }
    });
    const who = await this.lookup(caller.userId);
    const decisions = input.decisions?.length ? [...new Set(input.decisions)] : [...ALL_HISTORY_DECISIONS];
    const created: Omit<HistoryDefinition, 'status'> = {
      id: randomUUID(),
      displayName: input.displayName,
      reviewHistoryPeriodStartDateTime: input.reviewHistoryPeriodStartDateTime ?? null,
      reviewHistoryPeriodEndDateTime: input.reviewHistoryPeriodEndDateTime ?? null,
      decisions,
      createdDateTime: this.now().toISOString(),
      createdBy: {
        '@odata.type': USER_IDENTITY,
        id: caller.userId,
        displayName: who?.displayName ?? null,
        userPrincipalName: who?.userPrincipalName ?? null,
      },
      scopes: input.scopes.map((s) => ({
        '@odata.type': HISTORY_SCOPE,
        ...s,
        queryRoot: s.queryRoot ?? null,
      })),
      scheduleSettings: input.scheduleSettings ?? null,
    };
    const definition = { ...created, status: 'requested' as const };
    await this.store.createDefinition(definition);
    return this.withStatus(definition);
  }

  async list(skip: number, top: number): Promise<HistoryDefinition[]> {
    const page = await this.store.definitions(skip, top);
    return Promise.all(page.map((d) => this.withStatus(d)));
  }

  async get(definitionId: string): Promise<HistoryDefinition> {
    return this.withStatus(await this.definition(definitionId));
  }

  async instances(definitionId: string, url: DownloadUrl): Promise<HistoryInstance[]> {
    const definition = await this.definition(definitionId);
    return (await this.materialised(definition)).map((i) => this.instanceView(i, url));
  }

  /** A fresh download link for an instance's report (24 hours, never beyond the instance's expiration). */
  async generateDownloadUri(
    definitionId: string,
    instanceId: string,
    url: DownloadUrl,
  ): Promise<HistoryInstance> {
    const instance = await this.instance(definitionId, instanceId);
    const expiration = Date.parse(expirationOf(instance.runDateTime));
    const now = this.now().getTime();
    if (now >= expiration) {
      throw new AppError('history.instance_expired', `History instance '${instanceId}' expired`);
    }
    const token = randomBytes(32).toString('base64url');
    const expiresAt = new Date(Math.min(now + DOWNLOAD_LINK_HOURS * HOUR_MS, expiration)).toISOString();
    await this.store.setDownload(instanceId, token, expiresAt);
    return this.instanceView({ ...instance, download: { token, expiresAt } }, url);
  }

  /**
   * The report of an instance as CSV chunks (a header, then a chunk per page of items), when `token` is its
   * current, unexpired download secret. Anything else is refused the same way, whether or not the ids exist.
   */
  async download(
    definitionId: string,
    instanceId: string,
    token: string | undefined,
  ): Promise<AsyncIterable<string>> {
    const denied = new AppError('history.download_denied', 'The download link is not valid or has expired');
    const definition = await this.store.definition(definitionId);
    const instance = definition && (await this.store.instance(definitionId, instanceId));
    if (!definition || !instance?.download || token === undefined) throw denied;
    const expected = Buffer.from(instance.download.token);
    const given = Buffer.from(token);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw denied;
    if (this.now().getTime() >= Date.parse(instance.download.expiresAt)) throw denied;
    return this.report(definition, instance);
  }

  /** The CSV of an instance: every decision of every review in its period and scopes, filtered by decisions. */
  async *report(definition: HistoryDefinition, instance: StoredHistoryInstance): AsyncGenerator<string> {
    const scopes: HistoryScopeMatcher[] = definition.scopes.map((s) => parseHistoryScope(s.query));
    const decisions = new Set<HistoryDecision>(definition.decisions);
    yield csvHeader();
    const reviews = await this.store.reviewsInPeriod(instance.periodStart, instance.periodEnd);
    for (const review of reviews) {
      if (!scopes.some((m) => inHistoryScope(m, review.definition))) continue;
      for await (const page of this.store.itemPages(review.instanceId)) {
        let chunk = '';
        for (const item of page)
          for (const row of historyRows(review, item, decisions)) chunk += csvRecord(row);
        if (chunk) yield chunk;
      }
    }
  }

  private async definition(definitionId: string): Promise<HistoryDefinition> {
    const definition = await this.store.definition(definitionId);
    if (!definition) {
      throw new AppError('history.definition_not_found', `History definition '${definitionId}' not found`);
    }
    return definition;
  }

  private async instance(definitionId: string, instanceId: string): Promise<StoredHistoryInstance> {
    await this.materialised(await this.definition(definitionId));
    const instance = await this.store.instance(definitionId, instanceId);
    if (!instance) {
      throw new AppError('history.instance_not_found', `History instance '${instanceId}' not found`);
    }
    return instance;
  }

  /** The definition's instances, after adding the occurrences that have come due since the last read. */
  private async materialised(definition: HistoryDefinition): Promise<StoredHistoryInstance[]> {
    const due = dueOccurrences(definition, this.now());
    const known = await this.store.instances(definition.id);
    if (known.length >= due.length) return known;
    const missing = due
      .filter((o) => !known.some((k) => k.occurrence === o.index))
      .map((o) => ({ ...o, instanceId: historyInstanceIdFor(definition.id, o.index) }));
    await this.store.materialise(definition.id, missing);
    return this.store.instances(definition.id);
  }

  private async withStatus(definition: HistoryDefinition): Promise<HistoryDefinition> {
    const instances = (await this.materialised(definition)).map((i) => this.instanceView(i));
    return { ...definition, status: definitionStatus(instances) };
  }

  /**
   * An instance as Graph shows it. Reports are read from the records when downloaded, so an instance is
   * done (and fulfilled) as soon as it runs; its current link shows while it is valid.
   */
  private instanceView(instance: StoredHistoryInstance, url?: DownloadUrl): HistoryInstance {
    const now = this.now().getTime();
    const link =
      instance.download && Date.parse(instance.download.expiresAt) > now ? instance.download : undefined;
    return {
      id: instance.instanceId,
      reviewHistoryPeriodStartDateTime: instance.periodStart,
      reviewHistoryPeriodEndDateTime: instance.periodEnd,
      status: 'done',
      runDateTime: instance.runDateTime,
      fulfilledDateTime: instance.runDateTime,
      downloadUri: link && url ? url(instance.definitionId, instance.instanceId, link.token) : null,
      expirationDateTime: expirationOf(instance.runDateTime),
    };
  }
}
