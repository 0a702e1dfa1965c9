/* Generated from schema/purge-audit.schema.json by tools/scripts/generate-types.ts — do not edit. */

/**
 * Written by glue/purge_table.py for every purge decision, refused or carried out.
 */
export type PurgeAuditRecord = {
  /**
   * Which job wrote the record.
   */
  job: 'purge';
  /**
   * Version of this record format.
   */
  schema_version: 1;
  /**
   * Unique id of this purge decision.
   */
  purge_id: string;
  /**
   * incomplete: files remained at the location after the purge (the job fails)
   */
  status: 'refused' | 'purged' | 'incomplete';
  /**
   * The archive table (`<database>.<table>`).
   */
  archive_table: string;
  /**
   * Spark catalog name the archive was reached through.
   */
  catalog: string;
  /**
   * Table location whose files are removed.
   */
  location: string;
  /**
   * the archive's offload.* table properties, without the offload. prefix
   */
  lineage: {
    [k: string]: string | undefined;
  };
  /**
   * Current snapshot when the decision was taken.
   */
  snapshot_id?: number | null;
  /**
   * Rows in the archive when the decision was taken.
   */
  rows?: number;
  /**
   * Whether a legal hold was in force.
   */
  legal_hold: boolean;
  /**
   * Date before which the archive must be kept (from the policy), if known.
   */
  retention_until: string | null;
  /**
   * The date the decision was taken for.
   */
  as_of: string;
  /**
   * Why the purge was refused (empty when it went ahead unforced).
   */
  refusal_reasons: ('legal_hold' | 'retention_end_unknown' | 'retention_not_reached')[];
  /**
   * set when a purge went ahead despite refusal reasons
   */
  forced_reason: string | null;
  /**
   * When the decision was taken (UTC).
   */
  decided_at: string;
  /**
   * When the purge finished (UTC).
   */
  purged_at?: string;
  /**
   * Files under the table location before the purge.
   */
  files_before?: number | null;
  /**
   * files not referenced by any snapshot (e.g. from killed writes) removed after DROP TABLE PURGE
   */
  files_removed_after_drop?: number;
  /**
   * Files left at the location after the purge (0 when it succeeded).
   */
  files_remaining?: number | null;
  /**
   * Wall time of the purge.
   */
  seconds?: number;
};
