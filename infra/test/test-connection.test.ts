/**
 * test_connection through its Lambda entry point: the database config from the config table and its
 * secret from Secrets Manager (both on the moto server), the live PostgreSQL and MariaDB of the
 * services script. Each case says which check must pass or fail; the password never appears.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { startMoto, type MotoServer } from '../../tools/test/helpers/moto.js';
import { RUN, myAdmin, myConn, pgAdmin, pgConn } from '../../tools/test/catalog/live-setup.js';
import { handler, type ConnectionReport } from '../lambdas/test-connection.js';

const REGION = 'eu-west-2';
const TABLE = `offload-configs-tc-${RUN}`;
const PG_SCHEMA = `tc_${RUN}`;
const PG_ROLE = `tc_${RUN}_reader`;
const PG_ROLE_PASSWORD = `pw-${RUN}-Secret!`;
const MY_SCHEMA = `tc_${RUN}`;

let moto: MotoServer;
let ddb: DynamoDBDocumentClient;
let sm: SecretsManagerClient;

async function putDatabase(name: string, engine: string, url: string, secret: string, schema: string) {
  await ddb.send(
    new PutCommand({
      TableName: TABLE,
      Item: {
        pk: `DATABASE#${name}`,
        config: {
          name,
          engine,
          jdbc_url: url,
          credentials: { secret },
          scope: [{ schema, include: ['.*'], policies: ['p'] }],
        },
      },
    }),
  );
}
const secret = (name: string, username: string, password: string) =>
  sm.send(new CreateSecretCommand({ Name: name, SecretString: JSON.stringify({ username, password }) }));

test.before(async () => {
  moto = await startMoto({ region: REGION });
  process.env.OFFLOAD_CONFIG_TABLE = TABLE;
  ddb = DynamoDBDocumentClient.from(new DynamoDBClient({ region: REGION }));
  sm = new SecretsManagerClient({ region: REGION });
  await ddb.send(
    new CreateTableCommand({
      TableName: TABLE,
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await pgAdmin(async (c) => {
    await c.query(`CREATE SCHEMA ${PG_SCHEMA}`);
    await c.query(`CREATE TABLE ${PG_SCHEMA}.granted_202001 (id int)`);
    await c.query(`CREATE TABLE ${PG_SCHEMA}.hidden_202001 (id int)`);
    await c.query(`CREATE ROLE ${PG_ROLE} LOGIN PASSWORD '${PG_ROLE_PASSWORD}'`);
    await c.query(`GRANT USAGE ON SCHEMA ${PG_SCHEMA} TO ${PG_ROLE}`);
    await c.query(`GRANT SELECT ON ${PG_SCHEMA}.granted_202001 TO ${PG_ROLE}`);
  });
  await myAdmin(async (c) => {
    await c.query(`CREATE DATABASE \`${MY_SCHEMA}\``);
    await c.query(`CREATE TABLE \`${MY_SCHEMA}\`.a_202001 (id int)`);
    await c.query(`CREATE TABLE \`${MY_SCHEMA}\`.b_202001 (id int)`);
  });
  const pg = pgConn();
  const my = myConn();
  const pgUrl = `jdbc:postgresql://${pg.host}:${pg.port}/${pg.database}`;
  await secret('tc/pg-reader', PG_ROLE, PG_ROLE_PASSWORD);
  await secret('tc/pg-wrong', PG_ROLE, 'not-the-password-XYZ');
  await secret('tc/maria', my.user, my.password);
  await putDatabase('pg_reader', 'postgres', pgUrl, 'tc/pg-reader', PG_SCHEMA);
  await putDatabase('pg_wrong', 'postgres', pgUrl, 'tc/pg-wrong', PG_SCHEMA);
  await putDatabase('pg_nosecret', 'postgres', pgUrl, 'tc/absent', PG_SCHEMA);
  await putDatabase('pg_down', 'postgres', `jdbc:postgresql://127.0.0.1:1/${pg.database}`, 'tc/pg-reader', PG_SCHEMA);
  await putDatabase('maria', 'mariadb', `jdbc:mariadb://${my.host}:${my.port}/${MY_SCHEMA}`, 'tc/maria', MY_SCHEMA);
});

test.after(async () => {
  await pgAdmin(async (c) => {
    await c.query(`DROP SCHEMA IF EXISTS ${PG_SCHEMA} CASCADE`);
    await c.query(`DROP ROLE IF EXISTS ${PG_ROLE}`);
  }).catch(() => undefined);
  await myAdmin((c) => c.query(`DROP DATABASE IF EXISTS \`${MY_SCHEMA}\``)).catch(() => undefined);
  await moto?.stop();
});

const check = (r: ConnectionReport, name: string) => r.checks.find((c) => c.name === name);

const cases: {
  name: string;
  database: unknown;
  ok: boolean;
  expect: Record<string, boolean>;
  detail?: [string, RegExp];
  code?: [string, string];
}[] = [
  {
    name: 'PostgreSQL reader lacking SELECT on one of two tables',
    database: 'pg_reader',
    ok: false,
    expect: { credentials: true, connect: true, read_only: true, catalog: true, select_privilege: false },
    detail: ['select_privilege', /no SELECT on 1 of 2 tables/],
  },
  {
    name: 'wrong password',
    database: 'pg_wrong',
    ok: false,
    expect: { credentials: true, connect: false },
    code: ['connect', 'discover/auth-failed'],
  },
  {
    name: 'secret missing',
    database: 'pg_nosecret',
    ok: false,
    expect: { credentials: false },
    detail: ['credentials', /tc\/absent/],
  },
  {
    name: 'server unreachable',
    database: 'pg_down',
    ok: false,
    expect: { credentials: true, connect: false },
    code: ['connect', 'discover/unreachable'],
  },
  {
    name: 'MariaDB: read-only session, catalog readable',
    database: 'maria',
    ok: true,
    expect: { credentials: true, connect: true, read_only: true, catalog: true },
    detail: ['catalog', /^2 tables/],
  },
  { name: 'unknown database', database: 'nope', ok: false, expect: { config: false }, detail: ['config', /nope/] },
  {
    name: 'no database named',
    database: undefined,
    ok: false,
    expect: { config: false },
    detail: ['config', /required/],
  },
];

for (const c of cases)
  test(`test_connection: ${c.name}`, async () => {
    const r = await handler({ database: c.database });
    assert.is(r.ok, c.ok, JSON.stringify(r));
    for (const [name, ok] of Object.entries(c.expect))
      assert.is(check(r, name)?.ok, ok, `${name}: ${JSON.stringify(r)}`);
    if (c.detail) assert.match(check(r, c.detail[0])!.detail, c.detail[1]);
    if (c.code) assert.is(check(r, c.code[0])!.code, c.code[1]);
    const text = JSON.stringify(r);
    for (const pw of [PG_ROLE_PASSWORD, 'not-the-password-XYZ', myConn().password])
      assert.not.ok(text.includes(pw), 'the result never carries a password');
  });

test('test_connection: once SELECT is granted on every table, every check passes', async () => {
  await pgAdmin((c) => c.query(`GRANT SELECT ON ${PG_SCHEMA}.hidden_202001 TO ${PG_ROLE}`));
  const r = await handler({ database: 'pg_reader' });
  assert.is(r.ok, true, JSON.stringify(r));
  assert.match(check(r, 'catalog')!.detail, /^2 tables/);
  assert.match(check(r, 'select_privilege')!.detail, /every table/);
});

test.run();
