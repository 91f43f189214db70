import { evidenceFileSchema } from '../../domain/evidence';
import { operation } from '../operation';
import { instanceParams } from '../params';
import { INSTANCE } from './paths';

const tag = 'accessReviewEvidence';

const CHAIN =
  'Each link carries prevHash and hash = SHA-256(prevHash + canonical JSON of the link without hash), the ' +
  'first from 64 zeros; the file ends with the digest (record count and final hash). Verify with ' +
  '`npm run verify-evidence -- <file>`. Served from the review records alone: also after Temporal deleted ' +
  "the instance's workflows, and while no worker runs. Streamed; a file cut short fails verification.";

/** Audit evidence of an instance: every decision item's trail, as a hash-chained JSON or CSV file. */
export const evidenceOperations = [
  operation({
    method: 'get',
    path: `${INSTANCE}/evidence`,
    operationId: 'instances.evidence',
    tag,
    summary: "Export the instance's audit evidence as JSON",
    description:
      'A header (definition, display name, scope, period, settings, stages) and one record per decision ' +
      "item with its trail: each stage's reviewers, recommendation shown, decision, its source, reviewedBy, " +
      'reviewedDateTime, justification; the apply result, appliedBy, appliedDateTime and the directory state ' +
      `read back after apply. One link per line. ${CHAIN}`,
    role: 'admin',
    params: instanceParams,
    success: {
      kind: 'file',
      mediaType: 'application/json',
      description: 'The evidence file (an attachment)',
      schema: evidenceFileSchema,
    },
    errors: [404],
    enabled: (services) => services.evidence !== undefined,
    handler: ({ params, caller, services }) =>
      services.evidence!.export(params.definitionId, params.instanceId, caller, 'json'),
  }),
  operation({
    method: 'get',
    path: `${INSTANCE}/evidence/csv`,
    operationId: 'instances.evidenceCsv',
    tag,
    summary: "Export the instance's audit evidence as CSV",
    description:
      'The same trail as the JSON export, one row per decision item (RFC 4180, CRLF): a line of column ' +
      'names, the instance row (the header as canonical JSON in `details`), item rows with one column ' +
      "group per stage, then the trailer `digest,recordCount=<n>,finalHash=<hash>`. Rows are the chain's " +
      'links, hashed over {column: cell}; cells that a spreadsheet would run as a formula start with an ' +
      `apostrophe. ${CHAIN}`,
    role: 'admin',
    params: instanceParams,
    success: { kind: 'file', mediaType: 'text/csv', description: 'The evidence file (an attachment)' },
    errors: [404],
    enabled: (services) => services.evidence !== undefined,
    handler: ({ params, caller, services }) =>
      services.evidence!.export(params.definitionId, params.instanceId, caller, 'csv'),
  }),
];
