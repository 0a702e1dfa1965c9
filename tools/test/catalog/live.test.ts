/**
 * Live discovery on PostgreSQL and MariaDB (services script): what the catalog adapters find, in how
 * many catalog queries, read-only sessions, timeouts and failures, and the engine's decisions and a
 * live preview over what was found. Expectations are written from the fixture's own data.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { discoverDatabase } from '../../src/catalog/discover.js';
import { openSession } from '../../src/catalog/connect.js';
import { evaluate } from '../../src/engine/evaluate.js';
import { preview } from '../../src/preview/preview.js';
import type { DatabaseConfig } from '../../src/generated/database.js';
import type { PolicyConfig } from '../../src/generated/policy.js';
import type { Inventory } from '../../src/inventory/inventory.js';
import { writeTree, removeTree } from '../helpers/fixtures.js';
import { SETTINGS } from '../helpers/repo.js';
import {
  RUN,
  HOSTILE,
  MIXED,
  env,
  pgConn,
  myConn,
  setupPg,
  dropPg,
  setupMy,
  dropMy,
  pgAdmin,
  myAdmin,
} from './live-setup.js';

const AS_OF = '2026-11-27';
const monthly: PolicyConfig = {
  name: 'monthly',
  age: { from: 'table_name', pattern: '*_YYYYMM' },
  archive_after: 'P2Y',
  purge_after: 'P7Y',
  source: { action: 'drop', grace_period: 'P30D' },
  priority: 100,
};
const byColumn: PolicyConfig = {
  name: 'by-column',
  age: { from: 'column', column: 'event_time' },
  archive_after: 'P1Y',
  priority: 50,
};

interface Engine {
  name: 'postgres' | 'mariadb';
  S: string;
  A: string;
  url: string;
  setup(): Promise<void>;
  drop(): Promise<void>;
  user: string;
  password: string;
  /** A SELECT-shaped statement that writes (must fail in the read-only session). */
  writingSelect: string;
  slow: string;
  extraHostile: Record<string, string>;
}

const engines: Engine[] = [
  {
    name: 'postgres',
    S: `dr_${RUN}_pay`,
    A: `dr_${RUN} Audit"x`,
    url: `jdbc:postgresql://${pgConn().host}:${pgConn().port}/${pgConn().database}`,
    setup: () => setupPg(`dr_${RUN}_pay`, `dr_${RUN} Audit"x`),
    drop: () => dropPg(`dr_${RUN}_pay`, `dr_${RUN} Audit"x`),
    user: env('OFFLOAD_TEST_USER'),
    password: env('OFFLOAD_TEST_PASSWORD'),
    writingSelect: `WITH w AS (INSERT INTO "dr_${RUN}_pay".txn_202411 VALUES (99) RETURNING 1) SELECT * FROM w`,
    slow: 'SELECT pg_sleep(5)',
    extraHostile: {},
  },
  {
    name: 'mariadb',
    S: `dr_${RUN}_pay`,
    A: `dr_${RUN}_audit`,
    url: `jdbc:mariadb://${myConn().host}:${myConn().port}/${myConn().database}`,
    setup: () => setupMy(`dr_${RUN}_pay`, `dr_${RUN}_audit`),
    drop: () => dropMy(`dr_${RUN}_pay`, `dr_${RUN}_audit`),
    user: env('OFFLOAD_TEST_USER'),
    password: env('OFFLOAD_TEST_PASSWORD'),
    writingSelect: `SELECT \`dr_${RUN}_pay\`.writes() AS w`,
    // 10^9 rows; BENCHMARK() would just return 0 when interrupted
    slow:
      'WITH RECURSIVE r (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 1000) ' +
      'SELECT COUNT(*) AS n FROM r a, r b, r c',
    extraHostile: { 'h`tick': '2020-01-01 00:00:00' },
  },
];

const dbConfig = (e: Engine, name = `live_${e.name}`): DatabaseConfig => ({
  name,
  engine: e.name,
  jdbc_url: e.url,
  credentials: { secret: `test/${name}` },
  owner: { team: 't', contact: 't@x.example' },
  scope: [
    { schema: e.S, include: ['^txn_[0-9]{6}$'], policies: ['monthly'] },
    { schema: e.S, include: ['^h'], policies: ['by-column'] },
    { schema: e.A, policies: ['by-column'] },
  ],
});
const creds = (e: Engine, name = `live_${e.name}`) => ({
  env: { [`OFFLOAD_DB_${name.toUpperCase()}_USER`]: e.user, [`OFFLOAD_DB_${name.toUpperCase()}_PASSWORD`]: e.password },
  aws: false,
});

for (const e of engines) {
  let inv: Inventory;
  let catalogQueries = 0;

  test.before(async () => {
    await e.drop();
    await e.setup();
  });
  test.after(async () => {
    await e.drop();
  });

  test(`${e.name}: discovery: tables (no views), partitions, keys, hostile names, in 3 catalog queries`, async () => {
    const r = await discoverDatabase({
      database: dbConfig(e),
      policies: [monthly, byColumn],
      credentials: creds(e),
      now: () => new Date('2026-11-27T02:00:00Z'),
    });
    inv = r.inventory;
    catalogQueries = r.catalogQueries;
    assert.equal(inv.errors, []);
    assert.is(inv.partial, false);
    assert.is(catalogQueries, e.name === 'postgres' ? 3 : 2); // MariaDB: nothing here needs a table opened
    const names = (schema: string) =>
      inv.tables
        .filter((t) => t.schema === schema)
        .map((t) => t.name)
        .sort();
    const hostile = Object.keys({ ...HOSTILE, ...e.extraHostile });
    const expectedPay = [
      'txn_202001',
      'txn_202003',
      'txn_202410',
      'txn_202411',
      'txn_202611',
      'txn_202613',
      'txn_current',
      MIXED,
      ...hostile,
      ...(e.name === 'postgres' ? ['ledger', 'txn_202003_p1', 'txn_202003_p2', 'txn_202101'] : []),
    ].sort();
    assert.equal(names(e.S), expectedPay);
    assert.equal(names(e.A), ['audit_log', 'empty_log', 'login_audit']);
    const t = (n: string) => inv.tables.find((x) => x.name === n)!;
    assert.is(t('txn_202003').kind, 'partitioned_table');
    assert.is(t('txn_202003').partitions, 2);
    // MariaDB row estimates are engine-made
    assert.is(t('txn_202003').rows, e.name === 'postgres' ? 300 : t('txn_202003').rows);
    if (e.name === 'postgres') {
      assert.equal(t('txn_202003_p1').partition_of, { schema: e.S, name: 'txn_202003' });
      assert.is(t('txn_202101').kind, 'partition');
    }
    assert.equal(t('txn_202001').primary_key, ['id']);
    assert.equal(t('txn_202003').primary_key, ['id', 'd']);
    assert.equal(t('txn_202410').primary_key, []);
    const amount = t('txn_202001').columns.find((c) => c.name === 'amount')!;
    assert.equal([amount.nullable, amount.precision, amount.scale], [false, 12, 2]);
    assert.is(t('txn_202410').columns.find((c) => c.name === 'note')!.precision, 40);
    if (e.name === 'postgres') assert.is(t('txn_202001').rows, 500);
    // MariaDB keeps a last-modification time but it is read only for tables a last_modified policy
    // claims (it costs opening the table); PostgreSQL keeps none.
    assert.is(inv.keeps_last_modified, e.name === 'mariadb');
    assert.ok(inv.tables.every((x) => x.last_modified === null));
    assert.ok((t('txn_202001').bytes ?? 0) > 0);
    // Ages measured only for claimed tables of column-aged policies, recorded with their time.
    assert.equal(t('audit_log').column_max.event_time?.value, '2025-06-30T17:45:00.000Z');
    assert.equal(t('login_audit').column_max.event_time?.value, '2026-11-01T08:00:00.000Z');
    assert.equal(t('empty_log').column_max.event_time?.value, null);
    assert.equal(t(MIXED).column_max, {});
    assert.equal(t('txn_202001').column_max, {});
    for (const [n, at] of Object.entries({ ...HOSTILE, ...e.extraHostile }))
      assert.is(t(n).column_max.event_time?.value, `${at.replace(' ', 'T')}.000Z`, n);
    assert.ok(t('audit_log').column_max.event_time!.measured_at >= '2026-11-27T02:00:00');
  });

  test(`${e.name}: nothing a hostile name holds was executed`, async () => {
    const count =
      e.name === 'postgres'
        ? await pgAdmin(async (c) => (await c.query(`SELECT count(*)::int AS n FROM "${e.S}".txn_202001`)).rows[0].n)
        : await myAdmin(
            async (c) =>
              ((await c.query(`SELECT COUNT(*) AS n FROM \`${e.S}\`.txn_202001`))[0] as { n: number }[])[0]!.n,
          );
    assert.is(Number(count), e.name === 'postgres' ? 500 : 2);
  });

  test(`${e.name}: the engine's decisions over the live inventory`, () => {
    const ev = evaluate({
      databases: [dbConfig(e)],
      policies: [monthly, byColumn],
      inventories: new Map([[`live_${e.name}`, inv]]),
      asOf: AS_OF,
    });
    const got = Object.fromEntries(
      ev.databases[0]!.decisions.map((d) => [d.table, d.problem ? `!${d.problem.code}` : d.action]),
    );
    const hostile = Object.fromEntries(
      Object.entries({ ...HOSTILE, ...e.extraHostile }).map(([n, at]) => [n, at < '2025-11-27' ? 'archive' : 'none']),
    );
    assert.equal(got, {
      txn_202001: 'archive',
      txn_202003: 'archive',
      txn_202410: 'archive',
      txn_202411: 'none',
      txn_202611: 'none',
      txn_202613: '!engine/name-bad-date',
      ...(e.name === 'postgres' ? { txn_202101: 'none' } : {}),
      ...hostile,
      audit_log: 'archive',
      login_audit: 'none',
      empty_log: 'none',
    });
  });

  test(`${e.name}: the session is read-only and has a statement timeout`, async () => {
    const s = await openSession({
      engine: e.name,
      target: {
        host: e.name === 'postgres' ? pgConn().host : myConn().host,
        port: e.name === 'postgres' ? pgConn().port : myConn().port,
        database: env('OFFLOAD_TEST_DB'),
        params: {},
      },
      user: e.user,
      password: e.password,
      statementTimeoutMs: 500,
      concurrency: 1,
    });
    try {
      await s.query(e.writingSelect).then(
        () => assert.unreachable('a write went through the catalog session'),
        (err: Error) => assert.match(err.message, /read[- ]only|READ ONLY/i),
      );
      await s.query(`INSERT INTO x VALUES (1)`).then(
        () => assert.unreachable('non-SELECT reached the driver'),
        (err: Error) => assert.match(err.message, /refuses a non-SELECT/),
      );
      const t0 = Date.now();
      await s.query(e.slow).then(
        () => assert.unreachable('the slow statement was not stopped'),
        (err: Error & { code?: string }) => assert.is(err.code, 'discover/timeout', err.message),
      );
      assert.ok(Date.now() - t0 < 4000);
    } finally {
      await s.close();
    }
    const n =
      e.name === 'postgres'
        ? await pgAdmin(async (c) => (await c.query(`SELECT count(*)::int AS n FROM "${e.S}".txn_202411`)).rows[0].n)
        : await myAdmin(
            async (c) =>
              ((await c.query(`SELECT COUNT(*) AS n FROM \`${e.S}\`.txn_202411`))[0] as { n: number }[])[0]!.n,
          );
    assert.is(Number(n), 0);
  });

  test(`${e.name}: unreachable, bad login, missing database, no credentials: partial inventory naming it`, async () => {
    const down = await discoverDatabase({
      database: { ...dbConfig(e), jdbc_url: e.url.replace(/:\d+\//, ':1/') },
      policies: [monthly],
      credentials: creds(e),
    });
    assert.is(down.inventory.partial, true);
    assert.is(down.inventory.errors[0]?.code, 'discover/unreachable');
    assert.match(down.inventory.errors[0]!.message, new RegExp(`live_${e.name}`));
    const bad = await discoverDatabase({
      database: dbConfig(e),
      policies: [monthly],
      credentials: {
        env: {
          [`OFFLOAD_DB_LIVE_${e.name.toUpperCase()}_USER`]: e.user,
          [`OFFLOAD_DB_LIVE_${e.name.toUpperCase()}_PASSWORD`]: 'wrong',
        },
        aws: false,
      },
    });
    assert.is(bad.inventory.errors[0]?.code, 'discover/auth-failed');
    const nodb = await discoverDatabase({
      database: { ...dbConfig(e), jdbc_url: e.url.replace(/\/[^/]+$/, `/no_such_db_${RUN}`) },
      policies: [monthly],
      credentials: creds(e),
    });
    assert.is(nodb.inventory.errors[0]?.code, 'discover/database-missing', nodb.inventory.errors[0]?.message);
    const none = await discoverDatabase({
      database: dbConfig(e),
      policies: [monthly],
      credentials: { env: {}, aws: false, root: '/nonexistent' },
    });
    assert.is(none.inventory.errors[0]?.code, 'discover/no-credentials');
    assert.match(none.inventory.errors[0]!.message, /OFFLOAD_DB_LIVE_/);
  });

  test(`${e.name}: a table dropped during discovery is named, the others still measured`, async () => {
    const victim = 'hümlaut_ß';
    const { openSession: open } = await import('../../src/catalog/connect.js');
    const real = await open({
      engine: e.name,
      target: {
        host: e.name === 'postgres' ? pgConn().host : myConn().host,
        port: e.name === 'postgres' ? pgConn().port : myConn().port,
        database: env('OFFLOAD_TEST_DB'),
        params: {},
      },
      user: e.user,
      password: e.password,
    });
    let dropped = false;
    const session = {
      async query<T extends Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]> {
        if (!dropped && /max\(/i.test(sql)) {
          dropped = true;
          if (e.name === 'postgres') await pgAdmin((c) => c.query(`DROP TABLE "${e.S}"."${victim}"`));
          else await myAdmin((c) => c.query(`DROP TABLE \`${e.S}\`.\`${victim}\``));
        }
        return real.query<T>(sql, params);
      },
      close: () => real.close(),
    };
    const r = await discoverDatabase({ database: dbConfig(e), policies: [monthly, byColumn], session });
    await real.close();
    assert.is(r.inventory.partial, true);
    assert.equal(
      r.inventory.errors.map((x) => [x.code, x.table]),
      [['discover/table-missing', victim]],
    );
    assert.is(
      r.inventory.tables.find((t) => t.name === 'audit_log')!.column_max.event_time?.value,
      '2025-06-30T17:45:00.000Z',
    );
    const ev = evaluate({
      databases: [dbConfig(e)],
      policies: [monthly, byColumn],
      inventories: new Map([[`live_${e.name}`, r.inventory]]),
      asOf: AS_OF,
    });
    assert.is(ev.databases[0]!.status, 'partial');
    assert.is(ev.databases[0]!.decisions.find((d) => d.table === victim)!.problem?.code, 'discover/table-missing');
    // restore for the tests after this one
    if (e.name === 'postgres')
      await pgAdmin((c) =>
        c.query(
          `CREATE TABLE "${e.S}"."${victim}" (id int, event_time timestamp NOT NULL); ` +
            `INSERT INTO "${e.S}"."${victim}" VALUES (1, '2020-01-01')`,
        ),
      );
    else
      await myAdmin(async (c) => {
        await c.query(`CREATE TABLE \`${e.S}\`.\`${victim}\` (id int, event_time datetime NOT NULL)`);
        await c.query(`INSERT INTO \`${e.S}\`.\`${victim}\` VALUES (1, '2020-01-01')`);
      });
  });

  test(`${e.name}: preview --inventory live between two git revisions`, async () => {
    const name = `live_${e.name}`;
    const yaml = (o: unknown) => JSON.stringify(o, null, 2); // JSON is YAML
    const base = { ...dbConfig(e, name), scope: [dbConfig(e, name).scope[0]!, dbConfig(e, name).scope[2]!] };
    const dir = writeTree({
      'offload.settings.yaml': SETTINGS,
      [`databases/${name}.yaml`]: yaml(base),
      'policies/monthly.yaml': yaml({ ...monthly, archive_after: 'P5Y' }),
      'policies/by-column.yaml': yaml(byColumn),
    });
    try {
      const git = (...a: string[]) => execFileSync('git', ['-C', dir, ...a], { stdio: 'pipe' });
      git('init', '-q');
      git('add', '.');
      git('-c', 'user.name=t', '-c', 'user.email=t@x.example', 'commit', '-qm', 'base');
      // head: monthly archives after 2 years, and the hostile scope is added
      const fs = await import('node:fs');
      fs.writeFileSync(`${dir}/databases/${name}.yaml`, yaml(dbConfig(e, name)));
      fs.writeFileSync(`${dir}/policies/monthly.yaml`, yaml(monthly));
      const r = await preview({ root: dir, base: 'HEAD', inventory: 'live', asOf: AS_OF, credentials: creds(e, name) });
      const changes = r.changes.map((c) => [c.table, c.change, c.action]);
      const hostile = Object.entries({ ...HOSTILE, ...e.extraHostile })
        .filter(([, at]) => at < '2025-11-27')
        .map(([n]) => [n, 'added', 'archive']);
      // txn_202001 (2020-01-31 + 5Y ≤ as-of) and txn_202003 archive at both revisions: unchanged.
      const expected = [['txn_202410', 'added', 'archive'], ...hostile].sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
      assert.equal(changes, expected);
      assert.is(r.complete, false); // txn_202613 names month 13
      assert.ok(
        r.problems.some((p) => p.table === 'txn_202613' && p.code === 'engine/name-bad-date' && p.side === 'head'),
      );
    } finally {
      removeTree(dir);
    }
  });
}

test('mariadb: last modification read for the tables a last_modified policy claims, and aged by it', async () => {
  const e = engines[1]!;
  const touched: PolicyConfig = { name: 'touched', age: { from: 'last_modified' }, archive_after: 'P1D' };
  const database: DatabaseConfig = {
    ...dbConfig(e),
    scope: [{ schema: e.S, include: ['^txn_2020'], policies: ['touched'] }],
  };
  const r = await discoverDatabase({ database, policies: [touched], credentials: creds(e) });
  assert.equal(r.inventory.errors, []);
  assert.is(r.catalogQueries, 3); // + information_schema.TABLES for the claimed tables only
  const lm = Object.fromEntries(r.inventory.tables.map((t) => [t.name, t.last_modified]));
  assert.ok(lm.txn_202001 && lm.txn_202001 > '2026-01-01', String(lm.txn_202001)); // written by the fixture
  assert.is(lm.txn_202411, null); // not claimed: not read
  // the engine ages by it: written today, archive after a day → not yet
  const ev = evaluate({
    databases: [database],
    policies: [touched],
    inventories: new Map([[database.name, r.inventory]]),
    asOf: lm.txn_202001!.slice(0, 10),
  });
  const d = ev.databases[0]!.decisions.find((x) => x.table === 'txn_202001')!;
  assert.equal([d.action, d.age?.from], ['none', 'last_modified']);
});

test('mariadb: without SELECT on mysql.innodb_table_stats, the same inventory from information_schema', async () => {
  const e = engines[1]!;
  const u = `dr_${RUN}_ro`;
  await myAdmin(async (c) => {
    await c.query(`CREATE USER '${u}'@'%' IDENTIFIED BY 'pw-${RUN}'`);
    await c.query(`GRANT SELECT ON \`${e.S}\`.* TO '${u}'@'%'`);
  });
  try {
    const full = await discoverDatabase({
      database: dbConfig(e),
      policies: [monthly, byColumn],
      credentials: creds(e),
    });
    const r = await discoverDatabase({
      database: { ...dbConfig(e), scope: [dbConfig(e).scope[0]!, dbConfig(e).scope[1]!] },
      policies: [monthly, byColumn],
      credentials: {
        env: {
          OFFLOAD_DB_LIVE_MARIADB_USER: u,
          OFFLOAD_DB_LIVE_MARIADB_PASSWORD: `pw-${RUN}`,
          OFFLOAD_DB_LIVE_MARIADB_URL: e.url.replace(/\/[^/]+$/, `/${e.S}`),
        },
        aws: false,
      },
    });
    assert.equal(r.inventory.errors, []);
    assert.is(r.catalogQueries, 4); // the denied statement, columns, every table's statistics, partitions
    const shape = (inv: Inventory) =>
      inv.tables
        .filter((t) => t.schema === e.S)
        .map((t) => [t.name, t.kind, t.partitions, t.primary_key, t.columns.length, t.rows === null ? null : 'n']);
    assert.equal(shape(r.inventory), shape(full.inventory));
  } finally {
    await myAdmin((c) => c.query(`DROP USER IF EXISTS '${u}'@'%'`));
  }
});

test('postgres: a user without read privilege gets a per-table privilege error', async () => {
  const e = engines[0]!;
  const role = `dr_${RUN}_noread`;
  await e.drop();
  await e.setup();
  await pgAdmin((c) =>
    c.query(`CREATE ROLE "${role}" LOGIN PASSWORD 'pw-${RUN}'; GRANT USAGE ON SCHEMA "${e.S}" TO "${role}"`),
  );
  try {
    const r = await discoverDatabase({
      database: { ...dbConfig(e), scope: [dbConfig(e).scope[1]!] },
      policies: [byColumn],
      credentials: {
        env: { OFFLOAD_DB_LIVE_POSTGRES_USER: role, OFFLOAD_DB_LIVE_POSTGRES_PASSWORD: `pw-${RUN}` },
        aws: false,
      },
    });
    assert.is(r.inventory.partial, true);
    const codes = new Set(r.inventory.errors.map((x) => x.code));
    assert.equal([...codes], ['discover/privilege']);
    assert.is(r.inventory.errors.length, Object.keys(HOSTILE).length);
  } finally {
    await e.drop();
    await pgAdmin((c) => c.query(`DROP ROLE IF EXISTS "${role}"`));
  }
});

test.run();
