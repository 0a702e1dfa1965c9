/* Generated from schema/inventory-error.schema.json by tools/scripts/generate-types.ts — do not edit. */

/**
 * The record of a failed discovery, written by `offload discover` beside the last good snapshot
 * (`inventory/<database>.error.json`) instead of replacing that snapshot with a partial one. A later successful
 * discovery deletes it. `offload preview` reads it and says that the last discovery failed and how old the snapshot it
 * used is.
 */
export interface DiscoveryFailure {
  /**
   * Version of this format. Readers refuse versions they do not know.
   */
  format_version: 1;
  /**
   * The program that wrote the record.
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
   * Name of the database config (`databases/<name>.yaml`).
   */
  database: string;
  /**
   * When the failed discovery started (ISO-8601, UTC).
   */
  failed_at: string;
  /**
   * `discovered_at` of the snapshot kept beside this record (the last good one).
   */
  snapshot_discovered_at: string;
  /**
   * What could not be read, as the failed discovery recorded it (the inventory's `errors`).
   *
   * @minItems 1
   */
  errors: [
    {
      /**
       * Stable code, e.g. `discover/unreachable`.
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
    },
    ...{
      /**
       * Stable code, e.g. `discover/unreachable`.
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
    }[]
  ];
}
