/**
 * A failed discovery keeps the last good inventory (issue 10, defect 5), on the live PostgreSQL: after
 * a good discovery, an unreachable database leaves `inventory/<db>.json` byte for byte, records the
 * failure beside it in `inventory/<db>.error.json` (schema/inventory-error.schema.json), exits 1; the
 * preview, in text, markdown and JSON, evaluates the kept snapshot and says how old it is and that the
 * last discovery failed; the next good discovery replaces the snapshot and removes the record.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { cli } from '../helpers/cli.js';
import { writeTree, removeTree } from '../helpers/fixtures.js';
import { SETTINGS } from '../helpers/repo.js';
import { readSchema } from '../../src/config/schemas.js';
import { RUN, pgConn, pgAdmin } from './live-setup.js';

const S = `dr_${RUN}_keep`;
const c = pgConn();
const files = {
  'offload.settings.yaml': SETTINGS,
  'databases/ledger.yaml': [
    'name: ledger',
    'engine: postgres',
    `jdbc_url: jdbc:postgresql://${c.host}:${c.port}/${c.database}`,
    'credentials:\n  secret: acme/ledger',
    'owner:\n  team: t\n  contact: t@acme.example',
    `scope:\n  - schema: ${S}\n    include: ["^txn_[0-9]{6}$"]\n    policies: [monthly]\n`,
  ].join('\n'),
  'policies/monthly.yaml':
    'name: monthly\nage:\n  from: table_name\n  pattern: "*_YYYYMM"\narchive_after: P2Y\npriority: 10\n',
};
const creds = { OFFLOAD_DB_LEDGER_USER: c.user, OFFLOAD_DB_LEDGER_PASSWORD: c.password, HOME: '/nonexistent' };
const unreachable = { ...creds, OFFLOAD_DB_LEDGER_URL: `jdbc:postgresql://127.0.0.1:1/${c.database}` };
const DAY = 86_400_000;

type AddFormats = (ajv: Ajv2020, formats: string[]) => unknown;
const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ??
  addFormatsModule) as unknown as AddFormats;
const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv, ['date-time']);
const validErrorRecord = ajv.compile(readSchema('inventory-error.schema.json'));

test.before(async () => {
  await pgAdmin(async (a) => {
    await a.query(`DROP SCHEMA IF EXISTS ${S} CASCADE`);
    await a.query(`CREATE SCHEMA ${S}`);
    for (const ym of ['202001', '202611']) await a.query(`CREATE TABLE ${S}.txn_${ym} (id int PRIMARY KEY)`);
  });
});
test.after(async () => {
  await pgAdmin((a) => a.query(`DROP SCHEMA IF EXISTS ${S} CASCADE`));
});

test('an unreachable database after a good discovery keeps the snapshot; preview says so', async () => {
  const dir = writeTree(files);
  const snap = path.join(dir, 'inventory/ledger.json');
  const errFile = path.join(dir, 'inventory/ledger.error.json');
  try {
    const good = await cli(['discover', '--no-aws'], dir, creds);
    assert.is(good.status, 0, good.stdout + good.stderr);
    // Age the snapshot by five days (and a bit), as if discovery last succeeded then.
    const inv = JSON.parse(readFileSync(snap, 'utf8'));
    const then = new Date(Date.now() - 5 * DAY - 3_600_000).toISOString();
    inv.discovered_at = then;
    writeFileSync(snap, JSON.stringify(inv, null, 2));
    const before = readFileSync(snap);

    const bad = await cli(['discover', '--no-aws'], dir, unreachable);
    assert.is(bad.status, 1, bad.stdout + bad.stderr);
    assert.match(bad.stdout, /ledger: discovery FAILED; kept the last good snapshot of .* \(5 days old\)/);
    assert.match(bad.stdout, /discover\/unreachable/);
    assert.ok(readFileSync(snap).equals(before), 'the good snapshot is unchanged');
    const rec = JSON.parse(readFileSync(errFile, 'utf8'));
    const valid = validErrorRecord(structuredClone(rec));
    assert.ok(valid, JSON.stringify(validErrorRecord.errors));
    assert.is(rec.snapshot_discovered_at, then);
    assert.is(rec.errors[0].code, 'discover/unreachable');

    execFileSync('git', ['-C', dir, 'init', '-q']);
    execFileSync('git', ['-C', dir, 'add', 'offload.settings.yaml', 'databases', 'policies']);
    execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@x.example', 'commit', '-qm', 'base']);
    const preview = (format: string) => cli(['preview', '--base', 'HEAD', '--format', format], dir);
    const text = await preview('text');
    assert.is(text.status, 0, text.stdout + text.stderr);
    assert.match(
      text.stdout,
      /ledger: the last discovery failed .*discover\/unreachable.*snapshot of .* \(5 days old\)/,
    );
    const md = await preview('markdown');
    assert.match(md.stdout, /ledger.*: the last discovery failed .*snapshot of .* \(5 days old\)/);
    const json = JSON.parse((await preview('json')).stdout);
    const db = json.databases.find((d: { database: string }) => d.database === 'ledger');
    assert.is(db.inventory_discovered_at, then);
    assert.is(db.inventory_age_days, 5);
    assert.is(db.last_discovery_failure.errors[0].code, 'discover/unreachable');
    assert.is(db.last_discovery_failure.failed_at, rec.failed_at);
    assert.ok(json.warnings.some((w: { code: string }) => w.code === 'inventory/last-discovery-failed'));

    const again = await cli(['discover', '--no-aws'], dir, creds);
    assert.is(again.status, 0, again.stdout + again.stderr);
    assert.not.ok(existsSync(errFile), 'a good discovery removes the failure record');
    assert.not.equal(JSON.parse(readFileSync(snap, 'utf8')).discovered_at, then);
  } finally {
    removeTree(dir);
  }
});

test('a failed discovery with no earlier snapshot still writes the partial inventory', async () => {
  const dir = writeTree(files);
  try {
    const bad = await cli(['discover', '--no-aws'], dir, unreachable);
    assert.is(bad.status, 1);
    assert.is(JSON.parse(readFileSync(path.join(dir, 'inventory/ledger.json'), 'utf8')).partial, true);
    assert.not.ok(existsSync(path.join(dir, 'inventory/ledger.error.json')));
  } finally {
    removeTree(dir);
  }
});

test.run();
