/**
 * PostgreSQL catalog introspection: three queries whatever the number of tables (schemas, tables
 * with partitioning/keys/statistics, columns). Views, materialized views and foreign tables are left
 * out (relkind 'r' and 'p' only). PostgreSQL keeps no last-modification time, so it is always null.
 */
import type { QueryPort } from './port.js';
import { byName, toNum, type CatalogSnapshot, type ColumnInfo, type Introspector, type TableInfo } from './model.js';

export const quotePg = (id: string): string => `"${id.replace(/"/g, '""')}"`;

const PG_SCHEMAS_SQL =
  'SELECT n.nspname AS name FROM pg_catalog.pg_namespace n WHERE n.nspname = ANY($1::text[]) ORDER BY 1';

const PG_TABLES_SQL = `SELECT n.nspname AS schema, c.relname AS name, c.relkind AS relkind,
  c.relispartition AS is_partition,
  pn.nspname AS parent_schema, pc.relname AS parent_name,
  (SELECT count(*) FROM pg_catalog.pg_inherits ch WHERE ch.inhparent = c.oid) AS partitions,
  c.reltuples::float8 AS reltuples,
  pg_catalog.pg_total_relation_size(c.oid) AS bytes,
  (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM pg_catalog.pg_constraint con
     CROSS JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
     JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
    WHERE con.conrelid = c.oid AND con.contype = 'p') AS pk
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_inherits i ON c.relispartition AND i.inhrelid = c.oid
LEFT JOIN pg_catalog.pg_class pc ON pc.oid = i.inhparent
LEFT JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY($1::text[])`;

const PG_COLUMNS_SQL = `SELECT n.nspname AS schema, c.relname AS table_name, a.attname AS name,
  pg_catalog.format_type(a.atttypid, NULL) AS type, NOT a.attnotnull AS nullable,
  CASE WHEN a.atttypid = 1700 AND a.atttypmod >= 4 THEN ((a.atttypmod - 4) >> 16) & 65535
       WHEN a.atttypid IN (1042, 1043) AND a.atttypmod >= 4 THEN a.atttypmod - 4
       WHEN a.atttypid IN (1083, 1114, 1184, 1266) AND a.atttypmod >= 0 THEN a.atttypmod
       WHEN a.atttypid = 21 THEN 16 WHEN a.atttypid = 23 THEN 32 WHEN a.atttypid = 20 THEN 64 END AS precision,
  CASE WHEN a.atttypid = 1700 AND a.atttypmod >= 4 THEN (a.atttypmod - 4) & 65535
       WHEN a.atttypid IN (21, 23, 20) THEN 0 END AS scale
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p') AND n.nspname = ANY($1::text[])
ORDER BY n.nspname, c.relname, a.attnum`;

interface PgTableRow {
  schema: string;
  name: string;
  relkind: string;
  is_partition: boolean;
  parent_schema: string | null;
  parent_name: string | null;
  partitions: unknown;
  reltuples: unknown;
  bytes: unknown;
  pk: string[] | null;
}
interface ColumnRow {
  schema: string;
  table_name: string;
  name: string;
  type: string;
  nullable: unknown;
  precision: unknown;
  scale: unknown;
}

export const key = (schema: string, name: string) => `${schema}\u0000${name}`;

/** Groups column rows by table (rows arrive in column order). */
export function groupColumns(rows: ColumnRow[]): Map<string, ColumnInfo[]> {
  const out = new Map<string, ColumnInfo[]>();
  for (const r of rows) {
    const k = key(r.schema, r.table_name);
    let cols = out.get(k);
    if (!cols) out.set(k, (cols = []));
    cols.push({
      name: r.name,
      type: r.type,
      nullable: r.nullable === true || r.nullable === 1 || r.nullable === 'YES' || r.nullable === 'Y',
      precision: toNum(r.precision),
      scale: toNum(r.scale),
    });
  }
  return out;
}

/** A partitioned table's own statistics are empty: its rows and bytes are those of its partitions. */
function rollUpPartitions(tables: TableInfo[]): void {
  const children = new Map<string, TableInfo[]>();
  for (const t of tables) {
    if (!t.partition_of) continue;
    const k = key(t.partition_of.schema, t.partition_of.name);
    (children.get(k) ?? children.set(k, []).get(k)!).push(t);
  }
  const total = (t: TableInfo, seen: Set<TableInfo>): { rows: number | null; bytes: number | null } => {
    const kids = children.get(key(t.schema, t.name));
    if (!kids || seen.has(t)) return { rows: t.rows, bytes: t.bytes };
    seen.add(t);
    let rows: number | null = null,
      bytes: number | null = null;
    for (const k of kids) {
      const s = total(k, seen);
      if (s.rows !== null) rows = (rows ?? 0) + s.rows;
      if (s.bytes !== null) bytes = (bytes ?? 0) + s.bytes;
    }
    return { rows, bytes };
  };
  for (const t of tables) {
    if (t.kind !== 'partitioned_table') continue;
    const s = total(t, new Set());
    t.rows = s.rows;
    t.bytes = (t.bytes ?? 0) + (s.bytes ?? 0);
  }
}

export const postgres: Introspector = {
  async introspect(port: QueryPort, schemas: readonly string[]): Promise<CatalogSnapshot> {
    const list = [...schemas];
    // Three independent statements, sent at once (each on its own pooled connection).
    const [schemaRows, tableRows, columnRows] = await Promise.all([
      port.query<{ name: string }>(PG_SCHEMAS_SQL, [list]),
      port.query<PgTableRow & Record<string, unknown>>(PG_TABLES_SQL, [list]),
      port.query<ColumnRow & Record<string, unknown>>(PG_COLUMNS_SQL, [list]),
    ]);
    const found = schemaRows.map((r) => r.name);
    const columns = groupColumns(columnRows);
    const tables: TableInfo[] = tableRows.map((r) => {
      const reltuples = toNum(r.reltuples);
      return {
        schema: r.schema,
        name: r.name,
        kind: r.relkind === 'p' ? 'partitioned_table' : r.is_partition ? 'partition' : 'table',
        partition_of:
          r.is_partition && r.parent_name !== null
            ? { schema: r.parent_schema ?? r.schema, name: r.parent_name }
            : null,
        partitions: toNum(r.partitions) ?? 0,
        columns: columns.get(key(r.schema, r.name)) ?? [],
        primary_key: r.pk ?? [],
        // reltuples is -1 before the first ANALYZE / VACUUM (PostgreSQL 14+): unknown, not zero.
        rows: reltuples === null || reltuples < 0 ? null : Math.round(reltuples),
        bytes: toNum(r.bytes),
        last_modified: null,
      } satisfies TableInfo;
    });
    rollUpPartitions(tables);
    return { schemas: found, tables: tables.sort(byName), keeps_last_modified: false };
  },
  maxColumnSql(schema, table, column, index) {
    // Cast so a batch (UNION ALL) of date and timestamp columns shares one type; the session is in UTC.
    return (
      `SELECT ${index | 0} AS i, max(${quotePg(column)})::timestamptz AS v ` +
      `FROM ${quotePg(schema)}.${quotePg(table)}`
    );
  },
};
