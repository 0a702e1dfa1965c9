/**
 * Naming is computed once, in TypeScript: the archive table name must equal what the Glue jobs' own rule
 * (glue/offload_glue/names.py, run here by Python) gives for the same source names, hostile ones included.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { archiveTableName, connectionNameOf, glueDatabaseOf, s3LocationOf } from '../../src/core/index.js';
import type { DatabaseConfig } from '../../src/generated/database.js';
import type { OffloadSettings } from '../../src/generated/settings.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const PYTHON = path.join(ROOT, '.venv/bin/python');

const SOURCES: [string, string][] = [
  ['sales', 'orders_202401'],
  ['Sales', 'Orders'],
  ['sales', 'ORDERS'],
  ['dbo', 'order lines'],
  ['my-schema', 'tbl.with.dots'],
  ['a__b', 'c'],
  ['a', 'b__c'],
  ['_lead', 'trail_'],
  ['ü', 'ß'],
  ['Σίσυφος', 'ΣΑΣ'],
  ['İstanbul', 'K'],
  ['', ''],
  ['x', '💾 backup'],
  ['s', 'quote"and\'back`tick'],
  ['s', 'nul\u0001ctl'],
  ['s', 't'.repeat(126)],
  ['s', 't'.repeat(125)],
  ['s', 'T'.repeat(300)],
  ['s'.repeat(200), 'u'.repeat(200)],
];

test('archiveTableName equals the Glue jobs’ archive_table_name for every case', () => {
  assert.ok(existsSync(PYTHON), `${PYTHON} is missing (run scripts/setup.sh)`);
  const script = [
    'import json, sys',
    'from offload_glue.names import archive_table_name',
    'print(json.dumps([archive_table_name(s, t) for s, t in json.load(sys.stdin)]))',
  ].join('\n');
  const r = spawnSync(PYTHON, ['-c', script], {
    cwd: path.join(ROOT, 'glue'),
    input: JSON.stringify(SOURCES),
    encoding: 'utf8',
  });
  assert.is(r.status, 0, r.stderr);
  const python = JSON.parse(r.stdout) as string[];
  const ours = SOURCES.map(([s, t]) => archiveTableName(s, t));
  assert.equal(ours, python);
  assert.ok(ours.every((n) => n.length <= 128 && /^[a-z0-9_]+$/.test(n)));
  assert.is(new Set(ours).size, ours.length, 'distinct sources get distinct names');
});

test('database-level names follow the settings unless the database overrides them', () => {
  const settings = { archive: { bucket: 'vault', prefix: 'iceberg' } } as OffloadSettings;
  const db = { name: 'shop', archive: {} } as DatabaseConfig;
  const cases: [DatabaseConfig, OffloadSettings, string, string][] = [
    [db, settings, 'archive_shop', 's3://vault/iceberg/archive_shop/'],
    [
      db,
      { archive: { ...settings.archive, glue_database_prefix: 'lake_' } } as OffloadSettings,
      'lake_shop',
      's3://vault/iceberg/lake_shop/',
    ],
    [{ ...db, archive: { glue_database: 'ledger', s3_location: 's3://other/x' } }, settings, 'ledger', 's3://other/x/'],
  ];
  for (const [d, s, glue, s3] of cases) {
    assert.is(glueDatabaseOf(d, s), glue);
    assert.is(s3LocationOf(d, s), s3);
  }
  assert.is(connectionNameOf(db), 'shop');
});

test.run();
