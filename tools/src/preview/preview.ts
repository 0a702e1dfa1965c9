/**
 * `offload preview`'s core: evaluates the configs at a base git revision and in the working tree
 * with the one policy engine, over the same inventories (snapshot files, or the live catalogs), and
 * returns what changes. Returns data; never prints. A database that could not be evaluated (missing
 * or partial inventory, unreachable) is a problem in the result, never silently "no changes".
 */
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import pLimit from 'p-limit';
import { loadRepo, type LoadedRepo } from '../config/load.js';
import { fsSource, gitSource } from '../config/source.js';
import { parseUtc } from '../engine/dates.js';
import { evaluate, parseAsOf, type ArchiveRecord, type Evaluation, type InventoryInput } from '../engine/evaluate.js';
import { readDiscoveryFailure, readInventory, type DiscoveryFailure } from '../inventory/inventory.js';
import { calendarProblem } from '../engine/dates.js';
import { checkDir } from '../dirs.js';
import { ageDays, ageText } from './age.js';
import { discoverDatabase, type ConfigVariant, type DiscoverProgress } from '../catalog/discover.js';
import type { CredentialOptions } from '../catalog/credentials.js';
import type { DatabaseConfig } from '../generated/database.js';
import { UserError } from '../errors.js';
import { didYouMean } from '../config/suggest.js';
import { addTo, diffEvaluations, emptyTotals, type Change, type Totals } from './diff.js';
import type { PreviewResult } from '../generated/preview.js';
import { governanceChanges, NO_GOVERNANCE_CHANGES } from '../governance/changes.js';

const PREVIEW_FORMAT_VERSION = 1 as const;

export interface PreviewOptions {
  root: string;
  /** Git revision of the configs to compare against (e.g. `origin/main`). */
  base: string;
  /** Inventory folder (absolute or relative to root), or `live` to read the catalogs now. */
  inventory: string;
  /** As-of date; default today (UTC). */
  asOf?: string;
  /** JSON file with archive records (the pipeline's archive state); overrides `archive`. */
  archiveState?: string;
  /** Archive records read from the run ledger; default: none archived yet. */
  archive?: ArchiveRecord[];
  credentials?: CredentialOptions;
  now?: () => Date;
  onProgress?: (p: DiscoverProgress) => void;
}

/** The result: the JSON contract of `schema/preview.schema.json` (types generated from it). */
export type { PreviewResult };
type PreviewProblem = PreviewResult['problems'][number];
type DatabaseSummary = PreviewResult['databases'][number];
type PreviewWarning = NonNullable<PreviewResult['warnings']>[number];

/** What preview knows beside the evaluations: failed discoveries, stray inventories, the clock. */
interface PreviewContext {
  failures?: ReadonlyMap<string, DiscoveryFailure>;
  warnings?: readonly PreviewWarning[];
  now?: Date;
  /** Lake Formation changes (default: none). */
  governance?: PreviewResult['governance'];
}

export async function readArchiveState(file: string): Promise<ArchiveRecord[]> {
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new UserError(`archive state ${file} cannot be read as JSON: ${(e as Error).message}`);
  }
  const list = Array.isArray(doc) ? doc : (doc as { archives?: unknown })?.archives;
  if (
    !Array.isArray(list) ||
    list.some(
      (r) =>
        typeof r?.database !== 'string' ||
        typeof r?.schema !== 'string' ||
        typeof r?.table !== 'string' ||
        typeof r?.archived_at !== 'string' ||
        typeof r?.validated !== 'boolean',
    )
  ) {
    throw new UserError(
      `archive state ${file}: ` +
        'expected a list of { database, schema, table, archived_at, validated, table_date?, purged? }',
    );
  }
  (list as ArchiveRecord[]).forEach((r, i) => {
    for (const field of ['archived_at', 'table_date'] as const) {
      const v = r[field];
      if (v === undefined) continue;
      const why =
        typeof v !== 'string' || Number.isNaN(parseUtc(v))
          ? `"${String(v)}" is not an ISO-8601 date`
          : calendarProblem(v);
      if (why)
        throw new UserError(
          `archive state ${file}: record ${i + 1} (${r.database}.${r.schema}.${r.table}): ${field} ${why}`,
        );
    }
  });
  return list as ArchiveRecord[];
}

async function liveInventories(
  head: LoadedRepo,
  base: LoadedRepo,
  opts: PreviewOptions,
): Promise<Map<string, InventoryInput>> {
  const out = new Map<string, InventoryInput>();
  const byName = new Map<string, DatabaseConfig>();
  for (const d of base.databases) byName.set(d.config.name, d.config);
  for (const d of head.databases) byName.set(d.config.name, d.config); // the working tree's connection wins
  const limit = pLimit(4); // databases read at the same time
  await Promise.all(
    [...byName]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([name, config]) =>
        limit(async () => {
          const variants: ConfigVariant[] = [head, base].flatMap((r) => {
            const d = r.databases.find((x) => x.config.name === name);
            return d ? [{ database: d.config, policies: r.policies.map((p) => p.config) }] : [];
          });
          const credentials = {
            root: opts.root,
            ...(head.settings ? { region: head.settings.config.region } : {}),
            ...opts.credentials,
          };
          const { inventory } = await discoverDatabase({
            database: config,
            variants,
            credentials,
            ...(opts.now ? { now: opts.now } : {}),
            ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
          });
          out.set(name, inventory);
        }),
      ),
  );
  return out;
}

export async function preview(opts: PreviewOptions): Promise<PreviewResult> {
  const head = await loadRepo(fsSource(opts.root));
  if (head.errors > 0) {
    throw new UserError(
      `the working tree's configs have ${head.errors} validation error(s); ` +
        `run \`offload validate\` and fix them first:\n${head.findings
          .filter((f) => f.severity === 'error')
          .slice(0, 10)
          .map((f) => `  ${f.file}:${f.line}:${f.column} ${f.code} ${f.message}`)
          .join('\n')}`,
      1,
    );
  }
  const base = await loadRepo(gitSource(opts.root, opts.base));
  const asOf = opts.asOf ?? (opts.now ?? (() => new Date()))().toISOString().slice(0, 10);
  try {
    parseAsOf(asOf);
  } catch (e) {
    throw new UserError((e as Error).message);
  }
  const archive = opts.archiveState ? await readArchiveState(path.resolve(opts.root, opts.archiveState)) : opts.archive;
  const names = [...new Set([...head.databases, ...base.databases].map((d) => d.config.name))].sort();
  let inventories: Map<string, InventoryInput>;
  const failures = new Map<string, DiscoveryFailure>();
  const warnings: PreviewWarning[] = [];
  const now = (opts.now ?? (() => new Date()))();
  if (opts.inventory === 'live') inventories = await liveInventories(head, base, opts);
  else {
    const dir = path.resolve(opts.root, opts.inventory);
    await checkDir(dir, '--inventory');
    inventories = new Map();
    for (const name of names) {
      const r = await readInventory(dir, name);
      inventories.set(name, r.ok ? r.inventory : { error: { code: r.code, message: r.message } });
      const failed = r.ok ? await readDiscoveryFailure(dir, r.inventory) : undefined;
      if (r.ok && failed) {
        failures.set(name, failed);
        warnings.push({
          database: name,
          code: 'inventory/last-discovery-failed',
          message:
            `the last discovery failed (${failed.failed_at}: ` +
            `${failed.errors.map((e) => `${e.code} ${e.message}`).join('; ')}); evaluated from the last good ` +
            `snapshot of ${r.inventory.discovered_at} (${ageText(r.inventory.discovered_at, now)})`,
        });
      }
    }
    warnings.push(...(await strayInventories(dir, opts.inventory, new Set(names))));
  }
  const run = (repo: LoadedRepo): Evaluation =>
    evaluate({
      databases: repo.databases.map((d) => d.config),
      policies: repo.policies.map((p) => p.config),
      inventories,
      asOf,
      ...(archive ? { archive } : {}),
    });
  const before = run(base);
  const after = run(head);
  const changes = diffEvaluations(before, after);
  return summarize(opts, asOf, before, after, changes, base, {
    failures,
    warnings,
    now,
    governance: governanceChanges(base, head, `git:${opts.base}`),
  });
}

/** Inventories in the folder of databases that no config (of either side) declares: a warning each. */
async function strayInventories(dir: string, shown: string, known: ReadonlySet<string>): Promise<PreviewWarning[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  return names
    .filter((f) => f.endsWith('.json') && !f.endsWith('.error.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .filter((db) => !known.has(db))
    .sort()
    .map((db) => {
      const guess = didYouMean(db, known).trim();
      return {
        database: db,
        code: 'inventory/unknown-database',
        message:
          `${path.posix.join(shown, `${db}.json`)} is an inventory, but there is no database config named ` +
          `${db}${guess ? ` (${guess})` : ''}: delete it, or add databases/${db}.yaml`,
      };
    });
}

/** Totals per database and per policy, problems of both sides; pure. */
export function summarize(
  opts: Pick<PreviewOptions, 'base' | 'inventory'>,
  asOf: string,
  before: Evaluation,
  after: Evaluation,
  changes: Change[],
  baseRepo?: LoadedRepo,
  context: PreviewContext = {},
): PreviewResult {
  const now = context.now ?? new Date();
  const summary = { ...emptyTotals(), added: 0, removed: 0, changed: 0 };
  const dbs = new Map<string, DatabaseSummary>();
  const pols = new Map<string, Totals & { policy: string }>();
  for (const e of [after, before])
    for (const d of e.databases) {
      if (!dbs.has(d.database))
        dbs.set(d.database, {
          database: d.database,
          status: d.status,
          inventory_discovered_at: d.inventory_discovered_at,
          inventory_age_days: d.inventory_discovered_at === null ? null : ageDays(d.inventory_discovered_at, now),
          last_discovery_failure: failureOf(context.failures?.get(d.database)),
          ...emptyTotals(),
        });
    }
  for (const c of changes) {
    addTo(summary, c);
    summary[c.change]++;
    addTo(dbs.get(c.database)!, c);
    const p = c.policy ?? '(none)';
    if (!pols.has(p)) pols.set(p, { policy: p, ...emptyTotals() });
    addTo(pols.get(p)!, c);
  }
  const problems: PreviewProblem[] = [];
  for (const [side, e] of [
    ['head', after],
    ['base', before],
  ] as const) {
    for (const d of e.databases) {
      for (const p of d.problems) problems.push({ database: d.database, code: p.code, message: p.message, side });
      if (side === 'base' && d.status !== 'ok' && dbs.get(d.database)?.status === 'ok')
        dbs.get(d.database)!.status = d.status;
      for (const x of d.decisions)
        if (
          x.problem &&
          !(
            x.problem.code.startsWith('discover/') &&
            d.status !== 'ok' &&
            side === 'head' &&
            d.problems.some((p) => p.message === x.problem!.message)
          )
        ) {
          problems.push({
            database: d.database,
            schema: x.schema,
            table: x.table,
            code: x.problem.code,
            message: x.problem.message,
            side,
          });
        }
    }
  }
  // A base revision whose configs fail today's validation is still previewed, with a note.
  if (baseRepo && baseRepo.errors > 0)
    problems.push({
      database: '*',
      code: 'preview/base-invalid',
      message:
        `the configs at ${opts.base} have ${baseRepo.errors} validation error(s); ` +
        'compared with what of them loads',
      side: 'base',
    });
  // A problem both sides share is reported once, as the working tree's.
  const dedup = new Map<string, PreviewProblem>();
  for (const p of problems) {
    const k = `${p.database}|${p.schema}|${p.table}|${p.code}|${p.message}`;
    if (!dedup.has(k)) dedup.set(k, p);
  }
  const list = [...dedup.values()];
  const headDbFailed = [...dbs.values()].some((d) => d.status !== 'ok');
  return {
    format_version: PREVIEW_FORMAT_VERSION,
    base: opts.base,
    as_of: asOf,
    inventory: opts.inventory,
    complete: !headDbFailed && !list.some((p) => p.side === 'head'),
    summary,
    changes,
    databases: [...dbs.values()].sort((a, b) => (a.database < b.database ? -1 : 1)),
    policies: [...pols.values()].sort((a, b) => (a.policy < b.policy ? -1 : 1)),
    problems: list,
    warnings: [...(context.warnings ?? [])],
    governance: context.governance ?? NO_GOVERNANCE_CHANGES,
  };
}

function failureOf(f: DiscoveryFailure | undefined): DatabaseSummary['last_discovery_failure'] {
  return f ? { failed_at: f.failed_at, errors: f.errors.map((e) => ({ code: e.code, message: e.message })) } : null;
}
