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
 */
import type { DatabaseConfig } from '../generated/database.js';
import type { PolicyConfig } from '../generated/policy.js';
import type { Inventory, InventoryTable } from '../inventory/inventory.js';
import { compileNameDatePattern, type NameDateResult } from '../config/patterns.js';
import { addCalendar, calendarOf, isoDay, isoTime, parseUtc, utc, wholeDays } from './dates.js';
import { claimingScopes, compileScope } from './scope.js';
import { findColumn } from './columns.js';
import { fastNameDate, type NameDate } from './fast-match.js';

export type Action = 'none' | 'archive' | 'purge' | 'cleanup_source';
export const ACTIONS: readonly Action[] = ['none', 'archive', 'purge', 'cleanup_source'];

/** What the pipeline recorded about one archived table. */
export interface ArchiveRecord {
  database: string;
  schema: string;
  table: string;
  archived_at: string;
  /** Whether the archive passed validation (only validated archives are purged or let the source go). */
  validated: boolean;
  /** The table's date (its age origin) when it was archived: ages archives whose source is gone. */
  table_date?: string;
  rows?: number | null;
  bytes?: number | null;
  /** The archive was purged: nothing left to do. */
  purged?: boolean;
}

export interface Problem {
  /** Stable code, e.g. `engine/name-bad-date`, `engine/conflict`, `inventory/missing`. */
  code: string;
  message: string;
}

export interface Age {
  from: 'table_name' | 'column' | 'last_modified' | 'archive_record';
  /** The table's date (ISO-8601 UTC) its age counts from. */
  date: string;
  /** Whole days from that date to the as-of date (negative: after it). */
  days: number;
  /** How the date was found, for people. */
  detail: string;
}

/** What comes after the decision: an action that is not one of today's (`validate`) or none at all. */
export type NextAction = 'archive' | 'validate' | 'cleanup_source' | 'purge';

/**
 * The table's dates, machine-readable (ISO-8601 UTC date-times), so no caller parses `reason`:
 * derived from the table's date and the deciding policy in the same step that decides the action.
 */
export interface Schedule {
  /** The table's date + `archive_after`: from then on the table is archived. */
  archive_due: string;
  /** The table's date + `purge_after`: from then on its validated archive may be purged; null: kept with no end. */
  purge_due: string | null;
  /** The deciding policy holds the archive under legal hold (never purged while it does). */
  legal_hold: boolean;
  /** What happens to the table next; null when nothing will (purge blocked by a legal hold, no purge_after). */
  next_action: NextAction | null;
  /** When the next action is or was due (at or before the as-of date: due now); null with no next action. */
  next_action_at: string | null;
}

export interface Decision {
  database: string;
  schema: string;
  table: string;
  kind: InventoryTable['kind'];
  /** Index of the scope entry that matched (in the database file), null when none decided. */
  scope: number | null;
  policy: string | null;
  age: Age | null;
  action: Action;
  reason: string;
  rows: number | null;
  bytes: number | null;
  /** Whether the source table still exists (false: only its archive is left). */
  in_source: boolean;
  /** The action leads to dropping the source table (policy `source.action: drop`): its bytes are freed. */
  frees_source: boolean;
  /** The table's dates and what happens next; null when it has no date (a problem, a partition, an empty table). */
  schedule: Schedule | null;
  /** Set when the table could not be evaluated (its action is then `none`). */
  problem?: Problem;
  /** Other policies that claim the table and agree or lose on priority. */
  also?: string[];
}

export interface DatabaseEvaluation {
  database: string;
  engine: string | null;
  /** ok; partial: evaluated from an incomplete inventory (not to be trusted); failed: not evaluated. */
  status: 'ok' | 'partial' | 'failed';
  problems: Problem[];
  decisions: Decision[];
  /** Tables of the inventory no scope entry claims. */
  unclaimed: number;
  inventory_discovered_at: string | null;
}

export interface Evaluation {
  as_of: string;
  databases: DatabaseEvaluation[];
}

export type InventoryInput = Inventory | { error: Problem };

export interface EngineInput {
  databases: readonly DatabaseConfig[];
  policies: readonly PolicyConfig[];
  /** By database name. A missing entry fails that database. */
  inventories: ReadonlyMap<string, InventoryInput>;
  /** ISO-8601 date (start of that day, UTC) or date-time. */
  asOf: string;
  archive?: readonly ArchiveRecord[];
}

const DATE_TYPES = /date|time|timestamp/i;
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Parses the as-of date; throws on an invalid one (the CLI turns that into a usage error). */
export function parseAsOf(text: string): number {
  const t = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([zZ]|[+-]\d{2}:?\d{2})?)?$/.test(text)
    ? parseUtc(text.replace(' ', 'T'))
    : NaN;
  if (Number.isNaN(t)) throw new Error(`as-of date "${text}" is not an ISO-8601 date or date-time (e.g. 2026-11-27)`);
  return t;
}

interface Outcome {
  policy: PolicyConfig;
  scope: number;
  action: Action;
  reason: string;
  age: Age | null;
  problem?: Problem;
  frees: boolean;
  schedule: Schedule | null;
}

interface Subject {
  schema: string;
  name: string;
  kind: InventoryTable['kind'];
  table?: InventoryTable;
  record?: ArchiveRecord;
}

type CompiledTemplate = { ok: true; match: (name: string) => NameDate | undefined } | { ok: false; problem: string };

function compileTemplate(template: string): CompiledTemplate {
  const r: NameDateResult = compileNameDatePattern(template);
  return r.ok ? { ok: true, match: fastNameDate(template, r.pattern.match) } : { ok: false, problem: r.problem };
}

const UNITS = ['day', 'month', 'year'] as const;
const pad2 = (n: number | undefined) => String(n).padStart(2, '0');

/** The table's date from its name (the last day of the period it gives), or a problem (no match, impossible date, future date). */
function dateFromName(
  name: string,
  policy: PolicyConfig,
  compiled: CompiledTemplate | undefined,
  horizon: number,
): { date: number; start: number; unit: 0 | 1 | 2 } | Problem {
  if (!compiled)
    return { code: 'engine/policy-invalid', message: `policy ${policy.name}: age.from table_name needs age.pattern` };
  if (!compiled.ok)
    return {
      code: 'engine/policy-invalid',
      message: `policy ${policy.name}: age.pattern "${policy.age.pattern}" is invalid: ${compiled.problem}`,
    };
  const m = compiled.match(name);
  if (!m)
    return {
      code: 'engine/name-no-date',
      message: `table name does not match the date pattern "${policy.age.pattern}" of policy ${policy.name}`,
    };
  if (m.month !== undefined && (m.month < 1 || m.month > 12))
    return {
      code: 'engine/name-bad-date',
      message: `table name gives month ${pad2(m.month)}, which is not a month (pattern "${policy.age.pattern}" of policy ${policy.name})`,
    };
  const start = utc(m.year, (m.month ?? 1) - 1, m.day ?? 1);
  if (m.day !== undefined && (m.day < 1 || new Date(start).getUTCDate() !== m.day))
    return {
      code: 'engine/name-bad-date',
      message: `table name gives ${m.year}-${pad2(m.month)}-${pad2(m.day)}, which is not a date (pattern "${policy.age.pattern}" of policy ${policy.name})`,
    };
  const unit = m.day !== undefined ? 0 : m.month !== undefined ? 1 : 2;
  if (start > horizon)
    return {
      code: 'engine/date-in-future',
      message: `table name gives a ${UNITS[unit]} starting ${isoDay(start)}, after both the as-of date and the inventory date: a mistyped name?`,
    };
  const last = unit === 0 ? start : unit === 1 ? utc(m.year, m.month!, 0) : utc(m.year, 11, 31);
  return { date: last, start, unit };
}

function nameDetail(start: number, unit: 0 | 1 | 2, last: number): string {
  const period = unit === 0 ? isoDay(start) : unit === 1 ? isoDay(start).slice(0, 7) : isoDay(start).slice(0, 4);
  return `name → ${UNITS[unit]} ${period}, last day ${isoDay(last)}`;
}

function failed(policy: PolicyConfig, scope: number, p: Problem): Outcome {
  return {
    policy,
    scope,
    frees: false,
    schedule: null,
    action: 'none',
    age: null,
    reason: `cannot evaluate: ${p.message}`,
    problem: p,
  };
}

/** Per-database state shared by every table's evaluation (parsed once). */
interface Context {
  inv: Inventory;
  asOf: number;
  discovered: number;
  /** The later of the as-of date and discovery: a table date after it is "in the future". */
  horizon: number;
  names: Map<string, CompiledTemplate>;
  memo: Map<string, Outcome>;
  nameMemo: Map<PolicyConfig, Map<number, Outcome>>;
}

function outcomeFor(s: Subject, policy: PolicyConfig, scope: number, ctx: Context): Outcome {
  const { inv, asOf, discovered, horizon, names, memo } = ctx;
  const base = { policy, scope, frees: false, schedule: null };
  let date: number;
  let detail: string;
  let from: Age['from'] = policy.age.from;
  if (s.record?.purged)
    return {
      ...base,
      action: 'none',
      age: null,
      reason: `archive purged ${s.record.archived_at ? `(archived ${s.record.archived_at.slice(0, 10)})` : ''}; nothing left to do`,
    };
  if (!s.table && s.record?.table_date) {
    // The source is gone: the archive record keeps the date the table was aged by.
    date = parseUtc(s.record.table_date);
    detail = `archive record: table date ${isoDay(date)}`;
    from = 'archive_record';
  } else if (!s.table && policy.age.from !== 'table_name') {
    return failed(policy, scope, {
      code: 'engine/archive-undated',
      message: `the source table is gone and its archive record has no table_date to age it by (policy ${policy.name} ages by ${policy.age.from})`,
    });
  } else if (policy.age.from === 'table_name') {
    let c = policy.age.pattern === undefined ? undefined : names.get(policy.age.pattern);
    if (!c && policy.age.pattern !== undefined)
      names.set(policy.age.pattern, (c = compileTemplate(policy.age.pattern)));
    const r = dateFromName(s.name, policy, c, horizon);
    if ('code' in r) return failed(policy, scope, r);
    if (!s.record && scope < 1024) {
      // The common case, without building strings: one decision per (policy, scope entry, date).
      let byDate = ctx.nameMemo.get(policy);
      if (!byDate) ctx.nameMemo.set(policy, (byDate = new Map()));
      const key = (r.date / 86_400_000) * 4096 + scope * 4 + r.unit;
      let o = byDate.get(key);
      if (!o)
        byDate.set(
          key,
          (o = decide(policy, scope, from, r.date, nameDetail(r.start, r.unit, r.date), asOf, true, undefined)),
        );
      return o;
    }
    date = r.date;
    detail = nameDetail(r.start, r.unit, r.date);
  } else if (policy.age.from === 'column') {
    const col = policy.age.column;
    if (!col)
      return failed(policy, scope, {
        code: 'engine/policy-invalid',
        message: `policy ${policy.name}: age.from column needs age.column`,
      });
    const c = s.table ? findColumn(s.table, col, inv.engine) : undefined;
    if (!c)
      return failed(policy, scope, {
        code: 'engine/column-missing',
        message: `column "${col}" (age.column of policy ${policy.name}) does not exist in the table`,
      });
    if (!DATE_TYPES.test(c.type))
      return failed(policy, scope, {
        code: 'engine/column-not-date',
        message: `column "${col}" is ${c.type}, not a date or timestamp (age.column of policy ${policy.name})`,
      });
    const m = s.table?.column_max[c.name];
    if (!m)
      return failed(policy, scope, {
        code: 'engine/not-measured',
        message: `max(${c.name}) is not in the inventory: rerun \`offload discover --database ${inv.database}\``,
      });
    if (m.value === null)
      return {
        ...base,
        action: 'none',
        age: null,
        reason: `the table is empty (no max(${col}) as of ${m.measured_at.slice(0, 10)}): nothing to archive`,
      };
    date = parseUtc(m.value);
    if (date > parseUtcCached(m.measured_at) + 86_400_000)
      return failed(policy, scope, {
        code: 'engine/date-in-future',
        message: `max(${col}) is ${m.value}, after the time it was measured (${m.measured_at}): bad data or clock?`,
      });
    detail = `max(${col}) = ${m.value} (measured ${m.measured_at})`;
  } else {
    if (!inv.keeps_last_modified)
      return failed(policy, scope, {
        code: 'engine/no-last-modified',
        message: `${inv.engine} keeps no last-modification time of tables; policy ${policy.name} must age by table_name or column`,
      });
    if (!s.table?.last_modified)
      return failed(policy, scope, {
        code: 'engine/last-modified-unknown',
        message: `the inventory holds no last-modification time for the table: the engine forgot it (MariaDB/InnoDB and SQL Server after a restart) or discovery did not read it (MySQL/MariaDB read it only for tables a last_modified policy claims: rerun \`offload discover --database ${inv.database}\`)`,
      });
    date = parseUtc(s.table.last_modified);
    if (date > discovered + 86_400_000)
      return failed(policy, scope, {
        code: 'engine/date-in-future',
        message: `last modification ${s.table.last_modified} is after discovery (${inv.discovered_at})`,
      });
    detail = `last modified ${s.table.last_modified}`;
  }
  if (Number.isNaN(date))
    return failed(policy, scope, {
      code: 'engine/date-invalid',
      message: `the table's date could not be read (${detail})`,
    });
  if (s.record) return decide(policy, scope, from, date, detail, asOf, s.table !== undefined, s.record);
  // Tables of one policy share few dates (a month, a year): decide each (policy, date) once.
  const key = `${policy.name}\u0000${scope}\u0000${date}\u0000${detail}\u0000${s.table !== undefined}`;
  let o = memo.get(key);
  if (!o) memo.set(key, (o = decide(policy, scope, from, date, detail, asOf, s.table !== undefined, undefined)));
  return o;
}

/** The outcome once the table's date is known (pure; shared by every table with the same date). */
function decide(
  policy: PolicyConfig,
  scope: number,
  from: Age['from'],
  date: number,
  detail: string,
  asOf: number,
  inSource: boolean,
  record: ArchiveRecord | undefined,
): Outcome {
  const base = { policy, scope, frees: false, schedule: null };
  const archiveAfter = calendarOf(policy.archive_after);
  if (!archiveAfter)
    return failed(policy, scope, {
      code: 'engine/policy-invalid',
      message: `policy ${policy.name}: archive_after "${policy.archive_after}" is not an ISO-8601 duration`,
    });
  const purgeAfter = policy.purge_after === undefined ? undefined : calendarOf(policy.purge_after);
  if (policy.purge_after !== undefined && !purgeAfter)
    return failed(policy, scope, {
      code: 'engine/policy-invalid',
      message: `policy ${policy.name}: purge_after "${policy.purge_after}" is not an ISO-8601 duration`,
    });
  const age: Age = { from, date: isoTime(date), days: wholeDays(date, asOf), detail };
  const archiveAt = addCalendar(date, archiveAfter);
  const purgeAt = purgeAfter ? addCalendar(date, purgeAfter) : undefined;
  const held = policy.legal_hold?.enabled === true;
  const hold = held
    ? `legal hold${policy.legal_hold?.reference ? ` ${policy.legal_hold.reference}` : ''}${policy.legal_hold?.reason ? ` (${policy.legal_hold.reason})` : ''}`
    : '';
  const drops = policy.source?.action === 'drop';
  const ageText = `${age.days} days old (${detail})`;
  const purgeText = purgeAt
    ? held
      ? `purge blocked by ${hold}`
      : `purge due ${isoDay(purgeAt)}`
    : 'archive kept with no end (no purge_after)';
  const rec = record && !record.purged ? record : undefined;
  const at = (next: NextAction | null, when: number | string | null): Schedule => ({
    archive_due: isoTime(archiveAt),
    purge_due: purgeAt === undefined ? null : isoTime(purgeAt),
    legal_hold: held,
    next_action: next,
    next_action_at: next === null || when === null ? null : typeof when === 'number' ? isoTime(when) : when,
  });
  // After the archive (validated), the purge is next unless a legal hold or no purge_after keeps it.
  const purgeNext = () => (purgeAt !== undefined && !held ? at('purge', purgeAt) : at(null, null));
  if (record?.purged)
    return { ...base, action: 'none', age, schedule: at(null, null), reason: `archive purged; nothing left to do` };
  if (!rec) {
    if (asOf < archiveAt)
      return {
        ...base,
        action: 'none',
        age,
        schedule: at('archive', archiveAt),
        reason: `${ageText}; archive due ${isoDay(archiveAt)} (archive_after ${policy.archive_after})`,
      };
    const after =
      purgeAt && asOf >= purgeAt
        ? held
          ? `; past purge_after ${policy.purge_after} too, but ${hold} keeps the archive`
          : `; past purge_after ${policy.purge_after} too (${isoDay(purgeAt)}): the archive is purged once validated`
        : `; ${purgeText}`;
    const src = drops
      ? `; then the source is renamed and dropped after ${policy.source?.grace_period ?? 'its grace period'}`
      : '; the source is kept';
    return {
      ...base,
      action: 'archive',
      age,
      schedule: at('archive', archiveAt),
      frees: drops,
      reason: `${ageText}; archive due since ${isoDay(archiveAt)} (archive_after ${policy.archive_after})${after}${src}`,
    };
  }
  if (!rec.validated)
    return {
      ...base,
      action: 'none',
      age,
      schedule: at('validate', rec.archived_at),
      reason: `archived ${rec.archived_at.slice(0, 10)} but not validated: nothing more happens until validation passes`,
    };
  if (inSource && drops)
    return {
      ...base,
      action: 'cleanup_source',
      age,
      schedule: at('cleanup_source', rec.archived_at),
      frees: true,
      reason: `archived ${rec.archived_at.slice(0, 10)} and validated; source.action drop: rename now, drop after ${policy.source?.grace_period ?? 'the grace period'}`,
    };
  if (purgeAt && asOf >= purgeAt) {
    if (held)
      return {
        ...base,
        action: 'none',
        age,
        schedule: at(null, null),
        reason: `${ageText}; purge due since ${isoDay(purgeAt)} but ${hold}: archive kept`,
      };
    return {
      ...base,
      action: 'purge',
      age,
      schedule: at('purge', purgeAt),
      reason: `${ageText}; archive purge due since ${isoDay(purgeAt)} (purge_after ${policy.purge_after})`,
    };
  }
  return {
    ...base,
    action: 'none',
    age,
    schedule: purgeNext(),
    reason: `archived ${rec.archived_at.slice(0, 10)}; ${purgeText}`,
  };
}

const prio = (o: Outcome) => o.policy.priority ?? Number.NEGATIVE_INFINITY;
const prioText = (o: Outcome) => (o.policy.priority === undefined ? 'no priority' : `priority ${o.policy.priority}`);

/** One decision out of every (scope, policy) claim: agreement, else explicit priority, else a reported conflict. */
const NO_ALSO: string[] = [];
const bySubject = (a: { schema: string; name: string }, b: { schema: string; name: string }) =>
  cmp(a.schema, b.schema) || cmp(a.name, b.name);
function isSorted(xs: readonly { schema: string; name: string }[]): boolean {
  for (let i = 1; i < xs.length; i++) if (bySubject(xs[i - 1]!, xs[i]!) > 0) return false;
  return true;
}
const measuredAt = new Map<string, number>();
function parseUtcCached(s: string): number {
  let t = measuredAt.get(s);
  if (t === undefined) {
    if (measuredAt.size > 10_000) measuredAt.clear();
    measuredAt.set(s, (t = parseUtc(s)));
  }
  return t;
}
function combine(outcomes: Outcome[]): { winner?: Outcome; also: string[]; problem?: Problem; reason?: string } {
  if (outcomes.length === 1) return { winner: outcomes[0]!, also: NO_ALSO };
  const sorted = [...outcomes].sort(
    (a, b) => prio(b) - prio(a) || cmp(a.policy.name, b.policy.name) || a.scope - b.scope,
  );
  const distinct = new Set(sorted.map((o) => o.policy.name));
  const names = (os: Outcome[]) => [...new Set(os.map((o) => o.policy.name))];
  const agree = (os: Outcome[]) => !os.some((o) => o.problem) && new Set(os.map((o) => o.action)).size === 1;
  const top = sorted[0]!;
  if (distinct.size === 1 || agree(sorted))
    return { winner: top, also: names(sorted).filter((n) => n !== top.policy.name) };
  const tied = sorted.filter((o) => prio(o) === prio(top));
  if (tied.length === 1 || agree(tied))
    return { winner: top, also: names(sorted).filter((n) => n !== top.policy.name) };
  const list = names(tied)
    .map((n) => {
      const o = tied.find((x) => x.policy.name === n)!;
      return `${n} (${o.problem ? 'cannot evaluate' : o.action}, ${prioText(o)})`;
    })
    .join(', ');
  const message = `policies ${list} claim the table with different outcomes and no priority decides: give them distinct priorities or narrow the scopes`;
  return { also: names(sorted), problem: { code: 'engine/conflict', message }, reason: `conflict: ${message}` };
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
      evaluateDatabase(db, input.inventories.get(db.name), policies, asOf, names, records.get(db.name) ?? []),
    );
  return { as_of: isoTime(asOf), databases };
}

function evaluateDatabase(
  db: DatabaseConfig,
  given: InventoryInput | undefined,
  policies: Map<string, PolicyConfig>,
  asOf: number,
  names: Map<string, CompiledTemplate>,
  records: ArchiveRecord[],
): DatabaseEvaluation {
  const memo = new Map<string, Outcome>();
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
        message: `schema "${s}" of ${db.name}'s scope is not in the inventory of ${inv.discovered_at}: rerun \`offload discover --database ${db.name}\``,
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
    memo,
    nameMemo: new Map(),
  };
  // The inventory's tables are the subjects; archive records add the archives whose source is gone.
  // Without records, one reused view over each table (no allocation per table; nothing keeps it).
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
  const view: Subject = { schema: '', name: '', kind: 'table' };
  // Each scope entry's policies, looked up once.
  const resolvedPolicies = scopes.map((c) => ({
    found: c.entry.policies.map((n) => policies.get(n)).filter((p): p is PolicyConfig => p !== undefined),
    missing: c.entry.policies.filter((n) => !policies.has(n)),
  }));
  for (const item of tables) {
    let s: Subject;
    if (records.length) s = item as Subject;
    else {
      const t = item as InventoryTable;
      view.schema = t.schema;
      view.name = t.name;
      view.kind = t.kind;
      view.table = t;
      s = view;
    }
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
      d.reason = `partition of ${s.table?.partition_of?.schema}.${s.table?.partition_of?.name}: archived with its partitioned table, never on its own`;
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
