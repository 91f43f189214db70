import { makeStyles, Spinner, Text, tokens } from '@fluentui/react-components';
import { useQuery } from '@tanstack/react-query';
import { ErrorMessage } from '../components/ErrorMessage';
import type { StageRef } from './api';
import { itemDetails } from './api';
import { DECISION_LABEL, formatDateTime } from './format';

const useStyles = makeStyles({
  list: {
    display: 'grid',
    gridTemplateColumns: 'minmax(8rem, max-content) 1fr',
    columnGap: tokens.spacingHorizontalL,
    rowGap: tokens.spacingVerticalXS,
    margin: 0,
    '@media (max-width: 600px)': { gridTemplateColumns: '1fr' },
  },
  group: { display: 'contents' },
  term: { fontWeight: tokens.fontWeightSemibold },
  value: { margin: 0, overflowWrap: 'anywhere' },
});

/** One item in full, read when the reviewer opens it: sign-in insight, reviewer, reassignments. */
export function ItemDetails({ stage, decisionId }: { stage: StageRef; decisionId: string }) {
  const styles = useStyles();
  const item = useQuery({
    queryKey: ['item-details', stage.instanceId, stage.stageId, decisionId],
    queryFn: () => itemDetails(stage, decisionId),
  });
  if (item.isPending) return <Spinner size="tiny" label="Loading details…" />;
  if (item.isError) return <ErrorMessage error={item.error} />;
  const d = item.data;
  const lastSignIn = d.insights?.[0]?.lastSignInDateTime;
  const rows: [string, string][] = [
    ['User principal name', d.principal.userPrincipalName],
    ['User id', d.principal.id],
    ['Last sign-in', lastSignIn ? formatDateTime(lastSignIn) : 'Never, or not known to the directory'],
    ['Resource', d.resource ? `${d.resource.displayName} (${d.resource.type})` : '—'],
    ['Decision', DECISION_LABEL[d.decision]],
    ['Reason', d.justification || '—'],
    [
      'Decided by',
      d.reviewedBy
        ? `${d.reviewedBy.displayName ?? d.reviewedBy.id}, ${formatDateTime(d.reviewedDateTime)}`
        : '—',
    ],
    ...(d.reassignments ?? []).map((r): [string, string] => [
      `Reassigned (stage ${r.stageId})`,
      `${r.from?.displayName ?? 'its reviewers'} → ${r.to?.displayName ?? '?'}, ${formatDateTime(r.reassignedDateTime)}: ${r.justification}`,
    ]),
  ];
  return (
    <dl className={styles.list} aria-label={`Details of ${d.principal.displayName}`}>
      {rows.map(([term, value]) => (
        <div key={term} className={styles.group}>
          <dt className={styles.term}>
            <Text>{term}</Text>
          </dt>
          <dd className={styles.value}>
            <Text>{value}</Text>
          </dd>
        </div>
      ))}
    </dl>
  );
}
