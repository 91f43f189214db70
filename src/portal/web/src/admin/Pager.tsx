import { Button, makeStyles, Text, tokens } from '@fluentui/react-components';

/** The styles the administrator's tables share: a region that scrolls sideways on a phone. */
export const useTableStyles = makeStyles({
  scroll: { overflowX: 'auto' },
  table: { minWidth: '640px' },
  pager: {
    display: 'flex',
    gap: tokens.spacingHorizontalS,
    alignItems: 'center',
    marginTop: tokens.spacingVerticalM,
  },
});

/** Previous / Next over a server-paged list, with "from–to of total". */
export function Pager(props: {
  label: string;
  skip: number;
  size: number;
  total: number;
  onSkip: (skip: number) => void;
}) {
  const styles = useTableStyles();
  const { skip, size, total } = props;
  return (
    <nav className={styles.pager} aria-label={props.label}>
      <Button disabled={skip === 0} onClick={() => props.onSkip(Math.max(0, skip - size))}>
        Previous
      </Button>
      <Text>
        {total === 0 ? 0 : skip + 1}–{Math.min(total, skip + size)} of {total}
      </Text>
      <Button disabled={skip + size >= total} onClick={() => props.onSkip(skip + size)}>
        Next
      </Button>
    </nav>
  );
}
