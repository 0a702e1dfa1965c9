/** What an engine adapter reads from a catalog, engine-neutral: the shapes of `schema/inventory.schema.json`. */
import type { Table } from '../generated/inventory.js';
import type { QueryPort } from './port.js';

export type ColumnInfo = Table['columns'][number];

/** A table as the catalog describes it: an inventory table before any `max(column)` is measured. */
export type TableInfo = Omit<Table, 'column_max'>;

export interface CatalogSnapshot {
  /** Schemas asked for that exist. */
  schemas: string[];
  tables: TableInfo[];
  /** Whether this engine keeps a last-modification time at all. */
  keeps_last_modified: boolean;
}

/** What the caller will use, so an adapter may skip costly reads nobody needs. */
export interface IntrospectHints {
  /**
   * Tables whose last-modification time a policy ages by. Where reading it means opening every
   * table (MySQL/MariaDB), it is read for these only, and left null for the others.
   */
  wantsLastModified?: (schema: string, table: string) => boolean;
}

/** One engine's introspection: a fixed number of catalog queries whatever the number of tables. */
export interface Introspector {
  /** Reads the given schemas (exact, case-sensitive names). */
  introspect(port: QueryPort, schemas: readonly string[], hints?: IntrospectHints): Promise<CatalogSnapshot>;
  /**
   * `max(column)` of one table as one SELECT returning columns `i` (the given index) and `v`, with
   * every identifier quoted for this engine; a batch joins several with UNION ALL.
   */
  maxColumnSql(schema: string, table: string, column: string, index: number): string;
}

export const toNum = (v: unknown): number | null => {
  if (v === null || v === undefined || v === '') return null;
  const n = typeof v === 'bigint' ? Number(v) : Number(v);
  return Number.isFinite(n) ? n : null;
};

/** Engine timestamps to ISO-8601 UTC; naive timestamps (no zone) are read as UTC. */
export const toIso = (v: unknown): string | null => {
  if (v === null || v === undefined || v === '') return null;
  let d: Date;
  if (v instanceof Date) d = v;
  else {
    let s = String(v).trim().replace(' ', 'T');
    if (/^\d{4}-\d{2}-\d{2}$/.test(s)) s += 'T00:00:00Z';
    else if (/[+-]\d\d$/.test(s) && /T/.test(s)) s += ':00';
    else if (!/([zZ]|[+-]\d\d:?\d\d)$/.test(s)) s += 'Z';
    d = new Date(s);
  }
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
};

export function byName(a: { schema: string; name: string }, b: { schema: string; name: string }): number {
  return a.schema < b.schema ? -1 : a.schema > b.schema ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
