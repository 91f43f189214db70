import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { Activities } from '../../src/activities';
import { createActivities } from '../../src/activities';
import { EmbeddedDirectory } from '../../src/directory/embedded';
import type {
  Directory,
  DirectoryApplication,
  DirectoryGroup,
  DirectoryUser,
} from '../../src/directory/port';
import type { DefinitionInput } from '../../src/domain/definition-schema';
import { definitionInputSchema } from '../../src/domain/definition-schema';
import { decisionItemIdFor, shardOf, shardWorkflowId } from '../../src/domain/ids';
import type { DecisionValue, ReviewerDecision } from '../../src/domain/review-events';
import { compileDefinition } from '../../src/domain/validate-definition';
import type { Mailer } from '../../src/notifications/port';
import { InMemoryApplyLedger } from '../../src/store/apply-ledger';
import type { NotificationLedger } from '../../src/store/notification-ledger';
import type { ReviewRecordStore } from '../../src/store/review-records';
import type { AccessReviewInstanceInput } from '../../src/workflows';
import type { DecisionsOutcome } from '../../src/workflows';
import {
  accessReviewInstance,
  decisionsQuery,
  instanceQuery,
  recordDecisionsUpdate,
  stopReviewUpdate,
  stopStageUpdate,
} from '../../src/workflows';
import { refusedOutcomes } from '../../src/services/temporal-errors';
import type { DecisionItemView } from '../../src/domain/review-views';

export const TASK_QUEUE_PREFIX = 'review-test';
let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** The workflow bundle, built once per test file. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({
    workflowsPath: require.resolve('../../src/workflows'),
    logger: quietLogger,
  });
  return bundle;
}

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: noop, log: noop };

/** A user for test tenants; sensible defaults, override what matters. */
export function user(id: string, extra: Partial<DirectoryUser> = {}): DirectoryUser {
  return {
    id,
    displayName: id,
    userPrincipalName: `${id}@contoso.test`,
    userType: 'Member',
    accountEnabled: true,
    managerId: null,
    createdDateTime: '2020-01-01T00:00:00.000Z',
    lastSignInDateTime: new Date().toISOString(),
    ...extra,
  };
}

export function group(id: string, memberIds: string[], ownerIds: string[] = []): DirectoryGroup {
  return { id, displayName: id, memberIds, ownerIds };
}

export function application(
  id: string,
  assignedUserIds: string[],
  ownerIds: string[] = [],
): DirectoryApplication {
  return { id, displayName: id, assignedUserIds, ownerIds };
}

/** A running review against an in-memory directory, with helpers to decide, stop and inspect it. */
export class ReviewRun {
  constructor(
    readonly handle: WorkflowHandle<typeof accessReviewInstance>,
    readonly instanceId: string,
    readonly directory: EmbeddedDirectory,
  ) {}

  itemId(principalId: string) {
    return decisionItemIdFor(this.instanceId, principalId);
  }

  /** The workflows holding the decision items: the instance itself, or its shards. */
  async holders(): Promise<WorkflowHandle[]> {
    const { shards } = await this.instance();
    if (shards === 0) return [this.handle];
    return Array.from({ length: shards }, (_, k) =>
      this.handle.client.getHandle(shardWorkflowId(this.handle.workflowId, k)),
    );
  }

  /** The workflow holding a reviewee's decision item. */
  async holderOf(principalId: string): Promise<WorkflowHandle> {
    const holders = await this.holders();
    return holders[shardOf(this.itemId(principalId), holders.length)]!;
  }

  /**
   * Records a decision with the recordDecisions Update the API sends; resolves with the workflow's outcome
   * (a refusal is an outcome too, not an error, so tests can look at it).
   */
  async decide(
    reviewerId: string,
    principalId: string,
    decision: ReviewerDecision,
    justification = 'reviewed',
    stageId?: string,
  ): Promise<DecisionsOutcome> {
    const request = {
      reviewerId,
      stageId,
      decisions: [{ itemId: this.itemId(principalId), decision, justification }],
    };
    try {
      const [outcome] = await (
        await this.holderOf(principalId)
      ).executeUpdate(recordDecisionsUpdate, {
        args: [{ requests: [request] }],
      });
      return outcome!;
    } catch (err) {
      const outcome = refusedOutcomes(err)?.[0];
      if (outcome) return outcome;
      throw err;
    }
  }

  /** Stops the stage in progress (the stop-stage Update, naming it). */
  async stopStage() {
    const { currentStageId } = await this.instance();
    await this.handle.executeUpdate(stopStageUpdate, {
      args: [{ by: 'admin', stageId: currentStageId ?? undefined }],
    });
  }

  async stop() {
    await this.handle.executeUpdate(stopReviewUpdate, { args: [{ by: 'admin' }] });
  }

  instance() {
    return this.handle.query(instanceQuery);
  }

  /** Admin view of all decision items (instance level, or one stage). */
  async items(stageId?: string): Promise<DecisionItemView[]> {
    const items: DecisionItemView[] = [];
    for (const holder of await this.holders()) {
      const page = await holder.query(decisionsQuery, {
        viewer: { kind: 'admin', userId: 'admin' },
        stageId,
        skip: 0,
        top: 100_000,
      });
      if ('code' in page) throw new Error(page.message);
      items.push(...page.value);
    }
    return items;
  }

  /** principal id → decision, for compact assertions. */
  async decisions(stageId?: string): Promise<Record<string, DecisionValue>> {
    return Object.fromEntries((await this.items(stageId)).map((i) => [i.principal.id, i.decision]));
  }

  /** Principal ids in a stage. */
  async stageMembers(stageId: string): Promise<string[]> {
    return (await this.items(stageId)).map((i) => i.principal.id).sort();
  }
}

/** Optional seams of withReview: what the activities see instead of the plain in-memory tenant. */
export interface ReviewOptions {
  /** Wraps the directory the activities use (fakes that fail or count); `run.directory` stays the inner one. */
  wrapDirectory?: (directory: Directory) => Directory;
  /** Wraps the activities the worker runs (to observe calls such as apply batches). */
  wrapActivities?: (activities: Activities) => Activities;
  /** Instance input overrides: shard size, early continue-as-new. */
  input?: Pick<
    AccessReviewInstanceInput,
    'shardSize' | 'continueAsNewAfterEvents' | 'continueAsNewAfterUpdates'
  >;
  /** The record store the activities write to (default: one in memory nobody reads). */
  records?: ReviewRecordStore;
  /** Where notifications go (default: none, so they are recorded as not sent), and their ledger. */
  mailer?: Mailer;
  notificationLedger?: NotificationLedger;
}

/** Runs `fn` with a worker on a fresh task queue over the given tenant. */
export async function withReview(
  env: TestWorkflowEnvironment,
  tenant: { users: DirectoryUser[]; groups?: DirectoryGroup[]; applications?: DirectoryApplication[] },
  definition: Record<string, unknown>,
  fn: (run: ReviewRun) => Promise<void>,
  options: ReviewOptions = {},
): Promise<void> {
  const directory = EmbeddedDirectory.inMemory({
    users: tenant.users,
    groups: tenant.groups ?? [],
    applications: tenant.applications ?? [],
  });
  const taskQueue = `${TASK_QUEUE_PREFIX}-${randomUUID()}`;
  const activities = createActivities({
    directory: options.wrapDirectory?.(directory) ?? directory,
    applyLedger: new InMemoryApplyLedger(),
    records: options.records,
    mailer: options.mailer,
    notificationLedger: options.notificationLedger,
    publicBaseUrl: 'https://stagecoach.test',
  });
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: options.wrapActivities?.(activities) ?? activities,
  });
  const definitionId = randomUUID();
  const input: DefinitionInput = definitionInputSchema.parse(definition);
  const plan = compileDefinition(definitionId, input);
  const instanceId = randomUUID();
  await worker.runUntil(async () => {
    const handle = await env.client.workflow.start(accessReviewInstance, {
      workflowId: `access-review/${definitionId}/${instanceId}`,
      taskQueue,
      args: [{ instanceId, plan, searchAttributes: false, ...options.input }],
    });
    await fn(new ReviewRun(handle, instanceId, directory));
  });
}

/**
 * Polls a query until the predicate holds (workflow tasks run asynchronously to the test). Usually a matter
 * of milliseconds; the 30 s allowance is for a machine busy with other test files.
 */
export async function until<T>(
  read: () => Promise<T>,
  ok: (v: T) => boolean,
  what = 'condition',
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T;
  do {
    last = await read();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 50));
  } while (Date.now() < deadline);
  throw new Error(`timed out waiting for ${what}; last seen: ${String(JSON.stringify(last)).slice(0, 500)}`);
}

/** Waits until the given stage is in progress. */
export const enterStage = (run: ReviewRun, stageId: string) =>
  until(
    () => run.instance(),
    (v) => v.currentStageId === stageId,
    `stage ${stageId}`,
  );

/**
 * Waits until the instance has applied its decisions, by polling rather than awaiting the result:
 * a result wait lets the time-skipping server jump over other workflows' timers too.
 */
export const applied = (run: ReviewRun) =>
  until(
    () => run.instance(),
    (v) => v.status === 'Applied',
    'Applied',
  );
