import type { Generated } from 'kysely';

/** A row of `apply_ledger`: what the ledger knows of one applied decision item (see ApplyLedger). */
export interface ApplyLedgerTable {
  key: string;
  entry: string;
  /** now() on insert (the column default) and on every overwrite. */
  updated_at: Generated<Date>;
}

/** Every table Stagecoach keeps in PostgreSQL, as Kysely sees them; the migrations create them. */
export interface Database {
  apply_ledger: ApplyLedgerTable;
}
