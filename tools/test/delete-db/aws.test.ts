/**
 * delete-archive-database against moto (S3 with Object Lock and versions, Glue, Lake Formation,
 * DynamoDB): Iceberg tables registered in Glue as Iceberg's GlueCatalog registers them, their files in
 * a versioned Object Lock bucket. The account is set up and read back with plain SDK calls, never
 * through the code under test.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  CreateDatabaseCommand,
  CreateTableCommand,
  GetDatabaseCommand,
  GetTablesCommand,
  GlueClient,
} from '@aws-sdk/client-glue';
import { GrantPermissionsCommand, LakeFormationClient, ListPermissionsCommand } from '@aws-sdk/client-lakeformation';
import {
  CreateBucketCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectRetentionCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { writeTree } from '../helpers/fixtures.js';
import { baseRepo } from '../helpers/repo.js';
import { startMoto, type MotoServer } from '../helpers/moto.js';
import { deleteArchiveDatabase } from '../../src/delete-db/delete-db.js';
import { UserError } from '../../src/errors.js';
import { openDeleteTargets } from '../../src/delete-db/targets.js';
import { createDynamoLedger, createLedgerTable } from '../../src/ledger/dynamodb.js';

const REGION = 'eu-west-1';
const VAULT = 'acme-archive-vault';
const CONFIGS = 'acme-archival-configs';
const LEDGER = 'acme-archival-configs-ledger'; // <settings config.dynamodb_table>-ledger, written out by hand
const DB = 'archive_db1';
const READER = 'arn:aws:iam::123456789012:role/reader';
const PAST = '2020-01-01';

let moto: MotoServer;
let s3: S3Client;
let glue: GlueClient;
let lf: LakeFormationClient;

test.before(async () => {
  moto = await startMoto({ region: REGION });
  s3 = new S3Client({ region: REGION, forcePathStyle: true });
  glue = new GlueClient({ region: REGION });
  lf = new LakeFormationClient({ region: REGION });
});
test.before.each(() => moto.reset());
test.after(async () => {
  s3?.destroy();
  glue?.destroy();
  lf?.destroy();
  await moto?.stop();
});

const loc = (db: string, t: string) => `iceberg/${db}/${t}`;

/** One Iceberg table: metadata JSON + two data files (one written twice: two versions), registered in Glue. */
const written = new Map<string, number>();
async function icebergTable(db: string, name: string, props: Record<string, string>) {
  const base = loc(db, name);
  const metadata = `${base}/metadata/00001-0a1b.metadata.json`;
  const body = JSON.stringify({ 'format-version': 2, location: `s3://${VAULT}/${base}`, properties: props });
  written.set(`${db}.${name}`, body.length + 3 * 3); // the metadata and three 3-byte data versions
  await s3.send(new PutObjectCommand({ Bucket: VAULT, Key: metadata, Body: body }));
  for (const body of ['one', 'two'])
    await s3.send(new PutObjectCommand({ Bucket: VAULT, Key: `${base}/data/part-0.parquet`, Body: body }));
  await s3.send(new PutObjectCommand({ Bucket: VAULT, Key: `${base}/data/part-1.parquet`, Body: 'xyz' }));
  await glue.send(
    new CreateTableCommand({
      DatabaseName: db,
      TableInput: {
        Name: name,
        TableType: 'EXTERNAL_TABLE',
        Parameters: { table_type: 'ICEBERG', metadata_location: `s3://${VAULT}/${metadata}` },
        StorageDescriptor: { Location: `s3://${VAULT}/${base}` },
      },
    }),
  );
}

async function setup(tables: Record<string, Record<string, string>>) {
  await s3.send(
    new CreateBucketCommand({
      Bucket: VAULT,
      ObjectLockEnabledForBucket: true,
      CreateBucketConfiguration: { LocationConstraint: REGION },
    }),
  );
  await s3.send(
    new CreateBucketCommand({ Bucket: CONFIGS, CreateBucketConfiguration: { LocationConstraint: REGION } }),
  );
  for (const db of [DB, 'archive_other']) await glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: db } }));
  for (const [name, props] of Object.entries(tables)) await icebergTable(DB, name, props);
  // A neighbour whose name starts like ours, in another database: it must survive.
  await icebergTable('archive_other', 'payments__txn_201901', { 'offload.legal_hold': 'false' });
  for (const db of [DB, 'archive_other'])
    await lf.send(
      new GrantPermissionsCommand({
        Principal: { DataLakePrincipalIdentifier: READER },
        Resource: { Table: { DatabaseName: db, TableWildcard: {} } },
        Permissions: ['SELECT'],
      }),
    );
  await createLedgerTable(LEDGER, new DynamoDBClient({ region: REGION }));
  const ledger = createDynamoLedger({ table: LEDGER, region: REGION });
  for (const name of Object.keys(tables)) {
    const ref = { database: 'db1', schema: 'payments', table: name.replace('payments__', '') };
    await ledger.transition(ref, {
      expect: null,
      to: 'archiving',
      runId: 'r1',
      archive: { namespace: DB, table: name },
    });
    await ledger.transition(ref, { expect: 'archiving', to: 'archived', runId: 'r1', snapshotId: '5', rows: 3 });
  }
  ledger.close();
  return writeTree(baseRepo());
}

const ok = { 'offload.legal_hold': 'false', 'offload.retention_until': PAST, 'offload.policy': 'monthly' };

async function run(root: string, o: { apply?: boolean; forceReason?: string } = {}) {
  const t = await openDeleteTargets(root, 'aws');
  try {
    return await deleteArchiveDatabase({ root, database: DB, apply: !!o.apply, ...o, ...t });
  } finally {
    t.store.close?.();
    t.ledger.close?.();
  }
}

async function keys(prefix: string) {
  const v = await s3.send(new ListObjectVersionsCommand({ Bucket: VAULT, Prefix: prefix }));
  return [...(v.Versions ?? []), ...(v.DeleteMarkers ?? [])].map((x) => x.Key!).sort();
}

test('apply on S3 + Glue + Lake Formation + DynamoDB: every version gone, grants revoked, db dropped', async () => {
  const root = await setup({ payments__txn_201901: ok, payments__txn_201902: ok });
  const dry = await run(root);
  assert.is(dry.status, 'would_delete', dry.refusals.join('; '));
  // Object versions per table: the metadata, part-0 twice (two versions), part-1.
  assert.equal(
    dry.tables.map((t) => [t.table, t.files, t.bytes]),
    [
      ['payments__txn_201901', 4, written.get(`${DB}.payments__txn_201901`)],
      ['payments__txn_201902', 4, written.get(`${DB}.payments__txn_201902`)],
    ],
  );
  assert.equal(dry.grants, [`${READER}: SELECT on ${DB}.*`]);
  assert.is((await keys(`iceberg/${DB}/`)).length, 8, 'the dry run deleted nothing');

  const r = await run(root, { apply: true });
  assert.is(r.status, 'deleted');
  assert.equal(await keys(`iceberg/${DB}/`), [], 'no object version or delete marker is left');
  assert.is((await keys('iceberg/archive_other/')).length, 4, 'the other database is untouched');
  try {
    await glue.send(new GetDatabaseCommand({ Name: DB }));
    assert.unreachable();
  } catch (e) {
    assert.is((e as Error).name, 'EntityNotFoundException');
  }
  const other = await glue.send(new GetTablesCommand({ DatabaseName: 'archive_other' }));
  assert.is(other.TableList?.length, 1);
  const perms = await lf.send(new ListPermissionsCommand({}));
  assert.equal(
    (perms.PrincipalResourcePermissions ?? []).map((p) => p.Resource?.Table?.DatabaseName),
    ['archive_other'],
  );
  const ledger = createDynamoLedger({ table: LEDGER, region: REGION });
  const entries = await ledger.list();
  ledger.close();
  // archived (never validated) cannot become purged: failed with archive_deleted, so the engine decides afresh.
  assert.equal(
    entries.map((e) => `${e.state}:${e.error?.code}`),
    ['failed:archive_deleted', 'failed:archive_deleted'],
  );
  const audits = await s3.send(new ListObjectsV2Command({ Bucket: CONFIGS, Prefix: 'pipeline/audit/' }));
  assert.equal((audits.Contents ?? []).map((o) => o.Key!.split('.').at(-3)).sort(), ['deleted', 'deleting']);
});

for (const lock of ['retention', 'legal hold'] as const)
  test(`Object Lock (${lock}) on one object version: refused before anything is deleted`, async () => {
    const root = await setup({ payments__txn_201901: ok, payments__txn_201902: ok });
    const key = `${loc(DB, 'payments__txn_201902')}/data/part-1.parquet`;
    if (lock === 'retention')
      await s3.send(
        new PutObjectRetentionCommand({
          Bucket: VAULT,
          Key: key,
          Retention: { Mode: 'GOVERNANCE', RetainUntilDate: new Date(Date.now() + 30 * 86_400_000) },
        }),
      );
    else await s3.send(new PutObjectLegalHoldCommand({ Bucket: VAULT, Key: key, LegalHold: { Status: 'ON' } }));
    const r = await run(root, { apply: true, forceReason: 'even forced' });
    assert.is(r.status, 'refused');
    assert.match(r.refusals.join('\n'), /payments__txn_202?\d*.*under S3 Object Lock/);
    assert.match(r.refusals.join('\n'), lock === 'retention' ? /GOVERNANCE until/ : /legal hold ON/);
    assert.is((await keys(`iceberg/${DB}/`)).length, 8, 'nothing deleted, not even the unlocked table');
    const tables = await glue.send(new GetTablesCommand({ DatabaseName: DB }));
    assert.is(tables.TableList?.length, 2);
    const audits = await s3.send(new ListObjectsV2Command({ Bucket: CONFIGS, Prefix: 'pipeline/audit/' }));
    assert.equal(
      (audits.Contents ?? []).map((o) => o.Key!.split('.').at(-3)),
      ['refused'],
    );
  });

test('a failure after the first table (Glue entry and files gone, the rest not) is finished by a rerun', async () => {
  const root = await setup({ payments__txn_201901: ok, payments__txn_201902: ok });
  const t = await openDeleteTargets(root, 'aws');
  try {
    await deleteArchiveDatabase({
      root,
      database: DB,
      apply: true,
      ...t,
      onStep: (s) => {
        if (s === 'table payments__txn_201901') throw new Error('connection reset');
      },
    });
    assert.unreachable();
  } catch (e) {
    assert.is((e as Error).message, 'connection reset');
  } finally {
    t.store.close?.();
    t.ledger.close?.();
  }
  assert.equal(await keys(`${loc(DB, 'payments__txn_201901')}/`), []);
  assert.is((await keys(`${loc(DB, 'payments__txn_201902')}/`)).length, 4);
  const r = await run(root, { apply: true });
  assert.is(r.status, 'deleted');
  assert.equal(await keys(`iceberg/${DB}/`), []);
  const perms = await lf.send(new ListPermissionsCommand({}));
  assert.equal(
    (perms.PrincipalResourcePermissions ?? []).map((p) => p.Resource?.Table?.DatabaseName),
    ['archive_other'],
  );
});

test('no ledger table deployed: a clear error naming it, no stack trace material', async () => {
  const root = writeTree(baseRepo());
  try {
    await run(root);
    assert.unreachable();
  } catch (e) {
    assert.instance(e, UserError);
    assert.match((e as Error).message, /ResourceNotFoundException/);
    assert.match((e as Error).message, /run ledger dynamodb:acme-archival-configs-ledger deployed\?/);
  }
});

test('a hold recorded only in the archive metadata on S3 refuses, even forced', async () => {
  const root = await setup({
    payments__txn_201901: ok,
    payments__txn_201902: { ...ok, 'offload.legal_hold': 'unknown' },
  });
  const r = await run(root, { forceReason: 'x' });
  assert.is(r.status, 'refused');
  assert.match(
    r.refusals.join('\n'),
    /archive_db1\.payments__txn_201902 is under legal hold \(recorded offload\.legal_hold=unknown\)/,
  );
});

test.run();
