import {
  Button,
  Dialog,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogSurface,
  DialogTitle,
  Link as FluentLink,
  makeStyles,
  MessageBar,
  MessageBarBody,
  Spinner,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Text,
  Title1,
  Title2,
  tokens,
} from '@fluentui/react-components';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import type { DecisionItem, InstanceAction } from '../../admin/api';
import { decisions, definition, instance, instanceAction, stages, stopStage, tally } from '../../admin/api';
import { Pager, useTableStyles } from '../../admin/Pager';
import { Progress } from '../../admin/Progress';
import { ApiError } from '../../api/client';
import { ErrorMessage } from '../../components/ErrorMessage';
import { useSession } from '../../session';

const PAGE = 50;
const useStyles = makeStyles({
  facts: {
    display: 'flex',
    flexWrap: 'wrap',
    gap: tokens.spacingHorizontalXL,
    margin: `${tokens.spacingVerticalS} 0`,
  },
  actions: {
    display: 'flex',
    flexWrap: 'wrap',
    gap: tokens.spacingHorizontalM,
    margin: `${tokens.spacingVerticalM} 0`,
  },
});

type Action = { kind: 'stopStage'; stageId: string } | { kind: InstanceAction };
const ASK: Record<Action['kind'], [string, string]> = {
  stopStage: [
    'Stop the current stage?',
    'Its reviewers can no longer decide; the next stage starts with the reviewees who move on.',
  ],
  stop: [
    'Stop the review?',
    'Every stage ends now; decisions are applied if the review applies them automatically.',
  ],
  applyDecisions: ['Apply the decisions?', 'Denied access is removed from the directory now.'],
};

/** Downloads the review's audit evidence (signed JSON) with the portal session, as a file. */
async function downloadEvidence(definitionId: string, instanceId: string) {
  const res = await fetch(
    `/v1.0/identityGovernance/accessReviews/definitions/${definitionId}/instances/${instanceId}/evidence`,
    { headers: { 'x-stagecoach-portal': '1' } },
  );
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as { error?: { code: string; message: string } } | null;
    throw new ApiError(
      res.status,
      body?.error?.code ?? `http.${res.status}`,
      body?.error?.message ?? res.statusText,
    );
  }
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = `evidence-${instanceId}.json`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1_000);
}

/** One review instance: its stages and their progress, the administrator's actions, and the results. */
export function AdminReview() {
  const styles = useStyles();
  const tables = useTableStyles();
  const { definitionId = '', instanceId = '' } = useParams();
  const session = useSession();
  const queries = useQueryClient();
  const [asking, setAsking] = useState<Action | null>(null);
  const [skip, setSkip] = useState(0);
  const def = useQuery({
    queryKey: ['admin', 'definition', definitionId],
    queryFn: () => definition(definitionId),
  });
  const inst = useQuery({
    queryKey: ['admin', 'instance', definitionId, instanceId],
    queryFn: () => instance(definitionId, instanceId),
    // Stages move on and decisions are applied by the workflow after the request that asked for it.
    refetchInterval: (q) => (q.state.data && q.state.data.status !== 'Applied' ? 2_000 : false),
  });
  const running = inst.data !== undefined && ['Initializing', 'InProgress'].includes(inst.data.status);
  const stageList = useQuery({
    queryKey: ['admin', 'stages', definitionId, instanceId, inst.data?.status],
    queryFn: async () =>
      Promise.all(
        (await stages(definitionId, instanceId)).map(async (s) => ({
          stage: s,
          tally: await tally(definitionId, instanceId, s.id),
        })),
      ),
    refetchInterval: running ? 2_000 : false,
  });
  const results = useQuery({
    queryKey: ['admin', 'decisions', definitionId, instanceId, skip, inst.data?.status],
    queryFn: () => decisions(definitionId, instanceId, skip, PAGE),
  });
  const act = useMutation({
    mutationFn: async (a: Action) =>
      a.kind === 'stopStage'
        ? stopStage(definitionId, instanceId, a.stageId)
        : instanceAction(definitionId, instanceId, a.kind),
    onSettled: () => {
      setAsking(null);
      void queries.invalidateQueries({ queryKey: ['admin'] });
    },
  });
  const download = useMutation({ mutationFn: () => downloadEvidence(definitionId, instanceId) });

  if (inst.isPending || def.isPending) return <Spinner label="Loading the review…" />;
  if (inst.isError) return <ErrorMessage error={inst.error} />;
  if (def.isError) return <ErrorMessage error={def.error} />;
  const status = inst.data.status;
  const current = stageList.data?.find((s) => s.stage.status === 'InProgress');
  const autoApply = Boolean(
    (def.data.settings as { autoApplyDecisionsEnabled?: boolean } | undefined)?.autoApplyDecisionsEnabled,
  );
  const workflowId = `access-review/${definitionId}/${instanceId}`;
  const total = results.data?.['@odata.count'] ?? 0;
  return (
    <section aria-labelledby="admin-review">
      <Text>
        <Link to="/admin/reviews">Access reviews</Link> ›
      </Text>
      <Title1 as="h1" id="admin-review">
        {def.data.displayName}
      </Title1>
      <div className={styles.facts}>
        <Text>
          Status: <strong data-testid="instance-status">{status}</strong>
        </Text>
        <Text>
          {new Date(inst.data.startDateTime).toLocaleDateString()} –{' '}
          {new Date(inst.data.endDateTime).toLocaleDateString()}
        </Text>
        <Link to={`/admin/reviews/${definitionId}/edit`}>Edit the review</Link>
        {session.temporalUi && (
          <FluentLink
            href={`${session.temporalUi.url}/namespaces/${encodeURIComponent(session.temporalUi.namespace)}/workflows/${encodeURIComponent(workflowId)}`}
            target="_blank"
            rel="noreferrer"
          >
            Workflow in the Temporal Web UI
          </FluentLink>
        )}
      </div>
      {act.isError && <ErrorMessage error={act.error} />}
      {download.isError && <ErrorMessage error={download.error} />}
      <div className={styles.actions} role="toolbar" aria-label="Review actions">
        <Button
          disabled={!current || act.isPending}
          onClick={() => current && setAsking({ kind: 'stopStage', stageId: current.stage.id })}
        >
          Stop current stage
        </Button>
        <Button
          disabled={!['InProgress', 'Initializing'].includes(status) || act.isPending}
          onClick={() => setAsking({ kind: 'stop' })}
        >
          Stop review
        </Button>
        {!autoApply && (
          <Button
            disabled={status !== 'Completed' || act.isPending}
            onClick={() => setAsking({ kind: 'applyDecisions' })}
          >
            Apply decisions
          </Button>
        )}
        <Button onClick={() => download.mutate()} disabled={download.isPending}>
          Download evidence
        </Button>
      </div>

      <Title2 as="h2">Stages</Title2>
      {stageList.isError && <ErrorMessage error={stageList.error} />}
      {stageList.data && (
        <div className={tables.scroll} role="region" aria-label="Stages" tabIndex={0}>
          <Table className={tables.table} aria-label="Stages of the review">
            <TableHeader>
              <TableRow>
                <TableHeaderCell>Stage</TableHeaderCell>
                <TableHeaderCell>Status</TableHeaderCell>
                <TableHeaderCell>Decisions</TableHeaderCell>
              </TableRow>
            </TableHeader>
            <TableBody>
              {stageList.data.map(({ stage, tally: t }) => (
                <TableRow key={stage.id} data-testid={`stage-${stage.id}`}>
                  <TableCell>Stage {stage.id}</TableCell>
                  <TableCell>{stage.status}</TableCell>
                  <TableCell>
                    <Progress tally={t} label={`Decisions of stage ${stage.id}`} />
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </div>
      )}

      <Title2 as="h2">Results</Title2>
      {results.isError && <ErrorMessage error={results.error} />}
      {results.data && results.data.value.length === 0 && (
        <MessageBar>
          <MessageBarBody>No decision items yet.</MessageBarBody>
        </MessageBar>
      )}
      {results.data && results.data.value.length > 0 && (
        <>
          <div className={tables.scroll} role="region" aria-label="Results" tabIndex={0}>
            <Table className={tables.table} aria-label="Decisions of the review">
              <TableHeader>
                <TableRow>
                  <TableHeaderCell>Reviewee</TableHeaderCell>
                  <TableHeaderCell>Decision</TableHeaderCell>
                  <TableHeaderCell>Reviewed by</TableHeaderCell>
                  <TableHeaderCell>Reason</TableHeaderCell>
                  <TableHeaderCell>Applied</TableHeaderCell>
                </TableRow>
              </TableHeader>
              <TableBody>
                {(results.data.value as DecisionItem[]).map((d) => (
                  <TableRow key={d.id}>
                    <TableCell>
                      {(d.principal as { displayName?: string } | null)?.displayName ?? '—'}
                    </TableCell>
                    <TableCell>{d.decision}</TableCell>
                    <TableCell>
                      {(d.reviewedBy as { displayName?: string } | null)?.displayName || '—'}
                    </TableCell>
                    <TableCell>{d.justification || '—'}</TableCell>
                    <TableCell>{d.applyResult}</TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          </div>
          <Pager label="Pages of results" skip={skip} size={PAGE} total={total} onSkip={setSkip} />
        </>
      )}

      <Dialog open={asking !== null} onOpenChange={(_, d) => !d.open && !act.isPending && setAsking(null)}>
        <DialogSurface>
          <DialogBody>
            <DialogTitle>{asking ? ASK[asking.kind][0] : ''}</DialogTitle>
            <DialogContent>{asking ? ASK[asking.kind][1] : ''}</DialogContent>
            <DialogActions>
              <Button onClick={() => setAsking(null)} disabled={act.isPending}>
                Cancel
              </Button>
              <Button
                appearance="primary"
                disabled={act.isPending}
                onClick={() => asking && act.mutate(asking)}
              >
                {act.isPending ? 'Working…' : 'Confirm'}
              </Button>
            </DialogActions>
          </DialogBody>
        </DialogSurface>
      </Dialog>
    </section>
  );
}
