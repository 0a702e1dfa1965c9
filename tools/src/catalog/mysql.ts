/**
 * MySQL / MariaDB catalog introspection through information_schema: three queries whatever the
 * number of tables. Partitions are not tables in these engines: a partitioned table is listed once
 * with its partition count. UPDATE_TIME is the last-modification time (InnoDB keeps it in memory
 * only: null after a server restart until the next write).
 */
import type { QueryPort } from './port.js';
import { byName, toIso, toNum, type CatalogSnapshot, type Introspector, type TableInfo } from './model.js';
import { groupColumns, key } from './postgres.js';

export const quoteMy = (id: string): string => '`' + id.replace(/`/g, '``') + '`';
const marks = (n: number) => Array.from({ length: n }, () => '?').join(', ');

export const mySchemasSql = (n: number) => `SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN (${marks(n)}) ORDER BY 1`;

export const myTablesSql = (n: number) => `SELECT t.TABLE_SCHEMA AS \`schema\`, t.TABLE_NAME AS name, t.TABLE_ROWS AS est_rows,
  t.DATA_LENGTH + t.INDEX_LENGTH AS bytes, t.UPDATE_TIME AS last_modified, t.CREATE_OPTIONS AS create_options,
  (SELECT COUNT(*) FROM information_schema.PARTITIONS p
    WHERE p.TABLE_SCHEMA = t.TABLE_SCHEMA AND p.TABLE_NAME = t.TABLE_NAME AND p.PARTITION_NAME IS NOT NULL
      AND t.CREATE_OPTIONS LIKE '%partitioned%') AS partitions
FROM information_schema.TABLES t
WHERE t.TABLE_TYPE = 'BASE TABLE' AND t.TABLE_SCHEMA IN (${marks(n)})`;

/** Columns and primary-key members in one statement: kind 'c' rows are columns, 'k' rows key parts. */
export const myColumnsSql = (n: number) => `SELECT 'c' AS row_kind, c.TABLE_SCHEMA AS \`schema\`, c.TABLE_NAME AS table_name, c.COLUMN_NAME AS name,
  c.DATA_TYPE AS type, c.IS_NULLABLE AS nullable,
  COALESCE(c.NUMERIC_PRECISION, c.DATETIME_PRECISION, c.CHARACTER_MAXIMUM_LENGTH) AS \`precision\`, c.NUMERIC_SCALE AS scale,
  c.ORDINAL_POSITION AS pos
FROM information_schema.COLUMNS c WHERE c.TABLE_SCHEMA IN (${marks(n)})
UNION ALL
SELECT 'k', s.TABLE_SCHEMA, s.TABLE_NAME, s.COLUMN_NAME, NULL, NULL, NULL, NULL, s.SEQ_IN_INDEX
FROM information_schema.STATISTICS s WHERE s.INDEX_NAME = 'PRIMARY' AND s.TABLE_SCHEMA IN (${marks(n)})
ORDER BY 2, 3, 1, 9`;

interface MyTableRow { schema: string; name: string; est_rows: unknown; bytes: unknown; last_modified: unknown; create_options: string | null; partitions: unknown }
interface MyColumnRow { row_kind: 'c' | 'k'; schema: string; table_name: string; name: string; type: string; nullable: unknown; precision: unknown; scale: unknown; pos: unknown }

export const mysql: Introspector = {
  async introspect(port: QueryPort, schemas: readonly string[]): Promise<CatalogSnapshot> {
    const list = [...schemas];
    if (list.length === 0) return { schemas: [], tables: [], keeps_last_modified: true };
    const found = (await port.query<{ name: string }>(mySchemasSql(list.length), list)).map((r) => r.name);
    const tableRows = await port.query<MyTableRow & Record<string, unknown>>(myTablesSql(list.length), list);
    const colRows = await port.query<MyColumnRow & Record<string, unknown>>(myColumnsSql(list.length), [...list, ...list]);
    const columns = groupColumns(colRows.filter((r) => r.row_kind === 'c'));
    const pks = new Map<string, string[]>();
    for (const r of colRows) {
      if (r.row_kind !== 'k') continue;
      const k = key(r.schema, r.table_name);
      (pks.get(k) ?? pks.set(k, []).get(k)!).push(r.name);
    }
    const tables: TableInfo[] = tableRows.map((r) => {
      const partitions = toNum(r.partitions) ?? 0;
      return {
        schema: r.schema,
        name: r.name,
        kind: partitions > 0 ? 'partitioned_table' : 'table',
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
