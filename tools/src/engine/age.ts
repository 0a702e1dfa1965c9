/**
 * Retention rule 1 — age source → table date: where a table's age counts from, one function per
 * `age.from` (the table name, a date column's maximum, the last modification) and the archive record
 * for archives whose source is gone. Each gives the date (UTC epoch ms) and how it was found, or why not.
 */
import { compileNameDatePattern, type NameDateResult } from '../config/patterns.js';
import type { PolicyConfig } from '../generated/policy.js';
import type { Inventory, InventoryTable } from '../inventory/inventory.js';
import { findColumn } from './columns.js';
import { isoDay, parseUtc, utc } from './dates.js';
import { fastNameDate, type NameDate } from './fast-match.js';
import type { Age, ArchiveRecord, Problem } from './model.js';
import { parseUtcCached } from './speed.js';

export interface TableDate {
  date: number;
  detail: string;
  from: Age['from'];
}
/** No date, and no need of one: the table has nothing to archive (an empty table). */
export interface Nothing {
  nothing: string;
}

const DAY = 86_400_000;
const DATE_TYPES = /date|time|timestamp/i;

/** The source is gone: the archive record keeps the date the table was aged by. */
export function dateFromRecord(record: ArchiveRecord & { table_date: string }): TableDate {
  const date = parseUtc(record.table_date);
  return { date, detail: `archive record: table date ${isoDay(date)}`, from: 'archive_record' };
}

export type CompiledTemplate =
  | { ok: true; match: (name: string) => NameDate | undefined }
  | { ok: false; problem: string };

/** A policy's date-in-name template, matched by fast-match where it can (same answers as RE2). */
export function compileTemplate(template: string): CompiledTemplate {
  const r: NameDateResult = compileNameDatePattern(template);
  return r.ok ? { ok: true, match: fastNameDate(template, r.pattern.match) } : { ok: false, problem: r.problem };
}

const UNITS = ['day', 'month', 'year'] as const;
const pad2 = (n: number | undefined) => String(n).padStart(2, '0');

/**
 * A date the name gives: the last day of its period (`date`), the period's first day and its unit
 * (0 day, 1 month, 2 year).
 */
export interface NamePeriod {
  date: number;
  start: number;
  unit: 0 | 1 | 2;
}

/**
 * The table's date from its name (the last day of the period it gives), or a problem (no match, impossible date,
 * future date).
 */
export function dateFromName(
  name: string,
  policy: PolicyConfig,
  compiled: CompiledTemplate | undefined,
  horizon: number,
): NamePeriod | Problem {
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
      message:
        `table name gives month ${pad2(m.month)}, which is not a month ` +
        `(pattern "${policy.age.pattern}" of policy ${policy.name})`,
    };
  const start = utc(m.year, (m.month ?? 1) - 1, m.day ?? 1);
  if (m.day !== undefined && (m.day < 1 || new Date(start).getUTCDate() !== m.day))
    return {
      code: 'engine/name-bad-date',
      message:
        `table name gives ${m.year}-${pad2(m.month)}-${pad2(m.day)}, which is not a date ` +
        `(pattern "${policy.age.pattern}" of policy ${policy.name})`,
    };
  const unit = m.day !== undefined ? 0 : m.month !== undefined ? 1 : 2;
  if (start > horizon)
    return {
      code: 'engine/date-in-future',
      message:
        `table name gives a ${UNITS[unit]} starting ${isoDay(start)}, ` +
        'after both the as-of date and the inventory date: a mistyped name?',
    };
  const last = unit === 0 ? start : unit === 1 ? utc(m.year, m.month!, 0) : utc(m.year, 11, 31);
  return { date: last, start, unit };
}

/** How a name's date was read, for people. */
export function nameDetail(p: NamePeriod): string {
  const day = isoDay(p.start);
  const period = p.unit === 0 ? day : p.unit === 1 ? day.slice(0, 7) : day.slice(0, 4);
  return `name → ${UNITS[p.unit]} ${period}, last day ${isoDay(p.date)}`;
}

/** The table's date from the measured maximum of its `age.column`. */
export function dateFromColumn(
  table: InventoryTable | undefined,
  policy: PolicyConfig,
  inv: Inventory,
): TableDate | Nothing | Problem {
  const col = policy.age.column;
  if (!col)
    return { code: 'engine/policy-invalid', message: `policy ${policy.name}: age.from column needs age.column` };
  const c = table ? findColumn(table, col, inv.engine) : undefined;
  if (!c)
    return {
      code: 'engine/column-missing',
      message: `column "${col}" (age.column of policy ${policy.name}) does not exist in the table`,
    };
  if (!DATE_TYPES.test(c.type))
    return {
      code: 'engine/column-not-date',
      message: `column "${col}" is ${c.type}, not a date or timestamp (age.column of policy ${policy.name})`,
    };
  const m = table?.column_max[c.name];
  if (!m)
    return {
      code: 'engine/not-measured',
      message: `max(${c.name}) is not in the inventory: rerun \`offload discover --database ${inv.database}\``,
    };
  if (m.value === null)
    return {
      nothing: `the table is empty (no max(${col}) as of ${m.measured_at.slice(0, 10)}): nothing to archive`,
    };
  const date = parseUtc(m.value);
  if (date > parseUtcCached(m.measured_at) + DAY)
    return {
      code: 'engine/date-in-future',
      message: `max(${col}) is ${m.value}, after the time it was measured (${m.measured_at}): bad data or clock?`,
    };
  return { date, detail: `max(${col}) = ${m.value} (measured ${m.measured_at})`, from: 'column' };
}

/** The table's date from its last modification, where the engine keeps one. */
export function dateFromLastModified(
  table: InventoryTable | undefined,
  policy: PolicyConfig,
  inv: Inventory,
  discovered: number,
): TableDate | Problem {
  if (!inv.keeps_last_modified)
    return {
      code: 'engine/no-last-modified',
      message:
        `${inv.engine} keeps no last-modification time of tables; ` +
        `policy ${policy.name} must age by table_name or column`,
    };
  if (!table?.last_modified)
    return {
      code: 'engine/last-modified-unknown',
      message:
        'the inventory holds no last-modification time for the table: ' +
        'the engine forgot it (MariaDB/InnoDB and SQL Server after a restart) or discovery did not read it ' +
        '(MySQL/MariaDB read it only for tables a last_modified policy claims: ' +
        `rerun \`offload discover --database ${inv.database}\`)`,
    };
  const date = parseUtc(table.last_modified);
  if (date > discovered + DAY)
    return {
      code: 'engine/date-in-future',
      message: `last modification ${table.last_modified} is after discovery (${inv.discovered_at})`,
    };
  return { date, detail: `last modified ${table.last_modified}`, from: 'last_modified' };
}
