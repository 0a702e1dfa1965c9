/**
 * Discovery benchmark: a PostgreSQL and a MariaDB database (bench-only, `offload_bench_discover`)
 * each holding 10,000 generated tables (created by the run and dropped after it, since the servers
 * are shared with other suites; BENCH_KEEP_DB=1 keeps them for the next run). Reports the catalog
 * queries issued (counted at the port; target ≤ 3) and wall time (target < 3 s), then the same with
 * 100 column-aged tables whose max(column) is measured in batches, and (MariaDB) by a user without
 * SELECT on mysql.innodb_table_stats, where every table must be opened. Baseline, same run: the cheapest
 * catalog read there is — counting the schema's tables in one query.
 *   npx tsx tools/bench/discover.bench.ts
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import mysql from 'mysql2/promise';
import { discoverDatabase } from '../src/catalog/discover.js';
import { openSession } from '../src/catalog/connect.js';
import type { DatabaseConfig } from '../src/generated/database.js';
import type { PolicyConfig } from '../src/generated/policy.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TABLES = Number(process.env.BENCH_TABLES ?? 10_000);
const DB = 'offload_bench_discover';
const SCHEMA = 'bench';
const RUNS = 3;

if (!process.env.OFFLOAD_TEST_PG_HOST) {
  execFileSync('bash', [path.join(ROOT, 'scripts/services.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
  const envFile = path.join(ROOT, 'scripts/services.env');
  if (existsSync(envFile))
    for (const m of readFileSync(envFile, 'utf8').matchAll(/^export (\w+)=(.*)$/gm)) process.env[m[1]!] = m[2]!;
}
const env = (k: string) =>
  process.env[k] ??
  (() => {
    throw new Error(`${k} unset: run scripts/services.sh`);
  })();
const user = env('OFFLOAD_TEST_USER'),
  password = env('OFFLOAD_TEST_PASSWORD');
const pgHost = env('OFFLOAD_TEST_PG_HOST'),
  pgPort = Number(env('OFFLOAD_TEST_PG_PORT'));
const myHost = env('OFFLOAD_TEST_MYSQL_HOST'),
  myPort = Number(env('OFFLOAD_TEST_MYSQL_PORT'));
const tableName = (i: number) =>
  `txn_${String(i).padStart(5, '0')}_${2015 + (i % 12)}${String(1 + (i % 12)).padStart(2, '0')}`;

async function preparePg(): Promise<void> {
  const admin = new pg.Client({ host: pgHost, port: pgPort, user, password, database: env('OFFLOAD_TEST_DB') });
  await admin.connect();
  const exists = (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DB])).rowCount;
  if (!exists) await admin.query(`CREATE DATABASE ${DB}`);
  await admin.end();
  const c = new pg.Client({ host: pgHost, port: pgPort, user, password, database: DB });
  await c.connect();
  await c.query(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA}`);
  const have = Number(
    (
      await c.query(
        'SELECT count(*) AS n FROM pg_class k JOIN pg_namespace n ON n.oid = k.relnamespace ' +
          "WHERE n.nspname = $1 AND k.relkind = 'r'",
        [SCHEMA],
      )
    ).rows[0].n,
  );
  if (have !== TABLES) {
    process.stderr.write(`postgres: creating ${TABLES} tables in ${DB}.${SCHEMA} (once)…\n`);
    await c.query(`DROP SCHEMA ${SCHEMA} CASCADE; CREATE SCHEMA ${SCHEMA}`);
    for (let i = 0; i < TABLES; i += 500) {
      const stmts = [];
      for (let j = i; j < Math.min(TABLES, i + 500); j++)
        stmts.push(
          `CREATE TABLE ${SCHEMA}.${tableName(j)} ` +
            '(id bigint PRIMARY KEY, amount numeric(12,2), event_time timestamptz); ' +
            `INSERT INTO ${SCHEMA}.${tableName(j)} VALUES (1, 1.5, '2020-01-01T00:00:00Z')`,
        );
      await c.query(`BEGIN; ${stmts.join('; ')}; COMMIT`);
    }
    await c.query('ANALYZE');
  }
  await c.end();
}

async function prepareMy(): Promise<void> {
  const admin = await mysql.createConnection({ host: myHost, port: myPort, user, password });
  await admin.query(`CREATE DATABASE IF NOT EXISTS ${DB}`);
  const [rows] = await admin.query(
    `SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE'`,
    [DB],
  );
  await admin.end();
  if (Number((rows as { n: number }[])[0]!.n) === TABLES) return;
  process.stderr.write(`mariadb: creating ${TABLES} tables in ${DB} (once; a few minutes)…\n`);
  const conns = await Promise.all(
    Array.from({ length: 8 }, () =>
      mysql.createConnection({ host: myHost, port: myPort, user, password, database: DB, multipleStatements: true }),
    ),
  );
  await conns[0]!.query(`DROP DATABASE ${DB}; CREATE DATABASE ${DB}; USE ${DB}`);
  for (const c of conns) await c.query(`USE ${DB}`);
  let next = 0;
  await Promise.all(
    conns.map(async (c) => {
      for (;;) {
        const i = next;
        next += 50;
        if (i >= TABLES) return;
        const stmts = [];
        for (let j = i; j < Math.min(TABLES, i + 50); j++)
          stmts.push(
            `CREATE TABLE ${tableName(j)} (id bigint PRIMARY KEY, amount decimal(12,2), event_time datetime); ` +
              `INSERT INTO ${tableName(j)} VALUES (1, 1.5, '2020-01-01 00:00:00')`,
          );
        await c.query(stmts.join('; '));
      }
    }),
  );
  await Promise.all(conns.map((c) => c.end()));
}

const monthly: PolicyConfig = {
  name: 'monthly',
  age: { from: 'table_name', pattern: '*_YYYYMM' },
  archive_after: 'P2Y',
  priority: 10,
};
const byColumn: PolicyConfig = {
  name: 'by-column',
  age: { from: 'column', column: 'event_time' },
  archive_after: 'P1Y',
  priority: 5,
};

async function bench(engine: 'postgres' | 'mariadb'): Promise<void> {
  const schema = engine === 'postgres' ? SCHEMA : DB;
  const url =
    engine === 'postgres' ? `jdbc:postgresql://${pgHost}:${pgPort}/${DB}` : `jdbc:mariadb://${myHost}:${myPort}/${DB}`;
  const base: DatabaseConfig = {
    name: 'bench',
    engine,
    jdbc_url: url,
    credentials: { secret: 'bench' },
    owner: { team: 't', contact: 't@x.example' },
    scope: [{ schema, include: ['^txn_'], policies: ['monthly'] }],
  };
  const measured: DatabaseConfig = {
    ...base,
    scope: [
      { schema, include: ['^txn_000[0-9]{2}_'], policies: ['by-column'] },
      { schema, include: ['^txn_'], exclude: ['^txn_000[0-9]{2}_'], policies: ['monthly'] },
    ],
  };
  const credentials = { env: { OFFLOAD_DB_BENCH_USER: user, OFFLOAD_DB_BENCH_PASSWORD: password }, aws: false };
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  // Baseline: one session, the cheapest catalog read (how many tables the schema holds).
  const session = await openSession({
    engine,
    target: {
      host: engine === 'postgres' ? pgHost : myHost,
      port: engine === 'postgres' ? pgPort : myPort,
      database: DB,
      params: {},
    },
    user,
    password,
  });
  const countSql =
    engine === 'postgres'
      ? 'SELECT count(*) AS n FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace ' +
        "WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')"
      : "SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE'";
  const baseline: number[] = [];
  for (let k = 0; k < RUNS; k++) {
    const t = performance.now();
    await session.query(countSql, [schema]);
    baseline.push(performance.now() - t);
  }
  await session.close();
  const runs: [string, DatabaseConfig, PolicyConfig[], typeof credentials][] = [
    ['catalog only', base, [monthly], credentials],
    ['+ 100 max(column)', measured, [monthly, byColumn], credentials],
  ];
  if (engine === 'mariadb') {
    // The same discovery by a user without SELECT on mysql.innodb_table_stats: every table opened.
    const admin = await mysql.createConnection({ host: myHost, port: myPort, user, password });
    await admin.query(`CREATE USER IF NOT EXISTS 'offload_bench_ro'@'%' IDENTIFIED BY 'bench-only'`);
    await admin.query(`GRANT SELECT ON ${DB}.* TO 'offload_bench_ro'@'%'`);
    await admin.end();
    runs.push([
      'catalog only, without the innodb_table_stats grant',
      base,
      [monthly],
      { env: { OFFLOAD_DB_BENCH_USER: 'offload_bench_ro', OFFLOAD_DB_BENCH_PASSWORD: 'bench-only' }, aws: false },
    ]);
  }
  for (const [label, database, policies, creds] of runs) {
    const times: number[] = [];
    let last;
    for (let k = 0; k < RUNS; k++) {
      const t = performance.now();
      last = await discoverDatabase({ database, policies: [...policies], credentials: creds });
      times.push(performance.now() - t);
    }
    const inv = last!.inventory;
    if (inv.partial) throw new Error(`${engine}: discovery failed: ${JSON.stringify(inv.errors)}`);
    const m = median(times);
    console.log(
      `${engine} ${label}: ${inv.tables.length.toLocaleString('en-US')} tables, ` +
        `${last!.catalogQueries} catalog queries (target ≤ 3)` +
        `${last!.measureQueries ? `, ${last!.measureQueries} max(column) batches` : ''}, ` +
        `${m.toFixed(0)} ms median of ${RUNS} incl. connecting (target < 3000 ms) ` +
        `${last!.catalogQueries <= 3 && m < 3000 ? 'OK' : 'MISSED'}; ` +
        `vs one-query table count ${median(baseline).toFixed(0)} ms: ${(m / median(baseline)).toFixed(1)}×`,
    );
  }
}

async function dropAll(): Promise<void> {
  const p = new pg.Client({ host: pgHost, port: pgPort, user, password, database: env('OFFLOAD_TEST_DB') });
  await p.connect();
  await p.query(`DROP DATABASE IF EXISTS ${DB}`);
  await p.end();
  const m = await mysql.createConnection({ host: myHost, port: myPort, user, password });
  await m.query(`DROP DATABASE IF EXISTS ${DB}`);
  await m.query(`DROP USER IF EXISTS 'offload_bench_ro'@'%'`);
  await m.end();
}

try {
  await preparePg();
  await bench('postgres');
  await prepareMy();
  await bench('mariadb');
} finally {
  if (!process.env.BENCH_KEEP_DB) await dropAll();
}
