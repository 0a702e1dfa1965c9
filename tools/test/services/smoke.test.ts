/** The services script's servers answer on loopback with the test credentials. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import pg from 'pg';
import mysql from 'mysql2/promise';

const env = (k: string) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set: run scripts/services.sh and source scripts/services.env`);
  return v;
};

test('PostgreSQL answers on loopback', async () => {
  const c = new pg.Client({
    host: env('OFFLOAD_TEST_PG_HOST'),
    port: Number(env('OFFLOAD_TEST_PG_PORT')),
    user: env('OFFLOAD_TEST_USER'),
    password: env('OFFLOAD_TEST_PASSWORD'),
    database: env('OFFLOAD_TEST_DB'),
  });
  await c.connect();
  try {
    const r = await c.query('select version() as v, inet_server_addr()::text as addr');
    assert.match(r.rows[0].v, /^PostgreSQL \d+/);
    assert.match(r.rows[0].addr, /^127\./);
  } finally {
    await c.end();
  }
});

test('MariaDB answers on loopback', async () => {
  const c = await mysql.createConnection({
    host: env('OFFLOAD_TEST_MYSQL_HOST'),
    port: Number(env('OFFLOAD_TEST_MYSQL_PORT')),
    user: env('OFFLOAD_TEST_USER'),
    password: env('OFFLOAD_TEST_PASSWORD'),
    database: env('OFFLOAD_TEST_DB'),
  });
  try {
    const [rows] = await c.query('select version() as v, @@bind_address as bind');
    const row = (rows as { v: string; bind: string }[])[0]!;
    assert.match(row.v, /MariaDB/);
    assert.is(row.bind, '127.0.0.1');
  } finally {
    await c.end();
  }
});

test.run();
