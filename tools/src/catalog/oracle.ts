/**
 * Oracle catalog introspection through the ALL_* views (what the connected user may see): three
 * queries whatever the number of tables. Partitions are not separate tables. Rows and bytes come
 * from optimizer statistics (NUM_ROWS, BLOCKS × 8 KiB: null until statistics are gathered). The
 * last-modification time is the later of ALL_TAB_MODIFICATIONS.TIMESTAMP (DML since the last
 * statistics run, once flushed) and ALL_OBJECTS.LAST_DDL_TIME — the later one, so a table is never
 * thought older than it is. Not runnable here: tested against recorded catalog rows.
 */
import type { QueryPort } from './port.js';
import { byName, toIso, toNum, type CatalogSnapshot, type Introspector, type TableInfo } from './model.js';
import { groupColumns, key } from './postgres.js';

export const quoteOra = (id: string): string => `"${id.replace(/"/g, '""')}"`;
/** Positional binds `:1 … :n` starting after `from` (each IN list gets its own, distinct names). */
const binds = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `:${from + i + 1}`).join(', ');
export const ORACLE_BLOCK_BYTES = 8192;

const oraSchemasSql = (n: number) =>
  `SELECT u.USERNAME AS "name" FROM ALL_USERS u WHERE u.USERNAME IN (${binds(n)}) ORDER BY 1`;

const oraTablesSql = (n: number) => `SELECT t.OWNER AS "schema", t.TABLE_NAME AS "name", t.PARTITIONED AS "partitioned",
  CASE WHEN t.PARTITIONED = 'YES' THEN (SELECT SUM(p.NUM_ROWS) FROM ALL_TAB_PARTITIONS p
    WHERE p.TABLE_OWNER = t.OWNER AND p.TABLE_NAME = t.TABLE_NAME) ELSE t.NUM_ROWS END AS "rows",
  CASE WHEN t.PARTITIONED = 'YES' THEN (SELECT SUM(p.BLOCKS) FROM ALL_TAB_PARTITIONS p
    WHERE p.TABLE_OWNER = t.OWNER AND p.TABLE_NAME = t.TABLE_NAME) ELSE t.BLOCKS END AS "blocks",
  (SELECT COUNT(*) FROM ALL_TAB_PARTITIONS p
    WHERE p.TABLE_OWNER = t.OWNER AND p.TABLE_NAME = t.TABLE_NAME) AS "partitions",
  o.LAST_DDL_TIME AS "last_ddl", m.TIMESTAMP AS "last_dml"
FROM ALL_TABLES t
JOIN ALL_OBJECTS o ON o.OWNER = t.OWNER AND o.OBJECT_NAME = t.TABLE_NAME AND o.OBJECT_TYPE = 'TABLE'
LEFT JOIN ALL_TAB_MODIFICATIONS m
  ON m.TABLE_OWNER = t.OWNER AND m.TABLE_NAME = t.TABLE_NAME AND m.PARTITION_NAME IS NULL
WHERE t.OWNER IN (${binds(n)}) AND t.NESTED = 'NO' AND t.SECONDARY = 'N' AND t.DROPPED = 'NO' AND t.TEMPORARY = 'N'
  AND (t.IOT_TYPE IS NULL OR t.IOT_TYPE = 'IOT')
  AND NOT EXISTS (SELECT 1 FROM ALL_MVIEWS mv WHERE mv.OWNER = t.OWNER AND mv.CONTAINER_NAME = t.TABLE_NAME)`;

const oraColumnsSql = (
  n: number,
) => `SELECT c.OWNER AS "schema", c.TABLE_NAME AS "table_name", c.COLUMN_NAME AS "name", c.DATA_TYPE AS "type",
  CASE WHEN c.NULLABLE = 'Y' THEN 1 ELSE 0 END AS "nullable",
  COALESCE(c.DATA_PRECISION,
    CASE WHEN c.DATA_TYPE IN ('VARCHAR2', 'NVARCHAR2', 'CHAR', 'NCHAR') THEN c.CHAR_LENGTH END) AS "precision",
  c.DATA_SCALE AS "scale", pk.POSITION AS "pk_position"
FROM ALL_TAB_COLUMNS c
LEFT JOIN (SELECT cc.OWNER, cc.TABLE_NAME, cc.COLUMN_NAME, cc.POSITION FROM ALL_CONSTRAINTS k
           JOIN ALL_CONS_COLUMNS cc
             ON cc.OWNER = k.OWNER AND cc.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND cc.TABLE_NAME = k.TABLE_NAME
           WHERE k.CONSTRAINT_TYPE = 'P' AND k.OWNER IN (${binds(n)})) pk
  ON pk.OWNER = c.OWNER AND pk.TABLE_NAME = c.TABLE_NAME AND pk.COLUMN_NAME = c.COLUMN_NAME
WHERE c.OWNER IN (${binds(n, n)})
ORDER BY c.OWNER, c.TABLE_NAME, c.COLUMN_ID`;

interface KeyedColumnRow {
  schema: string;
  table_name: string;
  name: string;
  type: string;
  nullable: unknown;
  precision: unknown;
  scale: unknown;
  pk_position: unknown;
}

/** Primary keys from column rows that carry their position in the key (null when not a member). */
export function keysFromPositions(rows: KeyedColumnRow[]): Map<string, string[]> {
  const parts = new Map<string, { pos: number; name: string }[]>();
  for (const r of rows) {
    const pos = toNum(r.pk_position);
    if (pos === null) continue;
    const k = key(r.schema, r.table_name);
    (parts.get(k) ?? parts.set(k, []).get(k)!).push({ pos, name: r.name });
  }
  return new Map([...parts].map(([k, v]) => [k, v.sort((a, b) => a.pos - b.pos).map((p) => p.name)]));
}

const later = (a: string | null, b: string | null) => (a && b ? (a > b ? a : b) : (a ?? b));

export const oracle: Introspector = {
  async introspect(port: QueryPort, schemas: readonly string[]): Promise<CatalogSnapshot> {
    const list = [...schemas];
    if (list.length === 0) return { schemas: [], tables: [], keeps_last_modified: true };
    // Three independent statements, sent at once (each on its own pooled connection).
    const [schemaRows, tableRows, rawColumns] = await Promise.all([
      port.query<{ name: string }>(oraSchemasSql(list.length), list),
      port.query(oraTablesSql(list.length), list),
      port.query(oraColumnsSql(list.length), [...list, ...list]),
    ]);
    const found = schemaRows.map((r) => r.name);
    const colRows = rawColumns as unknown as KeyedColumnRow[];
    const columns = groupColumns(colRows);
    const pks = keysFromPositions(colRows);
    const tables: TableInfo[] = tableRows.map((r) => {
      const schema = String(r.schema),
        name = String(r.name);
      const partitions = toNum(r.partitions) ?? 0;
      const blocks = toNum(r.blocks);
      return {
        schema,
        name,
        kind: r.partitioned === 'YES' ? 'partitioned_table' : 'table',
        partition_of: null,
        partitions,
        columns: columns.get(key(schema, name)) ?? [],
        primary_key: pks.get(key(schema, name)) ?? [],
        rows: toNum(r.rows),
        bytes: blocks === null ? null : blocks * ORACLE_BLOCK_BYTES,
        last_modified: later(toIso(r.last_dml), toIso(r.last_ddl)),
      } satisfies TableInfo;
    });
    return { schemas: found, tables: tables.sort(byName), keeps_last_modified: true };
  },
  maxColumnSql(schema, table, column, index) {
    // The session time zone is UTC (set at connect), so DATE and TIMESTAMP columns read as UTC.
    return (
      `SELECT ${index | 0} AS "i", ` +
      `SYS_EXTRACT_UTC(CAST(MAX(${quoteOra(column)}) AS TIMESTAMP WITH TIME ZONE)) AS "v" ` +
      `FROM ${quoteOra(schema)}.${quoteOra(table)}`
    );
  },
};
