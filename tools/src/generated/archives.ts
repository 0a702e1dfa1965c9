/* Generated from schema/archives.schema.json by tools/scripts/generate-types.ts — do not edit. */

/**
 * The output of `offload archives --format json` (a documented contract): every Iceberg archive of a local warehouse
 * with its size, current snapshot, lineage, retention and last validation, read from the tables' metadata files and the
 * validation records.
 */
export interface ArchivesResult {
  /**
   * Version of this format; incompatible changes get a new number.
   */
  format_version: 1;
  /**
   * The warehouse directory read (absolute).
   */
  warehouse: string;
  /**
   * The validation results folder read; null when none was given.
   */
  results: string | null;
  /**
   * Every archive, sorted by namespace and table.
   */
  archives: {
    /**
     * `<namespace>.<table>`: how Spark SQL, Athena and pyiceberg name it (in catalog `offload`, `glue_catalog`, …).
     */
    archive: string;
    /**
     * Iceberg namespace (the Glue database on AWS).
     */
    namespace: string;
    /**
     * Archive table name (`<schema>__<table>` for plain names).
     */
    table: string;
    /**
     * The database config whose archives live in this namespace; null when no config maps to it (or no config
     * repository was read).
     */
    database: string | null;
    /**
     * The table's location as its metadata records it.
     */
    location: string;
    /**
     * The current metadata file, relative to the warehouse.
     */
    metadata_file: string;
    /**
     * Iceberg table format version.
     */
    format_version: number | null;
    /**
     * Rows archived (the job's recorded count, else Iceberg's `total-records`); null when unknown.
     */
    rows: number | null;
    /**
     * Bytes of the current snapshot's data files (Iceberg's `total-files-size`).
     */
    bytes: number | null;
    /**
     * Data files of the current snapshot.
     */
    data_files: number | null;
    /**
     * The current snapshot (a 64-bit id, as a string so it stays exact); null for a table with no snapshot.
     */
    current_snapshot_id: string | null;
    /**
     * When the current snapshot was committed (ISO-8601 UTC).
     */
    snapshot_at: string | null;
    /**
     * The source table the archive was copied from (its lineage); null when the table carries no lineage (not written
     * by the archive job).
     */
    source: {
      /**
       * Source engine as the job recorded it.
       */
      engine: string | null;
      /**
       * Source host.
       */
      host: string | null;
      /**
       * Source port.
       */
      port: number | null;
      /**
       * Source database (MySQL/MariaDB: the schema's database).
       */
      database: string | null;
      /**
       * Source schema, exactly.
       */
      schema: string | null;
      /**
       * Source table, exactly.
       */
      table: string;
    } | null;
    /**
     * Run that wrote the archive.
     */
    run_id: string | null;
    /**
     * Git commit of the configs the run was planned from.
     */
    config_commit: string | null;
    /**
     * Retention policy the archive was written under.
     */
    policy: string | null;
    /**
     * When the source was read.
     */
    extracted_at: string | null;
    /**
     * Retention end recorded with the archive: purge is refused before it.
     */
    retention_until: string | null;
    /**
     * Legal hold recorded with the archive; null when the archive records none (written before holds were recorded).
     */
    legal_hold: boolean | null;
    /**
     * Reason given when a refusal was overridden for this archive; null when none was.
     */
    forced_reason: string | null;
    /**
     * The latest validation record of the archive (from the results folder); null when none was found.
     */
    validation: {
      /**
       * `passed` or `failed`.
       */
      status: 'passed' | 'failed';
      /**
       * When the validation finished (UTC).
       */
      validated_at: string;
      /**
       * Run id in the archive's lineage at validation.
       */
      run_id: string | null;
      /**
       * The Iceberg snapshot validated (a 64-bit id, as a string).
       */
      snapshot_id: string | null;
      /**
       * True when the validated snapshot is the archive's current one (false: the archive changed since).
       */
      current: boolean;
      /**
       * Row-hash mode: `full` or `sampled`.
       */
      mode: string;
      /**
       * Number of mismatches found (0 when passed).
       */
      mismatches: number;
      /**
       * File name of the validation record in the results folder.
       */
      record: string;
    } | null;
  }[];
  /**
   * Tables or records that could not be read, with why.
   */
  problems: string[];
}
