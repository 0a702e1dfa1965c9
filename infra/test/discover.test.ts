/**
 * discover through its Lambda core: the synced configs read from S3 (moto), the secret from Secrets
 * Manager (moto), the live PostgreSQL catalog; the inventory snapshot written back to S3 and the
 * eligible tables returned. Expectations come from the fixture: month-named tables older than the
 * policy's two years are archived, the rest are not.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { startMoto, type MotoServer } from '../../tools/test/helpers/moto.js';
import { RUN, pgAdmin, pgConn } from '../../tools/test/catalog/live-setup.js';
import { isWorkUnit, workUnitProblems } from '../../tools/src/core/index.js';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDynamoLedger, createLedgerTable } from '../../tools/src/ledger/dynamodb.js';
import { discover, tableConfigs } from '../lambdas/discover.js';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { publishConfigs } from '../../tools/test/helpers/config-table.js';

const REGION = 'eu-west-2';
const BUCKET = `offload-configs-dl-${RUN}`;
const SCHEMA = `dl_${RUN}`;
const AS_OF = '2026-11-27';
const TABLE = `acme-configs-dl-${RUN}`;
const CONFIG = { bucket: BUCKET, prefix: 'configs', configTable: TABLE };

let moto: MotoServer;
let s3: S3Client;

const files = (): Record<string, string> => {
  const pg = pgConn();
  return {
    'offload.settings.yaml': `resource_prefix: acme
region: ${REGION}
config:
  bucket: ${BUCKET}
  prefix: configs
  dynamodb_table: acme-configs
archive:
  bucket: acme-vault
  prefix: iceberg
dags:
  archival: acme_archival
  purge: acme_purge
glue_jobs:
  archive: acme-archive
  validate: acme-validate
  purge: acme-purge
lambdas:
  discover: acme_discover
  presigned_urls: acme_presigned
  test_connection: acme_test_conn
  validation_report: acme_report
  s3_trigger: acme_s3_trigger
`,
    'databases/pgdb.yaml': `name: pgdb
engine: postgres
jdbc_url: jdbc:postgresql://${pg.host}:${pg.port}/${pg.database}
credentials:
  secret: dl/pgdb
owner:
  team: data
  contact: data@example.com
scope:
  - schema: ${SCHEMA}
    include: ["^txn_"]
    policies: [monthly]
`,
    'policies/monthly.yaml': `name: monthly
age:
  from: table_name
  pattern: "*_YYYYMM"
archive_after: P2Y
`,
  };
};

test.before(async () => {
  moto = await startMoto({ region: REGION });
  s3 = new S3Client({ region: REGION, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: REGION } }));
  // What `offload sync` publishes: the validated configs in the config table, the manifest (written last) in S3.
  await publishConfigs(TABLE, files(), REGION);
  // The sync manifest: its commit stamps the work units, its ETag keys a warm Lambda's configs.
  await s3.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: 'configs/_offload/manifest.json',
      Body: JSON.stringify({ format: 1, generation: 3, commit: 'abc1234def' }),
    }),
  );
  const pg = pgConn();
  await new SecretsManagerClient({ region: REGION }).send(
    new CreateSecretCommand({
      Name: 'dl/pgdb',
      SecretString: JSON.stringify({ username: pg.user, password: pg.password }),
    }),
  );
  await pgAdmin(async (c) => {
    await c.query(`CREATE SCHEMA ${SCHEMA}`);
    for (const t of ['txn_202001', 'txn_202410', 'txn_202611', 'other_202001'])
      await c.query(`CREATE TABLE ${SCHEMA}.${t} (id int PRIMARY KEY)`);
    await c.query(`INSERT INTO ${SCHEMA}.txn_202001 SELECT generate_series(1, 50)`);
  });
});

test.after(async () => {
  await pgAdmin((c) => c.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`)).catch(() => undefined);
  await moto?.stop();
});

test('reads the configs from S3, discovers live, writes the inventory, returns the eligible tables', async () => {
  const out = await discover({ as_of: AS_OF, run_id: 'run-7' }, CONFIG, s3);
  // txn_202001 (ends 2020-01-31) and txn_202410 (ends 2024-10-31) are more than two years before
  // 2026-11-27; txn_202611 is not; other_202001 is not claimed by the scope.
  assert.equal(out.eligible.map((e) => `${e.schema}.${e.table}:${e.action}:${e.policy}`).sort(), [
    `${SCHEMA}.txn_202001:archive:monthly`,
    `${SCHEMA}.txn_202410:archive:monthly`,
  ]);
  assert.equal(out.databases.length, 1);
  assert.is(out.databases[0]!.partial, false);
  assert.is(out.databases[0]!.inventory, `s3://${BUCKET}/pipeline/inventory/pgdb.json`);
  const inv = JSON.parse(
    await (
      await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'pipeline/inventory/pgdb.json' }))
    ).Body!.transformToString(),
  ) as { database: string; tables: { schema: string; name: string }[] };
  assert.is(inv.database, 'pgdb');
  // The snapshot lists every table of the scoped schema (the scope's patterns are applied by the engine).
  const ours = inv.tables.filter((t) => t.schema === SCHEMA).map((t) => t.name);
  assert.equal(ours.sort(), ['other_202001', 'txn_202001', 'txn_202410', 'txn_202611']);
  // Work units: archive then validate for each eligible table, valid against their schema.
  assert.equal(out.problems, []);
  assert.is(out.work_units.length, 4);
  // Written a few at a time, listed in the engine's order (the key's index prefix).
  assert.equal(
    out.work_units.map((u) => u.split('/').at(-1)!.slice(0, 5)),
    ['00000', '00001', '00002', '00003'],
  );
  const units = [];
  for (const uri of out.work_units) {
    const key = uri.replace(`s3://${BUCKET}/`, '');
    assert.match(key, /^pipeline\/work-units\/run-7\//);
    const unit = JSON.parse(
      await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToString(),
    ) as Record<string, unknown> & { source: { table: string }; action: string };
    assert.ok(isWorkUnit(unit), workUnitProblems(unit).join('; '));
    units.push(unit);
  }
  assert.equal(units.map((u) => `${u.source.table}:${u.action}`).sort(), [
    'txn_202001:archive',
    'txn_202001:validate',
    'txn_202410:archive',
    'txn_202410:validate',
  ]);
  assert.match(JSON.stringify(units[0]), 'abc1234def');
  assert.match(JSON.stringify(units[0]), 'run-7');
});

test('an unknown database is refused by name; a config table without settings is refused by name', async () => {
  try {
    await discover({ databases: ['nope'] }, CONFIG, s3);
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /no synced database named nope/);
  }
  await new DynamoDBClient({ region: REGION }).send(
    new CreateTableCommand({
      TableName: `${TABLE}-none`,
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  try {
    await discover({}, { ...CONFIG, configTable: `${TABLE}-none` }, s3);
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, `the config table ${TABLE}-none has no SETTINGS item: run offload sync`);
  }
});

test('with the run ledger: a validated table is not planned again, an archived one only validated', async () => {
  const table = `acme-configs-ledger-${RUN}`;
  await createLedgerTable(table, new DynamoDBClient({ region: REGION }));
  const ledger = createDynamoLedger({ table, region: REGION });
  const ref = (t: string) => ({ database: 'pgdb', schema: SCHEMA, table: t });
  const archive = { namespace: 'archive_pgdb', table: 'x' };
  for (const t of ['txn_202001', 'txn_202410']) {
    await ledger.transition(ref(t), { expect: null, to: 'archiving', runId: 'r0', archive });
    await ledger.transition(ref(t), { expect: 'archiving', to: 'archived', runId: 'r0', snapshotId: '1', rows: 50 });
  }
  await ledger.transition(ref('txn_202001'), {
    expect: 'archived',
    to: 'validated',
    runId: 'r0',
    validation: { status: 'passed', snapshot_id: '1' },
  });
  ledger.close();
  const out = await discover({ as_of: AS_OF, run_id: 'run-8' }, { ...CONFIG, ledgerTable: table }, s3);
  const actions = out.work_units.map((u) => u.replace(/^.*\/\d+-/, ''));
  // txn_202001 is validated (nothing to do before its purge); txn_202410 archived: validate only.
  assert.equal(actions, ['validate.json']);
  // Neither is eligible for a new archive any more: the engine sees both archived.
  assert.equal(out.eligible, []);
});

test('a warm Lambda reuses the configs while the sync manifest is unchanged, and reloads on a new one', async () => {
  const table = `${TABLE}-reuse`;
  const manifest = (generation: number) =>
    s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'reuse/_offload/manifest.json',
        Body: JSON.stringify({ format: 1, generation, commit: 'abc1234def' }),
      }),
    );
  await publishConfigs(table, files(), REGION);
  await manifest(3);
  const config = {
    bucket: BUCKET,
    prefix: 'reuse',
    configTable: table,
    reuseConfigs: true,
    inventoryPrefix: 'reuse-inv',
  };
  const eligible = async (c: typeof config = config) =>
    (await discover({ as_of: AS_OF, databases: ['pgdb'] }, c, s3)).eligible.map((e) => e.table).sort();
  assert.equal(await eligible(), ['txn_202001', 'txn_202410']);
  // A policy changed in the table behind the manifest's back (no sync does that): the loaded configs still serve.
  const policy = files()['policies/monthly.yaml']!;
  const later = { ...files(), 'policies/monthly.yaml': policy.replace('archive_after: P2Y', 'archive_after: P100Y') };
  await publishConfigs(table, later, REGION);
  assert.equal(await eligible(), ['txn_202001', 'txn_202410']);
  // A sync writes its manifest last: the next invocation reads the new configs.
  await manifest(4);
  assert.equal(await eligible(), []);
  // Without reuseConfigs every invocation reads the table (the change back is seen at once).
  await publishConfigs(table, files(), REGION);
  assert.equal(await eligible({ ...config, reuseConfigs: false }), ['txn_202001', 'txn_202410']);
});

test('the configs come back from the config table in file order, whatever order the Scan returns', async () => {
  const table = `acme-configs-order-${RUN}`;
  const names = ['zulu', 'alpha', 'mike', 'bravo'];
  const extra = Object.fromEntries(
    names.map((n, i) => [
      `policies/${n}.yaml`,
      `name: ${n}\nage:\n  from: table_name\n  pattern: "*_YYYYMM"\narchive_after: P${i + 2}Y\n`,
    ]),
  );
  await publishConfigs(table, { ...files(), ...extra }, REGION);
  const ddb = new DynamoDBClient({ region: REGION });
  const doc = DynamoDBDocumentClient.from(ddb);
  // DynamoDB scans in hash order; moto returns keys sorted, which is file order already. The items the sync
  // wrote are handed back reversed, in two pages, as a real table may.
  const items = ((await doc.send(new ScanCommand({ TableName: table }))).Items ?? []).reverse();
  ddb.destroy();
  const pages = [items.slice(0, 3), items.slice(3)];
  const scanned = {
    send: async () => {
      const Items = pages.shift()!;
      return { Items, ...(pages.length ? { LastEvaluatedKey: { pk: 'next' } } : {}) };
    },
  } as unknown as DynamoDBDocumentClient;
  const got = await tableConfigs(scanned, table);
  assert.equal(
    got.policies.map((p) => p.name),
    ['alpha', 'bravo', 'mike', 'monthly', 'zulu'],
  );
});

test.run();
