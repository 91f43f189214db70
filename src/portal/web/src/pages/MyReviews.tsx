import {
  Body1,
  Caption1,
  makeStyles,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  ProgressBar,
  Spinner,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Title1,
  tokens,
} from '@fluentui/react-components';
import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { ErrorMessage } from '../components/ErrorMessage';
import { formatDate } from '../reviewer/format';
import { pendingReviews, reviewPath } from '../reviewer/my-reviews';

const useStyles = makeStyles({
  intro: { display: 'block', marginBottom: tokens.spacingVerticalL, color: tokens.colorNeutralForeground2 },
  scroll: {
    overflowX: 'auto',
    ':focus-visible': { outline: `2px solid ${tokens.colorStrokeFocus2}` },
  },
  table: { minWidth: '640px' },
  name: { fontWeight: tokens.fontWeightSemibold },
  progress: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalXXS, minWidth: '120px' },
  link: {
    color: tokens.colorBrandForegroundLink,
    ':focus-visible': { outline: `2px solid ${tokens.colorStrokeFocus2}` },
  },
});

/** The reviews in which the signed-in user has something to review now, across all definitions. */
export function MyReviews() {
  const styles = useStyles();
  const pending = useQuery({ queryKey: ['my-reviews'], queryFn: pendingReviews });
  return (
    <section aria-labelledby="my-reviews">
      <Title1 as="h1" id="my-reviews">
        My access reviews
      </Title1>
      <Body1 as="p" className={styles.intro}>
        Reviews with a stage in progress in which you decide who keeps their access.
      </Body1>
      {pending.isPending && <Spinner label="Loading your reviews…" />}
      {pending.isError && <ErrorMessage error={pending.error} />}
      {pending.data && pending.data.length === 0 && (
        <MessageBar intent="success">
          <MessageBarBody>
            <MessageBarTitle>Nothing waits for you</MessageBarTitle>
            You have no access reviews to do right now.
          </MessageBarBody>
        </MessageBar>
      )}
      {pending.data && pending.data.length > 0 && (
        <div className={styles.scroll} role="region" aria-label="Pending reviews" tabIndex={0}>
          <Table aria-label="Reviews waiting for you" className={styles.table}>
            <TableHeader>
              <TableRow>
                <TableHeaderCell scope="col">Review</TableHeaderCell>
                <TableHeaderCell scope="col">Resource</TableHeaderCell>
                <TableHeaderCell scope="col">Stage</TableHeaderCell>
                <TableHeaderCell scope="col">Due</TableHeaderCell>
                <TableHeaderCell scope="col">Progress</TableHeaderCell>
              </TableRow>
            </TableHeader>
            <TableBody>
              {pending.data.map((r) => (
                <TableRow key={`${r.instanceId}/${r.stageId}`}>
                  <TableCell>
                    <Link to={reviewPath(r)} className={`${styles.link} ${styles.name}`}>
                      {r.name}
                    </Link>
                    {r.description && (
                      <>
                        <br />
                        <Caption1>{r.description}</Caption1>
                      </>
                    )}
                  </TableCell>
                  <TableCell>{r.resource ?? '—'}</TableCell>
                  <TableCell>
                    Stage {r.stageNumber} of {r.stageCount}
                  </TableCell>
                  <TableCell>{formatDate(r.due)}</TableCell>
                  <TableCell>
                    <div className={styles.progress}>
                      <ProgressBar
                        value={r.total ? r.decided / r.total : 0}
                        aria-label={`${r.name}: ${r.decided} of ${r.total} decided`}
                        thickness="large"
                      />
                      <Caption1>
                        {r.decided} of {r.total} decided
                      </Caption1>
                    </div>
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </div>
      )}
    </section>
  );
}
