import type { Client } from '@temporalio/client';

/** Temporal's per-run warnings and hard limits (DESIGN.md §3), in events, bytes, signals and Updates. */
export const TEMPORAL_THRESHOLDS = {
  events: { warn: 10_240, limit: 51_200 },
  historyBytes: { warn: 10 * 1024 * 1024, limit: 50 * 1024 * 1024 },
  payloadBytes: { warn: 512 * 1024, limit: 2 * 1024 * 1024 },
  signals: { warn: null, limit: 10_000 },
  /** Updates in one run's history (accepted ones; a refused Update leaves no event). */
  updates: { warn: null, limit: 2_000 },
  /** Where workflowInfo().continueAsNewSuggested turns true (not a limit). */
  continueAsNewSuggested: { events: 4_096, historyBytes: 4 * 1024 * 1024 },
} as const;

/** The largest group of payloads in one event (a signal's input, an activity's input or result …). */
export interface LargestPayload {
  bytes: number;
  eventId: number;
  eventType: string;
  field: string;
}

/** One workflow run as the bench saw it at the end. */
export interface RunReport {
  workflowId: string;
  runId: string;
  type: string;
  status: string;
  historyLength: number;
  historySizeBytes: number;
  /** Counted from the fetched history. */
  events: number;
  signals: number;
  /** Accepted Updates (WorkflowExecutionUpdateAccepted events), counted from the fetched history. */
  updates: number;
  /** Accepted Updates by name (`recordDecisions`, `stopStage`, …). */
  updatesByName: Record<string, number>;
  /** Events by type (attributes name without `EventAttributes`). */
  eventTypes: Record<string, number>;
  largestPayload: LargestPayload | null;
  /** Thresholds crossed: `warn: …` or `LIMIT: …`. */
  crossed: string[];
  error?: string;
}

const varintLen = (n: number) => {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    len++;
  }
  return len;
};
/** Bytes of a length-delimited protobuf field with a one-byte tag. */
const field = (len: number) => 1 + varintLen(len) + len;
const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');

interface PayloadLike {
  metadata?: Record<string, Uint8Array> | null;
  data?: Uint8Array | null;
}

const isBytes = (x: unknown): x is Uint8Array => x instanceof Uint8Array;
function isPayload(x: unknown): x is PayloadLike {
  if (typeof x !== 'object' || x === null) return false;
  const p = x as Record<string, unknown>;
  const metadataOk =
    p.metadata === undefined ||
    p.metadata === null ||
    (typeof p.metadata === 'object' && Object.values(p.metadata).every(isBytes));
  return metadataOk && (isBytes(p.data) || (p.metadata != null && Object.keys(p.metadata).length > 0));
}

/** Serialized size of a temporal.api.common.v1.Payload (map<string,bytes> metadata = 1; bytes data = 2). */
export function payloadBytes(p: PayloadLike): number {
  let size = 0;
  for (const [k, v] of Object.entries(p.metadata ?? {})) size += field(field(utf8(k)) + field(v.length));
  if (p.data && p.data.length > 0) size += field(p.data.length);
  return size;
}

/** Every payload group of an event: a Payloads message (`payloads: [...]`) or a lone Payload (memo field …). */
function payloadGroups(node: unknown, pathName: string, out: { field: string; bytes: number }[], depth = 0) {
  if (depth > 12 || typeof node !== 'object' || node === null || ArrayBuffer.isView(node)) return;
  const obj = node as Record<string, unknown>;
  if (Array.isArray(obj.payloads) && obj.payloads.every(isPayload)) {
    const bytes = obj.payloads.reduce((s, p) => s + field(payloadBytes(p)), 0);
    out.push({ field: pathName, bytes });
    return;
  }
  if (isPayload(obj)) {
    out.push({ field: pathName, bytes: payloadBytes(obj) });
    return;
  }
  for (const [key, value] of Object.entries(obj)) {
    if (value === null || value === undefined) continue;
    payloadGroups(value, pathName ? `${pathName}.${key}` : key, out, depth + 1);
  }
}

type HistoryEvent = { eventId?: unknown } & Record<string, unknown>;

/** The event's attributes key without the suffix (`workflowExecutionSignaled`). */
function eventTypeOf(event: HistoryEvent): string {
  for (const [key, value] of Object.entries(event)) {
    if (key.endsWith('EventAttributes') && value != null) return key.slice(0, -'EventAttributes'.length);
  }
  return 'unknown';
}

/** A number from a proto int64 (number or Long). */
const num = (x: unknown): number =>
  typeof x === 'number'
    ? x
    : x != null && typeof x === 'object'
      ? Number((x as { toString(): string }).toString())
      : 0;

/** The name of an accepted Update (`acceptedRequest.input.name`). */
function updateNameOf(event: HistoryEvent): string {
  const attrs = event.workflowExecutionUpdateAcceptedEventAttributes as
    { acceptedRequest?: { input?: { name?: string | null } | null } | null } | null | undefined;
  return attrs?.acceptedRequest?.input?.name ?? 'unknown';
}

/** Scans a fetched history: events, signals, accepted Updates and the largest payload group. */
export function scanHistory(events: readonly HistoryEvent[]): {
  events: number;
  signals: number;
  updates: number;
  updatesByName: Record<string, number>;
  eventTypes: Record<string, number>;
  largest: LargestPayload | null;
} {
  let signals = 0;
  let updates = 0;
  const updatesByName: Record<string, number> = {};
  let largest: LargestPayload | null = null;
  const eventTypes: Record<string, number> = {};
  for (const event of events) {
    const type = eventTypeOf(event);
    eventTypes[type] = (eventTypes[type] ?? 0) + 1;
    if (type === 'workflowExecutionSignaled') signals++;
    if (type === 'workflowExecutionUpdateAccepted') {
      updates++;
      const name = updateNameOf(event);
      updatesByName[name] = (updatesByName[name] ?? 0) + 1;
    }
    const groups: { field: string; bytes: number }[] = [];
    payloadGroups(event, '', groups);
    for (const g of groups) {
      if (!largest || g.bytes > largest.bytes) {
        largest = { bytes: g.bytes, eventId: num(event.eventId), eventType: type, field: g.field };
      }
    }
  }
  return { events: events.length, signals, updates, updatesByName, eventTypes, largest };
}

const mb = (b: number) => `${(b / 1024 / 1024).toFixed(2)} MB`;

/** The thresholds a run crossed, worst first. */
export function thresholdsCrossed(
  r: Pick<RunReport, 'historyLength' | 'historySizeBytes' | 'signals' | 'updates' | 'largestPayload'>,
): string[] {
  const t = TEMPORAL_THRESHOLDS;
  const out: string[] = [];
  const check = (
    what: string,
    value: number,
    warn: number | null,
    limit: number,
    show: (x: number) => string,
  ) => {
    if (value >= limit) out.push(`LIMIT: ${what} ${show(value)} ≥ ${show(limit)}`);
    else if (warn !== null && value >= warn) out.push(`warn: ${what} ${show(value)} ≥ ${show(warn)}`);
  };
  const count = (x: number) => x.toLocaleString('en-US');
  check('history events', r.historyLength, t.events.warn, t.events.limit, count);
  check('history size', r.historySizeBytes, t.historyBytes.warn, t.historyBytes.limit, mb);
  check(
    'payload',
    r.largestPayload?.bytes ?? 0,
    t.payloadBytes.warn,
    t.payloadBytes.limit,
    (x) => `${(x / 1024).toFixed(0)} KB`,
  );
  check('signals', r.signals, t.signals.warn, t.signals.limit, count);
  check('Updates', r.updates, t.updates.warn, t.updates.limit, count);
  return out.sort((a, b) => Number(b.startsWith('LIMIT')) - Number(a.startsWith('LIMIT')));
}

/** Describes every workflow run in the namespace and scans its history. One failing run does not stop the rest. */
export async function inspectRuns(client: Client): Promise<RunReport[]> {
  const reports: RunReport[] = [];
  for await (const wf of client.workflow.list()) {
    const report: RunReport = {
      workflowId: wf.workflowId,
      runId: wf.runId,
      type: wf.type,
      status: wf.status.name,
      historyLength: wf.historyLength,
      historySizeBytes: wf.historySize ?? 0,
      events: 0,
      signals: 0,
      updates: 0,
      updatesByName: {},
      eventTypes: {},
      largestPayload: null,
      crossed: [],
    };
    try {
      const handle = client.workflow.getHandle(wf.workflowId, wf.runId);
      const description = await handle.describe();
      const info = description.raw.workflowExecutionInfo;
      report.status = description.status.name;
      report.historyLength = num(info?.historyLength);
      report.historySizeBytes = num(info?.historySizeBytes);
      const history = await handle.fetchHistory();
      const scan = scanHistory((history.events ?? []) as unknown as HistoryEvent[]);
      report.events = scan.events;
      report.signals = scan.signals;
      report.updates = scan.updates;
      report.updatesByName = scan.updatesByName;
      report.eventTypes = scan.eventTypes;
      report.largestPayload = scan.largest;
    } catch (err) {
      report.error = err instanceof Error ? err.message : String(err);
    }
    report.crossed = thresholdsCrossed(report);
    reports.push(report);
  }
  return reports;
}
