import {
  Button,
  makeStyles,
  Spinner,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Text,
  Title1,
  tokens,
} from '@fluentui/react-components';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import type { Definition } from '../../admin/api';
import { definitions, instances, tally } from '../../admin/api';
import { Pager, useTableStyles } from '../../admin/Pager';
import { Progress } from '../../admin/Progress';
import { ErrorMessage } from '../../components/ErrorMessage';

const PAGE = 25;
const useStyles = makeStyles({
  head: {
    display: 'flex',
    flexWrap: 'wrap',
    alignItems: 'center',
    gap: tokens.spacingHorizontalL,
    justifyContent: 'space-between',
  },
});

function Row({ d }: { d: Definition }) {
  const current = useQuery({
    queryKey: ['admin', 'current', d.id],
    queryFn: async () => {
      const all = await instances(d.id);
      const latest = all[all.length - 1];
      return latest ? { instance: latest, tally: await tally(d.id, latest.id) } : null;
    },
  });
  return (
    <TableRow>
      <TableCell>
        {current.data ? (
          <Link to={`/admin/reviews/${d.id}/${current.data.instance.id}`}>{d.displayName}</Link>
        ) : (
          d.displayName
        )}
      </TableCell>
      <TableCell>{current.data?.instance.status ?? d.status ?? 'NotStarted'}</TableCell>
      <TableCell>{d.stageSettings?.length ? `${d.stageSettings.length} stages` : '1 stage'}</TableCell>
      <TableCell>
        {current.isPending && <Spinner size="tiny" label="Counting…" />}
        {current.data && <Progress tally={current.data.tally} label={`Decisions of ${d.displayName}`} />}
        {current.isError && <ErrorMessage error={current.error} />}
      </TableCell>
      <TableCell>
        <Link to={`/admin/reviews/${d.id}/edit`} aria-label={`Edit ${d.displayName}`}>
          Edit
        </Link>
      </TableCell>
    </TableRow>
  );
}

/** Every review definition with the status and decisions of its latest instance. */
export function AdminReviews() {
  const styles = useStyles();
  const tables = useTableStyles();
  const navigate = useNavigate();
  const [skip, setSkip] = useState(0);
  const list = useQuery({ queryKey: ['admin', 'definitions', skip], queryFn: () => definitions(skip, PAGE) });
  const total = list.data?.['@odata.count'] ?? 0;
  return (
    <section aria-labelledby="admin-reviews">
      <div className={styles.head}>
        <Title1 as="h1" id="admin-reviews">
          Access reviews
        </Title1>
        <Button appearance="primary" onClick={() => void navigate('/admin/reviews/new')}>
          New review
        </Button>
      </div>
      {list.isPending && <Spinner label="Loading reviews…" />}
      {list.isError && <ErrorMessage error={list.error} />}
      {list.data && list.data.value.length === 0 && <Text>No reviews yet. Create one with New review.</Text>}
      {list.data && list.data.value.length > 0 && (
        <>
          <div className={tables.scroll} role="region" aria-label="Reviews" tabIndex={0}>
            <Table className={tables.table} aria-label="Access reviews">
              <TableHeader>
                <TableRow>
                  <TableHeaderCell>Review</TableHeaderCell>
                  <TableHeaderCell>Status</TableHeaderCell>
                  <TableHeaderCell>Stages</TableHeaderCell>
                  <TableHeaderCell>Decisions</TableHeaderCell>
                  <TableHeaderCell>Actions</TableHeaderCell>
                </TableRow>
              </TableHeader>
              <TableBody>
                {(list.data.value as Definition[]).map((d) => (
                  <Row key={d.id} d={d} />
                ))}
              </TableBody>
            </Table>
          </div>
          <Pager label="Pages of reviews" skip={skip} size={PAGE} total={total} onSkip={setSkip} />
        </>
      )}
    </section>
  );
}
