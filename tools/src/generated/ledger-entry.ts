/* Generated from schema/ledger-entry.schema.json by tools/scripts/generate-types.ts — do not edit. */

/**
 * A table's state: `planned` (a run will act on it), `archiving` (an archive job started; nothing is claimed about its
 * outcome), `archived` (the archive committed: snapshot id and rows known), `validated` (validation passed for that
 * snapshot), `source_renamed` (the source moved to its quarantine name), `source_dropped`, `purged` (the archive
 * dropped), `failed` (with an error).
 */
export type State =
  | 'planned'
  | 'archiving'
  | 'archived'
  | 'validated'
  | 'source_renamed'
  | 'source_dropped'
  | 'purged'
  | 'failed';

/**
 * The run ledger's record of one source table: its current state in the pipeline (`planned → archiving → archived →
 * validated → source_renamed → source_dropped`, `purged`, `failed`) and every transition that led there. Written only
 * through conditional transitions (a transition names the state it expects; anything else is refused), locally in
 * `<state dir>/ledger/`, on AWS in the DynamoDB ledger table. The policy engine, status views and reports read it.
 */
export interface LedgerEntry {
  /**
   * Version of this format.
   */
  format: 1;
  /**
   * Database config name.
   */
  database: string;
  /**
   * Exact source schema name.
   */
  schema: string;
  /**
   * Exact source table name.
   */
  table: string;
  /**
   * Archive namespace (Glue database) of the table's archive.
   */
  archive_namespace?: string;
  /**
   * Archive table name inside the namespace.
   */
  archive_table?: string;
  /**
   * Policy that decided the last transition.
   */
  policy?: string | null;
  /**
   * The table's date its age counts from (ISO-8601 UTC), kept so the archive can be aged after the source is gone.
   */
  table_date?: string | null;
  /**
   * Current state of the table.
   */
  state:
    | 'planned'
    | 'archiving'
    | 'archived'
    | 'validated'
    | 'source_renamed'
    | 'source_dropped'
    | 'purged'
    | 'failed';
  /**
   * Number of transitions so far; every write is conditional on the version read.
   */
  version: number;
  /**
   * Time of the last transition (ISO-8601 UTC).
   */
  updated_at: string;
  /**
   * Run of the last transition.
   */
  run_id: string;
  /**
   * Run whose archive is current (set when the table becomes `archived`).
   */
  archive_run_id?: string | null;
  /**
   * When the current archive was committed.
   */
  archived_at?: string | null;
  /**
   * Iceberg snapshot id of the current archive, as decimal text (64-bit ids lose digits as JSON numbers); null before
   * the archive commits.
   */
  snapshot_id: string | null;
  /**
   * Rows in the current archive (null before it commits).
   */
  rows: number | null;
  /**
   * The last validation of the current archive (null when none ran).
   */
  validation: {
    /**
     * Outcome.
     */
    status: 'passed' | 'failed';
    /**
     * Archive snapshot the validation checked.
     */
    snapshot_id?: string | null;
    /**
     * `full` or `sampled`.
     */
    mode?: string;
    /**
     * Number of mismatches found.
     */
    mismatches?: number;
    /**
     * When it ran.
     */
    validated_at?: string;
  } | null;
  /**
   * Set in state `failed`: what failed, with the job's stable error code.
   */
  error: {
    /**
     * Stable error code (the job's `error.code`, or `validation_failed`, `interrupted`).
     */
    code: string;
    /**
     * What happened, for people.
     */
    message: string;
    /**
     * State the table was in when it failed.
     */
    during?:
      | 'planned'
      | 'archiving'
      | 'archived'
      | 'validated'
      | 'source_renamed'
      | 'source_dropped'
      | 'purged'
      | 'failed';
  } | null;
  /**
   * Every transition, oldest first (the last 200 are kept).
   */
  history: {
    /**
     * State before (null for the first transition).
     */
    from: State | null;
    /**
     * A table's state: `planned` (a run will act on it), `archiving` (an archive job started; nothing is claimed about
     * its outcome), `archived` (the archive committed: snapshot id and rows known), `validated` (validation passed for
     * that snapshot), `source_renamed` (the source moved to its quarantine name), `source_dropped`, `purged` (the
     * archive dropped), `failed` (with an error).
     */
    to:
      | 'planned'
      | 'archiving'
      | 'archived'
      | 'validated'
      | 'source_renamed'
      | 'source_dropped'
      | 'purged'
      | 'failed';
    /**
     * When (ISO-8601 UTC).
     */
    at: string;
    /**
     * Run that made the transition.
     */
    run_id: string;
    /**
     * Archive snapshot id known at that point.
     */
    snapshot_id?: string | null;
    /**
     * Archive rows known at that point.
     */
    rows?: number | null;
    /**
     * Validation outcome recorded by the transition.
     */
    validation?: 'passed' | 'failed' | null;
    /**
     * Error code of a transition to `failed`.
     */
    error_code?: string | null;
    /**
     * Free text (e.g. the quarantine name of a renamed source).
     */
    note?: string;
  }[];
}
