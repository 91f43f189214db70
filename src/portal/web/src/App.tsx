import { Spinner } from '@fluentui/react-components';
import { Navigate, Route, Routes } from 'react-router';
import { signIn } from './api/client';
import { Shell } from './Shell';
import { SessionContext, useSessionQuery } from './session';
import { ErrorMessage } from './components/ErrorMessage';
import { AdminOnly } from './admin/AdminOnly';
import { AdminReview } from './pages/admin/AdminReview';
import { AdminReviews } from './pages/admin/AdminReviews';
import { ReviewForm } from './pages/admin/ReviewForm';
import { MyReviews } from './pages/MyReviews';
import { ReviewItems } from './pages/ReviewItems';
import { SignedOut } from './pages/SignedOut';

/** Routes of the portal; every page but "signed out" needs a session and sends the browser to sign in without one. */
export function App() {
  return (
    <Routes>
      <Route path="/signed-out" element={<SignedOut />} />
      <Route path="*" element={<SignedIn />} />
    </Routes>
  );
}

function SignedIn() {
  const session = useSessionQuery();
  if (session.isPending) return <Spinner label="Loading…" />;
  if (session.isError) return <ErrorMessage error={session.error} />;
  if (!session.data) {
    signIn();
    return <Spinner label="Signing in…" />;
  }
  return (
    <SessionContext.Provider value={session.data}>
      <Shell>
        <Routes>
          <Route path="/" element={<Navigate to="/reviews" replace />} />
          <Route path="/reviews" element={<MyReviews />} />
          <Route path="/reviews/:definitionId/:instanceId/:stageId?" element={<ReviewItems />} />
          <Route
            path="/admin/reviews"
            element={
              <AdminOnly>
                <AdminReviews />
              </AdminOnly>
            }
          />
          <Route
            path="/admin/reviews/new"
            element={
              <AdminOnly>
                <ReviewForm />
              </AdminOnly>
            }
          />
          <Route
            path="/admin/reviews/:definitionId/edit"
            element={
              <AdminOnly>
                <ReviewForm />
              </AdminOnly>
            }
          />
          <Route
            path="/admin/reviews/:definitionId/:instanceId"
            element={
              <AdminOnly>
                <AdminReview />
              </AdminOnly>
            }
          />
          <Route
            path="*"
            element={<ErrorMessage error={new Error('There is no such page in the portal.')} />}
          />
        </Routes>
      </Shell>
    </SessionContext.Provider>
  );
}
