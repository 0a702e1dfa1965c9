/**
 * `offload restore`: the job arguments it builds (names computed here by hand, no password on the command
 * line, the restore credential's own reference), and end to end against the live PostgreSQL: an archive
 * made by the archive job comes back into a new table with the same rows; a second restore into the
 * same name is refused and changes nothing; a missing restore credential is refused before anything runs.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSummary, restoreCredentialReference, restoreJobArgs } from '../../src/restore/restore.js';
import type { DatabaseConfig } from '../../src/generated/database.js';
import type { OffloadSettings } from '../../src/generated/settings.js';
import { cli } from '../helpers/cli.js';
import { removeTree, writeTree } from '../helpers/fixtures.js';
import { SETTINGS } from '../helpers/repo.js';
import { pgAdmin, pgConn } from '../catalog/live-setup.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

const DB: DatabaseConfig = {
  name: 'ledger',
  engine: 'postgres',
  jdbc_url: 'jdbc:postgresql://db.example.internal:6543/books',
  credentials: { secret: 'acme/ledger' },
  owner: { team: 'T', contact: 't@example.com' },
  scope: [{ schema: 'payments', policies: ['monthly'] }],
} as DatabaseConfig;
const SETTINGS_DOC = { region: 'eu-west-1', archive: { bucket: 'b', prefix: 'p' } } as unknown as OffloadSettings;

const argOf = (args: string[], name: string) => args[args.indexOf(name) + 1] ?? '';

test('job arguments: archive names, target address and the restore credential reference', () => {
  const args = restoreJobArgs(DB, SETTINGS_DOC, {
    root: '/repo',
    database: 'ledger',
    table: 'payments.txn_202001',
    targetTable: 'audit.txn_202001_back',
    warehouse: '/repo/.offload/warehouse',
    asOfSnapshot: '42',
  });
  assert.is(argOf(args, '--archive_database'), 'archive_ledger');
  assert.is(argOf(args, '--archive_table'), 'payments__txn_202001');
  assert.is(argOf(args, '--target_schema'), 'audit');
  assert.is(argOf(args, '--target_table'), 'txn_202001_back');
  assert.is(argOf(args, '--source_host'), 'db.example.internal');
  assert.is(argOf(args, '--source_port'), '6543');
  assert.is(argOf(args, '--source_database'), 'books');
  assert.is(argOf(args, '--as_of_snapshot'), '42');
  const ref = JSON.parse(argOf(args, '--restore_credentials'));
  assert.equal(ref.sources[0], { kind: 'env', prefix: 'OFFLOAD_RESTORE_LEDGER_' });
  assert.is(ref.sources[1].key, 'ledger.restore');
  assert.equal(ref.sources[1].paths, ['/repo/.offload/credentials.yaml', '~/.config/offload/credentials.yaml']);
  assert.is(ref.sources.length, 2); // no secret unless --restore-secret: never the read credential's
  for (const a of ['--source_user', '--secret_id', '--connection_name']) assert.not.ok(args.includes(a), a);
  const same = restoreJobArgs(DB, SETTINGS_DOC, {
    root: '/repo',
    database: 'ledger',
    table: 'payments.txn_202001',
    targetTable: 'txn_back',
    warehouse: '/w',
  });
  assert.is(argOf(same, '--target_schema'), 'payments'); // a bare name lands in the source table's schema
  assert.not.ok(same.includes('--arrow_validation')); // the job's default (checksums)
  const checked = restoreJobArgs(DB, SETTINGS_DOC, {
    root: '/repo',
    database: 'ledger',
    table: 'payments.txn_202001',
    targetTable: 'txn_back',
    warehouse: '/w',
    writePath: 'arrow',
    arrowValidation: 'values',
    copyFormat: 'text',
  });
  assert.is(argOf(checked, '--write_path'), 'arrow');
  assert.is(argOf(checked, '--arrow_validation'), 'values');
  assert.is(argOf(checked, '--copy_format'), 'text');
  assert.not.ok(same.includes('--copy_format')); // the job's default (auto)
  const withSecret = restoreCredentialReference(DB, { secret: 'acme/ledger-restore', region: 'eu-west-1' });
  assert.equal(withSecret.sources.at(-1), {
    kind: 'secrets_manager',
    secret_id: 'acme/ledger-restore',
    region: 'eu-west-1',
  });
});

test('summary: 64-bit snapshot ids keep every digit', () => {
  const s = parseSummary(
    '{\n  "archive_snapshot_id": 107972295882015255,\n  "rows": 1000,\n  "ids": [-9007199254740993]\n}',
  );
  assert.equal(s, { archive_snapshot_id: '107972295882015255', rows: 1000, ids: ['-9007199254740993'] });
});

test('job arguments: usage errors are told, not run', () => {
  const base = { root: '/r', database: 'ledger', targetTable: 't', warehouse: '/w' };
  assert.throws(() => restoreJobArgs(DB, SETTINGS_DOC, { ...base, table: 'txn_202001' }), /schema\.table/);
  assert.throws(
    () => restoreJobArgs(DB, SETTINGS_DOC, { ...base, table: 'a.b', asOfSnapshot: 'latest' }),
    /snapshot id/,
  );
  const oracle = { ...DB, engine: 'oracle', jdbc_url: 'jdbc:oracle:thin:@//h:1521/x' } as DatabaseConfig;
  assert.throws(() => restoreJobArgs(oracle, SETTINGS_DOC, { ...base, table: 'a.b' }), /PostgreSQL, MySQL/);
});

test('end to end on PostgreSQL: restore, then the same name is refused; no credential, no restore', async () => {
  const c = pgConn();
  const schema = `restore_${process.pid.toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  const name = `rs_${Math.floor(Math.random() * 1e6).toString(36)}`;
  await pgAdmin(async (db) => {
    await db.query(`CREATE SCHEMA "${schema}"`);
    await db.query(`CREATE TABLE "${schema}".txn_202001 (id int PRIMARY KEY, amount numeric(10,2), note varchar(30))`);
    await db.query(
      `INSERT INTO "${schema}".txn_202001 SELECT g, g * 1.5, CASE WHEN g % 5 = 0 THEN NULL ELSE 'n' || g END ` +
        'FROM generate_series(1, 120) g',
    );
  });
  const dir = writeTree({
    'offload.settings.yaml': SETTINGS,
    [`databases/${name}.yaml`]: `name: ${name}
engine: postgres
jdbc_url: jdbc:postgresql://${c.host}:${c.port}/${c.database}
credentials: { secret: test/${name} }
owner: { team: T, contact: t@example.com }
scope:
  - schema: ${schema}
    policies: [audit]
`,
    'policies/audit.yaml': 'name: audit\nage: { from: table_name, pattern: "*_YYYYMM" }\narchive_after: P1Y\n',
  });
  try {
    const warehouse = path.join(dir, '.offload', 'warehouse');
    const archived = spawnSync(
      path.join(REPO, '.venv/bin/python'),
      [
        path.join(REPO, 'glue/archive_table.py'),
        ...['--source_schema', schema, '--source_table', 'txn_202001', '--run_id', 'r1', '--warehouse', warehouse],
        ...['--archive_database', `archive_${name}`, '--source_engine', 'postgresql', '--source_host', c.host],
        ...['--source_port', String(c.port), '--source_database', c.database, '--source_user', c.user],
      ],
      { cwd: dir, env: { ...process.env, OFFLOAD_SOURCE_PASSWORD: c.password, TZ: 'UTC' }, encoding: 'utf8' },
    );
    assert.is(archived.status, 0, archived.stdout);
    const args = ['restore', '--database', name, '--table', `${schema}.txn_202001`, '--target-table', 'txn_back'];
    const env = { HOME: dir, OFFLOAD_CREDENTIALS_FILE: '' };
    const none = await cli(args, dir, env);
    assert.is(none.status, 2, none.stdout + none.stderr);
    assert.match(none.stderr, `OFFLOAD_RESTORE_${name.toUpperCase()}_USER`);

    const prefix = `OFFLOAD_RESTORE_${name.toUpperCase()}_`;
    const creds = { ...env, [`${prefix}USER`]: c.user, [`${prefix}PASSWORD`]: c.password };
    const first = await cli(args, dir, creds);
    assert.is(first.status, 0, first.stdout + first.stderr);
    assert.match(first.stdout, `restored: archive_${name}.${schema}__txn_202001`);
    assert.match(first.stdout, '120 rows; validation passed');
    assert.match(first.stdout, 'row hashes summed per bucket by PostgreSQL and by the job'); // the default
    assert.match(first.stdout, 'write path arrow, COPY binary format'); // auto: PostgreSQL with a key, no delete files
    assert.not.match(first.stdout + first.stderr, c.password);
    const rows = await pgAdmin((db) =>
      db.query(`SELECT count(*)::int AS n, sum(amount)::text AS s FROM "${schema}".txn_back`),
    );
    assert.equal(rows.rows[0], { n: 120, s: `${(1.5 * 120 * 121) / 2}.00` });

    const values = await cli(
      [...args.slice(0, -1), 'txn_back_values', '--arrow-validation', 'values', '--copy-format', 'text'],
      dir,
      creds,
    );
    assert.is(values.status, 0, values.stdout + values.stderr);
    assert.match(values.stdout, 'write path arrow, COPY text format\n');
    assert.match(values.stdout, '120 rows; validation passed');
    assert.match(values.stdout, 'every value compared by key');
    const again = await cli([...args, '--format', 'json'], dir, creds);
    assert.is(again.status, 2);
    assert.is(JSON.parse(again.stdout).error.code, 'target_exists');
    const still = await pgAdmin((db) => db.query(`SELECT count(*)::int AS n FROM "${schema}".txn_back`));
    assert.is(still.rows[0].n, 120);
  } finally {
    await pgAdmin((db) => db.query(`DROP SCHEMA "${schema}" CASCADE`));
    removeTree(dir);
  }
});

test.run();
