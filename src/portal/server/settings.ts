import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/**
 * The web portal's settings. With AUTH_MODE=local the portal signs in against the embedded OpenID
 * provider and needs none of them; with AUTH_MODE=jwt it is a client of the same issuer the API
 * verifies tokens from (AUTH_ISSUER), registered there as PORTAL_CLIENT_ID.
 */
export const portalEnvSchema = z.object({
  PORTAL_ENABLED: bool.default(true),
  /** The OpenID provider the portal signs in with; default AUTH_ISSUER (its discovery document is read). */
  PORTAL_ISSUER: z.url().optional(),
  PORTAL_CLIENT_ID: z.string().min(1).optional(),
  /** Only for a confidential client; a public client relies on PKCE alone. */
  PORTAL_CLIENT_SECRET: z.string().min(1).optional(),
  PORTAL_CLIENT_SECRET_FILE: z.string().min(1).optional(),
  /** Scopes asked for; for Entra ID add the API's scope (api://<app id>/<scope>) so the access token is for the API. */
  PORTAL_SCOPES: z.string().min(1).default('openid profile'),
  /** An RFC 8707 resource indicator sent with the request, for issuers that use them. */
  PORTAL_RESOURCE: z.string().min(1).optional(),
  /** The key that seals the session cookie (made on first start, mode 0600); every API replica needs the same. */
  PORTAL_SESSION_KEY_FILE: z.string().min(1).default('.stagecoach/portal-session-key'),
  PORTAL_SESSION_HOURS: z.coerce.number().min(0.25).max(24).default(8),
  /** The Temporal Web UI, for links from a review to its workflow; npm start sets it to its own UI. */
  TEMPORAL_UI_URL: z.url().optional(),
});

export type PortalEnv = z.infer<typeof portalEnvSchema>;
