/**
 * MySQL / MariaDB catalog introspection. Partitions are not tables in these engines: a partitioned
 * table is listed once with its partition count. UPDATE_TIME is the last-modification time (InnoDB
 * keeps it in memory only: null after a server restart until the next write).
 *
 * Any statistic in information_schema.TABLES (rows, sizes, UPDATE_TIME, even CREATE_OPTIONS) makes
 * the server open every table — seconds at 10,000 tables with the default table caches. So:
 *  1. in parallel: the table list (name, engine: no table opened) with InnoDB's persistent statistics
 *     (mysql.innodb_table_stats: rows, clustered and other index pages, partitions as `t#P#p`), and
 *     schemas ∪ columns ∪ primary-key parts;
 *  2. information_schema.TABLES by name, only for the tables that need opening: not InnoDB, without
 *     persistent statistics, or aged by last modification (`hints.wantsLastModified`).
 * Without SELECT on mysql.innodb_table_stats the first statement fails with a privilege error and
 * the adapter reads information_schema.TABLES for every table instead (one more statement, slow at
 * 10,000s of tables; grant `SELECT ON mysql.innodb_table_stats` to the discovery user to avoid it).
 * At most three statements with the grant, four without.
 */
import type { QueryPort } from './port.js';
import {
  byName,
  toIso,
  toNum,
  type CatalogSnapshot,
  type IntrospectHints,
  type Introspector,
  type TableInfo,
} from './model.js';
import { classify } from './errors.js';
import { groupColumns, key } from './postgres.js';

export const quoteMy = (id: string): string => `\`${id.replace(/`/g, '``')}\``;
const marks = (n: number) => Array.from({ length: n }, () => '?').join(', ');

/**
 * Base tables with their statistics. Reading TABLE_ROWS, DATA_LENGTH and UPDATE_TIME makes the server
 * open every table (seconds at 10,000 tables on a small table cache), so this query runs in parallel
 * with the other one, and partitions are NOT counted here with a per-table subquery.
 */
const myTablesSql = (n: number) => `SELECT t.TABLE_SCHEMA AS \`schema\`, t.TABLE_NAME AS name, t.TABLE_ROWS AS est_rows,
  t.DATA_LENGTH + t.INDEX_LENGTH AS bytes, t.UPDATE_TIME AS last_modified, t.CREATE_OPTIONS AS create_options
FROM information_schema.TABLES t
WHERE t.TABLE_TYPE = 'BASE TABLE' AND t.TABLE_SCHEMA IN (${marks(n)})`;

/**
 * Schemas, columns and primary-key members in one statement: row_kind 's' rows are schemas that
 * exist, 'c' rows columns, 'k' rows primary-key parts (pos = position in the key).
 */
const myColumnsSql = (
  n: number,
) => `SELECT 's' AS row_kind, SCHEMA_NAME AS \`schema\`, NULL AS table_name, NULL AS name, NULL AS type,
  NULL AS nullable, NULL AS \`precision\`, NULL AS scale, 0 AS pos
FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN (${marks(n)})
UNION ALL
SELECT 'c', c.TABLE_SCHEMA, c.TABLE_NAME, c.COLUMN_NAME, c.DATA_TYPE, c.IS_NULLABLE,
  COALESCE(c.NUMERIC_PRECISION, c.DATETIME_PRECISION, c.CHARACTER_MAXIMUM_LENGTH), c.NUMERIC_SCALE, c.ORDINAL_POSITION
FROM information_schema.COLUMNS c WHERE c.TABLE_SCHEMA IN (${marks(n)})
UNION ALL
SELECT 'k', s.TABLE_SCHEMA, s.TABLE_NAME, s.COLUMN_NAME, NULL, NULL, NULL, NULL, s.SEQ_IN_INDEX
FROM information_schema.STATISTICS s WHERE s.INDEX_NAME = 'PRIMARY' AND s.TABLE_SCHEMA IN (${marks(n)})
ORDER BY 2, 3, 1, 9`;

/**
 * The table list (opens nothing) with InnoDB's persistent statistics: 't' rows are base tables,
 * 's' rows statistics (per partition for partitioned tables: `name#P#partition`).
 */
const myListingSql = (
  n: number,
) => `SELECT 't' AS row_kind, CONVERT(t.TABLE_SCHEMA USING utf8mb4) COLLATE utf8mb4_bin AS \`schema\`,
  CONVERT(t.TABLE_NAME USING utf8mb4) COLLATE utf8mb4_bin AS name,
  t.ENGINE AS engine, NULL AS n_rows, NULL AS clustered_pages, NULL AS other_pages, NULL AS page_size
FROM information_schema.TABLES t WHERE t.TABLE_TYPE = 'BASE TABLE' AND t.TABLE_SCHEMA IN (${marks(n)})
UNION ALL
SELECT 's', CONVERT(s.database_name USING utf8mb4) COLLATE utf8mb4_bin,
  CONVERT(s.table_name USING utf8mb4) COLLATE utf8mb4_bin,
  NULL, s.n_rows, s.clustered_index_size, s.sum_of_other_index_sizes, @@innodb_page_size
FROM mysql.innodb_table_stats s WHERE s.database_name IN (${marks(n)})`;

/** information_schema.TABLES statistics for named tables only (the server opens just those). */
function myStatsByNameSql(bySchema: [string, string[]][]): { sql: string; params: string[] } {
  const parts: string[] = [],
    params: string[] = [];
  for (const [schema, names] of bySchema) {
    parts.push(`SELECT t.TABLE_SCHEMA AS \`schema\`, t.TABLE_NAME AS name, t.TABLE_ROWS AS est_rows,
  t.DATA_LENGTH + t.INDEX_LENGTH AS bytes,
  t.UPDATE_TIME AS last_modified, t.CREATE_OPTIONS AS create_options
FROM information_schema.TABLES t WHERE t.TABLE_SCHEMA = ? AND t.TABLE_NAME IN (${marks(names.length)})`);
    params.push(schema, ...names);
  }
  return { sql: parts.join('\nUNION ALL\n'), params };
}

/** Partition counts, only for the tables the first query found partitioned (named, so the server opens only those). */
const myPartitionsSql = (
  n: number,
) => `SELECT p.TABLE_SCHEMA AS \`schema\`, p.TABLE_NAME AS table_name, COUNT(*) AS partitions
FROM information_schema.PARTITIONS p
WHERE p.PARTITION_NAME IS NOT NULL
  AND (p.TABLE_SCHEMA, p.TABLE_NAME) IN (${Array.from({ length: n }, () => '(?, ?)').join(', ')})
GROUP BY p.TABLE_SCHEMA, p.TABLE_NAME`;

interface MyTableRow {
  schema: string;
  name: string;
  est_rows: unknown;
  bytes: unknown;
  last_modified: unknown;
  create_options: string | null;
}

function applyStats(t: TableInfo, r: MyTableRow): void {
  t.rows = toNum(r.est_rows);
  t.bytes = toNum(r.bytes);
  t.last_modified = toIso(r.last_modified);
  if (/partitioned/i.test(r.create_options ?? '')) t.kind = 'partitioned_table';
}
interface MyColumnRow {
  row_kind: 's' | 'c' | 'k';
  schema: string;
  table_name: string;
  name: string;
  type: string;
  nullable: unknown;
  precision: unknown;
  scale: unknown;
  pos: unknown;
}

interface ListingRow {
  row_kind: 't' | 's';
  schema: string;
  name: string;
  engine: string | null;
  n_rows: unknown;
  clustered_pages: unknown;
  other_pages: unknown;
  page_size: unknown;
}

/** Above this many tables to open by name, one scan of information_schema.TABLES is as cheap. */
const MAX_BY_NAME = 5000;

export const mysql: Introspector = {
  async introspect(port: QueryPort, schemas: readonly string[], hints: IntrospectHints = {}): Promise<CatalogSnapshot> {
    const list = [...schemas];
    if (list.length === 0) return { schemas: [], tables: [], keeps_last_modified: true };
    const [listing, colRows] = await Promise.all([
      port
        .query<ListingRow & Record<string, unknown>>(myListingSql(list.length), [...list, ...list])
        .catch((e: unknown) => {
          if (classify(e).code === 'discover/privilege') return undefined; // no grant on mysql.innodb_table_stats
          throw e;
        }),
      port.query<MyColumnRow & Record<string, unknown>>(myColumnsSql(list.length), [...list, ...list, ...list]),
    ]);
    const found = colRows.filter((r) => r.row_kind === 's').map((r) => r.schema);
    const columns = groupColumns(colRows.filter((r) => r.row_kind === 'c'));
    const pks = new Map<string, string[]>();
    for (const r of colRows) {
      if (r.row_kind !== 'k') continue;
      const k = key(r.schema, r.table_name);
      (pks.get(k) ?? pks.set(k, []).get(k)!).push(r.name);
    }
    const make = (schema: string, name: string): TableInfo => ({
      schema,
      name,
      kind: 'table',
      partition_of: null,
      partitions: 0,
      columns: columns.get(key(schema, name)) ?? [],
      primary_key: pks.get(key(schema, name)) ?? [],
      rows: null,
      bytes: null,
      last_modified: null,
    });
    let tables: TableInfo[];
    let open: TableInfo[]; // tables whose statistics come from information_schema.TABLES
    if (listing) {
      tables = listing.filter((r) => r.row_kind === 't').map((r) => make(r.schema, r.name));
      const byKey = new Map(tables.map((t) => [key(t.schema, t.name), t]));
      const engines = new Map(
        listing.filter((r) => r.row_kind === 't').map((r) => [key(r.schema, r.name), String(r.engine ?? '')]),
      );
      const stats = new Map<string, { rows: number; bytes: number; parts: Set<string> }>();
      for (const r of listing) {
        if (r.row_kind !== 's') continue;
        // `t#P#p1` (or `#p#`, `#SP#` sub-partitions) is a partition of `t`, unless a table has that very name.
        let owner = r.name,
          part: string | undefined;
        const m = /^(.*?)#p#(.*?)(?:#sp#.*)?$/i.exec(r.name);
        if (!byKey.has(key(r.schema, r.name)) && m && byKey.has(key(r.schema, m[1]!))) [owner, part] = [m[1]!, m[2]!];
        const k = key(r.schema, owner);
        const page = toNum(r.page_size) ?? 16384;
        const st = stats.get(k) ?? stats.set(k, { rows: 0, bytes: 0, parts: new Set() }).get(k)!;
        st.rows += toNum(r.n_rows) ?? 0;
        st.bytes += ((toNum(r.clustered_pages) ?? 0) + (toNum(r.other_pages) ?? 0)) * page;
        if (part !== undefined) st.parts.add(part);
      }
      open = [];
      for (const t of tables) {
        const k = key(t.schema, t.name);
        const st = stats.get(k);
        if (st) {
          t.rows = st.rows;
          t.bytes = st.bytes;
          if (st.parts.size) [t.kind, t.partitions] = ['partitioned_table', st.parts.size];
        }
        if (!st || !/^innodb$/i.test(engines.get(k) ?? '') || hints.wantsLastModified?.(t.schema, t.name)) open.push(t);
      }
    } else {
      tables = [];
      open = [];
    }
    if (!listing || open.length > MAX_BY_NAME) {
      // Every table's statistics from one scan (opens every table).
      const rows = await port.query<MyTableRow & Record<string, unknown>>(myTablesSql(list.length), list);
      const known = new Map(tables.map((t) => [key(t.schema, t.name), t]));
      const wanted = new Set(open.map((t) => key(t.schema, t.name)));
      for (const r of rows) {
        const t =
          known.get(key(r.schema, r.name)) ??
          (() => {
            const x = make(r.schema, r.name);
            tables.push(x);
            return x;
          })();
        if (listing && !wanted.has(key(r.schema, r.name))) continue;
        applyStats(t, r);
      }
      open = listing ? open : tables;
    } else if (open.length) {
      const bySchema = new Map<string, string[]>();
      for (const t of open) (bySchema.get(t.schema) ?? bySchema.set(t.schema, []).get(t.schema)!).push(t.name);
      const q = myStatsByNameSql([...bySchema]);
      const rows = await port.query<MyTableRow & Record<string, unknown>>(q.sql, q.params);
      const known = new Map(open.map((t) => [key(t.schema, t.name), t]));
      for (const r of rows) {
        const t = known.get(key(r.schema, r.name));
        if (t) applyStats(t, r);
      }
    }
    const partitioned = open.filter((t) => t.kind === 'partitioned_table' && t.partitions === 0);
    if (partitioned.length) {
      const rows = await port.query(
        myPartitionsSql(partitioned.length),
        partitioned.flatMap((t) => [t.schema, t.name]),
      );
      const counts = new Map(rows.map((r) => [key(String(r.schema), String(r.table_name)), toNum(r.partitions) ?? 0]));
      for (const t of partitioned) t.partitions = counts.get(key(t.schema, t.name)) ?? 0;
    }
    return { schemas: found, tables: tables.sort(byName), keeps_last_modified: true };
  },
  maxColumnSql(schema, table, column, index) {
    return `SELECT ${index | 0} AS i, max(${quoteMy(column)}) AS v FROM ${quoteMy(schema)}.${quoteMy(table)}`;
  },
};
