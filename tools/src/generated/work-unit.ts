/* Generated from schema/work-unit.schema.json by tools/scripts/generate-types.ts — do not edit. */

/**
 * One place credentials may be found.
 */
export type CredentialSource =
  | {
      /**
       * Environment variables.
       */
      kind: 'env';
      /**
       * Variable name prefix: `OFFLOAD_DB_` + the database name upper-cased with every character outside A–Z, 0–9
       * turned to `_`, + `_`.
       */
      prefix: string;
    }
  | {
      /**
       * A local credentials file.
       */
      kind: 'local_file';
      /**
       * Entry under `databases:` in the file.
       */
      key: string;
      /**
       * Files tried in order (`~` is the job's home directory); a missing file is skipped.
       */
      paths: string[];
    }
  | {
      /**
       * AWS Secrets Manager.
       */
      kind: 'secrets_manager';
      /**
       * Secret name or ARN (the database config's `credentials.secret`).
       */
      secret_id: string;
      /**
       * Region of the secret when the ARN does not name it (else the job's AWS region).
       */
      region?: string;
    }
  | {
      /**
       * A Glue connection.
       */
      kind: 'glue_connection';
      /**
       * Glue connection name (the database name).
       */
      name: string;
    };

/**
 * One action on one table, as the policy engine decided it: the contract between the control plane (TypeScript, which
 * builds it) and the data-plane jobs (which run it with `--work_unit <file|s3 uri>`). Everything a job needs is
 * resolved here once — engine spelling, host/port/database parsed from the JDBC URL, archive namespace and table name,
 * partition spec, retention end, legal hold, validation settings — and never recomputed by a job. It never holds a
 * password: only where the job finds the credentials.
 */
export interface WorkUnit {
  /**
   * Version of this format.
   */
  format: 1;
  /**
   * Unique id of the work unit: `<action>:<database>.<archive table>@<run id>`.
   */
  id: string;
  /**
   * What the job does: `archive` (copy the source table into its Iceberg archive), `validate` (compare the archive with
   * the source), `cleanup_source` (rename, later drop, the source table), `purge` (drop the archive).
   */
  action: 'archive' | 'validate' | 'cleanup_source' | 'purge';
  /**
   * The pipeline run this unit belongs to; the archive job writes it into the archive's lineage and the run ledger
   * records it with every transition.
   */
  run_id: string;
  /**
   * Git commit of the configs the unit was planned from (as recorded by the last sync, or the working tree's HEAD).
   */
  config_commit: string;
  /**
   * The as-of date (ISO-8601 UTC) the policy engine decided against.
   */
  as_of: string;
  /**
   * Name of the database config (`databases/<name>.yaml`) the table belongs to.
   */
  database: string;
  /**
   * The source table and how to reach it.
   */
  source: {
    /**
     * Source engine, spelled as in the database configs (`postgres`, not `postgresql`).
     */
    engine: 'postgres' | 'mysql' | 'mariadb' | 'oracle' | 'sqlserver';
    /**
     * Host name or address, parsed from the JDBC URL (or from the local URL override the credentials give).
     */
    host: string;
    /**
     * TCP port; the engine's default port when the URL names none.
     */
    port: number;
    /**
     * Database (PostgreSQL, SQL Server), service name (Oracle) or default schema (MySQL/MariaDB) of the URL.
     */
    database: string;
    /**
     * Where host, port and database come from: the config's `jdbc_url`, or a URL override found with the credentials
     * when the unit was planned (`OFFLOAD_DB_<NAME>_URL` or the credentials file's `url`).
     */
    address_from?: 'jdbc_url' | 'credentials_url';
    /**
     * Exact schema name of the source table, as the engine stores it.
     */
    schema: string;
    /**
     * Exact name of the source table, as the engine stores it.
     */
    table: string;
    /**
     * Where the job finds the user name and password: the sources are tried in order and the first that has them wins
     * (the same order as `offload discover`). Never the values themselves.
     */
    credentials: {
      /**
       * The database name the credentials are kept under (the key in the credentials file; upper-cased in the
       * environment variable names).
       */
      name: string;
      /**
       * Credential sources in the order they are tried.
       *
       * @minItems 1
       */
      sources: [CredentialSource, ...CredentialSource[]];
    };
  };
  /**
   * The Iceberg archive table the unit writes, checks or purges.
   */
  archive: {
    /**
     * Name of the Iceberg catalog in the job's Spark session.
     */
    catalog: string;
    /**
     * Archive namespace: the Glue database of the source database's archives (settings prefix + database name unless
     * the config names one).
     */
    namespace: string;
    /**
     * Archive table name inside the namespace: `<schema>__<table>` when both are plain lower-case names, else a
     * sanitised name with a hash suffix (see glue/README.md).
     */
    table: string;
    /**
     * S3 location of the namespace on AWS (the local runtime keeps its warehouse directory instead).
     */
    location: string;
    /**
     * Partition fields of the archive table, from the policy's `partitioning` (empty: unpartitioned).
     */
    partition_spec: {
      /**
       * Source column partitioned by.
       */
      column: string;
      /**
       * Iceberg partition transform.
       */
      transform: 'identity' | 'year' | 'month' | 'day' | 'hour' | 'bucket' | 'truncate';
      /**
       * Number of buckets (`bucket`) or truncation width (`truncate`).
       */
      width?: number;
    }[];
    /**
     * For `validate`, `cleanup_source` and `purge`: the run whose archive the unit acts on (the archive's lineage must
     * name it); null for `archive`, which writes its own run id.
     */
    run_id?: string | null;
    /**
     * For units after the archive: the archive snapshot the run ledger recorded, as decimal text (Iceberg snapshot ids
     * are 64-bit; JSON numbers lose digits past 2^53); null when not known yet.
     */
    snapshot_id?: string | null;
  };
  /**
   * The policy that decided the unit, with what the jobs must honour from it.
   */
  policy: {
    /**
     * Policy name (`policies/<name>.yaml`).
     */
    name: string;
    /**
     * Date (YYYY-MM-DD, UTC) from which the archive may be purged: the table's date plus `purge_after`; null when the
     * policy keeps archives with no end.
     */
    retention_end: string | null;
    /**
     * The policy's legal hold as it stands in the reviewed config; recorded with the archive when it is written and
     * honoured by purge.
     */
    legal_hold: {
      /**
       * Whether the hold is in force.
       */
      enabled: boolean;
      /**
       * Why the hold exists.
       */
      reason?: string;
      /**
       * Ticket or case reference of the hold.
       */
      reference?: string;
    };
    /**
     * What happens to the source table after a validated archive: `keep` or `drop` (rename, grace period, drop).
     */
    source_action: 'keep' | 'drop';
    /**
     * With `source_action: drop`: the ISO-8601 duration between the rename and the drop.
     */
    grace_period?: string | null;
  };
  /**
   * How the validate job compares the archive with the source (the policy's `validation`, defaults filled in).
   */
  validation: {
    /**
     * Compare row counts.
     */
    row_count: boolean;
    /**
     * Compare per-column aggregates computed by the source database.
     */
    aggregates: boolean;
    /**
     * Row hashes of every row (`full`), of a sample chosen by key hash (`sample`), or none.
     */
    row_hash: 'full' | 'sample' | 'none';
    /**
     * Share of rows whose hashes are compared, in percent (100 with `full`).
     */
    sample_percent: number;
    /**
     * How many differing keys a failed validation names at most.
     */
    max_reported_mismatches: number;
  };
  /**
   * Why the engine planned the unit, for logs and reports.
   */
  decision: {
    /**
     * The engine's reason, in words.
     */
    reason: string;
    /**
     * The table's date its age counts from (ISO-8601 UTC), null when unknown.
     */
    table_date: string | null;
    /**
     * Estimated rows at discovery (null when unknown).
     */
    rows: number | null;
    /**
     * Estimated bytes at discovery (null when unknown).
     */
    bytes: number | null;
  };
}
