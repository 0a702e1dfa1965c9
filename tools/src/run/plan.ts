/**
 * Planning a run: configs + inventories (snapshot files, or the live catalogs read-only) + the run
 * ledger's archive records → the policy engine → work units. Returns data; never prints.
 */
import path from 'node:path';
import pLimit from 'p-limit';
import { loadRepo, type LoadedRepo } from '../config/load.js';
import { fsSource, type ConfigSource } from '../config/source.js';
import { gitCommit } from '../sync/sync.js';
import { evaluate, parseAsOf, type ArchiveRecord, type Evaluation, type InventoryInput } from '../engine/evaluate.js';
import { readInventory } from '../inventory/inventory.js';
import { discoverDatabase, type DiscoverProgress } from '../catalog/discover.js';
import { CredentialsError, resolveCredentials, type CredentialOptions } from '../catalog/credentials.js';
import type { OffloadSettings } from '../generated/settings.js';
import { UserError } from '../errors.js';
import type { Runtime } from '../work/credential-ref.js';
import { planWorkUnits, type PlannedWork, type PlanOptions, type WorkAction } from '../work/units.js';

export interface PlanWorkOptions {
  root: string;
  /** Where the configs are read (default the working tree at root; `offload run` reads the synced ones). */
  source?: ConfigSource;
  databases?: string[];
  tables?: string[];
  actions?: WorkAction[];
  /** Inventory folder (relative to root), or `live` to read the catalogs now (read-only). */
  inventory: string;
  asOf?: string;
  runId?: string;
  runtime?: Runtime;
  /** Config commit recorded in the units; default GITHUB_SHA or `git rev-parse HEAD` (+ `-dirty`). */
  commit?: string;
  credentials?: CredentialOptions;
  /** What the run ledger knows (archive records for the engine, per-table progress for planning). */
  archive?: readonly ArchiveRecord[];
  progress?: PlanOptions['progress'];
  now?: () => Date;
  onProgress?: (p: DiscoverProgress) => void;
}

export interface PlanWorkResult extends PlannedWork {
  runId: string;
  configCommit: string;
  evaluation: Evaluation;
  repo: LoadedRepo;
}

/** A run id from the clock: `2026-12-02T10-00-00Z` (sortable, safe in file names and Spark properties). */
function newRunId(now: Date): string {
  return now
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-');
}

async function loadValidRepo(
  source: ConfigSource,
): Promise<LoadedRepo & { settings: NonNullable<LoadedRepo['settings']> }> {
  const repo = await loadRepo(source);
  if (repo.errors > 0 || !repo.settings)
    throw new UserError(
      `the configs have ${repo.errors} validation error(s); ` +
        `run \`offload validate\` and fix them first:\n${repo.findings
          .filter((f) => f.severity === 'error')
          .slice(0, 10)
          .map((f) => `  ${f.file}:${f.line}:${f.column} ${f.code} ${f.message}`)
          .join('\n')}`,
      1,
    );
  return repo as LoadedRepo & { settings: NonNullable<LoadedRepo['settings']> };
}

export async function planWork(opts: PlanWorkOptions): Promise<PlanWorkResult> {
  const repo = await loadValidRepo(opts.source ?? fsSource(opts.root));
  const settings = repo.settings.config as OffloadSettings;
  const known = repo.databases.map((d) => d.config.name);
  const unknown = (opts.databases ?? []).filter((n) => !known.includes(n));
  if (unknown.length)
    throw new UserError(`no database config named ${unknown.join(', ')} (known: ${known.join(', ') || 'none'})`);
  const chosen = repo.databases
    .map((d) => d.config)
    .filter((d) => !opts.databases?.length || opts.databases.includes(d.name));
  const now = (opts.now ?? (() => new Date()))();
  const asOf = opts.asOf ?? now.toISOString().slice(0, 10);
  try {
    parseAsOf(asOf);
  } catch (e) {
    throw new UserError((e as Error).message);
  }
  const credentials: CredentialOptions = { root: opts.root, region: settings.region, ...opts.credentials };
  const policies = repo.policies.map((p) => p.config);
  const inventories = new Map<string, InventoryInput>();
  if (opts.inventory === 'live') {
    const limit = pLimit(4);
    await Promise.all(
      chosen.map((db) =>
        limit(async () => {
          const { inventory } = await discoverDatabase({
            database: db,
            policies,
            credentials,
            ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
          });
          inventories.set(db.name, inventory);
        }),
      ),
    );
  } else {
    const dir = path.resolve(opts.root, opts.inventory);
    for (const db of chosen) {
      const r = await readInventory(dir, db.name);
      inventories.set(db.name, r.ok ? r.inventory : { error: { code: r.code, message: r.message } });
    }
  }
  const evaluation = evaluate({
    databases: chosen,
    policies,
    inventories,
    asOf,
    ...(opts.archive ? { archive: opts.archive } : {}),
  });
  const runtime = opts.runtime ?? 'local';
  // Locally, a URL override kept with the credentials (env or file) points the jobs at the same copy
  // discovery read; looked up without Secrets Manager (the job reads the secret's host/port itself).
  const addressOverrides = new Map<string, { url?: string }>();
  if (runtime === 'local')
    for (const db of chosen) {
      try {
        const c = await resolveCredentials(db, { ...credentials, aws: false });
        if (c.url) addressOverrides.set(db.name, { url: c.url });
      } catch (e) {
        if (!(e instanceof CredentialsError)) throw e;
      }
    }
  const runId = opts.runId ?? newRunId(now);
  const configCommit = opts.commit ?? (await gitCommit(opts.root));
  const planned = planWorkUnits(
    evaluation,
    {
      settings,
      databases: chosen,
      policies,
      runId,
      configCommit,
      runtime,
      root: opts.root,
      addressOverrides,
    },
    {
      ...(opts.tables ? { tables: opts.tables } : {}),
      ...(opts.actions ? { actions: opts.actions } : {}),
      ...(opts.progress ? { progress: opts.progress } : {}),
    },
  );
  return { ...planned, runId, configCommit, evaluation, repo };
}
