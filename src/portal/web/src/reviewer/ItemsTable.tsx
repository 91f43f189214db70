import {
  Badge,
  Button,
  Caption1,
  Checkbox,
  makeStyles,
  Menu,
  MenuItem,
  MenuList,
  MenuPopover,
  MenuTrigger,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Text,
  tokens,
} from '@fluentui/react-components';
import type { BadgeProps } from '@fluentui/react-components';
import type {
  ColumnDef,
  OnChangeFn,
  PaginationState,
  RowSelectionState,
  SortingState,
} from '@tanstack/react-table';
import { flexRender, getCoreRowModel, useReactTable } from '@tanstack/react-table';
import { Fragment, useMemo, useState } from 'react';
import type { DecisionItem, ReviewerDecision, StageRef } from './api';
import { DECISION_LABEL, formatDate, recommendationReason } from './format';
import { ItemDetails } from './ItemDetails';
import type { EarlierDecisions } from './queries';

const useStyles = makeStyles({
  scroll: {
    overflowX: 'auto',
    ':focus-visible': { outline: `2px solid ${tokens.colorStrokeFocus2}` },
  },
  table: { minWidth: '820px' },
  select: { width: '44px' },
  name: { width: '26%' },
  actions: { width: '170px' },
  cell: {
    paddingTop: tokens.spacingVerticalS,
    paddingBottom: tokens.spacingVerticalS,
    verticalAlign: 'top',
    overflowWrap: 'anywhere',
  },
  stack: {
    display: 'flex',
    flexDirection: 'column',
    gap: tokens.spacingVerticalXXS,
    alignItems: 'flex-start',
  },
  strong: { fontWeight: tokens.fontWeightSemibold },
  muted: { color: tokens.colorNeutralForeground2 },
  buttons: { display: 'flex', gap: tokens.spacingHorizontalXS, flexWrap: 'wrap' },
  details: { backgroundColor: tokens.colorNeutralBackground2 },
});

/** Columns with a width of their own; the others share what is left. */
const WIDTH: Record<string, 'select' | 'name' | 'actions'> = {
  select: 'select',
  'principal/displayName': 'name',
  actions: 'actions',
};

const DECISION_COLOR: Record<DecisionItem['decision'], BadgeProps['color']> = {
  Approve: 'success',
  Deny: 'danger',
  DontKnow: 'warning',
  NotReviewed: 'informative',
};
const RECOMMENDATION_COLOR: Record<NonNullable<DecisionItem['recommendation']>, BadgeProps['color']> = {
  Approve: 'success',
  Deny: 'danger',
  NoInfoAvailable: 'subtle',
};
const RECOMMENDATION_LABEL: Record<NonNullable<DecisionItem['recommendation']>, string> = {
  Approve: 'Approve',
  Deny: 'Deny',
  NoInfoAvailable: 'No info',
};

/** The items table's inputs: a page from the server and the state the page keeps in its URL. */
export interface ItemsTableProps {
  stage: StageRef;
  items: DecisionItem[];
  total: number;
  pagination: PaginationState;
  onPaginationChange: OnChangeFn<PaginationState>;
  sorting: SortingState;
  onSortingChange: OnChangeFn<SortingState>;
  rowSelection: RowSelectionState;
  onRowSelectionChange: OnChangeFn<RowSelectionState>;
  /** Earlier stages' decisions; undefined when the review keeps them from its reviewers. */
  earlier: EarlierDecisions | undefined;
  lookBackDays: number;
  /** Decisions can no longer be recorded (the stage closed). */
  readOnly: boolean;
  /** Rows can be selected: false while the page shown is not yet the one the filters ask for. */
  selectable: boolean;
  onDecide: (item: DecisionItem, decision: ReviewerDecision) => void;
}

/**
 * The caller's decision items, one server page at a time (TanStack Table with manual pagination and
 * sorting, drawn with Fluent UI's table): selection by row and by page, a decision menu and details per row.
 */
export function ItemsTable(props: ItemsTableProps) {
  const styles = useStyles();
  const [open, setOpen] = useState<string | null>(null);
  const { earlier, lookBackDays, readOnly, selectable, onDecide } = props;
  const columns = useMemo<ColumnDef<DecisionItem>[]>(
    () => [
      {
        id: 'select',
        enableSorting: false,
        header: ({ table }) => (
          <Checkbox
            aria-label="Select every item on this page"
            checked={
              table.getIsAllPageRowsSelected() ? true : table.getIsSomePageRowsSelected() ? 'mixed' : false
            }
            onChange={() => table.toggleAllPageRowsSelected(!table.getIsAllPageRowsSelected())}
            disabled={readOnly || !selectable}
          />
        ),
        cell: ({ row }) => (
          <Checkbox
            aria-label={`Select ${row.original.principal.displayName}`}
            checked={row.getIsSelected()}
            onChange={row.getToggleSelectedHandler()}
            disabled={readOnly || !selectable}
          />
        ),
      },
      {
        id: 'principal/displayName',
        header: 'Name',
        enableSorting: true,
        cell: ({ row }) => (
          <div className={styles.stack}>
            <Text className={styles.strong}>{row.original.principal.displayName}</Text>
            <Caption1 className={styles.muted}>{row.original.principal.userPrincipalName}</Caption1>
          </div>
        ),
      },
      {
        id: 'recommendation',
        header: 'Recommendation',
        enableSorting: true,
        cell: ({ row }) => {
          const item = row.original;
          const reason = recommendationReason(item, lookBackDays);
          return (
            <div className={styles.stack}>
              {item.recommendation ? (
                <Badge appearance="tint" color={RECOMMENDATION_COLOR[item.recommendation]}>
                  {RECOMMENDATION_LABEL[item.recommendation]}
                </Badge>
              ) : (
                <Text className={styles.muted}>None</Text>
              )}
              {reason && <Caption1 className={styles.muted}>{reason}</Caption1>}
            </div>
          );
        },
      },
      {
        id: 'decision',
        header: 'Your decision',
        enableSorting: true,
        cell: ({ row }) => {
          const item = row.original;
          return (
            <div className={styles.stack}>
              <Badge appearance="filled" color={DECISION_COLOR[item.decision]}>
                {DECISION_LABEL[item.decision]}
              </Badge>
              {item.justification && <Caption1>“{item.justification}”</Caption1>}
              {item.reviewedDateTime && (
                <Caption1 className={styles.muted}>{formatDate(item.reviewedDateTime)}</Caption1>
              )}
            </div>
          );
        },
      },
      ...(earlier
        ? [
            {
              id: 'earlier',
              header: 'Earlier stages',
              enableSorting: false,
              cell: ({ row }) => (
                <div className={styles.stack}>
                  {earlier.map(({ stageId, byItem }) => {
                    const before = byItem.get(row.original.id);
                    if (!before) return null;
                    return (
                      <Caption1 key={stageId}>
                        Stage {stageId}: {DECISION_LABEL[before.decision]}
                        {before.reviewedBy?.displayName ? ` by ${before.reviewedBy.displayName}` : ''}
                        {before.justification ? ` — “${before.justification}”` : ''}
                      </Caption1>
                    );
                  })}
                </div>
              ),
            } satisfies ColumnDef<DecisionItem>,
          ]
        : []),
      {
        id: 'actions',
        header: 'Actions',
        enableSorting: false,
        cell: ({ row }) => {
          const item = row.original;
          const name = item.principal.displayName;
          return (
            <div className={styles.buttons}>
              <Menu>
                <MenuTrigger disableButtonEnhancement>
                  <Button size="small" disabled={readOnly} aria-label={`Decide on ${name}`}>
                    {item.decision === 'NotReviewed' ? 'Decide' : 'Change'}
                  </Button>
                </MenuTrigger>
                <MenuPopover>
                  <MenuList>
                    <MenuItem onClick={() => onDecide(item, 'Approve')}>Approve</MenuItem>
                    <MenuItem onClick={() => onDecide(item, 'Deny')}>Deny</MenuItem>
                    <MenuItem onClick={() => onDecide(item, 'DontKnow')}>Don&apos;t know</MenuItem>
                  </MenuList>
                </MenuPopover>
              </Menu>
              <Button
                size="small"
                appearance="subtle"
                aria-expanded={open === item.id}
                aria-controls={`details-${item.id}`}
                aria-label={`Details of ${name}`}
                onClick={() => setOpen(open === item.id ? null : item.id)}
              >
                Details
              </Button>
            </div>
          );
        },
      },
    ],
    [earlier, lookBackDays, readOnly, selectable, onDecide, open, styles],
  );
  const table = useReactTable({
    data: props.items,
    columns,
    getRowId: (item) => item.id,
    getCoreRowModel: getCoreRowModel(),
    manualPagination: true,
    manualSorting: true,
    rowCount: props.total,
    state: { pagination: props.pagination, sorting: props.sorting, rowSelection: props.rowSelection },
    onPaginationChange: props.onPaginationChange,
    onSortingChange: props.onSortingChange,
    onRowSelectionChange: props.onRowSelectionChange,
    enableRowSelection: !readOnly,
  });
  const width = table.getVisibleLeafColumns().length;
  return (
    <div className={styles.scroll} role="region" aria-label="Items to review" tabIndex={0}>
      <Table className={styles.table} aria-label="Your items in this stage">
        <TableHeader>
          {table.getHeaderGroups().map((group) => (
            <TableRow key={group.id}>
              {group.headers.map((header) => {
                const sorted = header.column.getIsSorted();
                const canSort = header.column.getCanSort();
                return (
                  <TableHeaderCell
                    key={header.id}
                    scope="col"
                    className={WIDTH[header.id] && styles[WIDTH[header.id]!]}
                    sortable={canSort}
                    sortDirection={
                      sorted === 'asc' ? 'ascending' : sorted === 'desc' ? 'descending' : undefined
                    }
                    onClick={canSort ? header.column.getToggleSortingHandler() : undefined}
                  >
                    {flexRender(header.column.columnDef.header, header.getContext())}
                  </TableHeaderCell>
                );
              })}
            </TableRow>
          ))}
        </TableHeader>
        <TableBody>
          {table.getRowModel().rows.map((row) => (
            <Fragment key={row.id}>
              <TableRow>
                {row.getVisibleCells().map((cell) => (
                  <TableCell key={cell.id} className={styles.cell}>
                    {flexRender(cell.column.columnDef.cell, cell.getContext())}
                  </TableCell>
                ))}
              </TableRow>
              {open === row.id && (
                <TableRow id={`details-${row.id}`} className={styles.details}>
                  <TableCell colSpan={width} className={styles.cell}>
                    <ItemDetails stage={props.stage} decisionId={row.id} />
                  </TableCell>
                </TableRow>
              )}
            </Fragment>
          ))}
        </TableBody>
      </Table>
    </div>
  );
}
