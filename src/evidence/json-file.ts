import type { EvidenceHeader, EvidenceRecord } from '../domain/evidence';
import { GENESIS_HASH, HashChain } from './chain';

// The JSON evidence file: valid JSON, one link per line, so it is written and verified as a stream.
//
//   {"format":"stagecoach.accessReviewEvidence","formatVersion":1,"hashAlgorithm":"SHA-256","genesisHash":"0…0",
//   "header":{…link 0…},
//   "records":[
//   {…link 1…},
//   {…link n…}
//   ],
//   "digest":{"recordCount":n,"finalHash":"…"}}
//
// Each link is written as JSON.stringify writes it (no spaces); the verifier insists on exactly that, so
// no byte of the file can change without failing verification.

/** The first line of every JSON evidence file. */
export const JSON_PREAMBLE =
  `{"format":"stagecoach.accessReviewEvidence","formatVersion":1,"hashAlgorithm":"SHA-256",` +
  `"genesisHash":"${GENESIS_HASH}",`;
export const JSON_HEADER_PREFIX = '"header":';
export const JSON_RECORDS_OPEN = '"records":[';
export const JSON_RECORDS_CLOSE = '],';
export const JSON_DIGEST_PREFIX = '"digest":';

type Unlinked<T> = Omit<T, 'prevHash' | 'hash'>;

/** Writes a JSON evidence file, line by line: the header, each record as it comes, the digest. */
export async function* jsonEvidence(
  header: Unlinked<EvidenceHeader>,
  records: AsyncIterable<Unlinked<EvidenceRecord>>,
): AsyncGenerator<string> {
  const chain = new HashChain();
  yield `${JSON_PREAMBLE}\n${JSON_HEADER_PREFIX}${JSON.stringify(chain.link(header))},\n${JSON_RECORDS_OPEN}\n`;
  let count = 0;
  let pending: string | undefined;
  for await (const record of records) {
    if (pending !== undefined) yield `${pending},\n`;
    pending = JSON.stringify(chain.link(record));
    count++;
  }
  if (pending !== undefined) yield `${pending}\n`;
  const digest = { recordCount: count, finalHash: chain.finalHash };
  yield `${JSON_RECORDS_CLOSE}\n${JSON_DIGEST_PREFIX}${JSON.stringify(digest)}}\n`;
}
