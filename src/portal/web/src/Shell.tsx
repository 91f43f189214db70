import { Button, makeStyles, Text, tokens } from '@fluentui/react-components';
import type { ReactNode } from 'react';
import { NavLink } from 'react-router';
import { useSession } from './session';

const useStyles = makeStyles({
  header: {
    display: 'flex',
    flexWrap: 'wrap',
    alignItems: 'center',
    gap: tokens.spacingHorizontalL,
    padding: `${tokens.spacingVerticalS} ${tokens.spacingHorizontalL}`,
    backgroundColor: tokens.colorBrandBackground,
    color: tokens.colorNeutralForegroundOnBrand,
  },
  brand: { fontWeight: tokens.fontWeightSemibold, fontSize: tokens.fontSizeBase400 },
  nav: { display: 'flex', gap: tokens.spacingHorizontalM, flexWrap: 'wrap' },
  link: {
    color: tokens.colorNeutralForegroundOnBrand,
    textDecorationLine: 'none',
    padding: tokens.spacingVerticalXS,
    ':hover': { textDecorationLine: 'underline' },
    ':focus-visible': { outline: `2px solid ${tokens.colorNeutralForegroundOnBrand}` },
  },
  active: { textDecorationLine: 'underline', fontWeight: tokens.fontWeightSemibold },
  user: {
    marginLeft: 'auto',
    display: 'flex',
    alignItems: 'center',
    gap: tokens.spacingHorizontalS,
    flexWrap: 'wrap',
  },
  main: { padding: tokens.spacingHorizontalL, maxWidth: '1400px', margin: '0 auto', boxSizing: 'border-box' },
});

/** The frame of every signed-in page: the portal's name, its sections, who is signed in, sign-out. */
export function Shell({ children }: { children: ReactNode }) {
  const styles = useStyles();
  const session = useSession();
  const linkClass = ({ isActive }: { isActive: boolean }) =>
    isActive ? `${styles.link} ${styles.active}` : styles.link;
  return (
    <>
      <header className={styles.header}>
        <Text className={styles.brand}>Stagecoach access reviews</Text>
        <nav aria-label="Sections" className={styles.nav}>
          <NavLink to="/reviews" className={linkClass}>
            My reviews
          </NavLink>
          {session.isAdmin && (
            <NavLink to="/admin/reviews" className={linkClass}>
              Manage reviews
            </NavLink>
          )}
        </nav>
        <div className={styles.user}>
          <Text>{session.displayName}</Text>
          <form method="post" action="/portal/auth/logout">
            <Button type="submit" size="small">
              Sign out
            </Button>
          </form>
        </div>
      </header>
      <main className={styles.main}>{children}</main>
    </>
  );
}
