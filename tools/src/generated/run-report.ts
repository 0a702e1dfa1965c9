/* Generated from schema/run-report.schema.json by tools/scripts/generate-types.ts — do not edit. */

/**
 * What one pipeline run did, table by table: written after every run (offload run locally, the validation_report Lambda
 * on AWS) as JSON next to its Markdown and HTML renderings, and re-rendered from the run ledger by `offload report
 * RUN`. One renderer (tools/src/report/) makes all three.
 */
export interface RunReport {
  /**
   * Version of this report format.
   */
  schema_version: 1;
  /**
   * The run's id, as recorded in the run ledger.
   */
  run_id: string;
  /**
   * Where the run happened: the embedded local runtime (local Spark, local state directory) or AWS (Glue, DynamoDB,
   * MWAA).
   */
  runtime: 'local' | 'aws';
  /**
   * When the run started (UTC, ISO-8601).
   */
  started_at: string;
  /**
   * When the run ended (UTC, ISO-8601).
   */
  finished_at: string;
  /**
   * succeeded: every unit of work ended as planned; failed: none did; partial: some failed; no_op: there was nothing to
   * do.
   */
  status: 'succeeded' | 'failed' | 'partial' | 'no_op';
  /**
   * Git commit of the configs the run used (from the sync state).
   */
  config_commit?: string | null;
  /**
   * The decision date the policy engine used.
   */
  as_of?: string | null;
  /**
   * Sums over the tables below.
   */
  totals: {
    /**
     * Tables the run worked on.
     */
    tables: number;
    /**
     * Tables archived in this run.
     */
    archived: number;
    /**
     * Tables whose validation passed in this run.
     */
    validated: number;
    /**
     * Tables whose work failed (archive, validation, cleanup or purge).
     */
    failed: number;
    /**
     * Source tables renamed to quarantine or dropped in this run.
     */
    cleaned_up: number;
    /**
     * Archives purged in this run.
     */
    purged: number;
    /**
     * Rows written to archives in this run.
     */
    rows_archived: number;
    /**
     * Bytes of archive data files written in this run.
     */
    bytes_archived: number;
    /**
     * Source storage freed by dropped source tables (from the inventory's size estimate).
     */
    source_bytes_freed: number;
    /**
     * Wall time of the run in milliseconds.
     */
    duration_ms: number;
  };
  /**
   * One entry per table and action, in the order database, schema, table.
   */
  tables: Table[];
}
/**
 * What the run did to one table.
 */
export interface Table {
  /**
   * Database config name.
   */
  database: string;
  /**
   * Source schema.
   */
  schema: string;
  /**
   * Source table.
   */
  table: string;
  /**
   * The retention policy that claimed the table.
   */
  policy?: string | null;
  /**
   * The work unit's action.
   */
  action: 'archive' | 'validate' | 'cleanup_source' | 'purge';
  /**
   * The table's run-ledger state when the run ended (skipped: refused by a guard or left for a later run).
   */
  state:
    | 'planned'
    | 'archiving'
    | 'archived'
    | 'validated'
    | 'source_renamed'
    | 'source_dropped'
    | 'purged'
    | 'failed'
    | 'skipped';
  /**
   * <archive database>.<archive table>.
   */
  archive_table?: string | null;
  /**
   * Iceberg snapshot written or validated (string when beyond 2^53).
   */
  snapshot_id?: number | string | null;
  /**
   * Rows archived (or validated).
   */
  rows?: number | null;
  /**
   * Bytes of archive data files written.
   */
  bytes?: number | null;
  /**
   * Source bytes freed when the source table was dropped.
   */
  source_bytes_freed?: number | null;
  /**
   * Wall time spent on this table's work in milliseconds.
   */
  duration_ms?: number | null;
  /**
   * The validation outcome, when the table was validated in this run.
   */
  validation?: null | Validation;
  /**
   * Why the table's work failed or was refused.
   */
  error?: null | Error;
}
/**
 * A summary of the validation result record (schema/validation-result.schema.json).
 */
export interface Validation {
  /**
   * failed when mismatches is not empty.
   */
  status: 'passed' | 'failed';
  /**
   * Row-hash mode: full, sample or none.
   */
  mode?: string | null;
  /**
   * lineage | schema | row_count | row_hash | column:<name>.
   */
  mismatches: string[];
  /**
   * Rows counted by the source database.
   */
  source_rows?: number | null;
  /**
   * Rows in the archive snapshot.
   */
  archive_rows?: number | null;
  /**
   * Rows that differ, named by key (as many as the validation listed).
   */
  differing_keys?: {
    /**
     * Key column -> canonical text.
     */
    key: {
      [k: string]: string | null | undefined;
    };
    /**
     * How the row differs (missing_in_archive, changed, …).
     */
    kind: string;
    /**
     * For changed rows: the columns whose canonical text differs.
     */
    columns?: string[];
  }[];
  /**
   * True when more keys differ than are listed.
   */
  truncated?: boolean;
}
/**
 * A failure or refusal.
 */
export interface Error {
  /**
   * Stable error code.
   */
  code: string;
  /**
   * What happened and what to do.
   */
  message: string;
}
