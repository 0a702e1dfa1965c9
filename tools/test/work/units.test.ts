/** Work units from the engine's decisions: shape (schema), names, addresses, retention, holds, ledger progress. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { evaluate } from '../../src/engine/evaluate.js';
import { planWorkUnits, tableKey, type PlanContext, type WorkUnit } from '../../src/work/units.js';
import { workUnitProblems } from '../../src/work/validate-unit.js';
import { SCHEMA_DIR } from '../../scripts/generate-types.js';
import type { OffloadSettings } from '../../src/generated/settings.js';
import type { PolicyConfig } from '../../src/generated/policy.js';
import { audit, db, eventCol, inventory, measured, monthly, table } from '../engine/fixtures.js';

// A second validator compiled here from the schema file (formats ignored): the check does not rest on the code
// under test.
const ajv = new Ajv2020({ strict: false, validateFormats: false });
const schemaCheck = ajv.compile(JSON.parse(readFileSync(path.join(SCHEMA_DIR, 'work-unit.schema.json'), 'utf8')));

const settings = {
  resource_prefix: 'acme',
  region: 'eu-west-1',
  config: { bucket: 'cfg', prefix: 'configs', dynamodb_table: 'acme-cfg' },
  archive: { bucket: 'vault', prefix: 'iceberg', glue_database_prefix: 'arc_' },
} as unknown as OffloadSettings;

const held: PolicyConfig = {
  name: 'held',
  age: { from: 'table_name', pattern: 'stmt_YYYY' },
  archive_after: 'P3Y',
  purge_after: 'P7Y',
  legal_hold: { enabled: true, reason: 'Litigation', reference: 'LIT-1' },
  validation: { row_hash: 'sample', sample_percent: 5, max_reported_mismatches: 7 },
  partitioning: [
    { column: 'id', transform: 'bucket', width: 8 },
    { column: 'day', transform: 'day' },
  ],
};

const d1 = {
  ...db('d1', [
    { schema: 'pay', include: ['^txn_'], policies: ['monthly'] },
    { schema: 'audit', policies: ['audit'] },
    { schema: 'stmt', policies: ['held'] },
  ]),
  jdbc_url: 'jdbc:postgresql://ledger.example.internal/ledger?ssl=true',
};
const m1 = {
  ...db('m1', [{ schema: 'shop', policies: ['monthly'] }], 'mariadb'),
  jdbc_url: 'jdbc:mariadb://m.example:3307/shop',
};

const inventories = new Map([
  [
    'd1',
    inventory('d1', [
      table('pay', 'txn_202001'), // date 2020-01-31: archive (P2Y), purge due 2027-01-31
      table('pay', 'txn_202606'), // not due
      table('audit', 'audit_log', { columns: [eventCol], column_max: measured('2024-05-01T00:00:00.000Z') }),
      table('stmt', 'stmt_2019'), // 2019-12-31 + P3Y: archive; held
    ]),
  ],
  ['m1', inventory('m1', [table('shop', 'Orders 2020_202002')], { engine: 'mariadb' })],
]);

function ctx(extra: Partial<PlanContext> = {}): PlanContext {
  return {
    settings,
    databases: [d1, m1],
    policies: [monthly, audit, held],
    runId: 'r-1',
    configCommit: 'c0ffee',
    runtime: 'local',
    root: '/repo',
    ...extra,
  };
}
const run = (extra: Partial<PlanContext> = {}, opts = {}) =>
  planWorkUnits(
    evaluate({ databases: [d1, m1], policies: [monthly, audit, held], inventories, asOf: '2026-12-02' }),
    ctx(extra),
    opts,
  );
const find = (units: WorkUnit[], t: string, a: string) => units.find((u) => u.source.table === t && u.action === a)!;

test('every planned unit matches the schema, and only due tables get units (archive then validate)', () => {
  const { units, problems } = run();
  assert.equal(problems, []);
  assert.equal(
    units.map((u) => `${u.database} ${u.source.schema}.${u.source.table} ${u.action}`),
    [
      'd1 audit.audit_log archive',
      'd1 audit.audit_log validate',
      'd1 pay.txn_202001 archive',
      'd1 pay.txn_202001 validate',
      'd1 stmt.stmt_2019 archive',
      'd1 stmt.stmt_2019 validate',
      'm1 shop.Orders 2020_202002 archive',
      'm1 shop.Orders 2020_202002 validate',
    ],
  );
  for (const u of units) {
    assert.ok(schemaCheck(u), `${u.id}: ${ajv.errorsText(schemaCheck.errors)}`);
    assert.equal(workUnitProblems(u), []);
  }
  assert.is(new Set(units.map((u) => u.id)).size, units.length, 'ids are unique');
});

test('addresses are parsed once: default port, MariaDB port, engine spelling, no password anywhere', () => {
  const { units } = run();
  const t = find(units, 'txn_202001', 'archive');
  assert.equal(
    [t.source.engine, t.source.host, t.source.port, t.source.database],
    ['postgres', 'ledger.example.internal', 5432, 'ledger'],
  );
  assert.is(t.source.address_from, 'jdbc_url');
  const m = find(units, 'Orders 2020_202002', 'archive');
  assert.equal(
    [m.source.engine, m.source.host, m.source.port, m.source.database],
    ['mariadb', 'm.example', 3307, 'shop'],
  );
  assert.equal(m.source.credentials.sources[0], { kind: 'env', prefix: 'OFFLOAD_DB_M1_' });
  assert.equal(m.source.credentials.sources[1], {
    kind: 'local_file',
    key: 'm1',
    paths: ['/repo/.offload/credentials.yaml', '~/.config/offload/credentials.yaml'],
  });
  assert.not.match(JSON.stringify(units), /password"\s*:/);
});

test('names, retention end, legal hold, validation and partitioning come from the configs', () => {
  const { units } = run();
  const t = find(units, 'txn_202001', 'archive');
  assert.equal(
    [t.archive.namespace, t.archive.table, t.archive.location],
    ['arc_d1', 'pay__txn_202001', 's3://vault/iceberg/arc_d1/'],
  );
  assert.is(t.policy.retention_end, '2027-01-31'); // 2020-01-31 + P7Y
  assert.equal(t.policy.legal_hold, { enabled: false });
  assert.equal([t.policy.source_action, t.policy.grace_period], ['drop', 'P30D']);
  assert.equal(t.validation, {
    row_count: true,
    aggregates: true,
    row_hash: 'full',
    sample_percent: 100,
    max_reported_mismatches: 20,
  });
  assert.equal([t.run_id, t.config_commit, t.as_of], ['r-1', 'c0ffee', '2026-12-02T00:00:00.000Z']);
  assert.is(t.archive.run_id, null);
  assert.is(find(units, 'txn_202001', 'validate').archive.run_id, 'r-1', 'validate checks this run’s archive');
  const s = find(units, 'stmt_2019', 'archive');
  assert.equal(s.policy.legal_hold, { enabled: true, reason: 'Litigation', reference: 'LIT-1' });
  assert.is(s.policy.retention_end, '2026-12-31'); // 2019-12-31 + P7Y
  assert.equal(s.validation, {
    row_count: true,
    aggregates: true,
    row_hash: 'sample',
    sample_percent: 5,
    max_reported_mismatches: 7,
  });
  assert.equal(s.archive.partition_spec, [
    { column: 'id', transform: 'bucket', width: 8 },
    { column: 'day', transform: 'day' },
  ]);
  assert.is(find(units, 'audit_log', 'archive').policy.retention_end, '2034-05-01'); // 2024-05-01 + P10Y
  const m = find(units, 'Orders 2020_202002', 'archive');
  assert.match(m.archive.table, /^shop__orders_2020_202002_h[0-9a-f]{8}$/);
});

test('aws runtime: Glue connection, then the secret; a URL override from the credentials moves the address', () => {
  const aws = find(run({ runtime: 'aws' }).units, 'txn_202001', 'archive');
  assert.equal(aws.source.credentials.sources, [
    { kind: 'glue_connection', name: 'd1' },
    { kind: 'secrets_manager', secret_id: 's/d1', region: 'eu-west-1' },
  ]);
  const moved = find(
    run({ addressOverrides: new Map([['d1', { url: 'jdbc:postgresql://127.0.0.1:55432/copy' }]]) }).units,
    'txn_202001',
    'archive',
  );
  assert.equal(
    [moved.source.host, moved.source.port, moved.source.database, moved.source.address_from],
    ['127.0.0.1', 55432, 'copy', 'credentials_url'],
  );
  const bad = run({ addressOverrides: new Map([['d1', { url: 'jdbc:mysql://x/y' }]]) });
  assert.ok(bad.problems.length >= 3 && bad.problems.every((p) => p.code === 'work/jdbc-url' && p.database === 'd1'));
  assert.ok(
    bad.units.every((u) => u.database === 'm1'),
    'the other database still gets its units',
  );
});

test('selection by database, table, action; ledger progress: archived → validate only, with run and snapshot', () => {
  assert.equal(
    run({}, { databases: ['d1'], tables: ['pay.txn_202001', 'stmt_2019'], actions: ['archive'] }).units.map(
      (u) => u.id,
    ),
    ['archive:d1.pay__txn_202001@r-1', 'archive:d1.stmt__stmt_2019@r-1'],
  );
  const progress = new Map([
    [tableKey('d1', 'pay', 'txn_202001'), { state: 'archived', runId: 'r-0', snapshotId: '9007199254740993' }],
  ]);
  const units = run({}, { progress, tables: ['txn_202001'] }).units;
  assert.equal(
    units.map((u) => [u.action, u.archive.run_id, u.archive.snapshot_id]),
    [['validate', 'r-0', '9007199254740993']],
  );
});

test.run();
