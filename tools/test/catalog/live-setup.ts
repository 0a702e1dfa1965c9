/**
 * Live fixtures on the services script's PostgreSQL and MariaDB: a uniquely named schema per run
 * holding month-named tables (with and without primary keys), a partitioned table, a view that looks
 * like a month table, tables aged by a timestamp column, and hostile names. Dropped afterwards.
 */
import pg from 'pg';
import mysql from 'mysql2/promise';

export const env = (k: string) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set: run scripts/services.sh and source scripts/services.env`);
  return v;
};
export const RUN = `${process.pid.toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;

export const pgConn = () => ({
  host: env('OFFLOAD_TEST_PG_HOST'),
  port: Number(env('OFFLOAD_TEST_PG_PORT')),
  user: env('OFFLOAD_TEST_USER'),
  password: env('OFFLOAD_TEST_PASSWORD'),
  database: env('OFFLOAD_TEST_DB'),
});
export const myConn = () => ({
  host: env('OFFLOAD_TEST_MYSQL_HOST'),
  port: Number(env('OFFLOAD_TEST_MYSQL_PORT')),
  user: env('OFFLOAD_TEST_USER'),
  password: env('OFFLOAD_TEST_PASSWORD'),
  database: env('OFFLOAD_TEST_DB'),
});

/** Hostile names claimed by the `^h` scope, with their newest event (old → archive, recent → none). */
export const HOSTILE: Record<string, string> = {
  'h"; DROP TABLE txn_202001; --': '2020-01-01 00:00:00',
  'h.dot': '2026-11-01 00:00:00',
  'h space': '2020-01-01 00:00:00',
  hümlaut_ß: '2020-01-01 00:00:00',
  "h'quote": '2026-11-01 00:00:00',
};
/** Not claimed (patterns are case-sensitive). */
export const MIXED = 'H_Mixed';

export async function pgAdmin<T = unknown>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client(pgConn());
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

const qp = (s: string) => `"${s.replace(/"/g, '""')}"`;
const qm = (s: string) => `\`${s.replace(/`/g, '``')}\``;

export async function setupPg(schema: string, auditSchema: string): Promise<void> {
  const S = qp(schema),
    A = qp(auditSchema);
  const sql = [
    `CREATE SCHEMA ${S}`,
    `CREATE SCHEMA ${A}`,
    `CREATE TABLE ${S}.txn_202001 (id bigint PRIMARY KEY, amount numeric(12,2) NOT NULL, booked_at timestamptz)`,
    `INSERT INTO ${S}.txn_202001 SELECT g, g * 1.5, '2020-01-15' FROM generate_series(1, 500) g`,
    `CREATE TABLE ${S}.txn_202410 (id bigint, note varchar(40))`,
    `CREATE TABLE ${S}.txn_202411 (id bigint PRIMARY KEY)`,
    `CREATE TABLE ${S}.txn_202611 (id bigint PRIMARY KEY)`,
    `CREATE TABLE ${S}.txn_202613 (id bigint PRIMARY KEY)`,
    `CREATE TABLE ${S}.txn_current (id bigint PRIMARY KEY)`,
    `CREATE VIEW ${S}.txn_209901 AS SELECT * FROM ${S}.txn_202001`,
    `CREATE TABLE ${S}.txn_202003 (id bigint, d date NOT NULL, PRIMARY KEY (id, d)) PARTITION BY RANGE (d)`,
    `CREATE TABLE ${S}.txn_202003_p1 PARTITION OF ${S}.txn_202003 FOR VALUES FROM ('2020-03-01') TO ('2020-03-16')`,
    `CREATE TABLE ${S}.txn_202003_p2 PARTITION OF ${S}.txn_202003 FOR VALUES FROM ('2020-03-16') TO ('2020-04-01')`,
    `INSERT INTO ${S}.txn_202003 SELECT g, DATE '2020-03-01' + (g % 31) FROM generate_series(1, 300) g`,
    `CREATE TABLE ${S}.ledger (id bigint, d date NOT NULL) PARTITION BY RANGE (d)`,
    `CREATE TABLE ${S}.txn_202101 PARTITION OF ${S}.ledger FOR VALUES FROM ('2021-01-01') TO ('2021-02-01')`,
    ...Object.entries(HOSTILE).flatMap(([n, at]) => [
      `CREATE TABLE ${S}.${qp(n)} (id int, event_time timestamp NOT NULL)`,
      `INSERT INTO ${S}.${qp(n)} VALUES (1, '${at}')`,
    ]),
    `CREATE TABLE ${S}.${qp(MIXED)} (id int, event_time timestamp)`,
    `CREATE TABLE ${A}.audit_log (actor text, event_time timestamptz NOT NULL)`,
    `INSERT INTO ${A}.audit_log VALUES ('a', '2025-06-30 17:45:00+00'), ('b', '2024-01-01 00:00:00+00')`,
    `CREATE TABLE ${A}.login_audit (id bigint PRIMARY KEY, event_time timestamp NOT NULL)`,
    `INSERT INTO ${A}.login_audit VALUES (1, '2026-11-01 08:00:00')`,
    `CREATE TABLE ${A}.empty_log (id bigint PRIMARY KEY, event_time timestamptz)`,
    `CREATE SEQUENCE ${S}.seq`,
    `ANALYZE`,
  ];
  await pgAdmin(async (c) => {
    for (const s of sql) await c.query(s);
  });
}

export async function dropPg(...schemas: string[]): Promise<void> {
  await pgAdmin(async (c) => {
    for (const s of schemas) await c.query(`DROP SCHEMA IF EXISTS ${qp(s)} CASCADE`);
  });
}

export async function myAdmin<T = unknown>(fn: (c: mysql.Connection) => Promise<T>): Promise<T> {
  const c = await mysql.createConnection({ ...myConn(), charset: 'utf8mb4', multipleStatements: false });
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export async function setupMy(schema: string, auditSchema: string): Promise<void> {
  const S = qm(schema),
    A = qm(auditSchema);
  const sql = [
    `CREATE DATABASE ${S} CHARACTER SET utf8mb4`,
    `CREATE DATABASE ${A} CHARACTER SET utf8mb4`,
    `CREATE TABLE ${S}.txn_202001 (id bigint PRIMARY KEY, amount decimal(12,2) NOT NULL, booked_at datetime(3))`,
    `INSERT INTO ${S}.txn_202001 VALUES (1, 1.5, '2020-01-15'), (2, 3.0, '2020-01-16')`,
    `CREATE TABLE ${S}.txn_202410 (id bigint, note varchar(40))`,
    `CREATE TABLE ${S}.txn_202411 (id bigint PRIMARY KEY)`,
    `CREATE TABLE ${S}.txn_202611 (id bigint PRIMARY KEY)`,
    `CREATE TABLE ${S}.txn_202613 (id bigint PRIMARY KEY)`,
    `CREATE TABLE ${S}.txn_current (id bigint PRIMARY KEY)`,
    `CREATE VIEW ${S}.txn_209901 AS SELECT * FROM ${S}.txn_202001`,
    `CREATE TABLE ${S}.txn_202003 (id bigint, d date NOT NULL, PRIMARY KEY (id, d)) PARTITION BY RANGE COLUMNS (d) ` +
      "(PARTITION p1 VALUES LESS THAN ('2020-03-16'), PARTITION p2 VALUES LESS THAN (MAXVALUE))",
    `INSERT INTO ${S}.txn_202003 VALUES (1, '2020-03-01'), (2, '2020-03-20')`,
    ...Object.entries({ ...HOSTILE, 'h`tick': '2020-01-01 00:00:00' }).flatMap(([n, at]) => [
      `CREATE TABLE ${S}.${qm(n)} (id int, event_time datetime NOT NULL)`,
      `INSERT INTO ${S}.${qm(n)} VALUES (1, '${at}')`,
    ]),
    `CREATE TABLE ${S}.${qm(MIXED)} (id int, event_time datetime)`,
    `CREATE TABLE ${A}.audit_log (actor text, event_time timestamp(3) NOT NULL)`,
    `INSERT INTO ${A}.audit_log VALUES ('a', '2025-06-30 17:45:00'), ('b', '2024-01-01 00:00:00')`,
    `CREATE TABLE ${A}.login_audit (id bigint PRIMARY KEY, event_time datetime NOT NULL)`,
    `INSERT INTO ${A}.login_audit VALUES (1, '2026-11-01 08:00:00')`,
    `CREATE TABLE ${A}.empty_log (id bigint PRIMARY KEY, event_time datetime)`,
    `CREATE FUNCTION ${S}.writes() RETURNS int MODIFIES SQL DATA ` +
      `BEGIN INSERT INTO ${S}.txn_202411 VALUES (99); RETURN 1; END`,
  ];
  await myAdmin(async (c) => {
    await c.query(`SET time_zone = '+00:00'`);
    for (const s of sql) await c.query(s);
    await c.query(`ANALYZE TABLE ${S}.txn_202001, ${A}.audit_log`);
  });
}

export async function dropMy(...schemas: string[]): Promise<void> {
  await myAdmin(async (c) => {
    for (const s of schemas) await c.query(`DROP DATABASE IF EXISTS ${qm(s)}`);
  });
}
