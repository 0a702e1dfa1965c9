/**
 * `offload status`'s core: what is due, in one view. Every table a scope claims — those with nothing
 * to do too, with the reason — with its dates, the action due now and the next action, straight from
 * the policy engine's decisions (never recomputed here), plus its current state in the run ledger
 * when one is given (whose archive records the engine then decides with, as the pipeline does).
 * Returns data (the JSON contract `schema/status.schema.json`); never prints.
 */
import path from 'node:path';
import { loadRepo } from '../config/load.js';
import { fsSource } from '../config/source.js';
import { evaluate, parseAsOf, type InventoryInput } from '../engine/evaluate.js';
import { readInventory } from '../inventory/inventory.js';
import { readArchiveState } from '../preview/preview.js';
import { scheduleOf } from '../preview/diff.js';
import { UserError } from '../errors.js';
import type { StatusResult } from '../generated/status.js';
import { archiveRecordsOf, type LedgerEntry } from '../ledger/index.js';
import { tableKey } from '../work/units.js';

export type { StatusResult };
export type StatusTable = StatusResult['tables'][number];
type TableState = NonNullable<StatusTable['state']>;

const STATUS_FORMAT_VERSION = 1 as const;

/** The run ledger as status reads it: its entries, and where they came from (for the output). */
interface LedgerInput {
  label: string;
  entries: readonly LedgerEntry[];
}

export interface StatusOptions {
  root: string;
  /** Only these databases (default: every database config). */
  databases?: readonly string[];
  /** Inventory folder, absolute or relative to root. */
  inventory: string;
  /** As-of date; default today (UTC). */
  asOf?: string;
  /** JSON file of archive records (as for `offload preview --archive-state`); overrides the ledger's. */
  archiveState?: string;
  /** The run ledger: each table's state, and the archive records the engine decides with. */
  ledger?: LedgerInput;
  now?: () => Date;
}

function stateOf(e: LedgerEntry | undefined): TableState | null {
  return e ? { state: e.state, run_id: e.run_id, snapshot_id: e.snapshot_id, updated_at: e.updated_at } : null;
}

export async function status(opts: StatusOptions): Promise<StatusResult> {
  const repo = await loadRepo(fsSource(opts.root));
  if (repo.errors > 0)
    throw new UserError(
      `the configs have ${repo.errors} validation error(s); run \`offload validate\` and fix them first:\n` +
        repo.findings
          .filter((f) => f.severity === 'error')
          .slice(0, 10)
          .map((f) => `  ${f.file}:${f.line}:${f.column} ${f.code} ${f.message}`)
          .join('\n'),
      1,
    );
  const known = repo.databases.map((d) => d.config.name).sort();
  const unknown = (opts.databases ?? []).filter((n) => !known.includes(n));
  if (unknown.length)
    throw new UserError(
      `no database config named ${unknown.map((n) => `"${n}"`).join(', ')}; ` +
        `the configs declare: ${known.join(', ') || '(none)'}`,
    );
  const chosen = opts.databases?.length ? new Set(opts.databases) : undefined;
  const databases = repo.databases.map((d) => d.config).filter((d) => !chosen || chosen.has(d.name));
  const asOf = opts.asOf ?? (opts.now ?? (() => new Date()))().toISOString().slice(0, 10);
  try {
    parseAsOf(asOf);
  } catch (e) {
    throw new UserError((e as Error).message);
  }
  const dir = path.resolve(opts.root, opts.inventory);
  const inventories = new Map<string, InventoryInput>();
  for (const d of databases) {
    const r = await readInventory(dir, d.name);
    inventories.set(
      d.name,
      r.ok
        ? r.inventory
        : {
            error: {
              code: r.code,
              message:
                r.code === 'inventory/missing'
                  ? `${r.message}: run \`offload discover --database ${d.name}\``
                  : r.message,
            },
          },
    );
  }
  const archive = opts.archiveState
    ? await readArchiveState(path.resolve(opts.root, opts.archiveState))
    : opts.ledger
      ? archiveRecordsOf(opts.ledger.entries)
      : undefined;
  const states = new Map(opts.ledger?.entries.map((e) => [tableKey(e.database, e.schema, e.table), e]));
  const ev = evaluate({
    databases,
    policies: repo.policies.map((p) => p.config),
    inventories,
    asOf,
    ...(archive ? { archive } : {}),
  });
  const tables: StatusTable[] = [];
  const next = { archive: 0, validate: 0, cleanup_source: 0, purge: 0, none: 0 };
  let problems = 0;
  for (const db of ev.databases)
    for (const d of db.decisions) {
      const schedule = scheduleOf(d);
      next[schedule?.next_action ?? 'none']++;
      if (d.problem) problems++;
      tables.push({
        database: d.database,
        schema: d.schema,
        table: d.table,
        kind: d.kind,
        policy: d.policy,
        action: d.action,
        due_now: d.action !== 'none',
        reason: d.reason,
        schedule,
        problem: d.problem ? { code: d.problem.code, message: d.problem.message } : null,
        rows: d.rows,
        bytes: d.bytes,
        in_source: d.in_source,
        state: stateOf(states.get(tableKey(d.database, d.schema, d.table))),
      });
    }
  return {
    format_version: STATUS_FORMAT_VERSION,
    as_of: ev.as_of,
    inventory: opts.inventory,
    ledger: opts.ledger?.label ?? null,
    complete: problems === 0 && ev.databases.every((d) => d.status === 'ok'),
    summary: { tables: tables.length, due_now: tables.filter((t) => t.due_now).length, problems, next },
    databases: ev.databases.map((d) => ({
      database: d.database,
      status: d.status,
      inventory_discovered_at: d.inventory_discovered_at,
      tables: d.decisions.length,
      unclaimed: d.unclaimed,
      problems: d.problems.map((p) => ({ code: p.code, message: p.message })),
    })),
    tables,
  };
}
