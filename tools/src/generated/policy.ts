/* Generated from schema/policy.schema.json by tools/scripts/generate-types.ts — do not edit. */

/**
 * One retention policy: `policies/<name>.yaml`. Says how a table's age is found, when it is archived, how long the
 * archive is kept, how the archive is validated and what happens to the source.
 */
export interface PolicyConfig {
  /**
   * Unique policy name; must equal the file name without `.yaml`.
   */
  name: string;
  /**
   * What the policy is for and which rule or regulation it implements.
   */
  description?: string;
  /**
   * How a table's age is found. The age is the time between the table's date and the as-of date.
   */
  age: {
    /**
     * `table_name`: a date written in the table name; `column`: the maximum of a date or timestamp column;
     * `last_modified`: the engine's last-modification time of the table.
     */
    from: 'table_name' | 'column' | 'last_modified';
    /**
     * With `from: table_name`: where the date sits in the name. `YYYY`, `MM` and `DD` stand for digits, `*` for any
     * text; the rest is literal. The table's date is the last day of the period the name gives (a month table ages from
     * its last day).
     */
    pattern?: string;
    /**
     * With `from: column`: the date or timestamp column whose maximum is the table's date.
     */
    column?: string;
  };
  /**
   * ISO-8601 duration after the table's date from which the table is archived.
   */
  archive_after: string;
  /**
   * ISO-8601 duration after the table's date from which the archive is purged. Must not be shorter than
   * `archive_after`. Omit to keep archives until a person purges them.
   */
  purge_after?: string;
  /**
   * How an archive is proven complete before anything else happens to it.
   */
  validation?: {
    /**
     * Compare row counts (source count computed by the source database).
     */
    row_count?: boolean;
    /**
     * Compare per-column aggregates computed by the source database with the same aggregates over the archive.
     */
    aggregates?: boolean;
    /**
     * Compare a hash of every row (`full`) or of a sample chosen by key hash (`sample`), or skip it (`none`).
     */
    row_hash?: 'full' | 'sample' | 'none';
    /**
     * With `row_hash: sample`: the share of rows hashed, in percent.
     */
    sample_percent?: number;
    /**
     * How many differing keys a failed validation names at most.
     */
    max_reported_mismatches?: number;
  };
  /**
   * What happens to the source table after a validated archive.
   */
  source?: {
    /**
     * `keep` leaves the source untouched (the default); `drop` renames it after a passed validation and drops it after
     * the grace period.
     */
    action: 'keep' | 'drop';
    /**
     * With `action: drop`: ISO-8601 duration between the rename and the drop.
     */
    grace_period?: string;
  };
  /**
   * While enabled, no archive governed by this policy is purged: the hold is recorded with each archive and no forced
   * purge overrides it; only a reviewed change setting enabled to false lifts it.
   */
  legal_hold?: {
    /**
     * Whether the hold is in force.
     */
    enabled: boolean;
    /**
     * Why the hold exists (required when enabled).
     */
    reason?: string;
    /**
     * Ticket or case reference of the hold.
     */
    reference?: string;
  };
  /**
   * When two policies claim one table with different outcomes, the one with the higher priority wins. Equal or missing
   * priorities on such a conflict are an error.
   */
  priority?: number;
  /**
   * Optional partition spec of the archive table (Iceberg transforms).
   */
  partitioning?: {
    /**
     * Source column to partition by.
     */
    column: string;
    /**
     * Iceberg partition transform.
     */
    transform: 'identity' | 'year' | 'month' | 'day' | 'hour' | 'bucket' | 'truncate';
    /**
     * With `bucket` (number of buckets) or `truncate` (width).
     */
    width?: number;
  }[];
}
