/**
 * `offload discover`'s core: reads one database's catalog through its engine adapter (a fixed number
 * of catalog queries), then measures `max(column)` for the tables that column-aged policies claim —
 * only those, in UNION ALL batches, a few batches at a time — and returns the inventory snapshot.
 * It never throws for what the database does: failures become inventory errors and `partial: true`.
 */
import pLimit from 'p-limit';
import type { DatabaseConfig } from '../generated/database.js';
import type { PolicyConfig } from '../generated/policy.js';
import type { Inventory, InventoryError, InventoryTable } from '../inventory/inventory.js';
import { INVENTORY_FORMAT_VERSION } from '../inventory/format.js';
import { claimingScopes, compileScope } from '../engine/scope.js';
import { findColumn } from '../engine/columns.js';
import { countingPort, type CatalogSession, type QueryPort } from './port.js';
import { classify } from './errors.js';
import { openSession } from './connect.js';
import { targetOf } from './target.js';
import { resolveCredentials, CredentialsError, type CredentialOptions } from './credentials.js';
import type { Introspector, TableInfo } from './model.js';
import { toIso } from './model.js';
import { postgres } from './postgres.js';
import { mysql } from './mysql.js';
import { oracle } from './oracle.js';
import { sqlserver } from './sqlserver.js';
import { TOOL_VERSION } from '../version.js';

const INTROSPECTORS: Record<DatabaseConfig['engine'], Introspector> = {
  postgres,
  mysql,
  mariadb: mysql,
  oracle,
  sqlserver,
};

/**
 * A set of configs whose column-aged policies need measuring (the working tree, and for `preview --inventory live`
 * also the base).
 */
export interface ConfigVariant {
  database: DatabaseConfig;
  policies: readonly PolicyConfig[];
}

export type DiscoverProgress =
  | { phase: 'connect'; database: string }
  | { phase: 'catalog'; database: string; tables: number }
  | { phase: 'measure'; database: string; done: number; total: number };

export interface DiscoverOptions {
  /** The database as configured in the working tree (connection, engine, scope). */
  database: DatabaseConfig;
  /** Configs whose scopes decide the schemas read and the columns measured; default: the database with `policies`. */
  variants?: readonly ConfigVariant[];
  policies?: readonly PolicyConfig[];
  /** Use this session instead of connecting (tests, fakes replaying recorded rows). */
  session?: QueryPort & Partial<Pick<CatalogSession, 'close'>>;
  credentials?: CredentialOptions;
  /** Parallel max(column) batches (and connections). @default 4 */
  concurrency?: number;
  /** max(column) queries per UNION ALL batch. @default 25 */
  batchSize?: number;
  statementTimeoutMs?: number;
  connectTimeoutMs?: number;
  now?: () => Date;
  onProgress?: (p: DiscoverProgress) => void;
}

export interface DiscoverResult {
  inventory: Inventory;
  /** Catalog queries issued (introspection only, not max(column) measurements). */
  catalogQueries: number;
  /** max(column) statements issued (batches and single retries). */
  measureQueries: number;
}

export { targetOf } from './target.js';

interface Measure {
  table: InventoryTable;
  column: string;
}

/**
 * Which (table, column) pairs need `max(column)`: tables claimed by a scope whose policies age by a column present
 * in the table.
 */
function measurementsNeeded(
  tables: readonly InventoryTable[],
  variants: readonly ConfigVariant[],
  engine = 'postgres',
): Measure[] {
  const out: Measure[] = [];
  const seen = new Set<string>();
  const compiled = variants.map((v) => ({
    scopes: compileScope(v.database),
    policies: new Map(v.policies.map((p) => [p.name, p])),
  }));
  for (const t of tables) {
    if (t.kind === 'partition') continue; // archived with its parent, never aged on its own
    for (const v of compiled) {
      for (const s of claimingScopes(v.scopes, t.schema, t.name)) {
        for (const name of s.entry.policies) {
          const p = v.policies.get(name);
          const wanted = p?.age.from === 'column' ? p.age.column : undefined;
          const col = wanted === undefined ? undefined : findColumn(t, wanted, engine)?.name;
          if (!col) continue; // the engine reports the missing column
          const k = `${t.schema}\u0000${t.name}\u0000${col}`;
          if (seen.has(k)) continue;
          seen.add(k);
          out.push({ table: t, column: col });
        }
      }
    }
  }
  return out;
}

/** Whether a policy claiming the table (in any variant) ages it by the engine's last-modification time. */
function lastModifiedWanted(variants: readonly ConfigVariant[]): (schema: string, table: string) => boolean {
  const compiled = variants.map((v) => ({
    scopes: compileScope(v.database),
    policies: new Map(v.policies.map((p) => [p.name, p])),
  }));
  return (schema, table) =>
    compiled.some((v) =>
      claimingScopes(v.scopes, schema, table).some((s) =>
        s.entry.policies.some((n) => v.policies.get(n)?.age.from === 'last_modified'),
      ),
    );
}

function toInventoryTable(t: TableInfo): InventoryTable {
  return { ...t, column_max: {} };
}

export async function discoverDatabase(opts: DiscoverOptions): Promise<DiscoverResult> {
  const db = opts.database;
  const now = opts.now ?? (() => new Date());
  const variants = opts.variants ?? [{ database: db, policies: opts.policies ?? [] }];
  const schemas = [...new Set(variants.flatMap((v) => v.database.scope.map((s) => s.schema)))].sort();
  const inv: Inventory = {
    format_version: INVENTORY_FORMAT_VERSION,
    tool: { name: 'offload', version: TOOL_VERSION },
    discovered_at: now().toISOString(),
    database: db.name,
    engine: db.engine,
    partial: false,
    errors: [],
    schemas: schemas.map((name) => ({ name, found: false })),
    keeps_last_modified: db.engine !== 'postgres',
    tables: [],
  };
  const fail = (e: InventoryError) => {
    inv.errors.push(e);
    inv.partial = true;
  };
  let session = opts.session;
  let opened: CatalogSession | undefined;
  opts.onProgress?.({ phase: 'connect', database: db.name });
  if (!session) {
    try {
      const creds = await resolveCredentials(db, opts.credentials);
      opened = await openSession({
        engine: db.engine,
        target: targetOf(db, creds),
        user: creds.user,
        password: creds.password,
        ...(opts.statementTimeoutMs ? { statementTimeoutMs: opts.statementTimeoutMs } : {}),
        ...(opts.connectTimeoutMs ? { connectTimeoutMs: opts.connectTimeoutMs } : {}),
        concurrency: opts.concurrency ?? 4,
      });
      session = opened;
    } catch (e) {
      if (e instanceof CredentialsError) fail({ code: e.code, message: e.message });
      else {
        const c = classify(e);
        fail({ code: c.code, message: `database ${db.name}: ${c.message}` });
      }
      return { inventory: inv, catalogQueries: 0, measureQueries: 0 };
    }
  }
  const catalog = countingPort(session);
  const measurePort = countingPort(session);
  try {
    const snap = await INTROSPECTORS[db.engine].introspect(catalog, schemas, {
      wantsLastModified: lastModifiedWanted(variants),
    });
    inv.keeps_last_modified = snap.keeps_last_modified;
    const found = new Set(snap.schemas);
    inv.schemas = schemas.map((name) => ({ name, found: found.has(name) }));
    for (const s of schemas)
      if (!found.has(s))
        fail({
          code: 'discover/schema-missing',
          schema: s,
          message:
            `database ${db.name}: schema "${s}" does not exist or is not visible to the user ` +
            "(check the scope and the user's privileges)",
        });
    inv.tables = snap.tables.map(toInventoryTable);
    opts.onProgress?.({ phase: 'catalog', database: db.name, tables: inv.tables.length });
    await measure(inv, measurementsNeeded(inv.tables, variants, db.engine), measurePort, opts, now, fail);
  } catch (e) {
    const c = classify(e);
    fail({ code: c.code, message: `database ${db.name}: ${c.message}` });
  } finally {
    await opened?.close().catch(() => {});
  }
  return { inventory: inv, catalogQueries: catalog.calls.length, measureQueries: measurePort.calls.length };
}

async function measure(
  inv: Inventory,
  needed: Measure[],
  port: QueryPort,
  opts: DiscoverOptions,
  now: () => Date,
  fail: (e: InventoryError) => void,
): Promise<void> {
  const intro = INTROSPECTORS[inv.engine];
  const size = Math.max(1, opts.batchSize ?? 25);
  const batches: Measure[][] = [];
  for (let i = 0; i < needed.length; i += size) batches.push(needed.slice(i, i + size));
  const limit = pLimit(Math.max(1, opts.concurrency ?? 4));
  let done = 0;
  const record = (m: Measure, v: unknown) => {
    m.table.column_max[m.column] = { value: toIso(v), measured_at: now().toISOString() };
  };
  const one = async (m: Measure) => {
    try {
      const rows = await port.query(intro.maxColumnSql(m.table.schema, m.table.name, m.column, 0));
      record(m, rows[0]?.v ?? rows[0]?.V ?? null);
    } catch (e) {
      const c = classify(e);
      fail({
        code: c.code,
        schema: m.table.schema,
        table: m.table.name,
        message: `${inv.database}: ${m.table.schema}.${m.table.name}: max(${m.column}) failed: ${c.message}`,
      });
    }
  };
  if (needed.length) opts.onProgress?.({ phase: 'measure', database: inv.database, done: 0, total: needed.length });
  await Promise.all(
    batches.map((batch) =>
      limit(async () => {
        try {
          const sql = batch
            .map((m, i) => intro.maxColumnSql(m.table.schema, m.table.name, m.column, i))
            .join('\nUNION ALL\n');
          const rows = batch.length === 1 ? null : await port.query(sql);
          if (rows)
            for (const r of rows) {
              const m = batch[Number(r.i ?? r.I)];
              if (m) record(m, r.v ?? r.V ?? null);
            }
          else await one(batch[0]!);
        } catch {
          // One table of the batch failed (dropped meanwhile, a column of a type that will not cast…):
          // measure each on its own so the error names the table and the others are still measured.
          for (const m of batch) await one(m);
        }
        done += batch.length;
        opts.onProgress?.({ phase: 'measure', database: inv.database, done, total: needed.length });
      }),
    ),
  );
}
