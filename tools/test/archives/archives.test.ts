/**
 * `offload archives` on hand-written warehouses: what the real archive job's metadata does not show in
 * the walk (glue/tests/test_first_user_walk.py reads a warehouse the jobs wrote): a recorded legal
 * hold, 64-bit snapshot ids kept exact, the version hint missing, an unreadable metadata file, the
 * latest of several validation records and one of an older snapshot, the namespace → config mapping.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { listArchives, localArchiveBytes } from '../../src/archives/archives.js';
import { SCHEMA_DIR } from '../../scripts/generate-types.js';
import { UserError } from '../../src/errors.js';
import { cli } from '../helpers/cli.js';
import { removeTree, writeTree } from '../helpers/fixtures.js';
import { SETTINGS } from '../helpers/repo.js';
import { firstUserTree } from '../fixtures/first-user.js';

const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
const contract = ajv.compile(JSON.parse(readFileSync(path.join(SCHEMA_DIR, 'archives.schema.json'), 'utf8')));

// 2^63 - 25: a double would round it to 9223372036854775807 (printed …5808).
const BIG = '9223372036854775783';
const OLD = '1234';

function metadata(props: Record<string, string>, current: string | null): string {
  const snapshot = (id: string, total: string) =>
    `{"snapshot-id": ${id}, "timestamp-ms": 1796205413664, "summary": {"total-records": "${total}", ` +
    '"total-files-size": "4096", "total-data-files": "2"}}';
  return `{"format-version": 2, "location": "/w/x", "current-snapshot-id": ${current ?? -1},
  "properties": ${JSON.stringify(props)},
  "snapshots": [${snapshot(OLD, '7')}, ${snapshot(BIG, '9')}]}`;
}

const lineage = {
  'offload.source.engine': 'postgres',
  'offload.source.host': 'db.internal',
  'offload.source.port': '5432',
  'offload.source.database': 'ledger',
  'offload.source.schema': 'ledger',
  'offload.source.table': 'txn_202001',
  'offload.policy': 'monthly-txn',
  'offload.retention_until': '2027-01-31',
  'offload.run_id': 'r2',
};
const record = (validatedAt: string, snapshot: string, status = 'passed') =>
  `{"job": "validate", "status": "${status}", "archive_table": "archive_ledger.ledger__txn_202001", ` +
  `"validated_at": "${validatedAt}", "run_id": "r2", "archive_snapshot_id": ${snapshot}, ` +
  '"mode": "full", "mismatches": []}';

function warehouse(extra: Record<string, string> = {}) {
  return writeTree({
    'offload.settings.yaml': SETTINGS,
    ...firstUserTree('ledger'),
    'wh/archive_ledger/ledger__txn_202001/metadata/version-hint.text': '3\n',
    'wh/archive_ledger/ledger__txn_202001/metadata/v2.metadata.json': metadata(lineage, OLD),
    'wh/archive_ledger/ledger__txn_202001/metadata/v3.metadata.json': metadata(
      { ...lineage, 'offload.legal_hold': 'true', 'offload.row_count': '9' },
      BIG,
    ),
    // No version hint: the highest version file is current.
    'wh/archive_other/s__t/metadata/v1.metadata.json': metadata({}, OLD),
    'wh/archive_other/s__t/metadata/v4.metadata.json': metadata({ 'offload.legal_hold': 'false' }, null),
    'results/a.validation.json': record('2026-12-01T10:00:00Z', OLD),
    'results/b.validation.json': record('2026-12-02T10:00:00Z', BIG),
    'results/c.validation.json': record('2026-11-30T10:00:00Z', BIG, 'failed'),
    ...extra,
  });
}

test("rows, bytes, exact snapshot ids, lineage, hold, the latest validation, each namespace's config", async () => {
  const dir = warehouse();
  try {
    const r = await listArchives({ warehouse: path.join(dir, 'wh'), results: path.join(dir, 'results'), root: dir });
    assert.ok(contract(JSON.parse(JSON.stringify(r))), JSON.stringify(contract.errors));
    assert.equal(r.problems, []);
    const [a, b] = r.archives;
    assert.equal(
      [a!.archive, a!.database, a!.rows, a!.bytes, a!.data_files, a!.current_snapshot_id, a!.legal_hold],
      ['archive_ledger.ledger__txn_202001', 'ledger', 9, 4096, 2, BIG, true],
    );
    assert.equal(a!.source, {
      engine: 'postgres',
      host: 'db.internal',
      port: 5432,
      database: 'ledger',
      schema: 'ledger',
      table: 'txn_202001',
    });
    assert.equal(
      [a!.policy, a!.retention_until, a!.metadata_file],
      ['monthly-txn', '2027-01-31', 'archive_ledger/ledger__txn_202001/metadata/v3.metadata.json'],
    );
    assert.equal(a!.validation, {
      status: 'passed',
      validated_at: '2026-12-02T10:00:00Z',
      run_id: 'r2',
      snapshot_id: BIG,
      current: true,
      mode: 'full',
      mismatches: 0,
      record: 'b.validation.json',
    });
    // v4 (highest) has no current snapshot and no lineage; its hold is recorded false; no config maps it.
    assert.equal(
      [b!.archive, b!.metadata_file, b!.current_snapshot_id, b!.rows, b!.source, b!.legal_hold, b!.database],
      ['archive_other.s__t', 'archive_other/s__t/metadata/v4.metadata.json', null, null, null, false, null],
    );
    const only = await listArchives({ warehouse: path.join(dir, 'wh'), root: dir, databases: ['ledger'] });
    assert.equal(
      only.archives.map((x) => [x.archive, x.validation]),
      [['archive_ledger.ledger__txn_202001', null]],
    );
  } finally {
    removeTree(dir);
  }
});

test("an older snapshot's validation is not current; an unreadable table is a problem, the rest listed", async () => {
  const dir = warehouse({
    'results/b.validation.json': record('2026-12-02T10:00:00Z', OLD),
    'wh/archive_ledger/broken/metadata/v1.metadata.json': '{"format-version": 2,',
  });
  try {
    const r = await listArchives({ warehouse: path.join(dir, 'wh'), results: path.join(dir, 'results') });
    assert.equal(
      r.archives.map((x) => [x.archive, x.validation?.current ?? null]),
      [
        ['archive_ledger.ledger__txn_202001', false],
        ['archive_other.s__t', null],
      ],
    );
    assert.is(r.problems.length, 1);
    assert.match(r.problems[0]!, /^archive_ledger\/broken\/metadata\/v1\.metadata\.json: not readable as JSON/);
    const out = await cli(['archives', '--warehouse', 'wh', '--results', 'results', '--format', 'json'], dir);
    assert.is(out.status, 1, 'a problem exits 1');
    assert.is(JSON.parse(out.stdout).archives.length, 2);
  } finally {
    removeTree(dir);
  }
});

test('usage errors: no warehouse, an unknown database (exit 2, no stack trace)', async () => {
  const dir = warehouse();
  try {
    await listArchives({ warehouse: path.join(dir, 'nowhere') }).then(
      () => assert.unreachable(),
      (e) => assert.ok(e instanceof UserError && /warehouse .*nowhere does not exist/.test(e.message), String(e)),
    );
    const r = await cli(['archives', '--warehouse', 'wh', '--database', 'ledgr'], dir);
    assert.is(r.status, 2);
    assert.match(r.stderr, /no database config named "ledgr"; the configs declare: ledger/);
    assert.not.match(r.stderr, /\n\s+at /);
  } finally {
    removeTree(dir);
  }
});

test("localArchiveBytes (offload report's sizes): the current snapshot's data bytes; none when absent", () => {
  const meta = (current: string) =>
    `{"format-version": 2, "current-snapshot-id": ${current}, "snapshots": [` +
    `{"snapshot-id": ${OLD}, "timestamp-ms": 1, "summary": {"total-files-size": "1000"}}, ` +
    // 2^63 - 24: one above BIG, the same double; only an exact comparison tells them apart.
    `{"snapshot-id": 9223372036854775784, "timestamp-ms": 2, "summary": {"total-files-size": "3000"}}, ` +
    `{"snapshot-id": ${BIG}, "timestamp-ms": 3, "summary": {"total-files-size": "2048"}}]}`;
  const dir = writeTree({
    'wh/archive_a/t/metadata/version-hint.text': '2\n',
    'wh/archive_a/t/metadata/v1.metadata.json': meta(OLD),
    'wh/archive_a/t/metadata/v2.metadata.json': meta(BIG),
    'wh/archive_a/empty/metadata/v1.metadata.json': meta('-1'),
  });
  try {
    const wh = path.join(dir, 'wh');
    assert.is(localArchiveBytes(wh, 'archive_a', 't'), 2048);
    assert.is(localArchiveBytes(wh, 'archive_a', 'empty'), undefined, 'no current snapshot');
    assert.is(localArchiveBytes(wh, 'archive_a', 'missing'), undefined);
    assert.is(localArchiveBytes(wh, 'archive_b', 't'), undefined);
  } finally {
    removeTree(dir);
  }
});

test.run();
