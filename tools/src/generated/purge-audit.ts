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
   * Whether a legal hold was in force: the current config's or the recorded one (a recorded value other than exactly
   * `false` counts as held).
   */
  legal_hold: boolean;
  /**
   * The current config's legal hold, as given to the purge job (`--legal_hold`).
   */
  legal_hold_config: boolean;
  /**
   * The archive's recorded `offload.legal_hold` property as found (`true`, `false`, `unknown`; null when missing).
   */
  legal_hold_recorded: string | null;
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
   * A force reason that was given but not applied because a legal hold was in force (no force reason overrides a hold).
   */
  force_reason_not_applied?: string;
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
