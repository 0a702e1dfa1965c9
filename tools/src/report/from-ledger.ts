/**
 * A run report built from the run ledger alone: every table with a transition made by the run, its
 * state when the run ended, rows, snapshot, validation outcome, error and time spent. So any past run
 * can be rendered again (`offload report RUN`), and the AWS report Lambda builds the same report from
 * the DynamoDB ledger. Pure: the details that live elsewhere (validation records with the differing
 * keys, archive sizes, source sizes) come through the optional lookups, injected by the caller.
 */
import type { LedgerEntry } from '../generated/ledger-entry.js';
import type { RunReport } from '../generated/run-report.js';
import type { ValidationResultRecord } from '../generated/validation-result.js';
import type { WorkUnit } from '../generated/work-unit.js';
import { type ReportTable, summarize } from './render.js';

type Transition = LedgerEntry['history'][number];

export interface LedgerReportInput {
  runId: string;
  runtime: RunReport['runtime'];
  entries: readonly LedgerEntry[];
  configCommit?: string | null;
  asOf?: string | null;
  /** The validation result record the run wrote for this table, when it can be read. */
  validationRecord?: (entry: LedgerEntry) => ValidationResultRecord | undefined;
  /** Bytes of the archive's data files, when known. */
  archiveBytes?: (entry: LedgerEntry) => number | undefined;
  /** Size of the source table (the inventory's estimate), counted as freed when the run dropped it. */
  sourceBytes?: (entry: LedgerEntry) => number | undefined;
  /**
   * The run's work units, when the caller kept them (the local runner's `runs/<run>.units.json`, the discover
   * Lambda's `pipeline/work-units/<run>/`): the configs' commit and the as-of date when not given, and a dropped
   * table's size estimated at discovery when `sourceBytes` gives none.
   */
  units?: readonly WorkUnit[];
}

/** The one value every unit agrees on, or null (no units, or units that disagree). */
function agreed(units: readonly WorkUnit[] | undefined, pick: (u: WorkUnit) => string): string | null {
  const values = new Set((units ?? []).map(pick));
  return values.size === 1 ? ([...values][0] as string) : null;
}

/** The run ids found in the ledger, newest first (by their last transition). */
export function runsInLedger(entries: readonly LedgerEntry[]): string[] {
  const last = new Map<string, string>();
  for (const e of entries) for (const t of e.history) if ((last.get(t.run_id) ?? '') < t.at) last.set(t.run_id, t.at);
  return [...last.entries()].sort((a, b) => b[1].localeCompare(a[1]) || a[0].localeCompare(b[0])).map(([id]) => id);
}

/** What the run did to a table, judged from the states it moved it through. */
function actionOf(ts: readonly Transition[]): ReportTable['action'] {
  const to = new Set(ts.map((t) => t.to));
  if (to.has('archiving') || to.has('archived')) return 'archive';
  if (to.has('purged')) return 'purge';
  if (to.has('source_renamed') || to.has('source_dropped')) return 'cleanup_source';
  if (to.has('validated')) return 'validate';
  const from = ts[0]?.from;
  if (from === 'validated' || from === 'source_renamed') return 'cleanup_source';
  return from === 'archived' ? 'validate' : 'archive';
}

function lastOf<T>(ts: readonly Transition[], pick: (t: Transition) => T | null | undefined): T | null {
  for (let i = ts.length - 1; i >= 0; i--) {
    const v = pick(ts[i] as Transition);
    if (v !== null && v !== undefined) return v;
  }
  return null;
}

function snapshotValue(id: string | null): number | string | null {
  if (id === null) return null;
  const n = Number(id);
  return Number.isSafeInteger(n) ? n : id; // 64-bit ids beyond 2^53 stay exact as text
}

function validationOf(
  ts: readonly Transition[],
  record: ValidationResultRecord | undefined,
): ReportTable['validation'] {
  const status = lastOf(ts, (t) => t.validation);
  if (!status) return null;
  const v: NonNullable<ReportTable['validation']> = { status, mismatches: [] };
  if (record) {
    v.mode = record.mode;
    v.mismatches = [...record.mismatches];
    if (record.row_count) {
      v.source_rows = record.row_count.source;
      v.archive_rows = record.row_count.archive;
    }
    if (record.row_hash) {
      v.differing_keys = record.row_hash.keys.map((k) => ({
        key: k.key,
        kind: k.kind,
        ...(k.columns ? { columns: k.columns } : {}),
      }));
      v.truncated = record.row_hash.truncated;
    }
  }
  return v;
}

export function reportFromLedger(input: LedgerReportInput): RunReport {
  const tables: ReportTable[] = [];
  let started = '';
  let finished = '';
  const unitBytes = new Map<string, number>();
  for (const u of input.units ?? [])
    if (u.run_id === input.runId && u.decision.bytes !== null)
      unitBytes.set(JSON.stringify([u.database, u.source.schema, u.source.table]), u.decision.bytes);
  const sourceBytes = (e: LedgerEntry) =>
    input.sourceBytes?.(e) ?? unitBytes.get(JSON.stringify([e.database, e.schema, e.table])) ?? null;
  const ofRun = input.units?.filter((u) => u.run_id === input.runId);
  const byName = [...input.entries].sort(
    (a, b) =>
      a.database.localeCompare(b.database) || a.schema.localeCompare(b.schema) || a.table.localeCompare(b.table),
  );
  for (const e of byName) {
    const ts = e.history.filter((t) => t.run_id === input.runId);
    if (ts.length === 0) continue;
    const first = ts[0] as Transition;
    const last = ts[ts.length - 1] as Transition;
    if (!started || first.at < started) started = first.at;
    if (!finished || last.at > finished) finished = last.at;
    const action = actionOf(ts);
    const dropped = ts.some((t) => t.to === 'source_dropped');
    const errorCode = last.to === 'failed' ? last.error_code : null;
    const errorMessage = errorCode && e.run_id === input.runId && e.error?.code === errorCode ? e.error.message : null;
    tables.push({
      database: e.database,
      schema: e.schema,
      table: e.table,
      policy: e.policy ?? null,
      action,
      state: last.to,
      archive_table: e.archive_namespace && e.archive_table ? `${e.archive_namespace}.${e.archive_table}` : null,
      snapshot_id: snapshotValue(lastOf(ts, (t) => t.snapshot_id)),
      rows: lastOf(ts, (t) => t.rows),
      bytes: action === 'archive' ? (input.archiveBytes?.(e) ?? null) : null,
      source_bytes_freed: dropped ? sourceBytes(e) : null,
      duration_ms: Math.max(0, Date.parse(last.at) - Date.parse(first.at)),
      validation: validationOf(ts, input.validationRecord?.(e)),
      error: errorCode
        ? { code: errorCode, message: errorMessage ?? `the run ended the table in failed (${errorCode})` }
        : null,
    });
  }
  const durationMs = started && finished ? Date.parse(finished) - Date.parse(started) : 0;
  const { totals, status } = summarize(tables, durationMs);
  return {
    schema_version: 1,
    run_id: input.runId,
    runtime: input.runtime,
    started_at: started || new Date(0).toISOString(),
    finished_at: finished || new Date(0).toISOString(),
    status,
    config_commit: input.configCommit ?? agreed(ofRun, (u) => u.config_commit),
    as_of: input.asOf ?? agreed(ofRun, (u) => u.as_of),
    totals,
    tables,
  };
}
