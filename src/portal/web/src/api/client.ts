import createClient from 'openapi-fetch';
import type { Middleware } from 'openapi-fetch';
import type { paths } from './schema';

/** The API's error body: `{ error: { code, message } }` with a stable dotted code. */
export interface ApiErrorBody {
  error: { code: string; message: string; details?: ApiErrorDetail[] };
}

/** One bad field of a refused request: `target` is its dotted path (stageSettings.0.durationInDays). */
export interface ApiErrorDetail {
  code: string;
  message: string;
  target: string;
}

/** A failed API call, carrying the API's code (e.g. review.stage_not_in_progress) and its message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: readonly ApiErrorDetail[] = [],
  ) {
    super(message);
  }
}

/** Sends the browser to sign in, coming back to where it is now. */
export function signIn(): void {
  const here = window.location.pathname + window.location.search;
  window.location.assign(`/portal/auth/login?returnTo=${encodeURIComponent(here)}`);
}

const onUnauthorized: Middleware = {
  onResponse({ response }) {
    if (response.status === 401) signIn();
    return response;
  },
};

/**
 * The typed API client (types generated from /openapi.json). Calls are same-origin; the session cookie
 * authenticates them together with the portal header.
 */
export const api = createClient<paths>({ baseUrl: '', headers: { 'x-stagecoach-portal': '1' } });
api.use(onUnauthorized);

/** The data of an openapi-fetch result, or an ApiError built from the API's error body. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || !result.response.ok) {
    const body = result.error as Partial<ApiErrorBody> | undefined;
    throw new ApiError(
      result.response.status,
      body?.error?.code ?? `http.${result.response.status}`,
      body?.error?.message ?? result.response.statusText,
      body?.error?.details ?? [],
    );
  }
  return result.data as T;
}
