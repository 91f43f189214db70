import type { ColumnType, Generated } from 'kysely';

/** A row of `apply_ledger`: what the ledger knows of one applied decision item (see ApplyLedger). */
export interface ApplyLedgerTable {
  key: string;
  entry: string;
  /** now() on insert (the column default) and on every overwrite. */
  updated_at: Generated<Date>;
}

/** jsonb: written as JSON text, read as the parsed value. */
type Json<T> = ColumnType<T, string, string>;

/** A row of `review_events`: one event of one review stream (an instance or a shard), kept once. */
export interface ReviewEventsTable {
  stream_id: string;
  seq: number;
  instance_id: string;
  event: Json<unknown>;
  recorded_at: Generated<Date>;
}

/** A row of `review_instances`: the latest record of an instance. */
export interface ReviewInstancesTable {
  instance_id: string;
  definition_id: string;
  version: number;
  histories_for_reviewers: boolean;
  view: Json<unknown>;
  updated_at: Generated<Date>;
}

/** A row of `review_items`: the latest record of a decision item. */
export interface ReviewItemsTable {
  instance_id: string;
  item_id: string;
  version: number;
  holder: number;
  position: number;
  principal_id: string;
  current_reviewer_ids: string[];
  record: Json<unknown>;
}

/** A row of `review_definitions`: the latest record of a definition (its series). */
export interface ReviewDefinitionsTable {
  definition_id: string;
  version: number;
  /** Deleted: the series ended; kept as the record of what was reviewed. */
  ended: boolean;
  created_date_time: string;
  record: Json<unknown>;
  updated_at: Generated<Date>;
}

/** A row of `review_contacted`: the reviewers one stream contacted so far. */
export interface ReviewContactedTable {
  instance_id: string;
  stream_id: string;
  version: number;
  reviewers: Json<unknown>;
}

/** A row of `review_history_definitions`: an accessReviewHistoryDefinition as created. */
export interface ReviewHistoryDefinitionsTable {
  definition_id: string;
  created_at: Date;
  definition: Json<unknown>;
}

/** A row of `review_history_instances`: one materialised occurrence of a history definition. */
export interface ReviewHistoryInstancesTable {
  instance_id: string;
  definition_id: string;
  occurrence: number;
  period_start: Date;
  period_end: Date;
  run_at: Date;
  /** The secret of the current download link, and when it stops working; null before the first. */
  download_token: string | null;
  download_expires_at: Date | null;
}

/** A row of `apply_observations`: the directory state read back after one decision item was applied. */
export interface ApplyObservationsTable {
  instance_id: string;
  item_id: string;
  observation: Json<unknown>;
  recorded_at: Generated<Date>;
}

/** Every table Stagecoach keeps in PostgreSQL, as Kysely sees them; the migrations create them. */
/** A row of `notification_sends`: one message of a review, claimed before it is sent (see NotificationLedger). */
export interface NotificationSendsTable {
  key: string;
  state: string;
  updated_at: Generated<Date>;
}

/** A row of `review_delegations`: one user's out-of-office delegation (see DelegationStore). */
export interface ReviewDelegationsTable {
  user_id: string;
  end_date_time: Date;
  delegation: Json<unknown>;
  updated_at: Generated<Date>;
}

export interface Database {
  apply_ledger: ApplyLedgerTable;
  review_events: ReviewEventsTable;
  review_instances: ReviewInstancesTable;
  review_items: ReviewItemsTable;
  review_contacted: ReviewContactedTable;
  review_definitions: ReviewDefinitionsTable;
  review_history_definitions: ReviewHistoryDefinitionsTable;
  review_history_instances: ReviewHistoryInstancesTable;
  apply_observations: ApplyObservationsTable;
  notification_sends: NotificationSendsTable;
  review_delegations: ReviewDelegationsTable;
}
