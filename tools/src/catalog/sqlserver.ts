/**
 * SQL Server catalog introspection through the sys.* views: three queries whatever the number of
 * tables. sys.tables holds no views; a table on a partition scheme is a partitioned table (its
 * partitions are not separate tables). Rows from sys.partitions, bytes from sys.allocation_units,
 * last modification from sys.dm_db_index_usage_stats.last_user_update (needs VIEW SERVER STATE /
 * VIEW DATABASE PERFORMANCE STATE; reset when the server restarts). Not runnable here: tested against
 * recorded catalog rows.
 */
import type { QueryPort } from './port.js';
import { byName, toIso, toNum, type CatalogSnapshot, type Introspector, type TableInfo } from './model.js';
import { groupColumns, key } from './postgres.js';
import { keysFromPositions } from './oracle.js';

export const quoteMs = (id: string): string => `[${id.replace(/]/g, ']]')}]`;
/** Named parameters `@p1 … @pn` (the connector binds params[i] to `p${i + 1}`). */
const names = (n: number) => Array.from({ length: n }, (_, i) => `@p${i + 1}`).join(', ');

const msSchemasSql = (n: number) =>
  `SELECT s.name AS [name] FROM sys.schemas s WHERE s.name IN (${names(n)}) ORDER BY 1`;

const msTablesSql = (n: number) => `SELECT s.name AS [schema], t.name AS [name],
  (SELECT SUM(p.rows) FROM sys.partitions p WHERE p.object_id = t.object_id AND p.index_id IN (0, 1)) AS [rows],
  (SELECT SUM(a.total_pages) * 8192 FROM sys.partitions p
     JOIN sys.allocation_units a ON a.container_id = CASE WHEN a.type = 2 THEN p.partition_id ELSE p.hobt_id END
    WHERE p.object_id = t.object_id) AS [bytes],
  (SELECT COUNT(*) FROM sys.partitions p WHERE p.object_id = t.object_id AND p.index_id IN (0, 1)) AS [partitions],
  CASE WHEN EXISTS (SELECT 1 FROM sys.indexes i JOIN sys.partition_schemes ps ON ps.data_space_id = i.data_space_id
                     WHERE i.object_id = t.object_id AND i.index_id IN (0, 1)) THEN 1 ELSE 0 END AS [partitioned],
  (SELECT MAX(u.last_user_update) FROM sys.dm_db_index_usage_stats u
    WHERE u.database_id = DB_ID() AND u.object_id = t.object_id) AS [last_modified]
FROM sys.tables t JOIN sys.schemas s ON s.schema_id = t.schema_id
WHERE t.is_ms_shipped = 0 AND s.name IN (${names(n)})`;

const msColumnsSql = (
  n: number,
) => `SELECT s.name AS [schema], t.name AS [table_name], c.name AS [name], ty.name AS [type],
  c.is_nullable AS [nullable],
  CASE WHEN ty.name IN ('decimal', 'numeric') THEN c.precision
       WHEN ty.name IN ('varchar', 'char', 'varbinary', 'binary') AND c.max_length > 0 THEN c.max_length
       WHEN ty.name IN ('nvarchar', 'nchar') AND c.max_length > 0 THEN c.max_length / 2
       WHEN ty.name IN ('datetime2', 'datetimeoffset', 'time') THEN c.scale END AS [precision],
  CASE WHEN ty.name IN ('decimal', 'numeric') THEN c.scale END AS [scale],
  ic.key_ordinal AS [pk_position]
FROM sys.columns c
JOIN sys.tables t ON t.object_id = c.object_id
JOIN sys.schemas s ON s.schema_id = t.schema_id
JOIN sys.types ty ON ty.user_type_id = c.user_type_id
LEFT JOIN sys.indexes i ON i.object_id = t.object_id AND i.is_primary_key = 1
LEFT JOIN sys.index_columns ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id AND ic.column_id = c.column_id
WHERE t.is_ms_shipped = 0 AND s.name IN (${names(n)})
ORDER BY s.name, t.name, c.column_id`;

export const sqlserver: Introspector = {
  async introspect(port: QueryPort, schemas: readonly string[]): Promise<CatalogSnapshot> {
    const list = [...schemas];
    if (list.length === 0) return { schemas: [], tables: [], keeps_last_modified: true };
    // Three independent statements, sent at once (each on its own pooled connection).
    const [schemaRows, tableRows, rawColumns] = await Promise.all([
      port.query<{ name: string }>(msSchemasSql(list.length), list),
      port.query(msTablesSql(list.length), list),
      port.query(msColumnsSql(list.length), list),
    ]);
    const found = schemaRows.map((r) => r.name);
    const colRows = rawColumns as unknown as Parameters<typeof keysFromPositions>[0];
    const columns = groupColumns(colRows);
    const pks = keysFromPositions(colRows);
    const tables: TableInfo[] = tableRows.map((r) => {
      const schema = String(r.schema),
        name = String(r.name);
      const partitioned = r.partitioned === 1 || r.partitioned === true;
      return {
        schema,
        name,
        kind: partitioned ? 'partitioned_table' : 'table',
        partition_of: null,
        partitions: partitioned ? (toNum(r.partitions) ?? 0) : 0,
        columns: columns.get(key(schema, name)) ?? [],
        primary_key: pks.get(key(schema, name)) ?? [],
        rows: toNum(r.rows),
        bytes: toNum(r.bytes),
        last_modified: toIso(r.last_modified),
      } satisfies TableInfo;
    });
    return { schemas: found, tables: tables.sort(byName), keeps_last_modified: true };
  },
  maxColumnSql(schema, table, column, index) {
    return (
      `SELECT ${index | 0} AS i, CAST(MAX(${quoteMs(column)}) AS datetimeoffset) AS v ` +
      `FROM ${quoteMs(schema)}.${quoteMs(table)}`
    );
  },
};
