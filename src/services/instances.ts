import type { DirectoryUser } from '../directory/port';
import { ReviewReassignments } from './review-reassignments';
import type { ReviewRecordStore } from '../store/review-records';
import type { DefinitionService } from './definitions';
import { InstanceAdmin } from './instance-admin';
import { InstanceReads } from './instance-reads';
import { ReviewDecisions } from './review-decisions';
import { ReviewLocator } from './review-locator';
import type { TemporalGateway } from './temporal-gateway';

export type { DecisionListOptions, GraphInstance, GraphStage } from './instance-reads';

/**
 * Review instances, their stages and decision items, as the routes use them: the reads
 * (instance-reads.ts), the reviewers' decisions (review-decisions.ts) and the admin actions and reviewer
 * changes (instance-admin.ts), over one ReviewLocator that knows where each instance's items live.
 */
export class InstanceService {
  readonly list: InstanceReads['list'];
  readonly get: InstanceReads['get'];
  readonly stages: InstanceReads['stages'];
  readonly stage: InstanceReads['stage'];
  readonly contactedReviewers: InstanceReads['contactedReviewers'];
  readonly decisions: InstanceReads['decisions'];
  readonly decision: InstanceReads['decision'];
  readonly recordDecisions: ReviewDecisions['recordDecisions'];
  readonly batchRecordDecisions: ReviewDecisions['batchRecordDecisions'];
  readonly acceptRecommendations: ReviewDecisions['acceptRecommendations'];
  readonly adminAction: InstanceAdmin['adminAction'];
  readonly updateReviewers: InstanceAdmin['updateReviewers'];
  readonly reassign: ReviewReassignments['reassign'];

  constructor(
    gw: TemporalGateway,
    definitions: DefinitionService,
    lookup: (id: string) => Promise<DirectoryUser | undefined>,
    records?: ReviewRecordStore,
  ) {
    const at = new ReviewLocator(gw, definitions, records);
    const reads = new InstanceReads(at);
    const decisions = new ReviewDecisions(at);
    const admin = new InstanceAdmin(at);
    this.list = reads.list.bind(reads);
    this.get = reads.get.bind(reads);
    this.stages = reads.stages.bind(reads);
    this.stage = reads.stage.bind(reads);
    this.contactedReviewers = reads.contactedReviewers.bind(reads);
    this.decisions = reads.decisions.bind(reads);
    this.decision = reads.decision.bind(reads);
    this.recordDecisions = decisions.recordDecisions.bind(decisions);
    this.batchRecordDecisions = decisions.batchRecordDecisions.bind(decisions);
    this.acceptRecommendations = decisions.acceptRecommendations.bind(decisions);
    this.adminAction = admin.adminAction.bind(admin);
    this.updateReviewers = admin.updateReviewers.bind(admin);
    const reassignments = new ReviewReassignments(at, lookup);
    this.reassign = reassignments.reassign.bind(reassignments);
  }
}
