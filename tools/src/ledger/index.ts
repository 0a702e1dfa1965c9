/**
 * The run ledger: its rules (model.ts), the local store (local.ts; DynamoDB in dynamodb.ts, loaded only
 * where AWS is used) and what the policy engine and the planner read from it.
 */
import type { ArchiveRecord } from '../engine/evaluate.js';
import { tableKey, type TableProgress } from '../work/units.js';
import type { LedgerEntry } from './model.js';

export * from './model.js';
export { createLocalLedger } from './local.js';

const VALIDATED = new Set(['validated', 'source_renamed', 'source_dropped']);

/**
 * The archive records the policy engine reads: a table counts as archived once its archive committed
 * (`archived`: not validated yet; `validated` and later: validated; `purged`: done). `planned`,
 * `archiving` and `failed` tables are not archived — the engine decides them afresh.
 */
export function archiveRecordsOf(entries: readonly LedgerEntry[]): ArchiveRecord[] {
  const out: ArchiveRecord[] = [];
  for (const e of entries) {
    if (e.state !== 'archived' && e.state !== 'purged' && !VALIDATED.has(e.state)) continue;
    out.push({
      database: e.database,
      schema: e.schema,
      table: e.table,
      archived_at: e.archived_at ?? e.updated_at,
      validated: VALIDATED.has(e.state) || (e.state === 'purged' && e.validation?.status === 'passed'),
      ...(e.table_date ? { table_date: e.table_date } : {}),
      rows: e.rows,
      ...(e.state === 'purged' ? { purged: true } : {}),
      ...(e.source_cleanup && (e.state === 'source_renamed' || e.state === 'source_dropped' || e.state === 'purged')
        ? {
            source_cleanup: {
              quarantine_table: e.source_cleanup.quarantine_table,
              renamed_at: e.source_cleanup.renamed_at,
              dropped: e.state !== 'source_renamed',
            },
          }
        : {}),
    });
  }
  return out;
}

/** Per-table progress for the planner, by `tableKey`. */
export function progressOf(entries: readonly LedgerEntry[]): Map<string, TableProgress> {
  return new Map(
    entries.map((e) => [
      tableKey(e.database, e.schema, e.table),
      { state: e.state, runId: e.archive_run_id ?? null, snapshotId: e.snapshot_id },
    ]),
  );
}
