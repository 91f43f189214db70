import type { ReactNode } from 'react';
import { ApiError } from '../api/client';
import { ErrorMessage } from '../components/ErrorMessage';
import { useSession } from '../session';

/** The administrator pages: others are told they are for administrators only. */
export function AdminOnly({ children }: { children: ReactNode }) {
  const session = useSession();
  if (!session.isAdmin) {
    return (
      <ErrorMessage
        error={new ApiError(403, 'auth.admin_required', 'These pages are for access review administrators.')}
      />
    );
  }
  return <>{children}</>;
}
