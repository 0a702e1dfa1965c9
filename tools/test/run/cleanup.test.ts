/**
 * `offload run` through source cleanup (policies with `source.action: drop`) against the live PostgreSQL and
 * MariaDB of scripts/services.sh, with the real worker and the local ledger:
 *  - end to end: a first run archives, validates and renames to quarantine; a run before the grace period
 *    ends changes nothing; a run after it validates again and drops; a legal hold keeps its source;
 *  - refusals, each tried through the runner: a validation that failed, is missing, is older than the
 *    archive's snapshot (caught by the runner, and by the job when the ledger itself is stale), a legal hold
 *    recorded with the archive — the source table stays, checked in the database itself;
 *  - kills: the runner or its worker SIGKILLed (test hook OFFLOAD_TEST_KILL_AT) at ≥ 10 points across
 *    archive, validate, ledger writes, rename and drop; every rerun converges, and after every kill the
 *    ledger is checked against the Iceberg metadata and the source catalogs, read independently.
 * Expectations (quarantine names, row counts, due tables) are computed here, not by the code under test.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import { createLocalLedger, type LedgerEntry } from '../../src/ledger/index.js';
import { BIN, cli } from '../helpers/cli.js';
import { removeTree, writeTree } from '../helpers/fixtures.js';
import { SETTINGS } from '../helpers/repo.js';
import { myConn, pgAdmin, pgConn } from '../catalog/live-setup.js';
import { waitWorkerGone } from '../helpers/worker.js';

// The as-of day is today (the real clock renames): the grace period runs from the rename, so the drop is due
// on the next day's as-of. Fixed dates here broke once the calendar passed them.
const AS_OF = new Date().toISOString().slice(0, 10);
const LATER = new Date(Date.parse(AS_OF) + 86_400_000).toISOString().slice(0, 10);
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const PASSWORD = 'runner-cleanup-test-only';
const policy = (o: { drop: boolean; hold?: boolean; grace?: string }) => `name: monthly
age: { from: table_name, pattern: "*_YYYYMM" }
archive_after: P1Y
source: { action: ${o.drop ? 'drop' : 'keep'}${o.drop ? `, grace_period: ${o.grace ?? 'PT1S'}` : ''} }
${o.hold ? 'legal_hold: { enabled: true, reason: "litigation LIT-1", reference: LIT-1 }\n' : ''}`;
const HELD = `name: held
age: { from: table_name, pattern: "held_YYYYMM" }
archive_after: P1Y
source: { action: drop, grace_period: PT1S }
legal_hold: { enabled: true, reason: "litigation LIT-2", reference: LIT-2 }
`;

interface Fixture {
  dir: string;
  pgSchema: string;
  myDb: string;
  pgName: string;
  myName: string;
  env: Record<string, string>;
  /** Source rows of every table the policies archive: `db|schema|table` → rows. */
  rows: Map<string, number>;
  cleanup: () => Promise<void>;
}

const tag = () => `${process.pid.toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
const key = (db: string, schema: string, table: string) => `${db}|${schema}|${table}`;
/** cleanup.py's quarantine name, spelled out: zz_offload_q_<yyyymmdd>_<table> (short names, no cut). */
const quarantineOf = (table: string, day = new Date().toISOString().slice(0, 10)) =>
  `zz_offload_q_${day.replace(/-/g, '')}_${table}`;

async function fixture(opts: { pgTables: string[]; myTables: string[]; policy: string; held?: boolean }) {
  const t = tag();
  const pgSchema = `runner_cl_${t}`;
  const myDb = `runner_cl_${t}`;
  const role = `runner_cl_${t}`;
  const pgName = `pg_${t}`;
  const myName = `my_${t}`;
  const P = `"${pgSchema}"`;
  const rows = new Map<string, number>();
  await pgAdmin(async (c) => {
    await c.query(`CREATE SCHEMA ${P}`);
    await c.query(`CREATE ROLE ${role} LOGIN PASSWORD '${PASSWORD}'`);
    await c.query(`GRANT USAGE, CREATE ON SCHEMA ${P} TO ${role}`);
    for (const [i, table] of opts.pgTables.entries()) {
      const n = 100 + 37 * i;
      await c.query(`CREATE TABLE ${P}.${table} (id bigint PRIMARY KEY, amount numeric(12,2), note text)`);
      await c.query(`INSERT INTO ${P}.${table} SELECT g, g * 1.25, 'n' || g FROM generate_series(1, ${n}) g`);
      // PostgreSQL renames and drops only as the owner: the cleanup login owns the tables it may clean up.
      await c.query(`ALTER TABLE ${P}.${table} OWNER TO ${role}`);
      rows.set(key(pgName, pgSchema, table), n);
    }
  });
  const my = await mysql.createConnection(myConn());
  const M = `\`${myDb}\``;
  await my.query(`CREATE DATABASE ${M} CHARACTER SET utf8mb4`);
  await my.query(`CREATE USER '${role}'@'%' IDENTIFIED BY '${PASSWORD}'`);
  await my.query(`GRANT ALTER, DROP, CREATE, INSERT, SELECT ON ${M}.* TO '${role}'@'%'`);
  for (const [i, table] of opts.myTables.entries()) {
    const n = 80 + 11 * i;
    await my.query(`CREATE TABLE ${M}.${table} (id int PRIMARY KEY, at datetime(3), v double)`);
    await my.query(
      `INSERT INTO ${M}.${table} SELECT seq, '2019-06-01 10:00:00.5' + INTERVAL seq MINUTE, seq / 8 FROM seq_1_to_${n}`,
    );
    rows.set(key(myName, myDb, table), n);
  }
  await my.end();
  const pc = pgConn();
  const mc = myConn();
  const scope = (schema: string) => `scope:
  - schema: ${schema}
    include: ["^orders_", "^events_"]
    policies: [monthly]
${opts.held ? `  - schema: ${schema}\n    include: ["^held_"]\n    policies: [held]\n` : ''}`;
  const dir = writeTree({
    'offload.settings.yaml': SETTINGS,
    'policies/monthly.yaml': opts.policy,
    ...(opts.held ? { 'policies/held.yaml': HELD } : {}),
    [`databases/${pgName}.yaml`]: `name: ${pgName}
engine: postgres
jdbc_url: jdbc:postgresql://${pc.host}:${pc.port}/${pc.database}
credentials: { secret: test/${pgName} }
owner: { team: T, contact: t@example.com }
${scope(pgSchema)}`,
    [`databases/${myName}.yaml`]: `name: ${myName}
engine: mariadb
jdbc_url: jdbc:mariadb://${mc.host}:${mc.port}/${myDb}
credentials: { secret: test/${myName} }
owner: { team: T, contact: t@example.com }
${scope(myDb)}`,
    // The MariaDB cleanup login comes from the credentials file's `cleanup:` section (PostgreSQL's from the env).
    '.offload/credentials.yaml': `cleanup:\n  ${myName}: { user: ${role}, password: ${PASSWORD} }\n`,
  });
  execFileSync('chmod', ['600', path.join(dir, '.offload/credentials.yaml')]);
  const git = (...a: string[]) => execFileSync('git', ['-C', dir, ...a], { stdio: 'pipe' });
  git('init', '-q');
  git('add', '.');
  git('-c', 'user.name=t', '-c', 'user.email=t@x.example', 'commit', '-qm', 'configs');
  const env: Record<string, string> = { HOME: dir };
  for (const [name, c] of [
    [pgName, pc],
    [myName, mc],
  ] as const) {
    env[`OFFLOAD_DB_${name.toUpperCase()}_USER`] = c.user;
    env[`OFFLOAD_DB_${name.toUpperCase()}_PASSWORD`] = c.password;
  }
  env[`OFFLOAD_CLEANUP_${pgName.toUpperCase()}_USER`] = role;
  env[`OFFLOAD_CLEANUP_${pgName.toUpperCase()}_PASSWORD`] = PASSWORD;
  return {
    dir,
    pgSchema,
    myDb,
    pgName,
    myName,
    env,
    rows,
    cleanup: async () => {
      await pgAdmin(async (c) => {
        await c.query(`DROP SCHEMA ${P} CASCADE`);
        await c.query(`DROP OWNED BY ${role}`);
        await c.query(`DROP ROLE ${role}`);
      });
      const m = await mysql.createConnection(myConn());
      await m.query(`DROP DATABASE ${M}`);
      await m.query(`DROP USER '${role}'@'%'`);
      await m.end();
      removeTree(dir);
    },
  } satisfies Fixture;
}

const run = (f: Fixture, ...args: string[]) =>
  cli(
    ['run', '--configs', 'worktree', '--format', 'json', '--quiet', '--no-aws', '--parallel', '1', ...args],
    f.dir,
    f.env,
  );
const ledgerOf = (f: Fixture) => createLocalLedger({ dir: path.join(f.dir, '.offload/state') }).list();

/** The tables of the fixture's schemas as the source catalogs list them now, by database config name. */
async function sourceTables(f: Fixture): Promise<Map<string, Set<string>>> {
  const pgT = await pgAdmin(
    async (c) =>
      (await c.query(`SELECT tablename FROM pg_tables WHERE schemaname = $1`, [f.pgSchema])).rows as {
        tablename: string;
      }[],
  );
  const m = await mysql.createConnection(myConn());
  const [myT] = await m.query(`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = ?`, [f.myDb]);
  await m.end();
  return new Map([
    [f.pgName, new Set(pgT.map((r) => r.tablename))],
    [f.myName, new Set((myT as { t: string }[]).map((r) => r.t))],
  ]);
}

async function countRows(f: Fixture, db: string, table: string): Promise<number> {
  if (db === f.pgName)
    return pgAdmin(async (c) =>
      Number((await c.query(`SELECT count(*) AS n FROM "${f.pgSchema}"."${table}"`)).rows[0].n),
    );
  const m = await mysql.createConnection(myConn());
  const [r] = await m.query(`SELECT count(*) AS n FROM \`${f.myDb}\`.\`${table}\``);
  await m.end();
  return Number((r as { n: number }[])[0]!.n);
}

/** The archive's current snapshot, read from its Hadoop-catalog metadata as text: id and total records. */
function archiveSnapshot(f: Fixture, ns: string, table: string): { id: string; records: number } | null | undefined {
  const meta = path.join(f.dir, '.offload/warehouse', ns, table, 'metadata');
  if (!existsSync(path.join(meta, 'version-hint.text'))) return undefined;
  const v = readFileSync(path.join(meta, 'version-hint.text'), 'utf8').trim();
  const text = readFileSync(path.join(meta, `v${v}.metadata.json`), 'utf8');
  const id = /"current-snapshot-id"\s*:\s*(-?\d+)/.exec(text)?.[1];
  if (!id || id === '-1') return null;
  const doc = JSON.parse(text) as { snapshots: { 'snapshot-id': number; summary: Record<string, string> }[] };
  // The snapshot's summary by position of its id in the text (ids past 2^53 lose digits as JSON numbers).
  const snap =
    doc.snapshots.find((s) => new RegExp(`"snapshot-id"\\s*:\\s*${id}\\b`).test(JSON.stringify(s))) ??
    doc.snapshots[doc.snapshots.length - 1]!;
  return { id, records: Number(snap.summary['total-records']) };
}

/**
 * What the ledger claims, checked against the warehouse and the source catalogs read independently:
 * archived and later → the archive's current snapshot is the recorded one and holds the source's rows;
 * validated and later → a passed validation of that snapshot; source_renamed → the source name is gone and
 * the recorded quarantine table exists; source_dropped → both are gone. And no source is gone (renamed or
 * dropped) unless the ledger holds a passed validation of an archive holding all its rows.
 */
async function assertConsistent(f: Fixture, where: string) {
  const entries = await ledgerOf(f);
  const tables = await sourceTables(f);
  const byKey = new Map(entries.map((e) => [key(e.database, e.schema, e.table), e]));
  for (const e of entries) {
    const at = `${where}: ${e.table} is ${e.state}`;
    const expectedRows = f.rows.get(key(e.database, e.schema, e.table));
    assert.ok(expectedRows !== undefined, `${at}: a ledger entry for a table no policy archives`);
    const present = tables.get(e.database)!;
    if (['archived', 'validated', 'source_renamed', 'source_dropped'].includes(e.state)) {
      const snap = archiveSnapshot(f, e.archive_namespace!, e.archive_table!);
      assert.ok(snap, `${at} but its archive has no snapshot`);
      assert.is(snap!.id, e.snapshot_id, `${at}: the ledger's snapshot is the archive's current one`);
      assert.is(snap!.records, expectedRows, `${at}: the archive holds the source's rows`);
      assert.is(e.rows, expectedRows);
    }
    if (['validated', 'source_renamed', 'source_dropped'].includes(e.state)) {
      assert.is(e.validation?.status, 'passed', at);
      assert.is(e.validation?.snapshot_id, e.snapshot_id, `${at}: validated the current snapshot`);
    }
    if (e.state === 'source_renamed') {
      // The rename happened; the quarantined table is there, unless a drop ran and was killed before its
      // ledger write (the ledger may lag behind the source, never run ahead of it).
      assert.not.ok(present.has(e.table), `${at} but the source name is still there`);
      assert.ok(
        e.source_cleanup?.quarantine_table.startsWith('zz_offload_q_'),
        `${at}: the quarantine name is recorded`,
      );
      if (present.has(e.source_cleanup!.quarantine_table))
        assert.is(await countRows(f, e.database, e.source_cleanup!.quarantine_table), expectedRows);
    }
    if (e.state === 'source_dropped') {
      assert.not.ok(present.has(e.table), `${at} but the source is there`);
      assert.not.ok(present.has(e.source_cleanup!.quarantine_table), `${at} but the quarantined table is there`);
    }
  }
  for (const [k, n] of f.rows) {
    const [db, , table] = k.split('|') as [string, string, string];
    const present = tables.get(db)!;
    if (present.has(table)) {
      assert.is(await countRows(f, db, table), n, `${where}: ${table} is untouched`);
      continue;
    }
    // The source name is gone: only a passed validation of an archive holding its rows allowed that.
    const e = byKey.get(k);
    assert.ok(e, `${where}: ${table} left the source without a ledger entry`);
    assert.is(e!.validation?.status, 'passed', `${where}: ${table} left the source without a passed validation`);
    const snap = archiveSnapshot(f, e!.archive_namespace!, e!.archive_table!);
    assert.is(snap?.records, n, `${where}: ${table} left the source, but its archive does not hold its ${n} rows`);
    const q = [...present].filter((t) => t.startsWith('zz_offload_q_') && t.endsWith(`_${table}`));
    for (const t of q) assert.is(await countRows(f, db, t), n, `${where}: the quarantined ${t} holds the rows`);
  }
}

test('offload run: archive, validate, rename; after the grace validate again, drop; a hold keeps it', async () => {
  const f = await fixture({
    pgTables: ['orders_202001', 'held_202001'],
    myTables: ['events_201901'],
    policy: policy({ drop: true }),
    held: true,
  });
  try {
    const dry = await run(f, '--as-of', AS_OF, '--dry-run');
    assert.is(dry.status, 0, dry.stderr);
    const plan = JSON.parse(dry.stdout);
    const unitsOf = (s: { units: { source: { table: string }; action: string; cleanup?: { phase: string } }[] }) =>
      s.units.map((u) => `${u.source.table} ${u.action}${u.cleanup ? ` ${u.cleanup.phase}` : ''}`).sort();
    assert.equal(unitsOf(plan), [
      'events_201901 archive',
      'events_201901 cleanup_source quarantine',
      'events_201901 validate',
      'held_202001 archive',
      'held_202001 validate',
      'orders_202001 archive',
      'orders_202001 cleanup_source quarantine',
      'orders_202001 validate',
    ]);
    assert.equal(
      plan.cleanup
        .map(
          (c: { table: string; step: string; quarantine_table: string }) =>
            `${c.step} ${c.table} ${c.quarantine_table}`,
        )
        .sort(),
      [
        `rename events_201901 ${quarantineOf('events_201901')}`,
        `rename orders_202001 ${quarantineOf('orders_202001')}`,
      ],
    );
    const unit = plan.units.find((u: { action: string }) => u.action === 'cleanup_source');
    assert.equal(unit.cleanup.credentials.sources[0], {
      kind: 'env',
      prefix: `OFFLOAD_CLEANUP_${unit.database.toUpperCase()}_`,
    });
    assert.not.equal(unit.cleanup.credentials, unit.source.credentials, 'its own credential reference');
    assert.not.ok(existsSync(path.join(f.dir, '.offload/state/ledger')), 'a dry run writes no ledger');
    assert.is((await sourceTables(f)).get(f.pgName)!.has('orders_202001'), true);
    const text = await cli(
      ['run', '--configs', 'worktree', '--as-of', AS_OF, '--quiet', '--no-aws', '--dry-run'],
      f.dir,
      f.env,
    );
    assert.match(
      text.stdout,
      `would rename ${f.pgName}: ${f.pgSchema}.orders_202001 → ${f.pgSchema}.${quarantineOf('orders_202001')}`,
    );

    const first = await run(f, '--as-of', AS_OF);
    assert.is(first.status, 0, `${first.stderr}\n${first.stdout}`);
    const s1 = JSON.parse(first.stdout);
    assert.equal(s1.totals, { archived: 3, validated: 3, failed: 0, skipped: 0, renamed: 2, dropped: 0 });
    const e1 = await ledgerOf(f);
    assert.equal(e1.map((e) => `${e.table} ${e.state}`).sort(), [
      'events_201901 source_renamed',
      'held_202001 validated',
      'orders_202001 source_renamed',
    ]);
    assert.is(
      e1.find((e) => e.table === 'orders_202001')!.source_cleanup!.quarantine_table,
      quarantineOf('orders_202001'),
    );
    const t1 = await sourceTables(f);
    assert.equal([...t1.get(f.pgName)!].sort(), ['held_202001', quarantineOf('orders_202001')].sort());
    assert.equal([...t1.get(f.myName)!], [quarantineOf('events_201901')]);
    await assertConsistent(f, 'after the first run');

    // Before the grace period ends (the as-of day began before the rename): nothing to do.
    const early = await run(f, '--as-of', AS_OF);
    assert.is(early.status, 0, early.stderr);
    assert.is(JSON.parse(early.stdout).units.length, 0);
    const dryDrop = await run(f, '--as-of', LATER, '--dry-run');
    assert.equal(
      JSON.parse(dryDrop.stdout)
        .cleanup.map((c: { step: string; quarantine_table: string }) => `${c.step} ${c.quarantine_table}`)
        .sort(),
      [`drop ${quarantineOf('events_201901')}`, `drop ${quarantineOf('orders_202001')}`],
    );

    // The next day (the injected clock: --as-of), the quarantined tables are validated again and dropped.
    const later = await run(f, '--as-of', LATER);
    assert.is(later.status, 0, `${later.stderr}\n${later.stdout}`);
    assert.equal(JSON.parse(later.stdout).totals.dropped, 2);
    const e2 = await ledgerOf(f);
    assert.equal(e2.map((e) => `${e.table} ${e.state}`).sort(), [
      'events_201901 source_dropped',
      'held_202001 validated',
      'orders_202001 source_dropped',
    ]);
    const t2 = await sourceTables(f);
    assert.equal([...t2.get(f.pgName)!], ['held_202001'], 'the held table stays, the quarantined one is gone');
    assert.equal([...t2.get(f.myName)!], []);
    assert.is(await countRows(f, f.pgName, 'held_202001'), f.rows.get(key(f.pgName, f.pgSchema, 'held_202001')));
    await assertConsistent(f, 'after the drop');
    const again = await run(f, '--as-of', LATER);
    assert.is(JSON.parse(again.stdout).units.length, 0, 'a rerun has nothing left to do');
  } finally {
    await f.cleanup();
  }
});

/** Rewrites one ledger entry file in place (a ledger written by an older run, or edited by hand). */
function tamper(f: Fixture, table: string, change: (e: LedgerEntry) => void) {
  const dir = path.join(f.dir, '.offload/state/ledger');
  for (const n of readdirSync(dir).filter((x) => x.endsWith('.json'))) {
    const e = JSON.parse(readFileSync(path.join(dir, n), 'utf8')) as LedgerEntry;
    if (e.table !== table) continue;
    change(e);
    writeFileSync(path.join(dir, n), JSON.stringify(e, null, 1));
    return;
  }
  throw new Error(`no ledger entry for ${table}`);
}

test('offload run refuses cleanup (failed, missing, stale validation; held archive): sources stay', async () => {
  // Archived and validated while the policy keeps its sources (and orders_202005 under a legal hold) …
  const f = await fixture({
    pgTables: ['orders_202001', 'orders_202002', 'orders_202003', 'orders_202004', 'orders_202005'],
    myTables: ['events_201901'],
    policy: policy({ drop: false }),
  });
  try {
    const first = await run(f, '--as-of', AS_OF);
    assert.is(first.status, 0, `${first.stderr}\n${first.stdout}`);
    assert.is(JSON.parse(first.stdout).totals.validated, 6);
    await assertConsistent(f, 'archived');
    // … then the hold is recorded with orders_202005's archive (as an archive made under a hold carries it) …
    const hold = spawn(
      path.join(REPO, '.venv/bin/python'),
      [
        path.join(REPO, 'glue/hold_table.py'),
        '--catalog_type',
        'hadoop',
        '--warehouse',
        path.join(f.dir, '.offload/warehouse'),
        '--archive_database',
        `archive_${f.pgName}`,
        '--archive_table',
        `${f.pgSchema}__orders_202005`,
        '--legal_hold',
        'true',
        '--legal_hold_reason',
        'LIT-3',
      ],
      { cwd: path.join(REPO, 'glue'), env: { ...process.env, TZ: 'UTC' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let holdErr = '';
    hold.stderr.on('data', (d) => (holdErr += d));
    const holdCode = await new Promise<number | null>((r) => hold.on('close', r));
    assert.is(holdCode, 0, holdErr.slice(-2000));
    // … and the ledger says what older or hand-edited ledgers might.
    tamper(f, 'orders_202001', (e) => (e.validation = { ...e.validation!, status: 'failed', mismatches: 3 }));
    tamper(f, 'orders_202002', (e) => (e.validation = null));
    tamper(f, 'orders_202003', (e) => (e.validation = { ...e.validation!, snapshot_id: '1' }));
    // A ledger stale as a whole (snapshot and validation of an older archive): only the job can tell.
    tamper(f, 'orders_202004', (e) => {
      e.snapshot_id = '1';
      e.validation = { ...e.validation!, snapshot_id: '1' };
    });
    writeFileSync(path.join(f.dir, 'policies/monthly.yaml'), policy({ drop: true }));

    const second = await run(f, '--as-of', AS_OF);
    assert.is(second.status, 0, `${second.stderr}\n${second.stdout}`);
    const s = JSON.parse(second.stdout);
    const why = Object.fromEntries(
      s.outcomes.map((o: { table: string; status: string; error?: { code: string } }) => [
        o.table,
        `${o.status} ${o.error?.code ?? ''}`.trim(),
      ]),
    );
    assert.equal(why, {
      orders_202001: 'skipped validation_not_passed',
      orders_202002: 'skipped no_validation',
      orders_202003: 'skipped validation_stale',
      orders_202004: 'skipped validation_stale', // refused by the job: the archive's snapshot is not "1"
      orders_202005: 'skipped legal_hold', // refused by the job: the hold recorded with the archive
      events_201901: 'ok', // the control: nothing stops this one
    });
    assert.match(
      s.outcomes.find((o: { table: string }) => o.table === 'orders_202004').reason,
      /the cleanup job refused/,
    );
    const tables = await sourceTables(f);
    assert.equal(
      [...tables.get(f.pgName)!].sort(),
      ['orders_202001', 'orders_202002', 'orders_202003', 'orders_202004', 'orders_202005'],
      'every refused source is still there, under its own name',
    );
    for (const t of tables.get(f.pgName)!)
      assert.is(await countRows(f, f.pgName, t), f.rows.get(key(f.pgName, f.pgSchema, t)));
    assert.equal([...tables.get(f.myName)!], [quarantineOf('events_201901')]);
    const states = Object.fromEntries((await ledgerOf(f)).map((e) => [e.table, e.state]));
    assert.equal(states, {
      orders_202001: 'validated',
      orders_202002: 'validated',
      orders_202003: 'validated',
      orders_202004: 'validated',
      orders_202005: 'validated',
      events_201901: 'source_renamed',
    });
  } finally {
    await f.cleanup();
  }
});

const KILLS: { point: string; asOf: string }[] = [
  { point: 'worker:archive:before', asOf: AS_OF },
  { point: 'worker:archive:after', asOf: AS_OF },
  { point: 'runner:archived:before-ledger', asOf: AS_OF },
  { point: 'runner:archived:after-ledger', asOf: AS_OF },
  { point: 'worker:validate:after', asOf: AS_OF },
  { point: 'runner:validated:before-ledger', asOf: AS_OF },
  { point: 'cleanup:after-rename', asOf: AS_OF },
  { point: 'worker:cleanup_source:after', asOf: AS_OF },
  { point: 'runner:renamed:before-ledger', asOf: AS_OF },
  { point: 'runner:renamed:after-ledger', asOf: AS_OF },
  { point: 'cleanup:before-drop', asOf: LATER },
  { point: 'cleanup:after-drop', asOf: LATER },
  { point: 'runner:dropped:before-ledger', asOf: LATER },
];

test('offload run killed at 13 points of archive, validate, ledger writes, rename, drop: reruns converge', async () => {
  const f = await fixture({ pgTables: ['orders_202001'], myTables: ['events_201901'], policy: policy({ drop: true }) });
  try {
    const killed: string[] = [];
    for (const k of KILLS) {
      const child = spawn(
        process.execPath,
        [BIN, 'run', '--configs', 'worktree', '--as-of', k.asOf, '--quiet', '--no-aws', '--parallel', '1'],
        {
          cwd: f.dir,
          env: { ...process.env, ...f.env, OFFLOAD_TEST_KILL_AT: k.point },
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      const [code, signal] = await new Promise<[number | null, string | null]>((r) =>
        child.on('close', (c, s) => r([c, s])),
      );
      assert.match(err, `TEST HOOK OFFLOAD_TEST_KILL_AT=${k.point}`);
      // A runner point: the runner died of SIGKILL. A worker point: the worker did; the runner reports it and exits 1.
      const hit = k.point.startsWith('runner:')
        ? signal === 'SIGKILL'
        : code === 1 && readLog(f).includes(`OFFLOAD_TEST_KILL_AT=${k.point}: killing process`);
      if (hit) killed.push(k.point);
      await waitWorkerGone(path.join(f.dir, '.offload/warehouse'));
      await assertConsistent(f, `killed at ${k.point}`);
    }
    assert.ok(killed.length >= 10, `killed at ${killed.length} points only: ${killed.join(', ')}`);
    // Rerun until nothing is left to do: a table renamed by a run is dropped by the next one.
    let runs = 0;
    const outputs: string[] = [];
    for (;;) {
      const r = await run(f, '--as-of', LATER);
      outputs.push(r.stdout);
      assert.is(r.status, 0, `${r.stderr}\n${r.stdout}`);
      await assertConsistent(f, `rerun ${++runs}`);
      if (JSON.parse(r.stdout).units.length === 0) break;
      assert.ok(runs < 3, 'converges within two reruns');
    }
    const entries = await ledgerOf(f);
    if (entries.some((e) => e.state !== 'source_dropped'))
      console.error(JSON.stringify({ killed, entries, outputs: outputs.map((o) => JSON.parse(o).outcomes) }, null, 1));
    assert.equal(entries.map((e) => `${e.table} ${e.state}`).sort(), [
      'events_201901 source_dropped',
      'orders_202001 source_dropped',
    ]);
    const tables = await sourceTables(f);
    assert.equal([...tables.get(f.pgName)!, ...tables.get(f.myName)!], [], 'both sources dropped, nothing else left');
  } finally {
    await f.cleanup();
  }
});

/** The runs' logs (the worker's stderr), where a worker that killed itself says so. */
function readLog(f: Fixture): string {
  const dir = path.join(f.dir, '.offload/state/runs');
  if (!existsSync(dir)) return '';
  return readdirSync(dir)
    .map((n) => readFileSync(path.join(dir, n), 'utf8'))
    .join('\n');
}

test.run();
