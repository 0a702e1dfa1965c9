/* Generated from schema/validation-result.schema.json by tools/scripts/generate-types.ts — do not edit. */

/**
 * Written by glue/validate_table.py for the report step: the comparison of an Iceberg archive with its source table.
 * The row count and column aggregates (non-NULL counts, exact sums, float min/max) on the source side are computed by
 * the source database in SQL; row hashes and text-length sums are computed by Spark over the canonical texts the source
 * database produces, and over the archive. Where no Spark is needed (engine arrow), the archive's side is computed by
 * the job's own process with pyarrow over the data files.
 */
export interface ValidationResultRecord {
  /**
   * Which job wrote the record.
   */
  job: 'validate';
  /**
   * Version of this record format.
   */
  schema_version: 1;
  /**
   * failed when mismatches is not empty
   */
  status: 'passed' | 'failed';
  /**
   * run id in the archive's lineage
   */
  run_id?: string | null;
  /**
   * <archive database>.<archive table>
   */
  archive_table: string;
  /**
   * Spark catalog name the archive was read through (Glue Data Catalog on AWS, a local Hadoop catalog otherwise).
   */
  catalog: string;
  /**
   * the Iceberg snapshot validated
   */
  archive_snapshot_id?: number | null;
  /**
   * The source table compared with, as named in the lineage.
   */
  source: {
    /**
     * Source engine family (MariaDB is read as mysql).
     */
    engine: 'postgresql' | 'mysql';
    /**
     * Source host (never credentials).
     */
    host: string;
    /**
     * Source port.
     */
    port: number;
    /**
     * Source database.
     */
    database: string;
    /**
     * Source schema (MySQL/MariaDB: database).
     */
    schema: string;
    /**
     * Source table.
     */
    table: string;
  };
  /**
   * When the validation finished (UTC).
   */
  validated_at: string;
  /**
   * Row-hash mode: every row, or a sample chosen by key hash.
   */
  mode: 'full' | 'sampled';
  /**
   * Share of rows hashed (100 in full mode).
   */
  sample_percent: number;
  /**
   * lineage | schema | row_count | row_hash | column:<name> | archive_unreadable
   */
  mismatches: string[];
  /**
   * Whether the archive's lineage names this source table.
   */
  lineage: {
    /**
     * True when the lineage matches the source.
     */
    match: boolean;
    /**
     * Lineage fields that differ.
     */
    differences: string[];
  };
  /**
   * Whether the archive's columns are the ones the source table maps to.
   */
  schema: {
    /**
     * True when the column lists agree.
     */
    match: boolean;
    /**
     * Expected and actual column lists where they differ.
     */
    differences: {
      /**
       * Columns the source maps to.
       */
      expected?: string[] | null;
      /**
       * Columns the archive has.
       */
      actual?: string[] | null;
    }[];
  };
  /**
   * Row counts: the source count computed by the source database.
   */
  row_count?: {
    /**
     * Rows in the source table.
     */
    source: number;
    /**
     * Rows in the archive snapshot.
     */
    archive: number;
    /**
     * True when the counts are equal.
     */
    match: boolean;
  };
  /**
   * Per-column aggregates, source (computed in SQL by the source database) against archive (computed by Spark).
   */
  columns?: {
    /**
     * Column name.
     */
    name: string;
    /**
     * Iceberg type of the archived column.
     */
    archive_type: string;
    /**
     * false: not part of the row hash (MySQL float/double), checked by aggregates only
     */
    hashed: boolean;
    /**
     * True when every aggregate agrees.
     */
    match: boolean;
    /**
     * non_null_count, text_length_sum (UTF-8 bytes of the canonical texts; columns hashed as text, not integers, dates,
     * timestamps and decimals up to 18 digits, which hash as 64-bit integers), sum (exact, integers and decimals),
     * min/max (floats); each source vs archive
     */
    checks: {
      /**
       * One aggregate: the source value (computed by the source database) and the archive value.
       */
      [k: string]:
        | {
            /**
             * Aggregate computed by the source database.
             */
            source: number | string | null;
            /**
             * Same aggregate over the archive.
             */
            archive: number | string | null;
          }
        | undefined;
    };
  }[];
  /**
   * Row-hash comparison by buckets of key hash; differing keys are named up to a limit.
   */
  row_hash?: {
    /**
     * Key-hash buckets compared.
     */
    buckets_compared: number;
    /**
     * Buckets whose hash differs.
     */
    buckets_mismatched: number;
    /**
     * keys that differ within the examined buckets
     */
    differing_keys: number;
    /**
     * true when more keys differ than are listed
     */
    truncated: boolean;
    /**
     * primary key; empty: rows are keyed by their own hash
     */
    key_columns: string[];
    /**
     * Columns left out of the row hash (checked by aggregates only).
     */
    excluded_columns: string[];
    /**
     * The differing keys, up to the limit.
     */
    keys: {
      /**
       * key column -> canonical text (or row_hash, the row hash as decimal text, when the table has no primary key)
       */
      key: {
        [k: string]: string | null | undefined;
      };
      /**
       * How the row differs.
       */
      kind:
        | 'missing_in_archive'
        | 'unexpected_in_archive'
        | 'duplicated_in_archive'
        | 'missing_duplicates_in_archive'
        | 'changed';
      /**
       * Rows with this key in the source.
       */
      source_rows: number;
      /**
       * Rows with this key in the archive.
       */
      archive_rows: number;
      /**
       * for changed rows: the columns whose canonical text differs
       */
      columns?: string[];
    }[];
    /**
     * How the row hashes were compared: source_checksum (the source database computed per-bucket checksums with
     * PostgreSQL's extended hash functions, rows streamed only for differing buckets) or streamed (every row's
     * canonical texts streamed and hashed by Spark).
     */
    method?: 'source_checksum' | 'streamed';
    /**
     * Why the rows were streamed rather than checksummed by the source (absent for source_checksum).
     */
    method_reason?: string;
  };
  /**
   * What computed the archive's side: arrow (no Spark: the source database's SQL against pyarrow's reading of the data
   * files, used for a PostgreSQL source's full validation and only when everything agrees) or spark (every other case,
   * and every failed validation, whose report names the keys).
   */
  engine?: 'arrow' | 'spark';
  /**
   * Why the Spark validation ran instead of the arrow path (with engine spark; absent when Spark was asked for).
   */
  engine_reason?: string;
  /**
   * Set when the archive's data could not be read: the damaged data files of the validated snapshot.
   */
  archive_unreadable?: {
    /**
     * Data files that are missing, of another length than the snapshot records, or named by the read error.
     */
    files: {
      /**
       * The data file.
       */
      path: string;
      /**
       * What is wrong with it (one line, no stack trace).
       */
      error: string;
    }[];
    /**
     * The read error's cause, one line.
     */
    message: string;
  };
  /**
   * Wall time of the validation.
   */
  seconds?: number;
  /**
   * Where this record was written.
   */
  result_record?: string;
}
