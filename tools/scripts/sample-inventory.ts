/**
 * Writes the sample inventories `examples/natwest/inventory/*.json` for the sample repo (deterministic: run it again
 * and nothing changes), so `offload preview` runs on a fresh clone with no database. They look like
 * what `offload discover` writes for the sample databases on 2026-11-27.
 *   npx tsx tools/scripts/sample-inventory.ts
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeInventory, type Inventory, type InventoryTable } from '../src/inventory/inventory.js';
import { TOOL_VERSION } from '../src/version.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const AT = '2026-11-27T02:00:00.000Z';
const MEASURED = '2026-11-27T02:00:04.000Z';

let seed = 20261127;
const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
const between = (lo: number, hi: number) => Math.round(lo + rand() * (hi - lo));

type Col = InventoryTable['columns'][number];
const col = (
  name: string,
  type: string,
  nullable = false,
  precision: number | null = null,
  scale: number | null = null,
): Col => ({ name, type, nullable, precision, scale });
const t = (schema: string, name: string, columns: Col[], extra: Partial<InventoryTable> = {}): InventoryTable => {
  const rows = extra.rows ?? between(800_000, 2_400_000);
  return {
    schema,
    name,
    kind: 'table',
    partition_of: null,
    partitions: 0,
    columns,
    primary_key: [columns[0]!.name],
    rows,
    bytes: extra.bytes ?? Math.round((rows * between(150, 210)) / 8192) * 8192,
    last_modified: null,
    column_max: {},
    ...extra,
  };
};
const months = (from: [number, number], to: [number, number]) => {
  const out: string[] = [];
  for (let y = from[0], m = from[1]; y < to[0] || (y === to[0] && m <= to[1]); m === 12 ? (y++, (m = 1)) : m++)
    out.push(`${y}${String(m).padStart(2, '0')}`);
  return out;
};
const inv = (
  database: string,
  engine: Inventory['engine'],
  schemas: string[],
  tables: InventoryTable[],
): Inventory => ({
  format_version: 1,
  tool: { name: 'offload', version: TOOL_VERSION },
  discovered_at: AT,
  database,
  engine,
  partial: false,
  errors: [],
  schemas: schemas.map((name) => ({ name, found: true })),
  keeps_last_modified: engine !== 'postgres',
  tables: tables.sort((a, b) => (a.schema < b.schema ? -1 : a.schema > b.schema ? 1 : a.name < b.name ? -1 : 1)),
});

const txnCols = [
  col('id', 'bigint', false, 64, 0),
  col('account_id', 'bigint', false, 64, 0),
  col('amount', 'numeric', false, 14, 2),
  col('currency', 'character', false, 3),
  col('booked_at', 'timestamp with time zone'),
];
const auditCols = [
  col('event_id', 'uuid'),
  col('actor', 'character varying', false, 64),
  col('action', 'text'),
  col('event_time', 'timestamp with time zone'),
];
const nucleus = inv(
  'nucleus_dev',
  'postgres',
  ['audit', 'payments'],
  [
    ...months([2020, 1], [2026, 11]).map((ym) => t('payments', `txn_${ym}`, txnCols)),
    t('payments', 'txn_current', txnCols, { rows: 412_339 }),
    t('payments', 'ledger', txnCols, { kind: 'partitioned_table', partitions: 2, rows: 3_100_000, bytes: 612_368_384 }),
    t('payments', 'ledger_2025', txnCols, {
      kind: 'partition',
      partition_of: { schema: 'payments', name: 'ledger' },
      rows: 1_700_000,
      bytes: 335_544_320,
    }),
    t('payments', 'ledger_2026', txnCols, {
      kind: 'partition',
      partition_of: { schema: 'payments', name: 'ledger' },
      rows: 1_400_000,
      bytes: 276_824_064,
    }),
    t('payments', `txn_2020'; DROP TABLE payments.txn_202001; --`, txnCols, { rows: 3, bytes: 16_384 }),
    t('payments', 'Txn_202001', txnCols, { rows: 12, bytes: 16_384 }),
    t('payments', 'txn 202002.bak', txnCols, { rows: 40, bytes: 16_384 }),
    t('payments', 'überweisung_202001', txnCols, { rows: 7, bytes: 16_384 }),
    t('audit', 'audit_log', auditCols, {
      primary_key: [],
      rows: 48_210_554,
      bytes: 9_663_676_416,
      column_max: { event_time: { value: '2025-06-30T17:45:12.000Z', measured_at: MEASURED } },
    }),
    t('audit', 'login_audit', auditCols, {
      column_max: { event_time: { value: '2026-11-26T23:59:58.000Z', measured_at: MEASURED } },
    }),
  ],
);

const glCols = [
  col('POSTING_ID', 'NUMBER', false, 19, 0),
  col('ACCOUNT_NO', 'VARCHAR2', false, 20),
  col('AMOUNT', 'NUMBER', false, 18, 2),
  col('POSTED_AT', 'TIMESTAMP(6)', false, 6),
];
const stmtCols = [
  col('STATEMENT_ID', 'NUMBER', false, 19, 0),
  col('CUSTOMER_ID', 'NUMBER', false, 19, 0),
  col('PDF', 'BLOB', true),
  col('ISSUED_ON', 'DATE'),
];
const onprem = inv(
  'onprem_orcl_conn',
  'oracle',
  ['LEDGER'],
  [
    ...months([2019, 1], [2026, 11]).map((ym) =>
      t('LEDGER', `GL_POSTINGS_${ym}`, glCols, { last_modified: `${ym.slice(0, 4)}-${ym.slice(4)}-28T23:10:00.000Z` }),
    ),
    ...Array.from({ length: 12 }, (_, i) => 2015 + i).map((y) =>
      t('LEDGER', `STATEMENT_ARCHIVE_${y}`, stmtCols, {
        last_modified: `${y + 1}-01-05T08:00:00.000Z`,
        rows: between(100_000, 300_000),
        bytes: between(2, 9) * 1_073_741_824,
      }),
    ),
    t('LEDGER', 'GL_ACCOUNTS', glCols, { last_modified: '2026-11-26T18:00:00.000Z', rows: 52_000 }),
  ],
);

const trailCols = [
  col('TRAIL_ID', 'NUMBER', false, 19, 0),
  col('CASE_ID', 'NUMBER', false, 19, 0),
  col('EVENT_TIME', 'TIMESTAMP(6) WITH TIME ZONE', false, 6),
  col('DETAIL', 'CLOB', true),
];
const bizops = inv(
  'bizops_orcl_conn',
  'oracle',
  ['BIZOPS'],
  [
    t('BIZOPS', 'AUDIT_TRAIL', trailCols, {
      last_modified: '2025-04-01T00:00:00.000Z',
      column_max: { EVENT_TIME: { value: '2025-03-31T16:20:00.000Z', measured_at: MEASURED } },
    }),
    t('BIZOPS', 'CASE_EVENTS', trailCols, {
      last_modified: '2026-11-26T12:00:00.000Z',
      column_max: { EVENT_TIME: { value: '2026-11-26T11:59:00.000Z', measured_at: MEASURED } },
    }),
    t('BIZOPS', 'CASES', trailCols, { last_modified: '2026-11-26T12:00:00.000Z' }),
  ],
);

for (const i of [nucleus, onprem, bizops]) {
  const file = await writeInventory(path.join(ROOT, 'examples/natwest/inventory'), i);
  console.log(`wrote ${path.relative(process.cwd(), file)} (${i.tables.length} tables)`);
}
