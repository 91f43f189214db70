import { AppError } from '../domain/errors';
import type { EvidenceRecord } from '../domain/evidence';
import { evidenceHeaderSchema, evidenceRecordSchema } from '../domain/evidence';
import type { InstanceFacts } from '../domain/evidence-trail';
import { evidenceHeader, evidenceRecord } from '../domain/evidence-trail';
import { csvEvidence } from '../evidence/csv-file';
import { jsonEvidence } from '../evidence/json-file';
import type { EvidenceSource } from '../store/evidence';
import type { Caller } from './caller';
import { requireAdmin } from './caller';

/** The file formats evidence is exported in. */
export type EvidenceFormat = 'json' | 'csv';

/** An export ready to stream: its file name and its text, chunk by chunk. */
export interface EvidenceExport {
  filename: string;
  body: AsyncIterable<string>;
}

const unlinkedHeader = evidenceHeaderSchema.omit({ prevHash: true, hash: true });
const unlinkedRecord = evidenceRecordSchema.omit({ prevHash: true, hash: true });

/** Text is handed to the response in chunks of about this many characters. */
const CHUNK = 64 * 1024;

async function* chunked(lines: AsyncIterable<string>): AsyncGenerator<string> {
  let buffer = '';
  for await (const line of lines) {
    buffer += line;
    if (buffer.length >= CHUNK) {
      yield buffer;
      buffer = '';
    }
  }
  if (buffer) yield buffer;
}

/**
 * Audit evidence of review instances, from the review records alone: it works after Temporal deleted
 * the workflows and while no worker runs. Every header and record is checked against its schema before it
 * is hashed into the chain.
 */
export class EvidenceService {
  constructor(
    private readonly source: EvidenceSource,
    private readonly now: () => string = () => new Date().toISOString(),
  ) {}

  /** The instance's evidence file; 404 instance.not_found when the records do not know the instance. */
  async export(
    definitionId: string,
    instanceId: string,
    caller: Caller,
    format: EvidenceFormat,
  ): Promise<EvidenceExport> {
    requireAdmin(caller);
    const facts = await this.source.instance(instanceId);
    if (!facts || facts.definitionId !== definitionId) {
      throw new AppError('instance.not_found', `Instance '${instanceId}' not found`);
    }
    const header = unlinkedHeader.parse(evidenceHeader(instanceId, facts, this.now()));
    const records = this.records(instanceId, facts);
    const lines = format === 'json' ? jsonEvidence(header, records) : csvEvidence(header, records);
    return { filename: `access-review-evidence-${instanceId}.${format}`, body: chunked(lines) };
  }

  private async *records(
    instanceId: string,
    facts: InstanceFacts,
  ): AsyncGenerator<Omit<EvidenceRecord, 'prevHash' | 'hash'>> {
    let sequence = 0;
    for await (const item of this.source.items(instanceId, facts)) {
      sequence++;
      yield unlinkedRecord.parse(
        evidenceRecord(sequence, item.record, item.trail, facts.plan, item.observation),
      );
    }
  }
}
