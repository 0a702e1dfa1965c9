/** Builders for engine and preview tests: configs and inventories written as plain data. */
import type { DatabaseConfig } from '../../src/generated/database.js';
import type { PolicyConfig } from '../../src/generated/policy.js';
import type { Inventory, InventoryTable } from '../../src/inventory/inventory.js';

export function db(
  name: string,
  scope: DatabaseConfig['scope'],
  engine: DatabaseConfig['engine'] = 'postgres',
): DatabaseConfig {
  return {
    name,
    engine,
    jdbc_url: `jdbc:postgresql://h/${name}`,
    credentials: { secret: `s/${name}` },
    owner: { team: 't', contact: 't@x.example' },
    scope,
  };
}

export const monthly: PolicyConfig = {
  name: 'monthly',
  age: { from: 'table_name', pattern: '*_YYYYMM' },
  archive_after: 'P2Y',
  purge_after: 'P7Y',
  source: { action: 'drop', grace_period: 'P30D' },
  priority: 100,
};
export const audit: PolicyConfig = {
  name: 'audit',
  age: { from: 'column', column: 'event_time' },
  archive_after: 'P1Y',
  purge_after: 'P10Y',
  source: { action: 'keep' },
  priority: 50,
};
export const yearly: PolicyConfig = {
  name: 'yearly',
  age: { from: 'table_name', pattern: 'stmt_YYYY' },
  archive_after: 'P3Y',
  purge_after: 'P7Y',
  legal_hold: { enabled: true, reason: 'Litigation', reference: 'LIT-1' },
  priority: 200,
};
export const touched: PolicyConfig = { name: 'touched', age: { from: 'last_modified' }, archive_after: 'P6M' };

export function table(schema: string, name: string, extra: Partial<InventoryTable> = {}): InventoryTable {
  return {
    schema,
    name,
    kind: 'table',
    partition_of: null,
    partitions: 0,
    columns: [{ name: 'id', type: 'bigint', nullable: false, precision: 64, scale: 0 }],
    primary_key: ['id'],
    rows: 1000,
    bytes: 65536,
    last_modified: null,
    column_max: {},
    ...extra,
  };
}

export const eventCol = {
  name: 'event_time',
  type: 'timestamp with time zone',
  nullable: false,
  precision: null,
  scale: null,
};

export function inventory(database: string, tables: InventoryTable[], extra: Partial<Inventory> = {}): Inventory {
  const schemas = [...new Set(tables.map((t) => t.schema))].sort().map((name) => ({ name, found: true }));
  return {
    format_version: 1,
    tool: { name: 'offload', version: '0.1.0' },
    discovered_at: '2026-11-27T02:00:00.000Z',
    database,
    engine: 'postgres',
    partial: false,
    errors: [],
    schemas,
    keeps_last_modified: false,
    tables,
    ...extra,
  };
}

export const measured = (value: string | null) => ({ event_time: { value, measured_at: '2026-11-27T02:00:05.000Z' } });
