import { useQuery } from '@tanstack/react-query';
import { createContext, useContext } from 'react';
import { signIn } from './api/client';

/** Who is signed in to the portal (GET /portal/api/session). */
export interface Session {
  userId: string;
  displayName: string;
  isAdmin: boolean;
  /** The Temporal Web UI, for links to a review's workflow; null when not configured. */
  temporalUi: { url: string; namespace: string } | null;
}

async function fetchSession(): Promise<Session | null> {
  const res = await fetch('/portal/api/session', { headers: { accept: 'application/json' } });
  if (res.status === 401) return null;
  if (!res.ok) throw new Error(`The portal could not read your session (${res.status})`);
  return (await res.json()) as Session;
}

export function useSessionQuery() {
  return useQuery({ queryKey: ['session'], queryFn: fetchSession, staleTime: 60_000, retry: false });
}

export const SessionContext = createContext<Session | null>(null);

/** The signed-in user; only inside pages that require a session. */
export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) {
    signIn();
    throw new Error('Not signed in');
  }
  return session;
}
