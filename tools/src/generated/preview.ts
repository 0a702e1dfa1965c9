/* Generated from schema/preview.schema.json by tools/scripts/generate-types.ts — do not edit. */

/**
 * The dates behind the change, from the working tree's decision (for `removed`, the working tree's decision of the
 * table when it still has one).
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
 * The output of `offload preview --format json` (a documented contract): what a config change changes — tables newly
 * archived, purged or cleaned up, or no longer — between a base git revision and the working tree, evaluated by the
 * same policy engine as the pipeline over the same inventories.
 */
export interface PreviewResult {
  /**
   * Version of this format; incompatible changes get a new number.
   */
  format_version: 1;
  /**
   * The git revision the working tree is compared with.
   */
  base: string;
  /**
   * The date ages were evaluated at (ISO-8601).
   */
  as_of: string;
  /**
   * Inventory folder used, or `live`.
   */
  inventory: string;
  /**
   * True when every database was evaluated from a complete inventory on both sides and no table of the working tree had
   * a problem. When false, `changes` may be incomplete and the command exits 1.
   */
  complete: boolean;
  /**
   * Totals over all changes.
   */
  summary: {
    /**
     * Tables changed.
     */
    tables: number;
    /**
     * Estimated rows of those tables (unknown counts as 0).
     */
    rows: number;
    /**
     * Size at the source of those tables in bytes (unknown counts as 0).
     */
    bytes: number;
    /**
     * Source bytes the change frees (tables whose policy drops the source after archiving); negative when it frees less
     * than before.
     */
    source_freed_bytes: number;
    /**
     * Changes of kind `added`.
     */
    added: number;
    /**
     * Changes of kind `removed`.
     */
    removed: number;
    /**
     * Changes of kind `changed`.
     */
    changed: number;
  };
  /**
   * Every changed table, sorted by database, schema and table.
   */
  changes: {
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
     * Policy deciding the table after the change (before it, for `removed`); null when none decides.
     */
    policy: string | null;
    /**
     * The action after the change: `none` (for `removed`), `archive`, `purge` (the archive) or `cleanup_source`.
     */
    action: 'none' | 'archive' | 'purge' | 'cleanup_source';
    /**
     * `added`: newly affected; `removed`: no longer affected; `changed`: a different action or policy.
     */
    change: 'added' | 'removed' | 'changed';
    /**
     * Estimated rows of the table; null when unknown.
     */
    rows: number | null;
    /**
     * Size of the table at the source in bytes; null when unknown.
     */
    bytes: number | null;
    /**
     * Why, after the change (for `removed`: why the table is no longer affected), in words.
     */
    reason: string;
    /**
     * The action before the change (`none` for `added`).
     */
    previous_action: 'none' | 'archive' | 'purge' | 'cleanup_source';
    /**
     * The policy deciding the table before the change; null for `added`.
     */
    previous_policy: string | null;
    /**
     * Source bytes this change frees (negative: no longer freed).
     */
    source_freed_bytes: number;
    schedule: Schedule;
  }[];
  /**
   * Per database: evaluation status and totals of its changes.
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
     * Tables of this database that change.
     */
    tables: number;
    /**
     * Estimated rows of those tables (unknown counts as 0).
     */
    rows: number;
    /**
     * Size at the source of those tables in bytes (unknown counts as 0).
     */
    bytes: number;
    /**
     * Source bytes the change frees (tables whose policy drops the source after archiving); negative when it frees less
     * than before.
     */
    source_freed_bytes: number;
    /**
     * Whole days from the inventory's discovery to when the preview ran (the real clock, not `as_of`); null when there
     * was no inventory.
     */
    inventory_age_days?: number | null;
    /**
     * When the last discovery of this database failed after the snapshot used was taken
     * (`inventory/<database>.error.json`): the preview is evaluated from the older, last good snapshot. Null when the
     * last discovery succeeded.
     */
    last_discovery_failure?: {
      /**
       * When the failed discovery started (ISO-8601, UTC).
       */
      failed_at: string;
      /**
       * What failed, as the discovery recorded it.
       */
      errors: {
        /**
         * Stable code, e.g. `discover/unreachable`.
         */
        code: string;
        /**
         * What went wrong, in words.
         */
        message: string;
      }[];
    } | null;
  }[];
  /**
   * Per policy (of each change): totals of its changes.
   */
  policies: {
    /**
     * Policy name (`(none)` for changes no policy decides).
     */
    policy: string;
    /**
     * Tables of this policy that change.
     */
    tables: number;
    /**
     * Estimated rows of those tables (unknown counts as 0).
     */
    rows: number;
    /**
     * Size at the source of those tables in bytes (unknown counts as 0).
     */
    bytes: number;
    /**
     * Source bytes the change frees (tables whose policy drops the source after archiving); negative when it frees less
     * than before.
     */
    source_freed_bytes: number;
  }[];
  /**
   * What could not be evaluated: databases (missing or partial inventory, unreachable) and tables (impossible dates,
   * conflicts…).
   */
  problems: {
    /**
     * Database concerned (`*` for the whole base revision).
     */
    database: string;
    /**
     * Schema of the table concerned, if any.
     */
    schema?: string;
    /**
     * Table concerned, if any.
     */
    table?: string;
    /**
     * Stable code, e.g. `inventory/missing`, `engine/name-bad-date`, `engine/conflict`.
     */
    code: string;
    /**
     * What is wrong and how to fix it.
     */
    message: string;
    /**
     * `head`: the working tree's evaluation (makes the preview incomplete); `base`: the base revision's (a note).
     */
    side: 'head' | 'base';
  }[];
  /**
   * Things to know that do not stop the evaluation: an inventory of a database that has no config, a database evaluated
   * from an older snapshot because its last discovery failed.
   */
  warnings?: {
    /**
     * Database concerned (for an unknown inventory: the name its file gives).
     */
    database: string;
    /**
     * Stable code: `inventory/unknown-database` or `inventory/last-discovery-failed`.
     */
    code: string;
    /**
     * What it means and what to do.
     */
    message: string;
  }[];
  /**
   * Lake Formation changes of the pull request: the grants, data-lake administrators and data locations the working
   * tree's `governance` sections declare, against the base revision's — computed by the same function as `offload
   * governance plan`. Revokes take effect only with `offload governance apply --prune`.
   */
  governance: {
    /**
     * Grants the change adds.
     */
    grants_added: {
      /**
       * IAM role or user ARN the permission is granted to.
       */
      principal: string;
      /**
       * Archive Glue database the permission is on.
       */
      glue_database: string;
      /**
       * `*` for all tables of the database (absent: the database itself).
       */
      table?: string;
      /**
       * Lake Formation permission.
       */
      permission: string;
    }[];
    /**
     * Grants the change no longer declares (a removed consumer, permission or database).
     */
    grants_revoked: {
      /**
       * IAM role or user ARN the permission is granted to.
       */
      principal: string;
      /**
       * Archive Glue database the permission is on.
       */
      glue_database: string;
      /**
       * `*` for all tables of the database (absent: the database itself).
       */
      table?: string;
      /**
       * Lake Formation permission.
       */
      permission: string;
    }[];
    /**
     * Data-lake administrators the change adds.
     */
    admins_added: string[];
    /**
     * Data-lake administrators the change no longer declares.
     */
    admins_removed: string[];
    /**
     * Archive data locations (S3 ARNs) the change registers with Lake Formation.
     */
    locations_registered: string[];
  };
}
