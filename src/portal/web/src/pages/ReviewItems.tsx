import {
  Body1,
  Button,
  Caption1,
  Dialog,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogSurface,
  DialogTitle,
  Field,
  makeStyles,
  MessageBar,
  MessageBarActions,
  MessageBarBody,
  MessageBarTitle,
  SearchBox,
  Select,
  Spinner,
  Text,
  Title1,
  tokens,
} from '@fluentui/react-components';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { PaginationState, RowSelectionState, SortingState, Updater } from '@tanstack/react-table';
import { useCallback, useEffect, useState } from 'react';
import { Link, Navigate, useParams, useSearchParams } from 'react-router';
import { ApiError } from '../api/client';
import { ErrorMessage } from '../components/ErrorMessage';
import type { DecisionItem, Definition, ReviewerDecision, Stage, StageRef } from '../reviewer/api';
import { acceptRecommendations, decideMany, decideOne, matchingIds } from '../reviewer/api';
import { DecisionDialog } from '../reviewer/DecisionDialog';
import type { DecisionTarget } from '../reviewer/DecisionDialog';
import type { ItemFilters } from '../reviewer/filters';
import { filtersFrom, odataFilter } from '../reviewer/filters';
import { formatDate, lookBackDays } from '../reviewer/format';
import { ItemsTable } from '../reviewer/ItemsTable';
import { reviewPath } from '../reviewer/my-reviews';
import { keys, useEarlierDecisions, useItemCount, useItemsPage, useReview } from '../reviewer/queries';

const useStyles = makeStyles({
  page: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM },
  back: {
    color: tokens.colorBrandForegroundLink,
    ':focus-visible': { outline: `2px solid ${tokens.colorStrokeFocus2}` },
  },
  facts: {
    display: 'flex',
    flexWrap: 'wrap',
    columnGap: tokens.spacingHorizontalXL,
    rowGap: tokens.spacingVerticalXS,
    color: tokens.colorNeutralForeground2,
  },
  toolbar: {
    display: 'flex',
    flexWrap: 'wrap',
    alignItems: 'flex-end',
    gap: tokens.spacingHorizontalM,
  },
  search: { minWidth: '220px', flexGrow: 1, maxWidth: '420px' },
  bulk: {
    display: 'flex',
    flexWrap: 'wrap',
    alignItems: 'center',
    gap: tokens.spacingHorizontalS,
    padding: tokens.spacingVerticalS,
    borderRadius: tokens.borderRadiusMedium,
    backgroundColor: tokens.colorNeutralBackground2,
  },
  count: { marginRight: tokens.spacingHorizontalS },
  spacer: { flexGrow: 1 },
  pageButtons: {
    display: 'flex',
    alignItems: 'center',
    gap: tokens.spacingHorizontalS,
    whiteSpace: 'nowrap',
  },
  perPage: { whiteSpace: 'nowrap', width: '6rem' },
  pager: {
    display: 'flex',
    flexWrap: 'wrap',
    alignItems: 'flex-end',
    gap: tokens.spacingHorizontalS,
  },
});

const DECIDED: Record<ReviewerDecision, string> = {
  Approve: 'Approved',
  Deny: 'Denied',
  DontKnow: "Marked don't know",
};
const PAGE_SIZES = [25, 50, 100];

/** The page of items the URL asks for: ?page=&size=&sort=<property> asc|desc and the filters. */
function pageQuery(params: URLSearchParams) {
  const pageSize = PAGE_SIZES.includes(Number(params.get('size'))) ? Number(params.get('size')) : 50;
  const pageIndex = Math.max(0, Number(params.get('page') ?? '1') - 1 || 0);
  const [id, dir] = (params.get('sort') ?? '').split(' ');
  // Without a sort the API's own order (the review's) is the fastest to page through.
  const sorting: SortingState = id && SORTABLE.includes(id) ? [{ id, desc: dir === 'desc' }] : [];
  const orderBy = sorting.map((s) => `${s.id} ${s.desc ? 'desc' : 'asc'}`).join(',') || undefined;
  const filter = odataFilter(filtersFrom(params));
  return {
    pageIndex,
    pageSize,
    sorting,
    query: { filter, orderBy, skip: pageIndex * pageSize, top: pageSize },
  };
}
const SORTABLE = ['principal/displayName', 'recommendation', 'decision'];

/** What a decision is recorded on: one item, the selected ones, or every item matching the filters. */
type Targets =
  | { kind: 'one'; item: DecisionItem }
  | { kind: 'selected'; ids: string[] }
  | { kind: 'matching'; filter: string | undefined; total: number };

const plural = (n: number) => `${n.toLocaleString()} item${n === 1 ? '' : 's'}`;

/** One review for its reviewer: the caller's items in a stage, to decide one by one or in bulk. */
export function ReviewItems() {
  const { definitionId = '', instanceId = '', stageId } = useParams();
  const { def, stages } = useReview(definitionId, instanceId);
  const [params] = useSearchParams();
  // The first page is asked for with the review, not after it: the table fills as soon as it can.
  useItemsPage(
    { definitionId, instanceId, stageId: stageId ?? '' },
    pageQuery(params).query,
    Boolean(stageId),
  );
  if (def.isError) return <ErrorMessage error={def.error} />;
  if (stages.isError) return <ErrorMessage error={stages.error} />;
  if (def.isPending || stages.isPending) return <Spinner label="Loading the review…" />;
  const current = stages.data.find((s) => s.status === 'InProgress');
  if (!stageId) {
    if (current)
      return <Navigate to={reviewPath({ definitionId, instanceId, stageId: current.id })} replace />;
    return <NothingToReview />;
  }
  const index = stages.data.findIndex((s) => s.id === stageId);
  const stage = stages.data[index];
  if (!stage) return <NothingToReview />;
  return (
    <StageItems
      key={`${instanceId}/${stageId}`}
      stageRef={{ definitionId, instanceId, stageId }}
      def={def.data}
      stage={stage}
      stageNumber={index + 1}
      earlierStageIds={
        def.data.settings.decisionHistoriesForReviewersEnabled
          ? stages.data.slice(0, index).map((s) => s.id)
          : []
      }
      stageCount={stages.data.length}
    />
  );
}

function NothingToReview() {
  return (
    <MessageBar intent="info">
      <MessageBarBody>
        <MessageBarTitle>Nothing to review here</MessageBarTitle>
        You have no items in a stage in progress of this review. <Link to="/reviews">Back to My reviews</Link>
      </MessageBarBody>
    </MessageBar>
  );
}

function StageItems({
  stageRef,
  def,
  stage,
  stageNumber,
  stageCount,
  earlierStageIds,
}: {
  stageRef: StageRef;
  def: Definition;
  stage: Stage;
  stageNumber: number;
  stageCount: number;
  earlierStageIds: string[];
}) {
  const styles = useStyles();
  const queries = useQueryClient();
  const [params, setParams] = useSearchParams();
  const filters = filtersFrom(params);
  const filter = odataFilter(filters);
  const { pageIndex, pageSize, sorting, query } = pageQuery(params);
  const page = useItemsPage(stageRef, query);
  const earlier = useEarlierDecisions(stageRef, earlierStageIds, page.data?.value);
  const total = page.data?.total ?? 0;

  const [rowSelection, setRowSelection] = useState<RowSelectionState>({});
  const [allMatching, setAllMatching] = useState(false);
  const [dialog, setDialog] = useState<{ target: DecisionTarget; targets: Targets } | null>(null);
  const [confirmRecommendations, setConfirmRecommendations] = useState(false);
  const [notice, setNotice] = useState<{ success: string } | { error: unknown } | null>(null);
  const [closed, setClosed] = useState(false);
  const readOnly = closed || stage.status !== 'InProgress';

  // A selection is of the items the filters show: another filter starts a new one.
  const filterKey = filter ?? '';
  useEffect(() => {
    setRowSelection({});
    setAllMatching(false);
  }, [filterKey]);

  // From the address bar as it is now: react-router's `prev` is the query of the render that made the
  // setter, which a search typed right after another change would undo.
  const update = useCallback(
    (changes: Record<string, string | null>) => {
      const next = new URLSearchParams(window.location.search);
      for (const [k, v] of Object.entries(changes)) {
        if (v === null || v === '') next.delete(k);
        else next.set(k, v);
      }
      setParams(next, { replace: true });
    },
    [setParams],
  );
  const setFilters = (f: Partial<ItemFilters>) =>
    update({
      ...(f.decided !== undefined ? { decided: f.decided === 'all' ? null : f.decided } : {}),
      ...(f.recommendation !== undefined
        ? { recommendation: f.recommendation === 'all' ? null : f.recommendation }
        : {}),
      ...(f.search !== undefined ? { q: f.search } : {}),
      page: null,
    });
  const onPaginationChange = (u: Updater<PaginationState>) => {
    const next = typeof u === 'function' ? u({ pageIndex, pageSize }) : u;
    update({ page: next.pageIndex ? String(next.pageIndex + 1) : null, size: String(next.pageSize) });
  };
  const onSortingChange = (u: Updater<SortingState>) => {
    const next = typeof u === 'function' ? u(sorting) : u;
    const first = next[0];
    update({ sort: first ? `${first.id} ${first.desc ? 'desc' : 'asc'}` : null, page: null });
  };

  const [search, setSearch] = useState(filters.search);
  useEffect(() => {
    if (search === filters.search) return;
    const timer = setTimeout(() => setFilters({ search }), 300);
    return () => clearTimeout(timer);
    // Only the typed text starts a search; the URL follows it.
  }, [search]);

  const refresh = () =>
    Promise.all([
      queries.invalidateQueries({ queryKey: keys.items(stageRef) }),
      queries.invalidateQueries({ queryKey: ['item-details', stageRef.instanceId] }),
      queries.invalidateQueries({ queryKey: keys.myReviews }),
    ]);
  const failed = (error: unknown) => {
    setNotice({ error });
    if (error instanceof ApiError && error.code === 'review.stage_not_in_progress') setClosed(true);
  };

  const decide = useMutation({
    mutationFn: async ({
      decision,
      justification,
      targets,
    }: {
      decision: ReviewerDecision;
      justification: string;
      targets: Targets;
    }) => {
      if (targets.kind === 'one') return decideOne(stageRef, targets.item.id, decision, justification);
      if (targets.kind === 'selected') return decideMany(stageRef, decision, justification, targets.ids);
      // Everything the caller reviews here: one request; narrowed by filters: the ids of every match.
      if (targets.filter === undefined) return decideMany(stageRef, decision, justification);
      return decideMany(stageRef, decision, justification, await matchingIds(stageRef, targets.filter));
    },
    onSuccess: (_, { decision, targets }) => {
      const what =
        targets.kind === 'one'
          ? targets.item.principal.displayName
          : plural(targets.kind === 'selected' ? targets.ids.length : targets.total);
      setNotice({ success: `${DECIDED[decision]}: ${what}.` });
      setRowSelection({});
      setAllMatching(false);
    },
    onError: failed,
    onSettled: async () => {
      setDialog(null);
      await refresh();
    },
  });
  const accept = useMutation({
    mutationFn: () => acceptRecommendations(stageRef),
    onSuccess: () => setNotice({ success: 'Recommendations accepted for your undecided items.' }),
    onError: failed,
    onSettled: async () => {
      setConfirmRecommendations(false);
      await refresh();
    },
  });

  const selectedIds = Object.keys(rowSelection).filter((id) => rowSelection[id]);
  const selectedCount = allMatching ? total : selectedIds.length;
  const pageItems = page.data?.value ?? [];
  const wholePageSelected = pageItems.length > 0 && pageItems.every((i) => rowSelection[i.id]);
  const openBulk = (decision: ReviewerDecision) => {
    const targets: Targets = allMatching
      ? { kind: 'matching', filter, total }
      : { kind: 'selected', ids: selectedIds };
    const what = allMatching
      ? `all ${plural(total)}${filter ? ' matching the filters' : ''}`
      : plural(selectedIds.length);
    setDialog({ target: { decision, what }, targets });
  };
  const onDecide = useCallback(
    (item: DecisionItem, decision: ReviewerDecision) =>
      setDialog({
        // The reason given stays offered for the same decision, not for another one.
        target: {
          decision,
          what: item.principal.displayName,
          current: item.decision === decision ? item.justification : null,
        },
        targets: { kind: 'one', item },
      }),
    [],
  );

  const stageSetting = def.stageSettings?.find((s) => s.stageId === stage.id);
  const recommendationsEnabled = stageSetting
    ? stageSetting.recommendationsEnabled
    : def.settings.recommendationsEnabled;
  const resource = pageItems[0]?.resource?.displayName;
  const from = total === 0 ? 0 : pageIndex * pageSize + 1;
  const to = Math.min(total, (pageIndex + 1) * pageSize);
  const pages = Math.max(1, Math.ceil(total / pageSize));

  return (
    <section aria-labelledby="review-title" className={styles.page}>
      <Link to="/reviews" className={styles.back}>
        ← My reviews
      </Link>
      <Title1 as="h1" id="review-title">
        {def.displayName}
      </Title1>
      <div className={styles.facts}>
        {resource && <Text>Resource: {resource}</Text>}
        <Text>
          Stage {stageNumber} of {stageCount}
          {stage.status !== 'InProgress'
            ? ` (${stage.status === 'Completed' ? 'closed' : 'not started'})`
            : ''}
        </Text>
        <Text>Due {formatDate(stage.endDateTime)}</Text>
      </div>
      {def.descriptionForReviewers && <Body1 as="p">{def.descriptionForReviewers}</Body1>}

      {notice && 'error' in notice && (
        <div>
          <ErrorMessage error={notice.error} />
        </div>
      )}
      {notice && 'success' in notice && (
        <MessageBar intent="success">
          <MessageBarBody>{notice.success}</MessageBarBody>
          <MessageBarActions
            containerAction={
              <Button
                appearance="transparent"
                size="small"
                aria-label="Dismiss"
                onClick={() => setNotice(null)}
              >
                ✕
              </Button>
            }
          />
        </MessageBar>
      )}

      <div className={styles.toolbar} role="search" aria-label="Filter your items">
        <Field label="Search by name" className={styles.search}>
          <SearchBox
            value={search}
            onChange={(_, data) => setSearch(data.value)}
            placeholder="Name or e-mail"
          />
        </Field>
        <Field label="Decision">
          <Select
            value={filters.decided}
            onChange={(_, data) => setFilters({ decided: data.value as ItemFilters['decided'] })}
          >
            <option value="all">All</option>
            <option value="notDecided">Not decided</option>
            <option value="decided">Decided</option>
          </Select>
        </Field>
        <Field label="Recommendation">
          <Select
            value={filters.recommendation}
            onChange={(_, data) =>
              setFilters({ recommendation: data.value as ItemFilters['recommendation'] })
            }
          >
            <option value="all">All</option>
            <option value="Approve">Approve</option>
            <option value="Deny">Deny</option>
            <option value="none">None</option>
          </Select>
        </Field>
      </div>

      <div className={styles.bulk} role="toolbar" aria-label="Decide on the selected items">
        <Text className={styles.count} aria-live="polite">
          {allMatching
            ? `All ${plural(total)} matching selected`
            : selectedCount
              ? `${plural(selectedCount)} selected`
              : 'Select items to decide on them together'}
        </Text>
        {!allMatching && wholePageSelected && total > pageItems.length && (
          <Button appearance="transparent" onClick={() => setAllMatching(true)} disabled={readOnly}>
            Select all {total.toLocaleString()} matching
          </Button>
        )}
        {(allMatching || selectedCount > 0) && (
          <Button
            appearance="transparent"
            onClick={() => {
              setAllMatching(false);
              setRowSelection({});
            }}
          >
            Clear selection
          </Button>
        )}
        <Button
          appearance="primary"
          disabled={readOnly || !selectedCount}
          onClick={() => openBulk('Approve')}
        >
          Approve
        </Button>
        <Button disabled={readOnly || !selectedCount} onClick={() => openBulk('Deny')}>
          Deny
        </Button>
        <Button disabled={readOnly || !selectedCount} onClick={() => openBulk('DontKnow')}>
          Don&apos;t know
        </Button>
        {recommendationsEnabled && (
          <>
            <span className={styles.spacer} />
            <Button disabled={readOnly} onClick={() => setConfirmRecommendations(true)}>
              Accept recommendations
            </Button>
          </>
        )}
      </div>

      {page.isError && <ErrorMessage error={page.error} />}
      {page.isPending && <Spinner label="Loading your items…" />}
      {page.data && page.data.total === 0 && (
        <MessageBar intent="info">
          <MessageBarBody>
            {filter ? 'No item matches the filters.' : 'You have no items in this stage.'}
          </MessageBarBody>
        </MessageBar>
      )}
      {page.data && page.data.total > 0 && (
        <>
          <ItemsTable
            stage={stageRef}
            items={pageItems}
            total={total}
            pagination={{ pageIndex, pageSize }}
            onPaginationChange={onPaginationChange}
            sorting={sorting}
            onSortingChange={onSortingChange}
            rowSelection={rowSelection}
            onRowSelectionChange={(u) => {
              setAllMatching(false);
              setRowSelection(u);
            }}
            earlier={earlierStageIds.length ? earlier : undefined}
            lookBackDays={lookBackDays(def, stage.id)}
            readOnly={readOnly}
            // A search still being typed, or the previous filters' rows shown while the new ones load.
            selectable={search === filters.search && !page.isPlaceholderData}
            onDecide={onDecide}
          />
          <nav className={styles.pager} aria-label="Pages">
            <Text aria-live="polite">
              {from.toLocaleString()}–{to.toLocaleString()} of {total.toLocaleString()}
              {page.isFetching ? ' (updating…)' : ''}
            </Text>
            <span className={styles.spacer} />
            <span className={styles.pageButtons}>
              <Button
                disabled={pageIndex === 0}
                onClick={() => onPaginationChange({ pageIndex: pageIndex - 1, pageSize })}
              >
                Previous
              </Button>
              <Caption1>
                Page {pageIndex + 1} of {pages.toLocaleString()}
              </Caption1>
              <Button
                disabled={pageIndex + 1 >= pages}
                onClick={() => onPaginationChange({ pageIndex: pageIndex + 1, pageSize })}
              >
                Next
              </Button>
            </span>
            <Field label="Per page" className={styles.perPage}>
              <Select
                value={String(pageSize)}
                onChange={(_, data) => onPaginationChange({ pageIndex: 0, pageSize: Number(data.value) })}
              >
                {PAGE_SIZES.map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
              </Select>
            </Field>
          </nav>
        </>
      )}

      <DecisionDialog
        target={dialog?.target ?? null}
        justificationRequiredOnApproval={def.settings.justificationRequiredOnApproval}
        busy={decide.isPending}
        onClose={() => setDialog(null)}
        onSubmit={(justification) =>
          dialog &&
          decide.mutate({ decision: dialog.target.decision, justification, targets: dialog.targets })
        }
      />
      <AcceptRecommendationsDialog
        open={confirmRecommendations}
        stageRef={stageRef}
        busy={accept.isPending}
        onConfirm={() => accept.mutate()}
        onClose={() => setConfirmRecommendations(false)}
      />
    </section>
  );
}

/** Confirms accepting the recommendations, saying how many undecided items get which decision. */
function AcceptRecommendationsDialog({
  open,
  stageRef,
  busy,
  onConfirm,
  onClose,
}: {
  open: boolean;
  stageRef: StageRef;
  busy: boolean;
  onConfirm: () => void;
  onClose: () => void;
}) {
  const approve = useItemCount(stageRef, "decision eq 'NotReviewed' and recommendation eq 'Approve'", open);
  const deny = useItemCount(stageRef, "decision eq 'NotReviewed' and recommendation eq 'Deny'", open);
  return (
    // Always rendered, opened and closed by `open`: Fluent gives the page back to assistive technology
    // when the dialog closes, not when it is removed while open.
    <Dialog open={open} modalType="modal" onOpenChange={(_, data) => !data.open && !busy && onClose()}>
      <DialogSurface>
        <DialogBody>
          <DialogTitle>Accept recommendations</DialogTitle>
          <DialogContent>
            {approve.data === undefined || deny.data === undefined ? (
              <Spinner size="tiny" label="Counting your undecided items…" />
            ) : (
              <Body1>
                Your undecided items with a recommendation take it as your decision: {plural(approve.data)}{' '}
                approved and {plural(deny.data)} denied. Items you decided keep your decision.
              </Body1>
            )}
          </DialogContent>
          <DialogActions>
            <Button appearance="secondary" onClick={onClose} disabled={busy}>
              Cancel
            </Button>
            <Button appearance="primary" onClick={onConfirm} disabled={busy}>
              Accept
            </Button>
          </DialogActions>
        </DialogBody>
      </DialogSurface>
    </Dialog>
  );
}
