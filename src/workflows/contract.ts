import type { ReviewPlan } from '../domain/review-plan';
import type { ReviewSnapshot } from '../domain/review-snapshot';
import type { AdminRequests } from './review-engine';

// Inputs of the review workflows, apart from the workflows themselves so that the instance and the
// coordinator it hands large reviews to both depend on them, not on each other.

/** Input of one review instance workflow. */
export interface AccessReviewInstanceInput {
  instanceId: string;
  plan: ReviewPlan;
  /**
   * Index Stagecoach's custom search attributes (definition, stage, status) for the Web UI. Off only
   * where the server has none registered (the time-skipping test server cannot register them).
   */
  searchAttributes?: boolean;
  /** Reviewees above which the instance is split into shard workflows (default DEFAULT_SHARD_SIZE, see access-review-instance.ts). */
  shardSize?: number;
  /** Continue as new after this many history events even before Temporal suggests it (tests). */
  continueAsNewAfterEvents?: number;
  /** Continue as new after this many accepted Updates (default MAX_UPDATES_PER_RUN; tests set fewer). */
  continueAsNewAfterUpdates?: number;
  /** Carried over continue-as-new: the state and the admin requests not yet acted on. */
  resume?: InstanceResume;
}

/** What an instance that holds its items carries into its next run. */
export interface InstanceResume extends AdminRequests {
  snapshot: ReviewSnapshot;
}
