import { makeStyles, Text, tokens } from '@fluentui/react-components';
import type { Tally } from './api';
import { OUTCOMES } from './api';

const LABEL: Record<keyof Tally, string> = {
  Approve: 'approved',
  Deny: 'denied',
  DontKnow: "don't know",
  NotReviewed: 'not reviewed',
};

const useStyles = makeStyles({
  bar: {
    display: 'flex',
    height: '10px',
    width: '100%',
    minWidth: '120px',
    borderRadius: '4px',
    overflow: 'hidden',
    backgroundColor: tokens.colorNeutralBackground5,
  },
  Approve: { backgroundColor: tokens.colorPaletteGreenBackground3 },
  Deny: { backgroundColor: tokens.colorPaletteRedBackground3 },
  DontKnow: { backgroundColor: tokens.colorPaletteMarigoldBackground3 },
  NotReviewed: { backgroundColor: tokens.colorNeutralBackground5 },
  legend: { display: 'block', color: tokens.colorNeutralForeground2, fontSize: tokens.fontSizeBase200 },
});

/** One bar of approved / denied / don't know / not reviewed, with the counts in words beside it. */
export function Progress({ tally, label }: { tally: Tally; label: string }) {
  const styles = useStyles();
  const total = OUTCOMES.reduce((n, o) => n + tally[o], 0);
  const words = OUTCOMES.map((o) => `${tally[o]} ${LABEL[o]}`).join(', ');
  return (
    <div>
      <div className={styles.bar} role="img" aria-label={`${label}: ${words}`}>
        {total > 0 &&
          OUTCOMES.map((o) =>
            tally[o] ? (
              <div key={o} className={styles[o]} style={{ width: `${(100 * tally[o]) / total}%` }} />
            ) : null,
          )}
      </div>
      <Text className={styles.legend}>{words}</Text>
    </div>
  );
}
