/**
 * `offload run`'s core, the local runner: synced configs → discovery (live, read-only) → the policy
 * engine (with the run ledger's archive records) → work units → one data-plane worker (one Spark
 * session for the whole run) → the ledger. Returns data; the CLI prints.
 *
 * Ledger discipline — the ledger never claims what did not happen:
 *  - `archiving` is written BEFORE the archive job starts (it claims only that a job started);
 *  - `archived` AFTER the job reports its commit, with the snapshot id and row count;
 *  - `validated` only with a passed validation of that same snapshot; a mismatch or an error → `failed`.
 * A run killed anywhere leaves tables `archiving` (restarted by the next run; the archive job's
 * atomic replace makes that safe) or `archived` (the next run validates it). Validated tables are
 * never redone: the engine sees them archived and plans nothing but cleanup or purge when due.
 * Tables run in parallel up to `parallelism`, at most `perDatabase` of one source at a time.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pLimit from 'p-limit';
import { fsSource } from '../config/source.js';
import { UserError } from '../errors.js';
import type { DiscoverProgress } from '../catalog/discover.js';
import type { CredentialOptions } from '../catalog/credentials.js';
import { DEFAULT_LOCAL_DIR } from '../sync/local-target.js';
import { MANIFEST_NAME, parseManifest } from '../sync/model.js';
import {
  archiveRecordsOf,
  createLocalLedger,
  progressOf,
  type Ledger,
  type LedgerEntry,
  type TableRef,
} from '../ledger/index.js';
import { planWork, type PlanWorkResult } from './plan.js';
import type { WorkUnit } from '../work/units.js';
import { startWorker, type Worker, type WorkerResult } from './worker.js';
import { armedKillPoint, killPoint } from './test-hooks.js';
import { cleanupGuard, cleanupPreview, type CleanupPreview, validationRecordOf } from './cleanup.js';

export interface RunOptions {
  root: string;
  databases?: string[];
  tables?: string[];
  /** Plan and return the work units; change nothing (no worker, no ledger write). */
  dryRun?: boolean;
  /** `synced` (default): the configs the last `offload sync --target local` wrote; `worktree`: the working tree. */
  configs?: 'synced' | 'worktree';
  /** The local state directory (ledger, synced configs). @default <root>/.offload/state */
  stateDir?: string;
  /** The local Iceberg warehouse. @default <root>/.offload/warehouse */
  warehouse?: string;
  parallelism?: number;
  perDatabase?: number;
  asOf?: string;
  runId?: string;
  credentials?: CredentialOptions;
  /** Test hook: an already started worker. */
  worker?: Worker;
  python?: string;
  now?: () => Date;
  onDiscover?: (p: DiscoverProgress) => void;
  onEvent?: (e: RunEvent) => void;
  /** Stops scheduling new tables (Ctrl-C); in-flight ones finish or are killed by the caller. */
  signal?: AbortSignal;
}

export type RunEvent =
  | { kind: 'planned'; units: number; tables: number }
  | { kind: 'worker-ready' }
  | { kind: 'unit-start'; unit: WorkUnit }
  | { kind: 'unit-done'; unit: WorkUnit; outcome: UnitOutcome };

interface UnitOutcome {
  id: string;
  action: WorkUnit['action'];
  database: string;
  schema: string;
  table: string;
  /** ok: done; failed: the job failed (ledger `failed`); skipped: not run (see reason). */
  status: 'ok' | 'failed' | 'skipped';
  state: LedgerEntry['state'] | null;
  reason?: string;
  error?: { code: string; message: string };
  rows?: number | null;
  snapshot_id?: string | null;
  seconds?: number;
}

export interface RunSummary {
  version: 1;
  run_id: string;
  as_of: string;
  config_commit: string;
  configs: string;
  dry_run: boolean;
  ledger: string;
  warehouse: string;
  units: WorkUnit[];
  outcomes: UnitOutcome[];
  totals: { archived: number; validated: number; failed: number; skipped: number; renamed: number; dropped: number };
  /** What the run's cleanup_source units rename or drop (a dry run: would). */
  cleanup: CleanupPreview[];
  problems: { database: string; code: string; message: string; schema?: string; table?: string }[];
  aborted: boolean;
  seconds: number;
}

/** The synced configs in the local state directory and the commit their manifest records. */
/** Where a local run keeps its work units (`<state>/runs/<run>.units.json`). */
export function runUnitsFile(stateDir: string, runId: string): string {
  return path.join(stateDir, 'runs', `${runId}.units.json`);
}

function syncedConfigs(stateDir: string): { dir: string; commit: string } {
  const bucket = path.join(stateDir, 'bucket');
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (depth > 6 || !existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      const p = path.join(dir, name);
      if (name === '_offload' && existsSync(path.join(p, path.basename(MANIFEST_NAME)))) found.push(dir);
      else if (statSync(p).isDirectory()) walk(p, depth + 1);
    }
  };
  walk(bucket, 0);
  if (found.length !== 1)
    throw new UserError(
      found.length === 0
        ? `no synced configs in ${stateDir}: ` +
            'run `offload sync --target local --apply` first (or `offload run --configs worktree`)'
        : `several synced config prefixes in ${bucket} (${found.map((f) => path.relative(bucket, f)).join(', ')}); ` +
            'remove the stale one',
    );
  const m = parseManifest(readFileSync(path.join(found[0]!, MANIFEST_NAME), 'utf8'));
  if (typeof m === 'string')
    throw new UserError(`the local sync manifest in ${found[0]} is unreadable (${m}): sync again`);
  return { dir: found[0]!, commit: m.commit };
}

const refOf = (u: WorkUnit): TableRef => ({ database: u.database, schema: u.source.schema, table: u.source.table });
const errorOf = (r: WorkerResult) =>
  r.error ??
  ((r.summary?.error as { code: string; message: string } | undefined) || {
    code: `exit_${r.exit_code}`,
    message: `the job exited with ${r.exit_code}`,
  });
/** The worker process died (killed, crashed): the job's outcome is unknown. */
const WORKER_DIED = 4;
const DONE = new Set(['validated', 'source_renamed', 'source_dropped', 'purged']);

const sameTable = (a: TableRef, b: TableRef) =>
  a.database === b.database && a.schema === b.schema && a.table === b.table;

export async function runPipeline(opts: RunOptions): Promise<RunSummary> {
  const started = Date.now();
  armedKillPoint(); // a test hook's value that names no point is refused before anything runs
  const stateDir = path.resolve(opts.root, opts.stateDir ?? DEFAULT_LOCAL_DIR);
  const warehouse = path.resolve(opts.root, opts.warehouse ?? '.offload/warehouse');
  const ledger: Ledger = createLocalLedger({ dir: stateDir });
  let source = fsSource(opts.root);
  let commit: string | undefined;
  let configsLabel = `working tree ${opts.root}`;
  if ((opts.configs ?? 'synced') === 'synced') {
    const s = syncedConfigs(stateDir);
    source = fsSource(s.dir);
    commit = s.commit;
    configsLabel = `synced ${path.relative(opts.root, s.dir) || s.dir} (commit ${s.commit})`;
  }
  const entries = await ledger.list();
  const plan: PlanWorkResult = await planWork({
    root: opts.root,
    source,
    inventory: 'live',
    runtime: 'local',
    archive: archiveRecordsOf(entries),
    progress: progressOf(entries),
    ...(commit ? { commit } : {}),
    ...(opts.databases?.length ? { databases: opts.databases } : {}),
    ...(opts.tables?.length ? { tables: opts.tables } : {}),
    ...(opts.asOf ? { asOf: opts.asOf } : {}),
    ...(opts.runId ? { runId: opts.runId } : {}),
    ...(opts.credentials ? { credentials: opts.credentials } : {}),
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.onDiscover ? { onProgress: opts.onDiscover } : {}),
  });
  const problems: RunSummary['problems'] = [
    ...plan.evaluation.databases.flatMap((d) => d.problems.map((p) => ({ database: d.database, ...p }))),
    ...plan.evaluation.databases.flatMap((d) =>
      d.decisions
        .filter((x) => x.problem && x.kind !== 'partition')
        .map((x) => ({ database: d.database, schema: x.schema, table: x.table, ...x.problem! })),
    ),
    ...plan.problems,
  ];
  // One group per table: its units run in order (archive, then validate).
  const groups = new Map<string, WorkUnit[]>();
  for (const u of plan.units) {
    const k = JSON.stringify([u.database, u.source.schema, u.source.table]);
    (groups.get(k) ?? groups.set(k, []).get(k)!).push(u);
  }
  opts.onEvent?.({ kind: 'planned', units: plan.units.length, tables: groups.size });
  const summary: RunSummary = {
    version: 1,
    run_id: plan.runId,
    as_of: plan.evaluation.as_of,
    config_commit: plan.configCommit,
    configs: configsLabel,
    dry_run: opts.dryRun === true,
    ledger: ledger.label,
    warehouse,
    units: plan.units,
    outcomes: [],
    totals: { archived: 0, validated: 0, failed: 0, skipped: 0, renamed: 0, dropped: 0 },
    cleanup: plan.units
      .filter((u) => u.action === 'cleanup_source')
      .map((u) =>
        cleanupPreview(
          u,
          entries.find((e) => sameTable(e, refOf(u))),
        ),
      ),
    problems,
    aborted: false,
    seconds: 0,
  };
  if (opts.dryRun || groups.size === 0) {
    summary.seconds = (Date.now() - started) / 1000;
    return summary;
  }

  // The run's work units, kept beside its log: `offload report RUN` takes the configs' commit, the as-of date and
  // the sources' discovered sizes from them (runUnitsFile).
  const unitsFile = runUnitsFile(stateDir, plan.runId);
  mkdirSync(path.dirname(unitsFile), { recursive: true });
  writeFileSync(`${unitsFile}.tmp`, `${JSON.stringify({ version: 1, run_id: plan.runId, units: plan.units })}\n`);
  renameSync(`${unitsFile}.tmp`, unitsFile);

  const parallelism = Math.max(1, opts.parallelism ?? 2);
  const worker =
    opts.worker ??
    (await startWorker({
      warehouse,
      parallel: parallelism,
      logFile: path.join(stateDir, 'runs', `${plan.runId}.log`),
      ...(opts.python ? { python: opts.python } : {}),
    }));
  opts.onEvent?.({ kind: 'worker-ready' });
  const resultsDir = path.join(stateDir, 'results');
  const auditDir = path.join(stateDir, 'audit');
  const all = pLimit(parallelism);
  const perDb = new Map<string, ReturnType<typeof pLimit>>();
  const dbLimit = (db: string) => perDb.get(db) ?? perDb.set(db, pLimit(Math.max(1, opts.perDatabase ?? 1))).get(db)!;

  const record = (u: WorkUnit, o: Omit<UnitOutcome, 'id' | 'action' | 'database' | 'schema' | 'table'>) => {
    const outcome: UnitOutcome = { id: u.id, action: u.action, ...refOf(u), ...o };
    summary.outcomes.push(outcome);
    if (o.status === 'failed') summary.totals.failed++;
    else if (o.status === 'skipped') summary.totals.skipped++;
    else if (u.action === 'archive') summary.totals.archived++;
    else if (u.action === 'validate') summary.totals.validated++;
    else if (u.action === 'cleanup_source' && o.state === 'source_renamed') summary.totals.renamed++;
    else if (u.action === 'cleanup_source' && o.state === 'source_dropped') summary.totals.dropped++;
    opts.onEvent?.({ kind: 'unit-done', unit: u, outcome });
    return outcome;
  };

  async function runUnit(u: WorkUnit): Promise<boolean> {
    const ref = refOf(u);
    const cur = await ledger.get(ref);
    const t0 = Date.now();
    const common = {
      runId: plan.runId,
      archive: { namespace: u.archive.namespace, table: u.archive.table },
      policy: u.policy.name,
      tableDate: u.decision.table_date,
    };
    opts.onEvent?.({ kind: 'unit-start', unit: u });
    if (u.action === 'archive') {
      if (cur && (DONE.has(cur.state) || cur.state === 'archived')) {
        record(u, { status: 'skipped', state: cur.state, reason: `already ${cur.state}: never redone` });
        return cur.state === 'archived';
      }
      await ledger.transition(ref, { ...common, expect: cur?.state ?? null, to: 'archiving' });
      killPoint('runner:archiving:after-ledger');
      const r = await worker.run(u);
      const s = r.summary ?? {};
      if (r.exit_code === 0 && (s.status === 'archived' || s.status === 'unchanged')) {
        const snapshotId = s.snapshot_id == null ? null : String(s.snapshot_id);
        const rows = Number(s.rows ?? 0);
        killPoint('runner:archived:before-ledger');
        const e = await ledger.transition(ref, { ...common, expect: 'archiving', to: 'archived', snapshotId, rows });
        killPoint('runner:archived:after-ledger');
        record(u, { status: 'ok', state: e.state, rows, snapshot_id: snapshotId, seconds: (Date.now() - t0) / 1000 });
        return true;
      }
      const error = errorOf(r);
      if (r.exit_code === WORKER_DIED) {
        // Unknown outcome (the commit may or may not have landed): the ledger keeps `archiving`.
        record(u, { status: 'failed', state: 'archiving', error, seconds: (Date.now() - t0) / 1000 });
        return false;
      }
      await ledger.transition(ref, { ...common, expect: 'archiving', to: 'failed', error });
      record(u, { status: 'failed', state: 'failed', error, seconds: (Date.now() - t0) / 1000 });
      return false;
    }
    if (u.action === 'validate') {
      if (cur?.state !== 'archived') {
        record(u, {
          status: 'skipped',
          state: cur?.state ?? null,
          reason: `the ledger shows ${cur?.state ?? 'nothing'}, not archived`,
        });
        return false;
      }
      // The unit checks the archive the ledger records (its run; a run that re-archived in between is caught below).
      const unit: WorkUnit = {
        ...u,
        archive: { ...u.archive, run_id: cur.archive_run_id ?? u.archive.run_id ?? null, snapshot_id: cur.snapshot_id },
      };
      const r = await worker.run(unit, ['--result_path', resultsDir]);
      if (r.exit_code === WORKER_DIED) {
        record(u, { status: 'failed', state: 'archived', error: errorOf(r), seconds: (Date.now() - t0) / 1000 });
        return false;
      }
      const s = r.summary ?? {};
      const mismatches = Array.isArray(s.mismatches) ? s.mismatches.length : 0;
      const checked = s.archive_snapshot_id == null ? null : String(s.archive_snapshot_id);
      const validation = {
        status: s.status === 'passed' ? ('passed' as const) : ('failed' as const),
        snapshot_id: checked,
        mode: typeof s.mode === 'string' ? s.mode : 'full',
        mismatches,
        ...(typeof s.validated_at === 'string' ? { validated_at: s.validated_at } : {}),
      };
      if (r.exit_code === 0 && s.status === 'passed' && checked === cur.snapshot_id) {
        killPoint('runner:validated:before-ledger');
        const e = await ledger.transition(ref, { ...common, expect: 'archived', to: 'validated', validation });
        killPoint('runner:validated:after-ledger');
        record(u, {
          status: 'ok',
          state: e.state,
          rows: cur.rows,
          snapshot_id: checked,
          seconds: (Date.now() - t0) / 1000,
        });
        return true;
      }
      const error =
        r.exit_code === 0 && s.status === 'passed'
          ? {
              code: 'snapshot_changed',
              message: `validated snapshot ${checked}, but the ledger records ${cur.snapshot_id}`,
            }
          : r.exit_code === 1
            ? { code: 'validation_failed', message: `${mismatches} mismatch(es) between the archive and the source` }
            : errorOf(r);
      await ledger.transition(ref, {
        ...common,
        expect: 'archived',
        to: 'failed',
        error,
        ...(r.exit_code <= 1 && r.summary ? { validation } : {}),
      });
      record(u, { status: 'failed', state: 'failed', error, seconds: (Date.now() - t0) / 1000 });
      return false;
    }
    if (u.action === 'purge') {
      if (cur?.state !== 'validated' && cur?.state !== 'source_dropped') {
        record(u, {
          status: 'skipped',
          state: cur?.state ?? null,
          reason: 'purge needs a validated archive in the ledger',
        });
        return false;
      }
      const r = await worker.run(u, ['--audit_path', auditDir]);
      if (r.exit_code === 0 && r.summary?.status === 'purged') {
        const e = await ledger.transition(ref, { ...common, expect: cur.state, to: 'purged' });
        record(u, { status: 'ok', state: e.state, seconds: (Date.now() - t0) / 1000 });
        return true;
      }
      // A refusal (legal hold, retention) leaves the archive and the ledger as they are.
      record(u, { status: 'skipped', state: cur.state, reason: 'purge refused or failed', error: errorOf(r) });
      return false;
    }
    return runCleanup(u, cur, common, t0);
  }

  /**
   * Source cleanup (the only unit that writes to a source): the runner's own guards first (cleanup.ts:
   * a passed validation of the ledger's current snapshot, no legal hold), then the job, which checks them
   * again against the archive itself. The ledger moves only after the job reports the rename or the drop
   * committed; a refusal or an error leaves it as it is, which is still true of the source.
   */
  async function runCleanup(
    u: WorkUnit,
    cur: LedgerEntry | undefined,
    common: { runId: string; archive: { namespace: string; table: string }; policy: string; tableDate: string | null },
    t0: number,
  ): Promise<boolean> {
    const ref = refOf(u);
    const seconds = () => (Date.now() - t0) / 1000;
    const refusal = cleanupGuard(u, cur);
    if (refusal) {
      record(u, { status: 'skipped', state: cur?.state ?? null, reason: refusal.message, error: refusal });
      return true; // a refused cleanup leaves the archive as it was: a purge due after it still runs
    }
    const entry = cur!;
    const phase = entry.state === 'source_renamed' ? 'drop' : 'quarantine';
    const unit: WorkUnit = {
      ...u,
      archive: { ...u.archive, run_id: entry.archive_run_id ?? null, snapshot_id: entry.snapshot_id },
      cleanup: { ...u.cleanup!, phase },
    };
    const args = ['--result_path', resultsDir];
    if (phase === 'quarantine') {
      // The validation the ledger recorded, as the record the job checks against the archive's current snapshot.
      const dir = path.join(stateDir, 'cleanup');
      mkdirSync(dir, { recursive: true });
      const file = path.join(dir, `${u.archive.namespace}.${u.archive.table}.${plan.runId}.validation.json`);
      writeFileSync(file, `${JSON.stringify(validationRecordOf(u, entry), null, 1)}\n`);
      args.push('--validation_record', file);
    }
    const r = await worker.run(unit, args);
    const s = r.summary ?? {};
    if (r.exit_code === WORKER_DIED) {
      // Unknown outcome: the ledger keeps what it had; the next run's job finds out (it is idempotent).
      record(u, { status: 'failed', state: entry.state, error: errorOf(r), seconds: seconds() });
      return false;
    }
    if (r.exit_code !== 0 || s.status !== 'done') {
      const refused = s.status === 'refused' ? (s.refusal as { code: string; message: string }) : undefined;
      record(u, {
        status: refused ? 'skipped' : 'failed',
        state: entry.state,
        ...(refused ? { reason: `the cleanup job refused: ${refused.message}` } : {}),
        error: refused ?? errorOf(r),
        seconds: seconds(),
      });
      return refused !== undefined;
    }
    const quarantine = String(s.quarantine_table);
    if (phase === 'quarantine') {
      killPoint('runner:renamed:before-ledger');
      const e = await ledger.transition(ref, {
        ...common,
        expect: 'validated',
        to: 'source_renamed',
        sourceCleanup: { quarantine_table: quarantine, renamed_at: String(s.renamed_at), dropped_at: null },
        note: `renamed to ${u.source.schema}.${quarantine}${s.already ? ' (found renamed by an earlier run)' : ''}`,
      });
      killPoint('runner:renamed:after-ledger');
      record(u, {
        status: 'ok',
        state: e.state,
        rows: entry.rows,
        reason: `renamed to ${quarantine}`,
        seconds: seconds(),
      });
      return true;
    }
    const check = (s.validation ?? null) as { status?: string; archive_snapshot_id?: unknown } | null;
    killPoint('runner:dropped:before-ledger');
    const e = await ledger.transition(ref, {
      ...common,
      expect: 'source_renamed',
      to: 'source_dropped',
      sourceCleanup: { ...entry.source_cleanup!, quarantine_table: quarantine, dropped_at: String(s.dropped_at) },
      ...(check?.status === 'passed'
        ? {
            validation: {
              status: 'passed' as const,
              snapshot_id: check.archive_snapshot_id == null ? null : String(check.archive_snapshot_id),
              mode: 'full',
              mismatches: 0,
            },
          }
        : {}),
      note: `dropped ${u.source.schema}.${quarantine}${s.already ? ' (found dropped by an earlier run)' : ''}`,
    });
    killPoint('runner:dropped:after-ledger');
    record(u, { status: 'ok', state: e.state, reason: `dropped ${quarantine}`, seconds: seconds() });
    return true;
  }

  try {
    await Promise.all(
      // The database's slot first, then a global one: a table waiting for its database holds no global slot.
      [...groups.values()].map((units) =>
        dbLimit(units[0]!.database)(() =>
          all(async () => {
            for (const u of units) {
              if (opts.signal?.aborted) {
                summary.aborted = true;
                return;
              }
              if (!(await runUnit(u))) return; // a failed archive is not validated
            }
          }),
        ),
      ),
    );
  } finally {
    if (!opts.worker) {
      if (opts.signal?.aborted) worker.kill();
      else await worker.close();
    }
  }
  summary.seconds = (Date.now() - started) / 1000;
  return summary;
}
