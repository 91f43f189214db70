import tls from 'node:tls';
import { Agent, fetch } from 'undici';
import { DirectoryUnavailableError } from '../port';
import type { GraphApi } from './client';
import { GraphRequestError } from './client';
import type { GraphSettings } from './settings';

/** Entra ID's error codes (AADSTS…) and OAuth errors that say which setting is wrong. */
const AUTHORITY_ERRORS: [RegExp, (s: GraphSettings) => string][] = [
  [/AADSTS90002|AADSTS900023|invalid_tenant/i, () => 'GRAPH_TENANT_ID'],
  [/AADSTS700016|AADSTS700038|unauthorized_client/i, () => 'GRAPH_CLIENT_ID'],
  [/AADSTS7000215|AADSTS700027|AADSTS7000222|invalid_client/i, (s) => s.credential.setting],
];

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Entra's "AADSTS…: first sentence.", or the message itself, on one line. */
function reason(message: string): string {
  const aadsts = /AADSTS\d+: [^.]*\./.exec(message)?.[0];
  return (aadsts ?? message).replace(/\s+/g, ' ').slice(0, 300);
}

/**
 * Why the authority's metadata cannot be read (MSAL only says endpoints_resolution_error): the TLS or
 * network error, or the authority's own answer (an unknown tenant).
 */
async function probeAuthority(settings: GraphSettings): Promise<string> {
  const url = `${settings.authorityHost}/${settings.tenantId}/v2.0/.well-known/openid-configuration`;
  const dispatcher = new Agent({
    connect: settings.ca ? { ca: [...tls.rootCertificates, settings.ca] } : {},
  });
  try {
    const res = await fetch(url, { dispatcher, signal: AbortSignal.timeout(settings.timeoutMs) });
    const body = await res.text();
    return res.ok ? 'the metadata was readable on a second try' : `HTTP ${res.status} ${reason(body)}`;
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return cause?.message ?? cause?.code ?? messageOf(err);
  } finally {
    await dispatcher.close();
  }
}

/**
 * Signs in and reads the tenant's first user (and its sign-in activity, unless GRAPH_SIGN_IN_ACTIVITY=false),
 * so that a wrong setting stops the start with one line naming it instead of failing the first review.
 */
export async function checkConnection(api: GraphApi, settings: GraphSettings): Promise<void> {
  try {
    await api.signIn();
  } catch (err) {
    let message = messageOf(err);
    if (/endpoints_resolution_error/.test(message)) message = await probeAuthority(settings);
    const named = AUTHORITY_ERRORS.find(([re]) => re.test(message));
    if (named) {
      throw new Error(
        `${named[1](settings)}: the tenant refused the application's sign-in (${reason(message)})`,
      );
    }
    throw new Error(
      `GRAPH_AUTHORITY_HOST=${settings.authorityHost}: could not get a token for tenant ${settings.tenantId} (${reason(message)})`,
    );
  }
  try {
    await api.request('GET', '/users?$top=1&$select=id');
  } catch (err) {
    throw graphStartError(err, settings);
  }
  if (!settings.signInActivity) return;
  try {
    await api.request('GET', '/users?$top=1&$select=id,signInActivity');
  } catch (err) {
    if (err instanceof DirectoryUnavailableError && /\b403\b/.test(err.message)) {
      throw new Error(
        'GRAPH_SIGN_IN_ACTIVITY=true: Microsoft Graph refused signInActivity, which needs Entra ID P1 or P2 and ' +
          `AuditLog.Read.All; grant it or set GRAPH_SIGN_IN_ACTIVITY=false (${reason(err.message)})`,
      );
    }
    throw graphStartError(err, settings);
  }
}

/** The start error for a failed Graph call: a missing permission, or GRAPH_BASE_URL. */
function graphStartError(err: unknown, settings: GraphSettings): Error {
  const message = reason(messageOf(err));
  if (err instanceof DirectoryUnavailableError && /\b403\b/.test(message)) {
    return new Error(
      `Microsoft Graph refused to list users: grant the application User.Read.All (see the README) (${message})`,
    );
  }
  if (err instanceof DirectoryUnavailableError || err instanceof GraphRequestError) {
    return new Error(`GRAPH_BASE_URL=${settings.baseUrl}: ${message}`);
  }
  return err instanceof Error ? err : new Error(message);
}
