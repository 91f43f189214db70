import type { DecisionInsights } from '../services/decision-insights';
import type { DefinitionService } from '../services/definitions';
import type { DelegationService } from '../services/delegations';
import type { DirectoryService } from '../services/directory';
import type { DirectoryAccess } from '../services/directory-access';
import type { HistoryReportService } from '../services/history-reports';
import type { EvidenceService } from '../services/evidence';
import type { InstanceService } from '../services/instances';
import type { WorkerHealth } from '../services/worker-liveness';
import type { AuthSettings, LocalIssuer } from './auth';

/** What the operations' handlers call: the services behind the API. */
export interface ApiServices {
  definitions: DefinitionService;
  instances: InstanceService;
  directory: DirectoryService;
  /** Which directory objects a caller may read. */
  access: DirectoryAccess;
  /** Audit evidence exports; present when the review records are in PostgreSQL. */
  evidence?: EvidenceService;
  /** Sign-in insights of decision items. */
  insights: DecisionInsights;
  /** The Temporal connection and its workers, as `/health` reports them. */
  health: () => Promise<WorkerHealth>;
  auth: AuthSettings;
  /** Review history reports; present where the review records are in PostgreSQL. */
  history?: HistoryReportService;
  /** Out-of-office delegations; present where they are kept (PostgreSQL). */
  delegations?: DelegationService;
  /** Present only with AUTH_MODE=local: serves demo tokens for any directory user. */
  localIssuer?: LocalIssuer;
}
