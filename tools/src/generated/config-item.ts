/* Generated from schema/config-item.schema.json by tools/scripts/generate-types.ts — do not edit. */

/**
 * One config item of the config table (DynamoDB; the local target keeps one JSON file per item): a validated config as
 * `offload sync` wrote it, with the values derived from the settings. What the Lambdas and DAGs read. The table also
 * holds one sync-state item (`pk` `SYNC#STATE`), internal to sync and not described here.
 */
export interface ConfigItem {
  /**
   * Partition key: `SETTINGS`, `DATABASE#<name>` or `POLICY#<name>`.
   */
  pk: string;
  /**
   * Which config this is.
   */
  kind: 'settings' | 'database' | 'policy';
  /**
   * The config's name (`settings` for the settings file).
   */
  name: string;
  /**
   * Repository-relative path of the YAML file it came from.
   */
  source_file: string;
  /**
   * Key of the published file in the config bucket: `<config prefix>/<source_file>`.
   */
  s3_key: string;
  /**
   * The validated config as parsed (schema/database.schema.json, policy.schema.json or settings.schema.json); comments
   * and formatting are gone.
   */
  config: {};
  /**
   * Databases only: the values the pipeline uses once the settings are applied.
   */
  resolved?: {
    /**
     * Name of the database's Glue connection (the archive jobs use it).
     */
    glue_connection: string;
    /**
     * Glue database of the archives.
     */
    glue_database: string;
    /**
     * S3 location of the archives (ends with `/`).
     */
    s3_location: string;
    /**
     * Discovery schedule (EventBridge expression), the database's or the settings' default.
     */
    schedule: string;
    /**
     * The JDBC URL taken apart; null when it is invalid (validation reports it, so sync never writes one).
     */
    jdbc: {
      /**
       * Host name or address.
       */
      host: string;
      /**
       * Port (the engine's default when the URL gives none).
       */
      port: number;
      /**
       * Database (or service) name.
       */
      database: string;
      /**
       * Query or property parameters, lower-cased names.
       */
      params: {
        [k: string]: string | undefined;
      };
    } | null;
    /**
     * Tags for the database's resources: the settings' default tags overlaid by the database's own.
     */
    tags: {
      [k: string]: string | undefined;
    };
  };
  /**
   * sha256 (hex) of the source file's bytes; the published object's `content-sha256` metadata is the same.
   */
  content_sha256: string;
  /**
   * sha256 (hex) of canonical JSON of `config` and `resolved`; sync recomputes it on read to find hand edits.
   */
  config_sha256: string;
  /**
   * Item version, 1 when created and one more at every write (writes are conditional on it).
   */
  version: number;
  /**
   * The commit of the configs the sync published.
   */
  git_commit: string;
  /**
   * Sync generation that wrote the item.
   */
  sync_generation: number;
  /**
   * Id of the sync run that wrote the item.
   */
  sync_run_id: string;
  /**
   * When the item was first written (ISO-8601 UTC).
   */
  created_at: string;
  /**
   * When the item was last written (ISO-8601 UTC).
   */
  updated_at: string;
}
