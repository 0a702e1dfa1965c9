/* Generated from schema/status.schema.json by tools/scripts/generate-types.ts — do not edit. */

/**
 * The table's dates and next action, machine-readable; null when the table has no date.
 */
export type Schedule = {
  /**
   * Where the table's date comes from: the policy's age source (`table_name`, `column`, `last_modified`) or
   * `archive_record` (the source is gone; the archive's recorded date).
   */
  age_from: 'table_name' | 'column' | 'last_modified' | 'archive_record';
  /**
   * The table's date its age counts from (for a name like `txn_202411`, the last day of the period it names).
   */
  table_date: string;
  /**
   * The table's date plus the policy's `archive_after`: from then on the table is archived.
   */
  archive_due: string;
  /**
   * The table's date plus `purge_after`: from then on its validated archive may be purged (unless under legal hold);
   * null when the policy has no `purge_after` (kept with no end).
   */
  purge_due: string | null;
  /**
   * The deciding policy holds the archive under legal hold: it is never purged while this is true.
   */
  legal_hold: boolean;
  /**
   * What happens to the table next: `archive`, `validate` (archived, not yet validated), `cleanup_source` or `purge`;
   * null when nothing will (a legal hold blocks the purge, no `purge_after`, or already purged).
   */
  next_action: 'archive' | 'validate' | 'cleanup_source' | 'purge' | null;
  /**
   * When the next action is or was due: at or before the as-of date means due now; null without a next action.
   */
  next_action_at: string | null;
} | null;

/**
 * The output of `offload status --format json` (a documented contract): for every table a scope claims — including
 * those with nothing to do — its dates, the action due now, the next action and when, and its state in the run ledger,
 * as decided by the same policy engine as the pipeline.
 */
export interface StatusResult {
  /**
   * Version of this format; incompatible changes get a new number.
   */
  format_version: 1;
  /**
   * The date ages were evaluated at (ISO-8601 UTC).
   */
  as_of: string;
  /**
   * Inventory folder used (relative to the repository root, or absolute).
   */
  inventory: string;
  /**
   * The run ledger the states (`tables[].state`) and archive records came from, e.g. `local:.offload/state/ledger`;
   * null when none was read (every state is then null).
   */
  ledger: string | null;
  /**
   * True when every selected database was evaluated from a complete inventory and no table had a problem; when false
   * the command exits 1.
   */
  complete: boolean;
  /**
   * Counts over the listed tables.
   */
  summary: {
    /**
     * Tables listed.
     */
    tables: number;
    /**
     * Tables with an action due now.
     */
    due_now: number;
    /**
     * Tables that could not be evaluated.
     */
    problems: number;
    /**
     * Tables per next action (`none`: nothing will happen).
     */
    next: {
      /**
       * Tables whose next action is `archive`.
       */
      archive: number;
      /**
       * Tables whose next action is `validate`.
       */
      validate: number;
      /**
       * Tables whose next action is `cleanup_source`.
       */
      cleanup_source: number;
      /**
       * Tables whose next action is `purge`.
       */
      purge: number;
      /**
       * Tables with no next action (held, kept with no end, purged) or no date.
       */
      none: number;
    };
  };
  /**
   * The selected databases, by name: evaluation status and problems.
   */
  databases: {
    /**
     * Database config name.
     */
    database: string;
    /**
     * `ok`; `partial`: evaluated from an incomplete inventory; `failed`: not evaluated (see `problems`).
     */
    status: 'ok' | 'partial' | 'failed';
    /**
     * When the inventory used was discovered; null when there was none.
     */
    inventory_discovered_at: string | null;
    /**
     * Tables a scope of the database claims (rows in `tables`).
     */
    tables: number;
    /**
     * Tables of the inventory no scope claims (not listed).
     */
    unclaimed: number;
    /**
     * Why the database could not be evaluated fully (missing or partial inventory, a schema not discovered).
     */
    problems: {
      /**
       * Stable code, e.g. `inventory/missing`.
       */
      code: string;
      /**
       * What is wrong and how to fix it.
       */
      message: string;
    }[];
  }[];
  /**
   * Every table a scope claims, sorted by database, schema and table.
   */
  tables: {
    /**
     * Database config name.
     */
    database: string;
    /**
     * Schema of the table, exactly as the engine stores it.
     */
    schema: string;
    /**
     * Table name, exactly as the engine stores it.
     */
    table: string;
    /**
     * `table`, `partitioned_table` (archived whole) or `partition` (decided with its parent).
     */
    kind: 'table' | 'partitioned_table' | 'partition';
    /**
     * Policy deciding the table; null when none does (a conflict, a partition, a problem before a policy applied).
     */
    policy: string | null;
    /**
     * What the pipeline does now: `none`, `archive`, `purge` (the archive) or `cleanup_source`.
     */
    action: 'none' | 'archive' | 'purge' | 'cleanup_source';
    /**
     * True when `action` is not `none`: the next run acts on the table.
     */
    due_now: boolean;
    /**
     * Why, in words (also for tables with nothing to do).
     */
    reason: string;
    schedule: Schedule;
    /**
     * Why the table (or database) could not be evaluated: a stable code and a message saying what to do; null when it
     * was.
     */
    problem: {
      /**
       * Stable code, e.g. `engine/name-bad-date`, `engine/conflict`, `inventory/missing`.
       */
      code: string;
      /**
       * What is wrong and how to fix it.
       */
      message: string;
    } | null;
    /**
     * Estimated rows at the source (or archived, when the source is gone); null when unknown.
     */
    rows: number | null;
    /**
     * Size at the source in bytes; null when unknown.
     */
    bytes: number | null;
    /**
     * Whether the source table still exists (false: only its archive is left).
     */
    in_source: boolean;
    /**
     * The table's current state in the run ledger (the pipeline's record of every transition, `offload status
     * --ledger`); null when no ledger was read or it holds nothing about the table.
     */
    state: {
      /**
       * The last state recorded: `planned`, `archiving`, `archived`, `validated`, `source_renamed`, `source_dropped`,
       * `purged` or `failed`.
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
       * The run that recorded the last transition.
       */
      run_id: string;
      /**
       * The Iceberg snapshot the archive is at (a 64-bit id, as decimal text so it stays exact); null when there is
       * none yet.
       */
      snapshot_id: string | null;
      /**
       * When the last transition was recorded (ISO-8601 UTC).
       */
      updated_at: string;
    } | null;
  }[];
}
