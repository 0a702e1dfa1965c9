/**
 * The retention policy engine: ONE pure, deterministic function from configs + inventories + an
 * as-of date (+ optionally the archive state) to a decision for every table a scope claims. The PR
 * preview, the discovery Lambda and the local runtime all call it, so what a PR shows is what the
 * pipeline does. No I/O, no clock: the same input always gives the same output, in the same order.
 *
 * Archive state: without one (a PR preview, or before any archive ran) every table is taken as not
 * archived yet, so a table already past `purge_after` gets `archive` and its reason says the purge
 * follows once the archive is validated. With records, an archived and validated table gets
 * `cleanup_source` (policy `source.action: drop`, source table still there) or `purge` (past
 * `purge_after`, no legal hold); archives whose source is gone are evaluated from their record.
 *
 * Where things are: model.ts the data in and out; age.ts rule 1, a table's date from its age source;
 * retention.ts the rules once the date is known (archive due, legal hold, source cleanup, purge due);
 * combine.ts several policies on one table; speed.ts the speed-ups. This file walks the tables.
 */
import type { DatabaseConfig } from '../generated/database.js';
import type { PolicyConfig } from '../generated/policy.js';
import type { Inventory, InventoryTable } from '../inventory/inventory.js';
import {
  type CompiledTemplate,
  compileTemplate,
  dateFromColumn,
  dateFromLastModified,
  dateFromName,
  dateFromRecord,
  nameDetail,
  type TableDate,
} from './age.js';
import { combine } from './combine.js';
import { calendarProblem, isoTime, parseUtc } from './dates.js';
import type {
  Action,
  ArchiveRecord,
  DatabaseEvaluation,
  Decision,
  EngineInput,
  Evaluation,
  InventoryInput,
  Outcome,
  Problem,
  Subject,
} from './model.js';
import { failed } from './model.js';
import { decide } from './retention.js';
import { claimingScopes, compileScope } from './scope.js';
import { bySubject, isSorted, type Memo, NAME_KEY_SCOPES, nameKey, newMemo, outcomeKey, reusedView } from './speed.js';

export type {
  Action,
  Age,
  ArchiveRecord,
  DatabaseEvaluation,
  Decision,
  EngineInput,
  Evaluation,
  InventoryInput,
  NextAction,
  Problem,
  Schedule,
} from './model.js';
export const ACTIONS: readonly Action[] = ['none', 'archive', 'purge', 'cleanup_source'];

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Parses the as-of date; throws on an invalid one (the CLI turns that into a usage error). */
export function parseAsOf(text: string): number {
  const t = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([zZ]|[+-]\d{2}:?\d{2})?)?$/.test(text)
    ? parseUtc(text.replace(' ', 'T'))
    : NaN;
  if (Number.isNaN(t)) throw new Error(`as-of date "${text}" is not an ISO-8601 date or date-time (e.g. 2026-11-27)`);
  const impossible = calendarProblem(text);
  if (impossible) throw new Error(`as-of date ${impossible} (e.g. 2026-11-27)`);
  return t;
}

/** Per-database state shared by every table's evaluation (parsed once). */
interface Context {
  inv: Inventory;
  asOf: number;
  discovered: number;
  /** The later of the as-of date and discovery: a table date after it is "in the future". */
  horizon: number;
  /** Compiled date-in-name templates, by template (shared by every database). */
  names: Map<string, CompiledTemplate>;
  memo: Memo;
}

/** One policy's verdict on one table: its date (rule 1, age.ts), then the retention rules (retention.ts). */
function outcomeFor(s: Subject, policy: PolicyConfig, scope: number, ctx: Context): Outcome {
  const { inv, asOf } = ctx;
  if (s.record?.purged)
    return {
      policy,
      scope,
      frees: false,
      schedule: null,
      action: 'none',
      age: null,
      reason:
        `archive purged ${s.record.archived_at ? `(archived ${s.record.archived_at.slice(0, 10)})` : ''}; ` +
        'nothing left to do',
    };
  let t: TableDate;
  if (!s.table && s.record?.table_date) {
    t = dateFromRecord(s.record as ArchiveRecord & { table_date: string });
  } else if (!s.table && policy.age.from !== 'table_name') {
    return failed(policy, scope, {
      code: 'engine/archive-undated',
      message:
        'the source table is gone and its archive record has no table_date to age it by ' +
        `(policy ${policy.name} ages by ${policy.age.from})`,
    });
  } else if (policy.age.from === 'table_name') {
    const pattern = policy.age.pattern;
    let c = pattern === undefined ? undefined : ctx.names.get(pattern);
    if (!c && pattern !== undefined) ctx.names.set(pattern, (c = compileTemplate(pattern)));
    const r = dateFromName(s.name, policy, c, ctx.horizon);
    if ('code' in r) return failed(policy, scope, r);
    if (!s.record && scope < NAME_KEY_SCOPES) {
      let byDate = ctx.memo.byName.get(policy);
      if (!byDate) ctx.memo.byName.set(policy, (byDate = new Map()));
      const key = nameKey(r.date, scope, r.unit);
      let o = byDate.get(key);
      if (!o) {
        const detail = nameDetail(r);
        o = decide({
          policy,
          scope,
          from: 'table_name',
          date: r.date,
          detail,
          asOf,
          inSource: true,
          record: undefined,
        });
        byDate.set(key, o);
      }
      return o;
    }
    t = { date: r.date, detail: nameDetail(r), from: 'table_name' };
  } else {
    const r =
      policy.age.from === 'column'
        ? dateFromColumn(s.table, policy, inv)
        : dateFromLastModified(s.table, policy, inv, ctx.discovered);
    if ('code' in r) return failed(policy, scope, r);
    if ('nothing' in r)
      return { policy, scope, frees: false, schedule: null, action: 'none', age: null, reason: r.nothing };
    t = r;
  }
  if (Number.isNaN(t.date))
    return failed(policy, scope, {
      code: 'engine/date-invalid',
      message: `the table's date could not be read (${t.detail})`,
    });
  const inSource = s.table !== undefined;
  const { date, detail, from } = t;
  if (s.record) return decide({ policy, scope, from, date, detail, asOf, inSource, record: s.record });
  const key = outcomeKey(policy, scope, date, detail, inSource);
  let o = ctx.memo.outcomes.get(key);
  if (!o)
    ctx.memo.outcomes.set(key, (o = decide({ policy, scope, from, date, detail, asOf, inSource, record: undefined })));
  return o;
}

/** Evaluates every database. Pure: no I/O, no clock, deterministic order. */
export function evaluate(input: EngineInput): Evaluation {
  const asOf = parseAsOf(input.asOf);
  const policies = new Map(input.policies.map((p) => [p.name, p]));
  const names = new Map<string, CompiledTemplate>();
  const records = new Map<string, ArchiveRecord[]>();
  for (const r of input.archive ?? [])
    (records.get(r.database) ?? records.set(r.database, []).get(r.database)!).push(r);
  const databases = [...input.databases]
    .sort((a, b) => cmp(a.name, b.name))
    .map((db) =>
      evaluateDatabase(db, input.inventories.get(db.name), {
        policies,
        asOf,
        names,
        records: records.get(db.name) ?? [],
      }),
    );
  return { as_of: isoTime(asOf), databases };
}

/** What every database's evaluation shares, and the database's archive records. */
interface DatabaseInput {
  policies: Map<string, PolicyConfig>;
  asOf: number;
  names: Map<string, CompiledTemplate>;
  records: ArchiveRecord[];
}

function evaluateDatabase(
  db: DatabaseConfig,
  given: InventoryInput | undefined,
  { policies, asOf, names, records }: DatabaseInput,
): DatabaseEvaluation {
  const out: DatabaseEvaluation = {
    database: db.name,
    engine: db.engine,
    status: 'ok',
    problems: [],
    decisions: [],
    unclaimed: 0,
    inventory_discovered_at: null,
  };
  if (!given || 'error' in given) {
    out.status = 'failed';
    out.problems.push(
      given && 'error' in given
        ? given.error
        : { code: 'inventory/missing', message: `no inventory for database ${db.name}` },
    );
    return out;
  }
  const inv = given;
  out.inventory_discovered_at = inv.discovered_at;
  if (inv.partial) {
    out.status = 'partial';
    out.problems.push(...inv.errors.map((e) => ({ code: e.code, message: e.message })));
    if (!inv.errors.length)
      out.problems.push({ code: 'inventory/partial', message: `inventory of ${db.name} is marked partial` });
  }
  const discovered = new Set(inv.schemas.filter((s) => s.found).map((s) => s.name));
  const asked = new Set(inv.schemas.map((s) => s.name));
  for (const s of new Set(db.scope.map((x) => x.schema))) {
    if (!asked.has(s)) {
      out.status = 'partial';
      out.problems.push({
        code: 'inventory/schema-not-discovered',
        message:
          `schema "${s}" of ${db.name}'s scope is not in the inventory of ${inv.discovered_at}: ` +
          `rerun \`offload discover --database ${db.name}\``,
      });
    } else if (!discovered.has(s) && !inv.partial) {
      out.status = 'partial';
      out.problems.push({
        code: 'discover/schema-missing',
        message: `schema "${s}" of ${db.name}'s scope does not exist in the database`,
      });
    }
  }
  const scopes = compileScope(db);
  for (const s of scopes) if (s.problem) out.problems.push({ code: 'engine/pattern-invalid', message: s.problem });
  const tableErrors = new Map<string, Problem>();
  for (const e of inv.errors)
    if (e.table !== undefined) tableErrors.set(`${e.schema}\u0000${e.table}`, { code: e.code, message: e.message });
  const discoveredAt = parseUtc(inv.discovered_at);
  const ctx: Context = {
    inv,
    asOf,
    discovered: discoveredAt,
    horizon: Math.max(asOf, discoveredAt),
    names,
    memo: newMemo(),
  };
  // The inventory's tables are the subjects; archive records add the archives whose source is gone.
  // Without records, one reused view over each table (speed.ts).
  const subjects: Subject[] = records.length
    ? inv.tables.map((t) => ({ schema: t.schema, name: t.name, kind: t.kind, table: t }))
    : [];
  if (records.length) {
    const present = new Set(subjects.map((s) => `${s.schema}\u0000${s.name}`));
    const byKey = new Map(records.map((r) => [`${r.schema}\u0000${r.table}`, r]));
    for (const s of subjects) s.record = byKey.get(`${s.schema}\u0000${s.name}`);
    for (const r of records)
      if (!present.has(`${r.schema}\u0000${r.table}`))
        subjects.push({ schema: r.schema, name: r.table, kind: 'table', record: r });
  }
  const tables = records.length ? subjects : isSorted(inv.tables) ? inv.tables : [...inv.tables].sort(bySubject);
  if (records.length) subjects.sort(bySubject);
  const viewOf = reusedView();
  // Each scope entry's policies, looked up once.
  const resolvedPolicies = scopes.map((c) => ({
    found: c.entry.policies.map((n) => policies.get(n)).filter((p): p is PolicyConfig => p !== undefined),
    missing: c.entry.policies.filter((n) => !policies.has(n)),
  }));
  for (const item of tables) {
    const s: Subject = records.length ? (item as Subject) : viewOf(item as InventoryTable);
    const claims = claimingScopes(scopes, s.schema, s.name);
    if (!claims.length) {
      out.unclaimed++;
      continue;
    }
    const rows = s.table?.rows ?? s.record?.rows ?? null;
    const bytes = s.table?.bytes ?? s.record?.bytes ?? null;
    const d: Decision = {
      database: db.name,
      schema: s.schema,
      table: s.name,
      kind: s.kind,
      scope: null,
      policy: null,
      age: null,
      action: 'none',
      reason: '',
      rows,
      bytes,
      in_source: s.table !== undefined,
      frees_source: false,
      schedule: null,
    };
    const readError = tableErrors.size ? tableErrors.get(`${s.schema}\u0000${s.name}`) : undefined;
    if (s.kind === 'partition') {
      d.scope = claims[0]!.index;
      d.reason =
        `partition of ${s.table?.partition_of?.schema}.${s.table?.partition_of?.name}: ` +
        'archived with its partitioned table, never on its own';
    } else if (readError) {
      d.scope = claims[0]!.index;
      d.problem = readError;
      d.reason = `cannot evaluate: ${readError.message}`;
    } else {
      const outcomes: Outcome[] = [];
      let missing: string[] | undefined;
      for (const c of claims) {
        const resolved = resolvedPolicies[c.index]!;
        for (const p of resolved.found) outcomes.push(outcomeFor(s, p, c.index, ctx));
        if (resolved.missing.length) (missing ??= []).push(...resolved.missing);
      }
      if (missing) {
        d.scope = claims[0]!.index;
        d.problem = {
          code: 'engine/unknown-policy',
          message: `scope names policies that do not exist: ${missing.join(', ')}`,
        };
        d.reason = `cannot evaluate: ${d.problem.message}`;
      } else {
        const r = combine(outcomes);
        if (r.winner) {
          const w = r.winner;
          d.scope = w.scope;
          d.policy = w.policy.name;
          d.age = w.age;
          d.action = w.action;
          d.reason = w.reason;
          d.frees_source = w.frees && d.in_source;
          d.schedule = w.schedule;
          if (w.problem) d.problem = w.problem;
        } else {
          d.scope = claims[0]!.index;
          d.problem = r.problem;
          d.reason = r.reason!;
        }
        if (r.also.length) d.also = r.also;
      }
    }
    out.decisions.push(d);
  }
  return out;
}
