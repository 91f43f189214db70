import type { EvidenceHeader, EvidencePerson, EvidenceRecord } from '../domain/evidence';
import { canonicalJson, HashChain } from './chain';

// The CSV evidence file (RFC 4180, CRLF): a line of column names, the instance row (recordType
// accessReviewInstance; the whole header as canonical JSON in `details`), one row per decision item with its trail spread over columns
// (stage1…, stage2…, one group per stage), then the trailer `digest,recordCount=<n>,finalHash=<hash>`.
// Rows are links of their own chain: a row's hash is SHA-256(prevHash + canonical JSON of the object
// {column name: cell} of every column but `hash`), so a CSV file verifies on its own.

const ITEM_COLUMNS = [
  'itemId',
  'principalId',
  'principalDisplayName',
  'principalUserPrincipalName',
  'decision',
  'decisionSource',
  'reviewedById',
  'reviewedByDisplayName',
  'reviewedDateTime',
  'justification',
  'applyResult',
  'appliedById',
  'appliedByDisplayName',
  'appliedDateTime',
  'directoryCheck',
  'directoryObjectId',
  'directoryObjectFound',
  'directMember',
  'transitiveMember',
  'assigned',
  'accountEnabled',
  'directoryObservedDateTime',
] as const;

const STAGE_COLUMNS = [
  'Id',
  'ReviewerIds',
  'ReviewerDisplayNames',
  'Recommendation',
  'Decision',
  'DecisionSource',
  'ReviewedById',
  'ReviewedByDisplayName',
  'ReviewedDateTime',
  'Justification',
] as const;

/** The column names of a file for an instance with `stageCount` stages. */
export function csvColumns(stageCount: number): string[] {
  const stages = Array.from({ length: stageCount }, (_, k) => STAGE_COLUMNS.map((c) => `stage${k + 1}${c}`));
  return [
    'recordType',
    'sequence',
    'definitionId',
    'instanceId',
    ...ITEM_COLUMNS,
    ...stages.flat(),
    'details',
    'prevHash',
    'hash',
  ];
}

/** One field as RFC 4180 writes it: quoted when it holds a quote, comma, CR or LF. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** One record (row) with its CRLF. */
export const csvRecord = (fields: readonly string[]) => `${fields.map(csvField).join(',')}\r\n`;

/** The trailer line's fields. */
export const csvTrailer = (recordCount: number, finalHash: string) => [
  'digest',
  `recordCount=${recordCount}`,
  `finalHash=${finalHash}`,
];

/**
 * A cell as written: spreadsheets run a cell that starts with = + - @ (or a tab or CR) as a formula, so
 * such text (a justification, a display name) gets a leading apostrophe; the JSON file keeps it as typed.
 */
export function cell(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

const names = (people: EvidencePerson[]) => people.map((p) => p.displayName ?? '').join('; ');

type Unlinked<T> = Omit<T, 'prevHash' | 'hash'>;

function itemCells(header: Unlinked<EvidenceHeader>, r: Unlinked<EvidenceRecord>): Record<string, string> {
  const d = r.directoryState;
  const cells: Record<string, string> = {
    recordType: r.recordType,
    sequence: String(r.sequence),
    definitionId: cell(header.definitionId),
    instanceId: cell(header.instanceId),
    itemId: cell(r.itemId),
    principalId: cell(r.principal.id),
    principalDisplayName: cell(r.principal.displayName),
    principalUserPrincipalName: cell(r.principal.userPrincipalName),
    decision: r.decision,
    decisionSource: r.decisionSource,
    reviewedById: cell(r.reviewedBy?.id),
    reviewedByDisplayName: cell(r.reviewedBy?.displayName),
    reviewedDateTime: cell(r.reviewedDateTime),
    justification: cell(r.justification),
    applyResult: r.applyResult,
    appliedById: cell(r.appliedBy?.id),
    appliedByDisplayName: cell(r.appliedBy?.displayName),
    appliedDateTime: cell(r.appliedDateTime),
    directoryCheck: cell(d?.check),
    directoryObjectId: cell(
      d?.check === 'groupMembership'
        ? d.groupId
        : d?.check === 'applicationAssignment'
          ? d.applicationId
          : d?.userId,
    ),
    directoryObjectFound: cell(
      d?.check === 'groupMembership'
        ? d.groupFound
        : d?.check === 'applicationAssignment'
          ? d.applicationFound
          : d?.userFound,
    ),
    directMember: cell(d?.check === 'groupMembership' ? d.directMember : null),
    transitiveMember: cell(d?.check === 'groupMembership' ? d.transitiveMember : null),
    assigned: cell(d?.check === 'applicationAssignment' ? d.assigned : null),
    accountEnabled: cell(d?.check === 'account' ? d.accountEnabled : null),
    directoryObservedDateTime: cell(d?.observedDateTime),
  };
  header.stages.forEach((planned, k) => {
    const s = r.stages.find((x) => x.stageId === planned.stageId);
    const at = (c: (typeof STAGE_COLUMNS)[number]) => `stage${k + 1}${c}`;
    cells[at('Id')] = cell(s?.stageId);
    cells[at('ReviewerIds')] = cell(s?.reviewers.map((p) => p.id).join('; '));
    cells[at('ReviewerDisplayNames')] = cell(s && names(s.reviewers));
    cells[at('Recommendation')] = cell(s?.recommendation);
    cells[at('Decision')] = cell(s?.decision);
    cells[at('DecisionSource')] = cell(s?.decisionSource);
    cells[at('ReviewedById')] = cell(s?.reviewedBy?.id);
    cells[at('ReviewedByDisplayName')] = cell(s?.reviewedBy?.displayName);
    cells[at('ReviewedDateTime')] = cell(s?.reviewedDateTime);
    cells[at('Justification')] = cell(s?.justification);
  });
  return cells;
}

/** Writes a CSV evidence file, row by row: column names, the instance, each item as it comes, the trailer. */
export async function* csvEvidence(
  header: Unlinked<EvidenceHeader>,
  records: AsyncIterable<Unlinked<EvidenceRecord>>,
): AsyncGenerator<string> {
  const columns = csvColumns(header.stages.length);
  const chain = new HashChain();
  const row = (cells: Record<string, string>) => {
    const values: Record<string, string> = {};
    for (const c of columns.slice(0, -2)) values[c] = cells[c] ?? '';
    const linked: Record<string, string> = chain.link(values);
    return csvRecord(columns.map((c) => linked[c] ?? ''));
  };
  yield csvRecord(columns);
  yield row({
    recordType: header.recordType,
    sequence: String(header.sequence),
    definitionId: cell(header.definitionId),
    instanceId: cell(header.instanceId),
    details: canonicalJson(header),
  });
  let count = 0;
  for await (const record of records) {
    yield row(itemCells(header, record));
    count++;
  }
  yield csvRecord(csvTrailer(count, chain.finalHash));
}
