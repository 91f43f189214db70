import { DirectoryUnavailableError } from '../port';
import type { GraphApi } from './client';
import { GraphRequestError } from './client';
import type { GraphSettings } from './settings';

/** Entra ID's error codes (AADSTS…) and OAuth errors that say which setting is wrong. */
const AUTHORITY_ERRORS: [RegExp, (s: GraphSettings) => string][] = [
  [/AADSTS90002|AADSTS900023|tenant .*not found|invalid_tenant/i, () => 'GRAPH_TENANT_ID'],
  [/AADSTS700016|AADSTS700038|unauthorized_client|application .*not found/i, () => 'GRAPH_CLIENT_ID'],
  [/AADSTS7000215|AADSTS700027|AADSTS7000222|invalid_client/i, (s) => s.credential.setting],
];

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Signs in and reads the tenant's first user, so that a wrong setting stops the start with an error
 * naming it instead of failing the first review.
 */
export async function checkConnection(api: GraphApi, settings: GraphSettings): Promise<void> {
  try {
    await api.signIn();
  } catch (err) {
    const message = messageOf(err);
    const named = AUTHORITY_ERRORS.find(([re]) => re.test(message));
    if (named) {
      throw new Error(`${named[1](settings)}: the tenant refused the application's sign-in (${message})`);
    }
    throw new Error(
      `GRAPH_AUTHORITY_HOST=${settings.authorityHost}: could not get a token for tenant ${settings.tenantId} (${message})`,
    );
  }
  try {
    await api.request('GET', '/users?$top=1&$select=id');
  } catch (err) {
    const message = messageOf(err);
    if (err instanceof DirectoryUnavailableError && /\b403\b/.test(message)) {
      throw new Error(
        `Microsoft Graph refused to list users: grant the application User.Read.All (see the README) (${message})`,
      );
    }
    if (err instanceof DirectoryUnavailableError || err instanceof GraphRequestError) {
      throw new Error(`GRAPH_BASE_URL=${settings.baseUrl}: ${message}`);
    }
    throw err;
  }
}
