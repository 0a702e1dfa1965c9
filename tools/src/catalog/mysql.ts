/**
 * MySQL / MariaDB catalog introspection through information_schema: two queries run in parallel,
 * plus one naming the partitioned tables when there are any — at most three whatever the number of
 * tables. Partitions are not tables in these engines: a partitioned table is listed once
 * with its partition count. UPDATE_TIME is the last-modification time (InnoDB keeps it in memory
 * only: null after a server restart until the next write).
 */
import type { QueryPort } from './port.js';
import { byName, toIso, toNum, type CatalogSnapshot, type Introspector, type TableInfo } from './model.js';
import { groupColumns, key } from './postgres.js';

export const quoteMy = (id: string): string => '`' + id.replace(/`/g, '``') + '`';
const marks = (n: number) => Array.from({ length: n }, () => '?').join(', ');

/**
 * Base tables with their statistics. Reading TABLE_ROWS, DATA_LENGTH and UPDATE_TIME makes the server
 * open every table (seconds at 10,000 tables on a small table cache), so this query runs in parallel
 * with the other one, and partitions are NOT counted here with a per-table subquery.
 */
export const myTablesSql = (n: number) => `SELECT t.TABLE_SCHEMA AS \`schema\`, t.TABLE_NAME AS name, t.TABLE_ROWS AS est_rows,
  t.DATA_LENGTH + t.INDEX_LENGTH AS bytes, t.UPDATE_TIME AS last_modified, t.CREATE_OPTIONS AS create_options
FROM information_schema.TABLES t
WHERE t.TABLE_TYPE = 'BASE TABLE' AND t.TABLE_SCHEMA IN (${marks(n)})`;

/**
 * Schemas, columns and primary-key members in one statement: row_kind 's' rows are schemas that
 * exist, 'c' rows columns, 'k' rows primary-key parts (pos = position in the key).
 */
export const myColumnsSql = (n: number) => `SELECT 's' AS row_kind, SCHEMA_NAME AS \`schema\`, NULL AS table_name, NULL AS name, NULL AS type, NULL AS nullable, NULL AS \`precision\`, NULL AS scale, 0 AS pos
FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN (${marks(n)})
UNION ALL
SELECT 'c', c.TABLE_SCHEMA, c.TABLE_NAME, c.COLUMN_NAME, c.DATA_TYPE, c.IS_NULLABLE,
  COALESCE(c.NUMERIC_PRECISION, c.DATETIME_PRECISION, c.CHARACTER_MAXIMUM_LENGTH), c.NUMERIC_SCALE, c.ORDINAL_POSITION
FROM information_schema.COLUMNS c WHERE c.TABLE_SCHEMA IN (${marks(n)})
UNION ALL
SELECT 'k', s.TABLE_SCHEMA, s.TABLE_NAME, s.COLUMN_NAME, NULL, NULL, NULL, NULL, s.SEQ_IN_INDEX
FROM information_schema.STATISTICS s WHERE s.INDEX_NAME = 'PRIMARY' AND s.TABLE_SCHEMA IN (${marks(n)})
ORDER BY 2, 3, 1, 9`;

/** Partition counts, only for the tables the first query found partitioned (named, so the server opens only those). */
export const myPartitionsSql = (n: number) => `SELECT p.TABLE_SCHEMA AS \`schema\`, p.TABLE_NAME AS table_name, COUNT(*) AS partitions
FROM information_schema.PARTITIONS p
WHERE p.PARTITION_NAME IS NOT NULL AND (p.TABLE_SCHEMA, p.TABLE_NAME) IN (${Array.from({ length: n }, () => '(?, ?)').join(', ')})
GROUP BY p.TABLE_SCHEMA, p.TABLE_NAME`;

interface MyTableRow { schema: string; name: string; est_rows: unknown; bytes: unknown; last_modified: unknown; create_options: string | null }
interface MyColumnRow { row_kind: 's' | 'c' | 'k'; schema: string; table_name: string; name: string; type: string; nullable: unknown; precision: unknown; scale: unknown; pos: unknown }

export const mysql: Introspector = {
  async introspect(port: QueryPort, schemas: readonly string[]): Promise<CatalogSnapshot> {
    const list = [...schemas];
    if (list.length === 0) return { schemas: [], tables: [], keeps_last_modified: true };
    // Two independent statements at once: the slow statistics scan and the schema/column/key read.
    const [tableRows, colRows] = await Promise.all([
      port.query<MyTableRow & Record<string, unknown>>(myTablesSql(list.length), list),
      port.query<MyColumnRow & Record<string, unknown>>(myColumnsSql(list.length), [...list, ...list, ...list]),
    ]);
    const found = colRows.filter((r) => r.row_kind === 's').map((r) => r.schema);
    const partitioned = tableRows.filter((r) => /partitioned/i.test(r.create_options ?? ''));
    const counts = new Map<string, number>();
    if (partitioned.length) {
      const rows = await port.query(myPartitionsSql(partitioned.length), partitioned.flatMap((r) => [r.schema, r.name]));
      for (const r of rows) counts.set(key(String(r.schema), String(r.table_name)), toNum(r.partitions) ?? 0);
    }
    const columns = groupColumns(colRows.filter((r) => r.row_kind === 'c'));
    const pks = new Map<string, string[]>();
    for (const r of colRows) {
      if (r.row_kind !== 'k') continue;
      const k = key(r.schema, r.table_name);
      (pks.get(k) ?? pks.set(k, []).get(k)!).push(r.name);
    }
    const tables: TableInfo[] = tableRows.map((r) => {
      const partitions = counts.get(key(r.schema, r.name)) ?? 0;
      return {
        schema: r.schema,
        name: r.name,
        kind: /partitioned/i.test(r.create_options ?? '') ? 'partitioned_table' : 'table',
        partition_of: null,
        partitions,
        columns: columns.get(key(r.schema, r.name)) ?? [],
        primary_key: pks.get(key(r.schema, r.name)) ?? [],
        rows: toNum(r.est_rows),
        bytes: toNum(r.bytes),
        last_modified: toIso(r.last_modified),
      } satisfies TableInfo;
    });
    return { schemas: found, tables: tables.sort(byName), keeps_last_modified: true };
  },
  maxColumnSql(schema, table, column, index) {
    return `SELECT ${index | 0} AS i, max(${quoteMy(column)}) AS v FROM ${quoteMy(schema)}.${quoteMy(table)}`;
  },
};
