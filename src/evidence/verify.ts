import { GENESIS_HASH, linkHash } from './chain';
import { csvColumns, csvRecord, csvTrailer } from './csv-file';
import {
  JSON_DIGEST_PREFIX,
  JSON_HEADER_PREFIX,
  JSON_PREAMBLE,
  JSON_RECORDS_CLOSE,
  JSON_RECORDS_OPEN,
} from './json-file';

// Verifies an evidence file (JSON or CSV, told apart by its first byte) from its bytes alone, as a
// stream: every link's prevHash and hash, the order of the links, the digest, and that every line is
// written exactly as the exporter writes it — so changing any byte, or removing or reordering a record,
// fails verification.

/** The outcome: the record count and final hash, or the first line that is wrong and why. */
export type VerifyResult =
  | { ok: true; format: 'json' | 'csv'; records: number; digest: string }
  | { ok: false; format?: 'json' | 'csv'; line: number; record?: number; reason: string };

type Failure = { reason: string; record?: number };
type Check = Failure | undefined;

/** One line of a JSON file, or one record of a CSV file (which may span lines); `text` without its LF. */
interface Unit {
  text: string;
  line: number;
  terminated: boolean;
}

/** Splits decoded text into units at LF; with `quoted`, an LF inside a quoted CSV field does not split. */
async function* units(chunks: AsyncIterable<string>, quoted: boolean): AsyncGenerator<Unit> {
  let buffer = '';
  let scanned = 0;
  let inQuotes = false;
  let line = 1;
  let startLine = 1;
  for await (const chunk of chunks) {
    buffer += chunk;
    let start = 0;
    for (let i = scanned; i < buffer.length; i++) {
      const c = buffer[i];
      if (quoted && c === '"') inQuotes = !inQuotes;
      else if (c === '\n') {
        if (!inQuotes) {
          yield { text: buffer.slice(start, i), line: startLine, terminated: true };
          start = i + 1;
          startLine = line + 1;
        }
        line++;
      }
    }
    buffer = buffer.slice(start);
    scanned = buffer.length;
  }
  if (buffer.length > 0) yield { text: buffer, line: startLine, terminated: false };
}

/** Decodes UTF-8 strictly: a byte sequence that is not UTF-8 fails. */
async function* decoded(bytes: AsyncIterable<Uint8Array | string>): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  for await (const b of bytes) {
    yield typeof b === 'string' ? b : decoder.decode(b, { stream: true });
  }
  const rest = decoder.decode();
  if (rest) yield rest;
}

/** A JSON value written exactly as JSON.stringify writes it, or undefined. */
function exactJson(text: string): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  return JSON.stringify(value) === text ? (value as Record<string, unknown>) : undefined;
}

/** The link's own hash and prevHash agree with the chain so far. */
function checkLink(link: Record<string, unknown>, prev: string, sequence: number, recordType: string): Check {
  const { hash, ...rest } = link;
  const record = sequence;
  if (rest.sequence !== sequence && rest.sequence !== String(sequence)) {
    return { record, reason: `expected record ${sequence} here, found ${JSON.stringify(rest.sequence)}` };
  }
  if (rest.recordType !== recordType) return { record, reason: `recordType is not ${recordType}` };
  if (rest.prevHash !== prev) return { record, reason: 'prevHash is not the hash of the record before it' };
  if (typeof hash !== 'string' || linkHash(prev, rest) !== hash) {
    return { record, reason: 'hash does not match the record' };
  }
  return undefined;
}

/** The state machine of a JSON file: preamble, header, records, digest. */
function jsonVerifier() {
  let state: 'preamble' | 'header' | 'open' | 'records' | 'digest' | 'done' = 'preamble';
  let prev = GENESIS_HASH;
  let count = 0;
  let lastHadComma = false;
  const accept = (text: string): Check => {
    switch (state) {
      case 'preamble':
        if (text !== JSON_PREAMBLE) return { reason: 'not the preamble of a version 1 evidence file' };
        state = 'header';
        return undefined;
      case 'header': {
        const link =
          text.startsWith(JSON_HEADER_PREFIX) && text.endsWith(',')
            ? exactJson(text.slice(JSON_HEADER_PREFIX.length, -1))
            : undefined;
        if (!link) return { record: 0, reason: 'the header line is not written as exported' };
        const bad = checkLink(link, prev, 0, 'accessReviewInstance');
        if (bad) return bad;
        prev = link.hash as string;
        state = 'open';
        return undefined;
      }
      case 'open':
        if (text !== JSON_RECORDS_OPEN) return { reason: 'expected the records to open here' };
        state = 'records';
        return undefined;
      case 'records': {
        if (text === JSON_RECORDS_CLOSE) {
          if (lastHadComma) return { reason: 'a record was expected after the trailing comma' };
          state = 'digest';
          return undefined;
        }
        const sequence = count + 1;
        if (count > 0 && !lastHadComma) return { record: sequence, reason: 'a record follows the last one' };
        lastHadComma = text.endsWith(',');
        const link = exactJson(lastHadComma ? text.slice(0, -1) : text);
        if (!link) return { record: sequence, reason: 'the record line is not written as exported' };
        const bad = checkLink(link, prev, sequence, 'decisionItem');
        if (bad) return bad;
        prev = link.hash as string;
        count = sequence;
        return undefined;
      }
      case 'digest': {
        const expected = `${JSON_DIGEST_PREFIX}${JSON.stringify({ recordCount: count, finalHash: prev })}}`;
        if (text !== expected) {
          return { reason: `the digest does not say ${count} records ending in hash ${prev}` };
        }
        state = 'done';
        return undefined;
      }
      case 'done':
        return { reason: 'data after the digest' };
    }
  };
  return { accept, done: () => state === 'done', count: () => count, final: () => prev };
}

/** The fields of one CSV record (text without its LF), or undefined when it is not RFC 4180. */
function csvFields(text: string): string[] | undefined {
  if (!text.endsWith('\r')) return undefined;
  const body = text.slice(0, -1);
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (body[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const q = body.indexOf('"', i);
        if (q < 0) return undefined;
        value += body.slice(i, q);
        if (body[q + 1] === '"') {
          value += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      fields.push(value);
    } else {
      const comma = body.indexOf(',', i);
      const end = comma < 0 ? body.length : comma;
      fields.push(body.slice(i, end));
      i = end;
    }
    if (i === body.length) return fields;
    if (body[i] !== ',') return undefined;
    i++;
  }
}

/** The state machine of a CSV file: column names, instance row, item rows, trailer. */
function csvVerifier() {
  let columns: string[] | undefined;
  let prev = GENESIS_HASH;
  let rows = 0;
  let done = false;
  const accept = (text: string): Check => {
    if (done) return { reason: 'data after the trailer' };
    const fields = csvFields(text);
    if (!fields || csvRecord(fields) !== `${text}\n`) {
      return { reason: 'the line is not written as exported (RFC 4180, CRLF)' };
    }
    if (!columns) {
      const expected = csvColumns(fields.filter((f) => /^stage\d+Id$/.test(f)).length);
      if (fields.join(',') !== expected.join(','))
        return { reason: 'not the column names of an evidence file' };
      columns = fields;
      return undefined;
    }
    if (fields[0] === 'digest') {
      const count = Math.max(rows - 1, 0);
      if (rows === 0 || fields.join(',') !== csvTrailer(count, prev).join(',')) {
        return { reason: `the trailer does not say ${count} records ending in hash ${prev}` };
      }
      done = true;
      return undefined;
    }
    if (fields.length !== columns.length) {
      return { record: rows, reason: `expected ${columns.length} fields, found ${fields.length}` };
    }
    const link: Record<string, string> = {};
    columns.forEach((c, k) => (link[c] = fields[k]!));
    const bad = checkLink(link, prev, rows, rows === 0 ? 'accessReviewInstance' : 'decisionItem');
    if (bad) return bad;
    prev = link.hash!;
    rows++;
    return undefined;
  };
  return { accept, done: () => done, count: () => Math.max(rows - 1, 0), final: () => prev };
}

/** Verifies an evidence file from its bytes (chunks in order). */
export async function verifyEvidence(bytes: AsyncIterable<Uint8Array | string>): Promise<VerifyResult> {
  let format: 'json' | 'csv' | undefined;
  let line = 1;
  try {
    const text = decoded(bytes);
    // The first chunk tells the format; it is then handed on to the splitter with the rest.
    const first = await text.next();
    if (first.done || first.value.length === 0) return { ok: false, line, reason: 'the file is empty' };
    const start = first.value;
    format = start.startsWith('{') ? 'json' : 'csv';
    const verifier = format === 'json' ? jsonVerifier() : csvVerifier();
    const all = async function* () {
      yield start;
      yield* text;
    };
    for await (const unit of units(all(), format === 'csv')) {
      line = unit.line;
      if (!unit.terminated) return { ok: false, format, line, reason: 'the last line has no line end' };
      const bad = verifier.accept(unit.text);
      if (bad) return { ok: false, format, line, ...bad };
    }
    if (!verifier.done()) return { ok: false, format, line, reason: 'the file ends before its digest' };
    return { ok: true, format, records: verifier.count(), digest: verifier.final() };
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ERR_ENCODING_INVALID_ENCODED_DATA') {
      return { ok: false, format, line, reason: 'the file is not UTF-8' };
    }
    throw err;
  }
}
