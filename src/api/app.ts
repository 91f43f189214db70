import { randomUUID } from 'node:crypto';
import express from 'express';
import type { Router } from 'express';
import helmet from 'helmet';
import type { Logger } from 'pino';
import type { DefinitionService } from '../services/definitions';
import type { DelegationService } from '../services/delegations';
import type { DirectoryService } from '../services/directory';
import type { DirectoryAccess } from '../services/directory-access';
import type { HistoryReportService } from '../services/history-reports';
import type { EvidenceService } from '../services/evidence';
import type { InstanceService } from '../services/instances';
import { DecisionInsights } from '../services/decision-insights';
import type { WorkerHealth } from '../services/worker-liveness';
import type { PortalDeps } from '../portal/server/routes';
import { PORTAL_HEADER, portalRouter, sessionToken } from '../portal/server/routes';
import type { AuthSettings, LocalIssuer } from './auth';
import { authenticate, requireKnownUser } from './auth';
import { jsonBody } from './body';
import { apiDocs } from './docs';
import { errorHandler, unknownRoute } from './errors';
import { PUBLIC_BASE_URL } from './odata';
import { operations } from './operations';
import { callerRateLimit, unauthenticatedRateLimit } from './rate-limits';
import { operationRouter } from './router';
import type { ApiServices } from './services';

export interface AppDeps {
  definitions: DefinitionService;
  instances: InstanceService;
  directory: DirectoryService;
  /** The Temporal connection and its workers, as `/health` reports them. */
  health: () => Promise<WorkerHealth>;
  /** Which directory objects a caller may read. */
  access: DirectoryAccess;
  /** Audit evidence exports; without it (records not in PostgreSQL) their routes do not exist. */
  evidence?: EvidenceService;
  auth: AuthSettings;
  /** Present only with AUTH_MODE=local: serves demo tokens for any directory user. */
  localIssuer?: LocalIssuer;
  /** Review history reports; without them (records not in PostgreSQL) their routes do not exist. */
  history?: HistoryReportService;
  /** Out-of-office delegations; without them (no PostgreSQL) their routes do not exist. */
  delegations?: DelegationService;
  logger: Logger;
  bodyLimit: string;
  rateLimitPerMinute: number;
  /** Requests per client IP and minute that do not authenticate (no or bad token, local token endpoint). */
  rateLimitUnauthenticatedPerMinute: number;
  /** Where clients reach the API (PUBLIC_BASE_URL), for absolute links; default: each request's own host. */
  publicBaseUrl?: string;
  /** The web portal under /portal, and routers served beside it (the embedded OpenID provider). */
  portal?: { deps: PortalDeps; routers?: Router[] };
}

const FILTER_BY_CURRENT_USER = /filterByCurrentUser\(on=(?:'|%27)reviewer(?:'|%27)\)/g;
/** A `$count` segment some clients percent-encode. */
const COUNT_SEGMENT = /\/%24count(?=[/?]|$)/gi;

/** The Express app: Graph v1.0 access reviews surface, directory reads, demo token endpoint. */
export function createApp(deps: AppDeps) {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  if (deps.publicBaseUrl) app.locals[PUBLIC_BASE_URL] = deps.publicBaseUrl.replace(/\/+$/, '');
  app.use(helmet());

  app.use((req, res, next) => {
    const requestId = (req.get('client-request-id') ?? randomUUID()).slice(0, 100);
    res.setHeader('request-id', requestId);
    res.setHeader('client-request-id', requestId);
    const log = deps.logger.child({ requestId });
    res.locals.log = log;
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      log.info({ method: req.method, path: req.path, status: res.statusCode, ms: Math.round(ms) }, 'request');
    });
    // Graph's function-call segment maps onto a plain path segment; the route decides what it means.
    req.url = req.url
      .replace(FILTER_BY_CURRENT_USER, 'filterByCurrentUser')
      .replace(COUNT_SEGMENT, '/$count');
    next();
  });

  const unauthenticated = unauthenticatedRateLimit(deps.rateLimitUnauthenticatedPerMinute);
  const services: ApiServices = {
    definitions: deps.definitions,
    instances: deps.instances,
    directory: deps.directory,
    access: deps.access,
    evidence: deps.evidence,
    insights: new DecisionInsights(deps.directory),
    health: deps.health,
    auth: deps.auth,
    localIssuer: deps.localIssuer,
    history: deps.history,
    delegations: deps.delegations,
  };

  // Served without a token; the token endpoint is limited per address before its body is read.
  const open = operations.filter((op) => op.role === 'public');
  app.use(
    operationRouter(open, services, '', (op) =>
      op.body ? [unauthenticated.limit, jsonBody(deps.bodyLimit)] : [],
    ),
  );
  app.use(apiDocs());
  const portal = deps.portal;
  for (const router of portal?.routers ?? []) app.use(router);
  if (portal) app.use(portalRouter(portal.deps));
  // The portal's pages call the API with their session cookie and this header, which another site's
  // page cannot send without a CORS preflight this API never grants: a cookie alone authenticates nothing.
  const portalSession = portal
    ? (req: express.Request) =>
        req.get(PORTAL_HEADER) ? sessionToken(req, portal.deps.sealer) : Promise.resolve(undefined)
    : undefined;

  // Limits and authentication come before the body is read: nobody without a valid token gets the server
  // to inflate and parse a body, and a flood of bad tokens is cut off by address before it costs more.
  const v1 = express.Router();
  v1.use(unauthenticated.limit);
  v1.use(authenticate(deps.auth, deps.logger, portalSession));
  v1.use(unauthenticated.forgive);
  v1.use(callerRateLimit(deps.rateLimitPerMinute));
  v1.use(requireKnownUser(deps.auth, (id) => deps.directory.isKnownUser(id)));
  v1.use(jsonBody(deps.bodyLimit));
  v1.use(
    operationRouter(
      operations.filter((op) => op.role !== 'public'),
      services,
      '/v1.0',
    ),
  );
  app.use('/v1.0', v1);

  app.use(unknownRoute);
  app.use(errorHandler(deps.logger));
  return app;
}
