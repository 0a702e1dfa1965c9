/**
 * `offload archives`'s core: every Iceberg archive of a local warehouse (a Hadoop catalog directory)
 * with its rows, bytes, current snapshot, source, policy, retention end, legal hold and last
 * validation result — read from the tables' own metadata JSON files (no Spark, no JVM) and from the
 * validation records the validate job writes. Read-only. Returns data; never prints.
 *
 * Hadoop catalog layout: `<warehouse>/<namespace…>/<table>/metadata/v<N>.metadata.json`, the current
 * N in `version-hint.text` (the highest version file when the hint is missing).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { loadRepo } from '../config/load.js';
import { fsSource } from '../config/source.js';
import { glueDatabaseOf } from '../config/naming.js';
import { UserError } from '../errors.js';
import type { ArchivesResult } from '../generated/archives.js';
import type { ValidationResultRecord } from '../generated/validation-result.js';

export type { ArchivesResult };
type ArchiveEntry = ArchivesResult['archives'][number];
type Validation = NonNullable<ArchiveEntry['validation']>;

const ARCHIVES_FORMAT_VERSION = 1 as const;
const LINEAGE = 'offload.';
/** Namespaces deeper than this are not looked for (a warehouse is `<namespace>/<table>`). */
const MAX_DEPTH = 4;

export interface ArchivesOptions {
  /** The Hadoop catalog's warehouse directory. */
  warehouse: string;
  /** Folder of validation records (`--result_path` of validate_table.py); default none. */
  results?: string;
  /** Config repository root: maps archive namespaces to database configs (needed by `databases`). */
  root?: string;
  /** Only the archives of these database configs. */
  databases?: readonly string[];
}

/**
 * Iceberg ids (snapshot ids) are 64-bit: JSON.parse would round them. Quote them first, so they stay
 * exact as strings.
 */
function parseExact(text: string): unknown {
  return JSON.parse(
    text.replace(
      /"(snapshot-id|current-snapshot-id|parent-snapshot-id|archive_snapshot_id)"(\s*):(\s*)(-?\d+)/g,
      '"$1"$2:$3"$4"',
    ),
  );
}

interface Metadata {
  'format-version'?: number;
  location?: string;
  'current-snapshot-id'?: string | null;
  'last-updated-ms'?: number;
  properties?: Record<string, string>;
  snapshots?: { 'snapshot-id': string; 'timestamp-ms': number; summary?: Record<string, string> }[];
}

function tableDirs(warehouse: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number) => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    if (entries.some((e) => e.isDirectory() && e.name === 'metadata') && depth > 1) {
      out.push(dir);
      return;
    }
    if (depth >= MAX_DEPTH) return;
    for (const e of entries)
      if (e.isDirectory() && !e.name.startsWith('.') && e.name !== 'data') walk(path.join(dir, e.name), depth + 1);
  };
  walk(warehouse, 0);
  return out.sort();
}

function currentMetadataFile(dir: string): string | undefined {
  const meta = path.join(dir, 'metadata');
  const hint = path.join(meta, 'version-hint.text');
  if (existsSync(hint)) {
    const n = readFileSync(hint, 'utf8').trim();
    for (const f of [`v${n}.metadata.json`, `v${n}.gz.metadata.json`])
      if (existsSync(path.join(meta, f))) return path.join(meta, f);
  }
  const versions = readdirSync(meta)
    .map((f) => /^v(\d+)\.metadata\.json$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .sort((a, b) => Number(b[1]) - Number(a[1]));
  return versions[0] ? path.join(meta, versions[0][0]) : undefined;
}

const num = (s: string | undefined) => (s !== undefined && /^\d+$/.test(s) ? Number(s) : null);
const str = (s: string | undefined) => (s === undefined || s === '' ? null : s);

/** The fields read from a validation record; its snapshot id kept exact as text (parseExact). */
type ValidationRecord = Pick<
  ValidationResultRecord,
  'status' | 'archive_table' | 'validated_at' | 'run_id' | 'mode'
> & {
  archive_snapshot_id?: string | null;
  mismatches: unknown[];
};

/** The latest validation record per archive (`<namespace>.<table>`), by validated_at. */
function readValidations(dir: string): {
  latest: Map<string, ValidationRecord & { file: string }>;
  problems: string[];
} {
  const latest = new Map<string, ValidationRecord & { file: string }>();
  const problems: string[] = [];
  if (!existsSync(dir)) throw new UserError(`validation results folder ${dir} does not exist`);
  for (const f of readdirSync(dir)
    .filter((x) => x.endsWith('.json'))
    .sort()) {
    let r: ValidationRecord;
    try {
      r = parseExact(readFileSync(path.join(dir, f), 'utf8')) as ValidationRecord;
    } catch (e) {
      problems.push(`${f}: not JSON (${(e as Error).message})`);
      continue;
    }
    if (typeof r?.archive_table !== 'string' || typeof r.validated_at !== 'string' || !Array.isArray(r.mismatches)) {
      problems.push(`${f}: not a validation record (schema/validation-result.schema.json)`);
      continue;
    }
    const prev = latest.get(r.archive_table);
    if (!prev || prev.validated_at <= r.validated_at) latest.set(r.archive_table, { ...r, file: f });
  }
  return { latest, problems };
}

function readArchive(dir: string, warehouse: string): ArchiveEntry | { problem: string } {
  const rel = path.relative(warehouse, dir).split(path.sep);
  const table = rel.pop()!;
  const namespace = rel.join('.');
  const file = currentMetadataFile(dir);
  if (!file) return { problem: `${path.relative(warehouse, dir)}: no metadata file` };
  let m: Metadata;
  try {
    m = parseExact(readFileSync(file, 'utf8')) as Metadata;
  } catch (e) {
    return { problem: `${path.relative(warehouse, file)}: not readable as JSON (${(e as Error).message})` };
  }
  const props = m.properties ?? {};
  const current = m['current-snapshot-id'] ?? null;
  const snap = current === null ? undefined : m.snapshots?.find((s) => s['snapshot-id'] === current);
  const summary = snap?.summary ?? {};
  const lin = (k: string) => str(props[LINEAGE + k] ?? summary[LINEAGE + k]);
  const sourceTable = lin('source.table');
  const hold = lin('legal_hold');
  return {
    archive: `${namespace}.${table}`,
    namespace,
    table,
    database: null,
    location: m.location ?? dir,
    metadata_file: path.relative(warehouse, file),
    format_version: m['format-version'] ?? null,
    // The archive job records the count it wrote (`offload.row_count`); Iceberg's own total otherwise.
    rows: num(props[`${LINEAGE}row_count`]) ?? num(summary['total-records']),
    bytes: num(summary['total-files-size']),
    data_files: num(summary['total-data-files']),
    current_snapshot_id: current === null || current === '-1' ? null : String(current),
    snapshot_at: snap ? new Date(snap['timestamp-ms']).toISOString() : null,
    source: sourceTable
      ? {
          engine: lin('source.engine'),
          host: lin('source.host'),
          port: num(props[`${LINEAGE}source.port`] ?? summary[`${LINEAGE}source.port`]),
          database: lin('source.database'),
          schema: lin('source.schema'),
          table: sourceTable,
        }
      : null,
    run_id: lin('run_id'),
    config_commit: lin('config_commit'),
    policy: lin('policy'),
    extracted_at: lin('extracted_at'),
    retention_until: lin('retention_until'),
    legal_hold: hold === null ? null : hold.toLowerCase() === 'true',
    forced_reason: lin('forced_reason'),
    validation: null,
  };
}

/**
 * Bytes of data files in the current snapshot of one archive of a local warehouse (`offload report`'s
 * archive sizes); undefined when the archive or its size is not there to read.
 */
export function localArchiveBytes(warehouse: string, namespace: string, table: string): number | undefined {
  const dir = path.join(warehouse, ...namespace.split('.'), table);
  if (!existsSync(path.join(dir, 'metadata'))) return undefined;
  const a = readArchive(dir, warehouse);
  return 'problem' in a || a.bytes === null ? undefined : a.bytes;
}

export async function listArchives(opts: ArchivesOptions): Promise<ArchivesResult> {
  const warehouse = path.resolve(opts.warehouse);
  if (!existsSync(warehouse) || !statSync(warehouse).isDirectory())
    throw new UserError(
      `warehouse ${warehouse} does not exist: pass the --warehouse the archive job wrote to (its --warehouse)`,
    );
  // Namespace → database config, when a config repository is given.
  const byNamespace = new Map<string, string>();
  if (opts.root) {
    const repo = await loadRepo(fsSource(opts.root));
    const settings = repo.settings?.config;
    if (settings) for (const d of repo.databases) byNamespace.set(glueDatabaseOf(d.config, settings), d.config.name);
    const known = [...byNamespace.values()].sort();
    const unknown = (opts.databases ?? []).filter((n) => !known.includes(n));
    if (unknown.length)
      throw new UserError(
        `no database config named ${unknown.map((n) => `"${n}"`).join(', ')}; ` +
          `the configs declare: ${known.join(', ') || '(none)'}`,
      );
  } else if (opts.databases?.length) throw new UserError('--database needs the config repository (--root)');
  const problems: string[] = [];
  const validations = opts.results ? readValidations(path.resolve(opts.results)) : undefined;
  if (validations) problems.push(...validations.problems);
  const archives: ArchiveEntry[] = [];
  for (const dir of tableDirs(warehouse)) {
    const a = readArchive(dir, warehouse);
    if ('problem' in a) {
      problems.push(a.problem);
      continue;
    }
    a.database = byNamespace.get(a.namespace) ?? null;
    if (opts.databases?.length && (a.database === null || !opts.databases.includes(a.database))) continue;
    const v = validations?.latest.get(a.archive);
    if (v) {
      const snapshot = v.archive_snapshot_id == null ? null : String(v.archive_snapshot_id);
      const validation: Validation = {
        status: v.status,
        validated_at: v.validated_at,
        run_id: v.run_id ?? null,
        snapshot_id: snapshot,
        current: snapshot !== null && snapshot === a.current_snapshot_id,
        mode: v.mode,
        mismatches: v.mismatches.length,
        record: v.file,
      };
      a.validation = validation;
    }
    archives.push(a);
  }
  return {
    format_version: ARCHIVES_FORMAT_VERSION,
    warehouse,
    results: opts.results ? path.resolve(opts.results) : null,
    archives,
    problems,
  };
}
