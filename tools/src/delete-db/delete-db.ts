/**
 * `offload delete-archive-database`'s core: the seed's delete-iceberg-db script, made safe. Returns data;
 * the CLI prints.
 *
 * Guarantees:
 *  - dry run by default: reads only, writes nothing (not even an audit record);
 *  - refuses the whole database while ANY of its tables is refused (model.ts: a legal hold from the
 *    archive or the current configs — no flag overrides it; a retention end not reached or unknown —
 *    only `forceReason`; S3 Object Lock keeping any object version — nothing overrides it); with
 *    `apply`, a refusal is audited too;
 *  - on apply, in this order, so a failure anywhere leaves a state the next run finishes:
 *      1. a `deleting` audit record (the journal: every table decided, with its location);
 *      2. per table: every file (every S3 version) under its location, checked gone, then its entry;
 *      3. locations journaled by an earlier, interrupted run whose entry is already gone: swept;
 *      4. the run ledger: the database's tables → `purged` (or `failed` with `archive_deleted` where
 *         the ledger allows no purge: the archive is gone, so the engine decides them afresh);
 *      5. the database's Lake Formation (or local) grants revoked; 6. the database dropped;
 *      7. a `deleted` audit record.
 *    A rerun re-reads everything; a table whose metadata an interrupted run already deleted is
 *    accepted only on that run's journal (and the current configs' holds still apply).
 */
import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import { glueDatabaseOf } from '../config/naming.js';
import { loadRepo } from '../config/load.js';
import { fsSource } from '../config/source.js';
import { UserError } from '../errors.js';
import type { OffloadSettings } from '../generated/settings.js';
import type { GovernanceTarget } from '../governance/target.js';
import { resourceLabel, type Grant } from '../governance/model.js';
import type { Ledger, LedgerEntry } from '../ledger/model.js';
import {
  AUDIT_SUFFIX,
  cleared,
  decideTable,
  refusalText,
  type ArchiveTable,
  type ConfigView,
  type TableDecision,
} from './model.js';
import type { ArchiveStore } from './store.js';

export interface DeleteArchiveDatabaseOptions {
  /** Config repository root (the current configs: settings, databases, policies). */
  root: string;
  /** The archive (Glue) database, e.g. `archive_pgdb`. */
  database: string;
  apply: boolean;
  /** Lets a retention refusal go (never a hold, never Object Lock); recorded in the audit records. */
  forceReason?: string;
  store: ArchiveStore;
  ledger: Ledger;
  governance: GovernanceTarget;
  target: string;
  /** Called after each step of an apply (progress for people; a test hook). */
  onStep?: (step: string) => void | Promise<void>;
}

export interface DeleteArchiveDatabaseResult {
  format_version: 1;
  delete_id: string;
  database: string;
  target: string;
  store: string;
  mode: 'dry-run' | 'apply';
  status: 'would_delete' | 'refused' | 'deleted';
  database_exists: boolean;
  tables: TableDecision[];
  totals: { tables: number; files: number; bytes: number };
  /** Journaled locations of an interrupted run with files still there. */
  leftovers: { location: string; files: number }[];
  grants: string[];
  ledger: { table: string; state: string; to: 'purged' | 'failed' }[];
  refusals: string[];
  forced_reason: string | null;
  audit_records: string[];
}

const LEDGER_DONE_CODE = 'archive_deleted';
const PURGEABLE = new Set(['validated', 'source_dropped']);

function loadConfigs(
  repo: Awaited<ReturnType<typeof loadRepo>>,
  db: string,
): ConfigView & { settings: OffloadSettings } {
  const settings = repo.settings?.config;
  if (repo.errors > 0 || !settings)
    throw new UserError(
      `the configs in ${repo.source} do not pass \`offload validate\` (${repo.errors} error(s)): ` +
        'legal holds cannot be judged, so nothing is deleted',
      1,
    );
  const database = repo.databases.map((d) => d.config).find((d) => glueDatabaseOf(d, settings) === db);
  const prefix = settings.archive.glue_database_prefix ?? 'archive_';
  if (!database && !db.startsWith(prefix))
    throw new UserError(
      `${db} is not an archive database of this repository: no database config archives to it and its name ` +
        `lacks the archive prefix "${prefix}" (settings archive.glue_database_prefix)`,
    );
  return {
    settings,
    policies: new Map(repo.policies.map((p) => [p.config.name, p.config])),
    ...(database ? { database } : {}),
  };
}

const today = () => new Date().toISOString().slice(0, 10);

export async function deleteArchiveDatabase(opts: DeleteArchiveDatabaseOptions): Promise<DeleteArchiveDatabaseResult> {
  try {
    return await run(opts);
  } catch (e) {
    throw awsUserError(e, opts);
  }
}

/** AWS errors a person acts on (credentials, permissions, a missing ledger table) as UserErrors naming the store. */
function awsUserError(e: unknown, opts: DeleteArchiveDatabaseOptions): unknown {
  const err = e as { name?: string; message?: string; $metadata?: unknown };
  if (e instanceof UserError || (!err.$metadata && err.name !== 'CredentialsProviderError')) return e;
  const hint =
    err.name === 'ResourceNotFoundException'
      ? ` (is the run ledger ${opts.ledger.label} deployed? bash scripts/deploy.sh creates it)`
      : err.name === 'CredentialsProviderError'
        ? ' (no AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)'
        : '';
  return new UserError(
    `${opts.store.label}: ${err.name}: ${err.message}${hint}. A run stopped midway is finished by running ` +
      'the command again once the cause is fixed',
    1,
  );
}

async function run(opts: DeleteArchiveDatabaseOptions): Promise<DeleteArchiveDatabaseResult> {
  const db = opts.database;
  if (!/^[A-Za-z0-9_-]{1,255}$/.test(db)) throw new UserError(`"${db}" is not a Glue database name`);
  if (opts.forceReason !== undefined && opts.forceReason.trim() === '')
    throw new UserError('--force-reason needs a reason (it is recorded in the audit record): say why');
  const config = loadConfigs(await loadRepo(fsSource(opts.root)), db);
  const exists = await opts.store.databaseExists(db);
  const tables: ArchiveTable[] = exists ? await opts.store.listTables(db) : [];
  const entries = (await opts.ledger.list()).filter((e) => e.archive_namespace === db);
  const journal = (await opts.store.readAudits(`${db}.`)).filter((r) => r.status === 'deleting');
  const journaled = new Map<string, TableDecision>();
  for (const r of journal)
    for (const t of (r.tables as TableDecision[] | undefined) ?? []) if (cleared(t)) journaled.set(t.table, t);
  const grants = (await opts.governance.read()).grants.filter((g) => g.database === db);

  const leftoverLocations = [...journaled.values()]
    .filter((j) => !tables.some((x) => x.name === j.table))
    .map((j) => j.location);
  const locked = await opts.store.lockedObjects([...tables.map((t) => t.location), ...leftoverLocations]);
  const under = (location: string) => {
    const p = location.endsWith('/') ? location : `${location}/`;
    return locked.filter((l) => l.uri.startsWith(p) || l.uri.startsWith(p.replace(/^\//, 'file:/')));
  };
  const decisions = tables.map((t) =>
    decideTable({
      table: t,
      config,
      ledger: entries.filter((e) => e.archive_table === t.name),
      journaled: journaled.get(t.name),
      today: today(),
      ...(opts.forceReason !== undefined ? { forceReason: opts.forceReason } : {}),
      locked: under(t.location),
    }),
  );
  const leftovers: DeleteArchiveDatabaseResult['leftovers'] = [];
  for (const location of leftoverLocations) {
    const files = await opts.store.countFiles(location);
    if (files) leftovers.push({ location, files });
  }
  const lockedLeftovers = leftovers.flatMap((l) => under(l.location));
  const refusals = decisions.flatMap((d) => refusalText(db, d));
  if (lockedLeftovers.length)
    refusals.push(`${lockedLeftovers.length} object version(s) left by an earlier run are under S3 Object Lock`);
  // `failed` and `purged` entries already count as not archived for the engine (and failed → failed is
  // no transition).
  const pendingLedger = entries.filter((e) => e.state !== 'purged' && e.state !== 'failed');
  if (!exists && !leftovers.length && !grants.length && !pendingLedger.length)
    throw new UserError(`no archive database ${db} in ${opts.store.label}, and nothing left of one`);

  const result: DeleteArchiveDatabaseResult = {
    format_version: 1,
    delete_id: randomUUID(),
    database: db,
    target: opts.target,
    store: opts.store.label,
    mode: opts.apply ? 'apply' : 'dry-run',
    status: refusals.length ? 'refused' : opts.apply ? 'deleted' : 'would_delete',
    database_exists: exists,
    tables: decisions,
    totals: {
      tables: decisions.length,
      files: decisions.reduce((n, d) => n + d.files, 0),
      bytes: decisions.reduce((n, d) => n + d.bytes, 0),
    },
    leftovers,
    grants: grants.map(grantText),
    ledger: pendingLedger.map((e) => ({
      table: `${e.schema}.${e.table}`,
      state: e.state,
      to: PURGEABLE.has(e.state) ? 'purged' : 'failed',
    })),
    refusals,
    forced_reason: decisions.some((d) => d.forced) ? opts.forceReason!.trim() : null,
    audit_records: [],
  };
  if (!opts.apply) return result;
  const audit = async (status: string) => {
    const stamp = new Date()
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z');
    const name = `${db}.${stamp}.${result.delete_id.slice(0, 8)}.${status}${AUDIT_SUFFIX}`;
    const { audit_records: _a, ...rest } = result;
    result.audit_records.push(
      await opts.store.writeAudit(name, {
        job: 'delete-archive-database',
        ...rest,
        status,
        by: safeUser(),
        at: new Date().toISOString(),
      }),
    );
  };
  if (refusals.length) {
    await audit('refused');
    return result;
  }
  const step = async (s: string) => opts.onStep?.(s);
  await audit('deleting');
  await step('journal');
  for (const d of decisions) {
    await opts.store.deleteFiles(d.location);
    const left = await opts.store.countFiles(d.location);
    if (left)
      throw new UserError(`${left} file(s) remain under ${d.location} after deleting them: run the command again`, 1);
    await opts.store.dropTableEntry(db, d.table);
    await step(`table ${d.table}`);
  }
  for (const l of leftovers) {
    await opts.store.deleteFiles(l.location);
    await step(`leftover ${l.location}`);
  }
  for (const e of pendingLedger) await settleLedger(opts.ledger, e, result.delete_id);
  await step('ledger');
  if (grants.length) {
    const state = await opts.governance.read();
    await opts.governance.apply({ grant: [], revoke: grants, register: [] }, state);
  }
  await step('grants');
  await opts.store.dropDatabase(db);
  await step('database');
  await audit('deleted');
  return result;
}

async function settleLedger(ledger: Ledger, e: LedgerEntry, runId: string): Promise<void> {
  const ref = { database: e.database, schema: e.schema, table: e.table };
  const note = `archive database ${e.archive_namespace} deleted (delete-archive-database ${runId})`;
  if (PURGEABLE.has(e.state)) await ledger.transition(ref, { expect: e.state, to: 'purged', runId, note });
  else
    await ledger.transition(ref, {
      expect: e.state,
      to: 'failed',
      runId,
      note,
      error: { code: LEDGER_DONE_CODE, message: note },
    });
}

const grantText = (g: Grant) =>
  `${g.principal}: ${g.permission}${g.grantable ? ' (with grant option)' : ''} on ${resourceLabel(g)}`;

function safeUser(): string | null {
  try {
    return process.env.AWS_PROFILE
      ? `${userInfo().username} (profile ${process.env.AWS_PROFILE})`
      : userInfo().username;
  } catch {
    return null;
  }
}
