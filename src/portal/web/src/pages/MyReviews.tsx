import {
  Spinner,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Title1,
} from '@fluentui/react-components';
import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { api, unwrap } from '../api/client';
import { ErrorMessage } from '../components/ErrorMessage';

const MINE = "/v1.0/identityGovernance/accessReviews/definitions/filterByCurrentUser(on='reviewer')" as const;

/** The reviews in which the signed-in user has something to review now, across all definitions. */
export function MyReviews() {
  const mine = useQuery({
    queryKey: ['my-definitions'],
    queryFn: async () => unwrap(await api.GET(MINE, { params: { query: { $expand: 'instances' } } })),
  });
  return (
    <section aria-labelledby="my-reviews">
      <Title1 as="h1" id="my-reviews">
        My access reviews
      </Title1>
      {mine.isPending && <Spinner label="Loading your reviews…" />}
      {mine.isError && <ErrorMessage error={mine.error} />}
      {mine.data && (
        <Table aria-label="Reviews waiting for you">
          <TableHeader>
            <TableRow>
              <TableHeaderCell>Review</TableHeaderCell>
              <TableHeaderCell>Status</TableHeaderCell>
            </TableRow>
          </TableHeader>
          <TableBody>
            {mine.data.value.map((d) => (
              <TableRow key={d.id}>
                <TableCell>
                  <Link to={`/reviews/${d.id}`}>{d.displayName}</Link>
                </TableCell>
                <TableCell>{d.status}</TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
    </section>
  );
}
