/* Generated from schema/inventory.schema.json by tools/scripts/generate-types.ts — do not edit. */

/**
 * A snapshot of one source database's catalog, written by `offload discover` (`inventory/<database>.json`). Previews
 * and the policy engine read it, so a pull-request check needs no network path to the database.
 */
export interface Inventory {
  /**
   * Version of this format. Readers refuse versions they do not know.
   */
  format_version: 1;
  /**
   * The program that wrote the snapshot.
   */
  tool: {
    /**
     * Program name.
     */
    name: string;
    /**
     * Program version (package.json).
     */
    version: string;
  };
  /**
   * When discovery started (ISO-8601, UTC).
   */
  discovered_at: string;
  /**
   * Name of the database config (`databases/<name>.yaml`).
   */
  database: string;
  /**
   * Engine of the database.
   */
  engine: 'postgres' | 'mysql' | 'mariadb' | 'oracle' | 'sqlserver';
  /**
   * True when something could not be read (see `errors`): a preview refuses to evaluate a partial database.
   */
  partial: boolean;
  /**
   * Everything that could not be read, per database (no `table`) or per table.
   */
  errors: {
    /**
     * Stable code, e.g. `discover/unreachable`, `discover/table-missing`.
     */
    code: string;
    /**
     * What went wrong, in words.
     */
    message: string;
    /**
     * Schema concerned, if any.
     */
    schema?: string;
    /**
     * Table concerned, if any.
     */
    table?: string;
  }[];
  /**
   * The schemas discovery was asked to read, and whether each exists.
   */
  schemas: {
    /**
     * Schema name as the engine stores it.
     */
    name: string;
    /**
     * Whether the schema exists (and is visible to the user).
     */
    found: boolean;
  }[];
  /**
   * Whether the engine keeps a last-modification time of tables (PostgreSQL does not).
   */
  keeps_last_modified: boolean;
  /**
   * Base tables of the schemas read (views excluded), sorted by schema and name.
   */
  tables: Table[];
}
/**
 * One base table.
 */
export interface Table {
  /**
   * Schema (MySQL/MariaDB: database) of the table.
   */
  schema: string;
  /**
   * Table name exactly as the engine stores it.
   */
  name: string;
  /**
   * `table`; `partitioned_table` (a table split in partitions); `partition` (PostgreSQL: a table that is a partition of
   * another, archived with its parent).
   */
  kind: 'table' | 'partitioned_table' | 'partition';
  /**
   * For a partition: the partitioned table it belongs to.
   */
  partition_of: {
    /**
     * Schema of the partitioned table.
     */
    schema: string;
    /**
     * Name of the partitioned table.
     */
    name: string;
  } | null;
  /**
   * Number of partitions of a partitioned table, 0 otherwise.
   */
  partitions: number;
  /**
   * Columns in table order.
   */
  columns: {
    /**
     * Column name.
     */
    name: string;
    /**
     * The engine's type name.
     */
    type: string;
    /**
     * Whether the column accepts NULL.
     */
    nullable: boolean;
    /**
     * Numeric precision, character length or fractional-second digits; null when none applies.
     */
    precision: number | null;
    /**
     * Numeric scale; null when none applies.
     */
    scale: number | null;
  }[];
  /**
   * Primary-key columns in key order; empty when there is none.
   */
  primary_key: string[];
  /**
   * Estimated rows (optimizer statistics); null when unknown.
   */
  rows: number | null;
  /**
   * Size at the source in bytes (data and indexes); null when unknown.
   */
  bytes: number | null;
  /**
   * Last modification time the engine keeps (ISO-8601 UTC); null when it keeps none or forgot it (restart), and on
   * MySQL/MariaDB when no `last_modified` policy claimed the table at discovery (reading it means opening the table).
   */
  last_modified: string | null;
  /**
   * Measured `max(column)` values used as table ages (policies with `age.from: column`), by column name.
   */
  column_max: {
    [k: string]:
      | {
          /**
           * The maximum as ISO-8601 UTC; null for an empty table.
           */
          value: string | null;
          /**
           * When it was measured (ISO-8601 UTC).
           */
          measured_at: string;
        }
      | undefined;
  };
}
