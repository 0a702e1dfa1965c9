/**
 * Work units: the policy engine's decisions turned into one self-contained instruction per table and
 * action (schema/work-unit.schema.json), built by pure functions so the CLI, the local runner, the
 * Lambdas and the DAG helpers all plan the same units. Names (archive namespace and table), JDBC URL
 * parsing, default ports and the engine's spelling are resolved here, once; the jobs only read them.
 */
import type { DatabaseConfig } from '../generated/database.js';
import type { PolicyConfig } from '../generated/policy.js';
import type { OffloadSettings } from '../generated/settings.js';
import type { WorkUnit } from '../generated/work-unit.js';
import { parseJdbcUrl } from '../config/jdbc.js';
import { archiveTableName, glueDatabaseOf, s3LocationOf } from '../config/naming.js';
import type { Decision, Evaluation } from '../engine/evaluate.js';
import { addCalendar, calendarOf, isoDay, parseUtc } from '../engine/dates.js';
import { credentialReference, type Runtime } from './credential-ref.js';

export type { WorkUnit };
export type WorkAction = WorkUnit['action'];
export const WORK_ACTIONS: readonly WorkAction[] = ['archive', 'validate', 'cleanup_source', 'purge'];
export const WORK_UNIT_FORMAT = 1 as const;
const DEFAULT_CATALOG = 'offload';

export class WorkUnitError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'WorkUnitError';
  }
}

/** What the planner knows besides the decisions. */
export interface PlanContext {
  settings: OffloadSettings;
  databases: readonly DatabaseConfig[];
  policies: readonly PolicyConfig[];
  runId: string;
  configCommit: string;
  runtime: Runtime;
  /** Repository root (local credentials file). */
  root?: string;
  /** Iceberg catalog name in the jobs' Spark session. @default 'offload' */
  catalog?: string;
  /**
   * A JDBC URL (or host/port) found with the credentials when planning — `OFFLOAD_DB_<NAME>_URL` or the
   * credentials file's `url`, for local copies of databases whose configured host is only reachable
   * on AWS — by database name. Parsed here, so the job never parses a URL.
   */
  addressOverrides?: ReadonlyMap<string, { url?: string; host?: string; port?: number }>;
}

/** The state of a table's archive that later units act on (from the run ledger). */
export interface ArchiveRef {
  runId: string | null;
  snapshotId: string | null;
}

const unitKey = (database: string, archiveTable: string, action: WorkAction, runId: string) =>
  `${action}:${database}.${archiveTable}@${runId}`;

/** The retention end (YYYY-MM-DD): the table's date plus the policy's purge_after; null without one. */
function retentionEnd(tableDate: string | null | undefined, policy: PolicyConfig): string | null {
  if (!tableDate || !policy.purge_after) return null;
  const c = calendarOf(policy.purge_after);
  const t = parseUtc(tableDate);
  if (!c || Number.isNaN(t)) return null;
  return isoDay(addCalendar(t, c));
}

/** Builds the work unit for one decision and action. Throws WorkUnitError when the configs cannot give one. */
function buildWorkUnit(
  decision: Decision,
  action: WorkAction,
  ctx: PlanContext,
  at: { asOf: string; archive?: ArchiveRef },
): WorkUnit {
  const archive = at.archive;
  const where = `${decision.database}: ${decision.schema}.${decision.table}`;
  const db = ctx.databases.find((d) => d.name === decision.database);
  if (!db) throw new WorkUnitError('work/unknown-database', `${where}: no database config named ${decision.database}`);
  const policy = decision.policy ? ctx.policies.find((p) => p.name === decision.policy) : undefined;
  if (!policy)
    throw new WorkUnitError('work/no-policy', `${where}: no policy decided the table, so it has no work unit`);
  const override = ctx.addressOverrides?.get(db.name);
  const url = override?.url ?? db.jdbc_url;
  const parsed = parseJdbcUrl(db.engine, url);
  if (!parsed.ok)
    throw new WorkUnitError(
      'work/jdbc-url',
      `${where}: JDBC URL ${override?.url ? '(from the credentials) ' : ''}is invalid: ` +
        `${parsed.problem} (expected ${parsed.form})`,
    );
  const target = parsed.target;
  const archiveTable = archiveTableName(decision.schema, decision.table);
  const v = policy.validation ?? {};
  const rowHash = v.row_hash ?? 'full';
  const hold = policy.legal_hold;
  return {
    format: WORK_UNIT_FORMAT,
    id: unitKey(db.name, archiveTable, action, ctx.runId),
    action,
    run_id: ctx.runId,
    config_commit: ctx.configCommit,
    as_of: at.asOf,
    database: db.name,
    source: {
      engine: db.engine,
      host: override?.host ?? target.host,
      port: override?.port ?? target.port,
      database: target.database,
      address_from: override?.url || override?.host ? 'credentials_url' : 'jdbc_url',
      schema: decision.schema,
      table: decision.table,
      credentials: credentialReference(db, {
        runtime: ctx.runtime,
        ...(ctx.root ? { root: ctx.root } : {}),
        region: ctx.settings.region,
      }),
    },
    archive: {
      catalog: ctx.catalog ?? DEFAULT_CATALOG,
      namespace: glueDatabaseOf(db, ctx.settings),
      table: archiveTable,
      location: s3LocationOf(db, ctx.settings),
      partition_spec: (policy.partitioning ?? []).map((p) => ({
        column: p.column,
        transform: p.transform,
        ...(p.width !== undefined ? { width: p.width } : {}),
      })),
      run_id: action === 'archive' ? null : (archive?.runId ?? null),
      snapshot_id: action === 'archive' ? null : (archive?.snapshotId ?? null),
    },
    policy: {
      name: policy.name,
      retention_end: retentionEnd(decision.age?.date, policy),
      legal_hold: {
        enabled: hold?.enabled === true,
        ...(hold?.reason ? { reason: hold.reason } : {}),
        ...(hold?.reference ? { reference: hold.reference } : {}),
      },
      source_action: policy.source?.action ?? 'keep',
      grace_period: policy.source?.grace_period ?? null,
    },
    validation: {
      row_count: v.row_count ?? true,
      aggregates: v.aggregates ?? true,
      row_hash: rowHash,
      sample_percent: rowHash === 'sample' ? (v.sample_percent ?? 100) : 100,
      max_reported_mismatches: v.max_reported_mismatches ?? 20,
    },
    decision: {
      reason: decision.reason,
      table_date: decision.age?.date ?? null,
      rows: decision.rows,
      bytes: decision.bytes,
    },
  };
}

/** A table's progress as the run ledger knows it (only what planning needs). */
export interface TableProgress {
  state: string;
  runId: string | null;
  snapshotId: string | null;
}

export interface PlanOptions {
  /** Only these databases (default all). */
  databases?: readonly string[];
  /** Only these tables: `schema.table` or `table` (default all). */
  tables?: readonly string[];
  /** Only these actions (default all). */
  actions?: readonly WorkAction[];
  /** The ledger's view, by `tableKey(database, schema, table)`. */
  progress?: ReadonlyMap<string, TableProgress>;
}

export const tableKey = (database: string, schema: string, table: string) => `${database}\u0000${schema}\u0000${table}`;

export interface PlannedWork {
  units: WorkUnit[];
  /** Decisions that needed a unit but could not get one (bad URL, …), with the reason. */
  problems: { database: string; schema: string; table: string; code: string; message: string }[];
}

function selected(d: Decision, opts: PlanOptions): boolean {
  if (opts.databases?.length && !opts.databases.includes(d.database)) return false;
  if (opts.tables?.length && !opts.tables.some((t) => t === d.table || t === `${d.schema}.${d.table}`)) return false;
  return true;
}

/**
 * The actions a decision leads to, given the ledger: `archive` → archive then validate; a table archived
 * but not validated (the engine says nothing more happens until validation passes) → validate;
 * `cleanup_source` and `purge` → themselves.
 */
export function actionsFor(d: Decision, progress: TableProgress | undefined): WorkAction[] {
  if (progress?.state === 'archived' && d.policy) return ['validate'];
  if (d.action === 'archive') return ['archive', 'validate'];
  if (d.action === 'cleanup_source' || d.action === 'purge') return [d.action];
  return [];
}

/** Every work unit of an evaluation, in the engine's order (database, schema, table), archive before validate. */
export function planWorkUnits(evaluation: Evaluation, ctx: PlanContext, opts: PlanOptions = {}): PlannedWork {
  const out: PlannedWork = { units: [], problems: [] };
  for (const db of evaluation.databases) {
    for (const d of db.decisions) {
      if (!selected(d, opts)) continue;
      const progress = opts.progress?.get(tableKey(d.database, d.schema, d.table));
      const actions = actionsFor(d, progress).filter((a) => !opts.actions?.length || opts.actions.includes(a));
      for (const action of actions) {
        // A validate unit after this run's archive checks this run's archive; else the ledger's.
        const archive: ArchiveRef | undefined = actions.includes('archive')
          ? { runId: ctx.runId, snapshotId: null }
          : progress
            ? { runId: progress.runId, snapshotId: progress.snapshotId }
            : undefined;
        try {
          out.units.push(buildWorkUnit(d, action, ctx, { asOf: evaluation.as_of, ...(archive ? { archive } : {}) }));
        } catch (e) {
          if (!(e instanceof WorkUnitError)) throw e;
          out.problems.push({
            database: d.database,
            schema: d.schema,
            table: d.table,
            code: e.code,
            message: e.message,
          });
          break;
        }
      }
    }
  }
  return out;
}
