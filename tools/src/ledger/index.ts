/**
 * The run ledger: opening the runtime's store, and what the policy engine and the planner read from
 * it. `local[:DIR]` is the local state directory (default `.offload/state`, the one `offload sync
 * --target local` writes); `aws` the DynamoDB ledger table named after the settings.
 */
import path from 'node:path';
import type { ArchiveRecord } from '../engine/evaluate.js';
import type { OffloadSettings } from '../generated/settings.js';
import { UserError } from '../errors.js';
import { DEFAULT_LOCAL_DIR } from '../sync/local-target.js';
import { tableKey, type TableProgress } from '../work/units.js';
import { createLocalLedger } from './local.js';
import type { Ledger, LedgerEntry } from './model.js';

export * from './model.js';
export { createLocalLedger } from './local.js';

/** Opens `local`, `local:DIR` or `aws`; relative directories are taken from the repository root. */
export async function openLedger(
  spec: string,
  root: string,
  settings?: OffloadSettings,
): Promise<Ledger & { close?: () => void }> {
  if (spec === 'local' || spec.startsWith('local:'))
    return createLocalLedger({ dir: path.resolve(root, spec === 'local' ? DEFAULT_LOCAL_DIR : spec.slice(6)) });
  if (spec === 'aws') {
    if (!settings) throw new UserError('the aws ledger needs valid settings (offload.settings.yaml)');
    const { createDynamoLedger, ledgerTableName } = await import('./dynamodb.js');
    const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? settings.region;
    return createDynamoLedger({ table: ledgerTableName(settings), region });
  }
  throw new UserError(`--ledger ${spec}: expected local, local:DIR or aws`);
}

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
