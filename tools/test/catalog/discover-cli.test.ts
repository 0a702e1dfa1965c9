/**
 * `offload discover` end to end on the live PostgreSQL: inventories written where asked and valid
 * against schema/inventory.schema.json, progress as plain lines on stderr (not a terminal), exit 1 with
 * a partial inventory when the database is unreachable, usage errors exit 2; then `offload preview`
 * reads what discover wrote.
 */
import { test } from 'uvu';
import { cli, BIN } from '../helpers/cli.js';
import * as assert from 'uvu/assert';
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { inventoryProblems } from '../../src/inventory/inventory.js';
import { writeTree, removeTree } from '../helpers/fixtures.js';
import { SETTINGS } from '../helpers/repo.js';
import { RUN, pgConn, pgAdmin } from './live-setup.js';

const S = `dr_${RUN}_cli`;

const c = pgConn();
const files = {
  'offload.settings.yaml': SETTINGS,
  'databases/ledger.yaml':
    `name: ledger\nengine: postgres\njdbc_url: jdbc:postgresql://${c.host}:${c.port}/${c.database}\n` +
    'credentials:\n  secret: acme/ledger\nowner:\n  team: t\n  contact: t@acme.example\nscope:\n' +
    `  - schema: ${S}\n    include: ["^txn_[0-9]{6}$"]\n    policies: [monthly]\n` +
    `  - schema: ${S}\n    include: ["^events$"]\n    policies: [events]\n`,
  'policies/monthly.yaml':
    'name: monthly\nage:\n  from: table_name\n  pattern: "*_YYYYMM"\narchive_after: P2Y\npriority: 10\n',
  'policies/events.yaml': 'name: events\nage:\n  from: column\n  column: at\narchive_after: P1Y\npriority: 5\n',
};
const creds = { OFFLOAD_DB_LEDGER_USER: c.user, OFFLOAD_DB_LEDGER_PASSWORD: c.password, HOME: '/nonexistent' };

test.before(async () => {
  await pgAdmin(async (a) => {
    await a.query(`DROP SCHEMA IF EXISTS ${S} CASCADE`);
    await a.query(`CREATE SCHEMA ${S}`);
    for (const ym of ['202001', '202002', '202611']) await a.query(`CREATE TABLE ${S}.txn_${ym} (id int PRIMARY KEY)`);
    await a.query(`CREATE TABLE ${S}.events (id int, at timestamptz)`);
    await a.query(`INSERT INTO ${S}.events VALUES (1, '2024-02-03T04:05:06Z')`);
  });
});
test.after(async () => {
  await pgAdmin((a) => a.query(`DROP SCHEMA IF EXISTS ${S} CASCADE`));
});

test('discover writes a valid inventory, progress on stderr only; preview reads it', async () => {
  const dir = writeTree(files);
  try {
    const r = await cli(['discover', '--out', 'snap', '--no-aws'], dir, creds);
    assert.is(r.status, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /^ledger: 4 tables → snap\/ledger\.json$/m);
    assert.match(r.stderr, /ledger: connecting/);
    assert.match(r.stderr, /ledger: 4 tables in the catalog/);
    assert.match(r.stderr, /ledger: measured max\(column\) of 1\/1 tables/);
    assert.not.match(r.stdout, /connecting/);
    const inv = JSON.parse(readFileSync(path.join(dir, 'snap/ledger.json'), 'utf8'));
    assert.equal(inventoryProblems(inv), []);
    assert.is(
      inv.tables.find((t: { name: string }) => t.name === 'events').column_max.at.value,
      '2024-02-03T04:05:06.000Z',
    );
    assert.is(
      inv.tool.version,
      JSON.parse(readFileSync(path.resolve(path.dirname(BIN), '../../package.json'), 'utf8')).version,
    );
    execFileSync('git', ['-C', dir, 'init', '-q']);
    execFileSync('git', ['-C', dir, 'add', 'offload.settings.yaml', 'databases', 'policies']);
    execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@x.example', 'commit', '-qm', 'base']);
    const p = await cli(['preview', '--base', 'HEAD', '--inventory', 'snap', '--as-of', '2026-11-27'], dir);
    assert.is(p.status, 0, p.stdout + p.stderr);
    assert.match(p.stdout, /no changes/);
  } finally {
    removeTree(dir);
  }
});

test('discover: unreachable database → partial inventory written, exit 1, message names it', async () => {
  const dir = writeTree(files);
  try {
    const r = await cli(['discover', '--no-aws'], dir, {
      ...creds,
      OFFLOAD_DB_LEDGER_URL: `jdbc:postgresql://127.0.0.1:1/${c.database}`,
    });
    assert.is(r.status, 1);
    assert.match(r.stdout, /ledger: 0 tables \(PARTIAL\)/);
    assert.match(r.stdout, /discover\/unreachable: database ledger: cannot reach the database server/);
    const inv = JSON.parse(readFileSync(path.join(dir, 'inventory/ledger.json'), 'utf8'));
    assert.is(inv.partial, true);
    assert.equal(inventoryProblems(inv), []);
  } finally {
    removeTree(dir);
  }
});

test('discover on a terminal: a progress bar instead of progress lines', async () => {
  const dir = writeTree(files);
  try {
    // `script` gives the command a pseudo-terminal, so stderr.isTTY is true
    const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} discover --no-aws --out tty`;
    const r = await new Promise<{ status: number | null; out: string }>((resolve) => {
      const child = spawn('script', ['-qec', cmd, '/dev/null'], {
        cwd: dir,
        env: { ...process.env, ...creds, TERM: 'xterm' },
      });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.on('close', (status) => resolve({ status, out }));
    });
    assert.is(r.status, 0, r.out);
    assert.match(r.out, /ledger max\(column\) \[[█░]+\] \d\/1/);
    assert.not.match(r.out, /measured max\(column\) of/);
    assert.ok(existsSync(path.join(dir, 'tty/ledger.json')));
  } finally {
    removeTree(dir);
  }
});

test('discover --jobs 2: databases in parallel, one inventory each, output in config order', async () => {
  const dir = writeTree({
    ...files,
    'databases/ledger2.yaml': files['databases/ledger.yaml'].replace('name: ledger', 'name: ledger2'),
  });
  try {
    const r = await cli(['discover', '--no-aws', '--jobs', '2', '--quiet'], dir, {
      ...creds,
      OFFLOAD_DB_LEDGER2_USER: c.user,
      OFFLOAD_DB_LEDGER2_PASSWORD: c.password,
    });
    assert.is(r.status, 0, r.stdout + r.stderr);
    assert.equal(r.stdout.split('\n').filter(Boolean), [
      'ledger: 4 tables → inventory/ledger.json',
      'ledger2: 4 tables → inventory/ledger2.json',
    ]);
    assert.is(r.stderr, '');
    const a = JSON.parse(readFileSync(path.join(dir, 'inventory/ledger.json'), 'utf8')),
      b = JSON.parse(readFileSync(path.join(dir, 'inventory/ledger2.json'), 'utf8'));
    assert.equal(
      a.tables,
      b.tables.map((t: { column_max: Record<string, { measured_at: string }> }, i: number) => ({
        ...t,
        column_max: Object.fromEntries(
          Object.entries(t.column_max).map(([k, v]) => [
            k,
            { ...v, measured_at: a.tables[i].column_max[k].measured_at },
          ]),
        ),
      })),
    );
  } finally {
    removeTree(dir);
  }
});

test('discover: usage errors exit 2 without writing', async () => {
  const dir = writeTree(files);
  try {
    const r = await cli(['discover', '--database', 'nope', '--no-aws'], dir, creds);
    assert.is(r.status, 2);
    assert.match(r.stderr, /no database config named nope \(known: ledger\)/);
    assert.is((await cli(['discover', '--concurrency', '0'], dir)).status, 2);
    assert.not.ok(existsSync(path.join(dir, 'inventory')));
  } finally {
    removeTree(dir);
  }
});

test.run();
