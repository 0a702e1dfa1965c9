/**
 * validation_report against the moto server: the run's report built from the DynamoDB run ledger
 * (entries written through the ledger store, as the DAG tasks write them) or read from a report file
 * in the reports bucket, JSON, Markdown and HTML written under reports/<run id>/, and the SNS topic
 * notified (observed through an SQS queue subscribed to it) exactly when a table failed or a
 * validation found a mismatch.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startMoto, type MotoServer } from '../../tools/test/helpers/moto.js';
import type { RunReport } from '../../tools/src/core/index.js';
import { createDynamoLedger, createLedgerTable } from '../../tools/src/ledger/dynamodb.js';
import { renderReport, type ReportConfig } from '../lambdas/validation-report.js';

const REGION = 'eu-west-2';
const BUCKET = `offload-reports-vr-${process.pid}`;
const LEDGER = `acme-configs-ledger-vr-${process.pid}`;
const CONFIGS = `acme-configs-vr-${process.pid}`;
let moto: MotoServer;
let s3: S3Client;
let sns: SNSClient;
let sqs: SQSClient;
let ddb: DynamoDBClient;
let queueUrl = '';
let config: ReportConfig;

test.before(async () => {
  moto = await startMoto({ region: REGION });
  s3 = new S3Client({ region: REGION, forcePathStyle: true });
  sns = new SNSClient({ region: REGION });
  sqs = new SQSClient({ region: REGION });
  ddb = new DynamoDBClient({ region: REGION });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: REGION } }));
  const topic = await sns.send(new CreateTopicCommand({ Name: 'offload-alarms' }));
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'offload-alarms-watch' }))).QueueUrl!;
  const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] })))
    .Attributes!.QueueArn!;
  await sns.send(new SubscribeCommand({ TopicArn: topic.TopicArn!, Protocol: 'sqs', Endpoint: queueArn }));
  config = {
    bucket: BUCKET,
    prefix: 'reports',
    topicArn: topic.TopicArn!,
    ledgerTable: LEDGER,
    resultsBucket: CONFIGS,
  };
  await s3.send(
    new CreateBucketCommand({ Bucket: CONFIGS, CreateBucketConfiguration: { LocationConstraint: REGION } }),
  );
  // The validate job's record for txn_202002, where the DAG's --result_path puts it.
  await s3.send(
    new PutObjectCommand({
      Bucket: CONFIGS,
      Key: 'pipeline/results/r-led-1/archive_alpha.pay__txn_202002.r-led-1.validation.json',
      Body: JSON.stringify({
        status: 'failed',
        mode: 'full',
        mismatches: ['row_hash'],
        row_count: { source: 800, archive: 800, match: true },
        row_hash: { keys: [{ key: { id: '7' }, kind: 'changed', columns: ['amount'] }], truncated: false },
      }),
    }),
  );
  // Two of run r-led-1's work units, where the discover Lambda writes them: the report takes the configs' commit
  // and the as-of date from them.
  const unit = (i: number, action: string, table: string) =>
    s3.send(
      new PutObjectCommand({
        Bucket: CONFIGS,
        Key: `pipeline/work-units/r-led-1/${String(i).padStart(5, '0')}-${action}.json`,
        Body: JSON.stringify({
          format: 1,
          id: `r-led-1-${i}`,
          action,
          run_id: 'r-led-1',
          config_commit: 'c0ffee1234',
          as_of: '2026-11-27T00:00:00Z',
          database: 'alpha',
          source: { engine: 'postgres', schema: 'pay', table },
          decision: { reason: 'older than 12 months', table_date: null, rows: 1200, bytes: 65536 },
        }),
      }),
    );
  await unit(0, 'archive', 'txn_202001');
  await unit(1, 'validate', 'txn_202001');
  await createLedgerTable(LEDGER, ddb);
  await writeLedger();
});

/**
 * Run r-led-1: txn_202001 archived (1,200 rows, snapshot 101) and validated; txn_202002 archived (800
 * rows, snapshot 102) and failed its validation (3 rows differ). txn_202003 was only touched by an
 * earlier run r-led-0. Run r-led-2 archived and validated txn_202003 cleanly.
 */
async function writeLedger() {
  const ledger = createDynamoLedger({ table: LEDGER, client: ddb });
  const ref = (t: string) => ({ database: 'alpha', schema: 'pay', table: t });
  const archive = (t: string) => ({ namespace: 'archive_alpha', table: `pay__${t}` });
  const at = (m: number) => `2026-11-27T02:${String(m).padStart(2, '0')}:00.000Z`;
  const archived = async (t: string, runId: string, snap: string, rows: number, m: number) => {
    await ledger.transition(ref(t), {
      expect: null,
      to: 'archiving',
      runId,
      at: at(m),
      archive: archive(t),
      policy: 'monthly',
    });
    await ledger.transition(ref(t), {
      expect: 'archiving',
      to: 'archived',
      runId,
      at: at(m + 1),
      snapshotId: snap,
      rows,
    });
  };
  await archived('txn_202003', 'r-led-0', '99', 40, 0);
  await archived('txn_202001', 'r-led-1', '101', 1200, 10);
  await ledger.transition(ref('txn_202001'), {
    expect: 'archived',
    to: 'validated',
    runId: 'r-led-1',
    at: at(13),
    validation: { status: 'passed', snapshot_id: '101', mode: 'full', mismatches: 0 },
  });
  await archived('txn_202002', 'r-led-1', '102', 800, 11);
  await ledger.transition(ref('txn_202002'), {
    expect: 'archived',
    to: 'failed',
    runId: 'r-led-1',
    at: at(14),
    validation: { status: 'failed', snapshot_id: '102', mode: 'full', mismatches: 3 },
    error: { code: 'validation_failed', message: '3 rows differ' },
  });
  await ledger.transition(ref('txn_202003'), {
    expect: 'archived',
    to: 'validated',
    runId: 'r-led-2',
    at: at(30),
    validation: { status: 'passed', snapshot_id: '99', mode: 'full', mismatches: 0 },
  });
  ledger.close();
}
test.after(async () => moto?.stop());

const table = (name: string, over: Partial<RunReport['tables'][number]> = {}): RunReport['tables'][number] => ({
  database: 'alpha',
  schema: 'pay',
  table: name,
  policy: 'monthly',
  action: 'archive',
  state: 'validated',
  rows: 10,
  bytes: 100,
  validation: { status: 'passed', mismatches: [] },
  ...over,
});
const report = (runId: string, tables: RunReport['tables']): RunReport => ({
  schema_version: 1,
  run_id: runId,
  runtime: 'aws',
  started_at: '2026-11-27T02:00:00Z',
  finished_at: '2026-11-27T02:10:00Z',
  status: tables.some((t) => t.state === 'failed' || t.validation?.status === 'failed') ? 'partial' : 'succeeded',
  totals: {
    tables: tables.length,
    archived: tables.length,
    validated: tables.length,
    failed: 0,
    cleaned_up: 0,
    purged: 0,
    rows_archived: 10 * tables.length,
    bytes_archived: 100 * tables.length,
    source_bytes_freed: 0,
    duration_ms: 600000,
  },
  tables,
});
async function put(key: string, body: unknown) {
  await s3.send(
    new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: typeof body === 'string' ? body : JSON.stringify(body) }),
  );
}
const read = async (key: string) =>
  (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToString();
const messages = async () =>
  (await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 })))
    .Messages ?? [];

test('a clean run: three renderings under reports/<run id>/, no notification', async () => {
  await put('reports/runs/run-1.json', report('run-1', [table('txn_202001'), table('txn_202002')]));
  const out = await renderReport({ key: 'reports/runs/run-1.json' }, config, { s3, sns });
  assert.equal(out.keys, {
    json: 'reports/run-1/report.json',
    markdown: 'reports/run-1/report.md',
    html: 'reports/run-1/report.html',
  });
  assert.equal(out.problems, []);
  assert.is(out.notified, false);
  assert.is((JSON.parse(await read(out.keys.json)) as RunReport).run_id, 'run-1');
  assert.match(await read(out.keys.markdown), 'txn_202002');
  const html = await read(out.keys.html);
  assert.match(html, /<html/i);
  assert.match(html, 'txn_202001');
  assert.equal(await messages(), []);
});

test('a mismatch and a failed table: both named in one SNS notification', async () => {
  const tables = [
    table('txn_202001'),
    table('txn_202003', { validation: { status: 'failed', mismatches: ['amount'] } }),
    table('txn_202004', { state: 'failed', validation: null }),
  ];
  await put('reports/runs/run-2.json', report('run-2', tables));
  const out = await renderReport({ key: 'reports/runs/run-2.json' }, config, { s3, sns });
  assert.is(out.notified, true);
  assert.equal(out.problems.length, 2);
  const got = await messages();
  assert.is(got.length, 1);
  const body = JSON.parse(got[0]!.Body!) as { Message: string; Subject: string };
  assert.match(body.Subject, 'run-2');
  assert.match(body.Message, 'alpha.pay.txn_202003: validation mismatch in amount');
  assert.match(body.Message, 'alpha.pay.txn_202004: archive failed');
  assert.not.match(body.Message, 'txn_202001');
});

const refusals = [
  {
    name: 'a key outside the reports prefix',
    key: 'other/run.json',
    body: report('x', []),
    message: /under reports\//,
  },
  { name: 'a path escape', key: 'reports/../other/run.json', body: report('x', []), message: /under reports\// },
  { name: 'not JSON', key: 'reports/runs/bad.json', body: '{oops', message: /is not JSON/ },
  { name: 'not a run report', key: 'reports/runs/bad2.json', body: { run_id: 'x' }, message: /is not a run report/ },
  {
    name: 'a run id that is a path',
    key: 'reports/runs/bad3.json',
    body: report('../x', []),
    message: /cannot name an S3 folder/,
  },
];
test('by run id (what the DAG sends): the report built from the ledger, the mismatch notified', async () => {
  const out = await renderReport({ run_id: 'r-led-1' }, config, { s3, sns, ddb });
  assert.is(out.run_id, 'r-led-1');
  assert.is(out.status, 'partial');
  assert.equal(out.keys, {
    json: 'reports/r-led-1/report.json',
    markdown: 'reports/r-led-1/report.md',
    html: 'reports/r-led-1/report.html',
  });
  const json = JSON.parse(await read(out.keys.json)) as RunReport;
  assert.is(json.runtime, 'aws');
  assert.is(json.config_commit, 'c0ffee1234', "from the run's work units");
  assert.is(json.as_of, '2026-11-27T00:00:00Z');
  assert.is(json.started_at, '2026-11-27T02:10:00.000Z');
  assert.is(json.finished_at, '2026-11-27T02:14:00.000Z');
  // Only the tables the run touched (not txn_202003, archived by r-led-0), with what the ledger holds.
  const pick = (t: RunReport['tables'][number]) => ({
    table: t.table,
    action: t.action,
    state: t.state,
    rows: t.rows,
    snapshot_id: t.snapshot_id,
    archive_table: t.archive_table,
    validation: t.validation?.status,
    error: t.error?.code ?? null,
  });
  assert.equal(json.tables.map(pick), [
    {
      table: 'txn_202001',
      action: 'archive',
      state: 'validated',
      rows: 1200,
      snapshot_id: 101,
      archive_table: 'archive_alpha.pay__txn_202001',
      validation: 'passed',
      error: null,
    },
    {
      table: 'txn_202002',
      action: 'archive',
      state: 'failed',
      rows: 800,
      snapshot_id: 102,
      archive_table: 'archive_alpha.pay__txn_202002',
      validation: 'failed',
      error: 'validation_failed',
    },
  ]);
  assert.is(json.tables[1]!.error!.message, '3 rows differ');
  // From the validation record: what differs, down to the key.
  assert.equal(json.tables[1]!.validation!.mismatches, ['row_hash']);
  assert.equal(json.tables[1]!.validation!.differing_keys, [
    { key: { id: '7' }, kind: 'changed', columns: ['amount'] },
  ]);
  assert.is(json.totals.tables, 2);
  assert.is(json.totals.failed, 1);
  assert.is(json.totals.rows_archived, 1200);
  const md = await read(out.keys.markdown);
  assert.match(md, 'configs at `c0ffee1234`');
  assert.match(md, '## Needs attention');
  assert.match(md, 'validation_failed: 3 rows differ');
  assert.match(md, 'key id=7: changed (amount)');
  assert.match(md, 'txn_202001');
  assert.not.match(md, 'txn_202003');
  const html = await read(out.keys.html);
  assert.match(html, /<html/i);
  assert.match(html, 'txn_202002');
  assert.match(html, '3 rows differ');
  assert.not.match(html, 'txn_202003');
  // One notification naming the mismatched table, not the validated one.
  assert.is(out.notified, true);
  const got = await messages();
  assert.is(got.length, 1);
  const body = JSON.parse(got[0]!.Body!) as { Message: string; Subject: string };
  assert.match(body.Subject, 'r-led-1');
  assert.match(body.Message, 'alpha.pay.txn_202002: validation mismatch in row_hash');
  assert.match(body.Message, `s3://${BUCKET}/reports/r-led-1/report.html`);
  assert.not.match(body.Message, 'txn_202001');
});

test('by run id, a clean run: rendered from the ledger, no notification', async () => {
  const out = await renderReport({ run_id: 'r-led-2' }, config, { s3, sns, ddb });
  assert.is(out.status, 'succeeded');
  assert.is(out.notified, false);
  const json = JSON.parse(await read('reports/r-led-2/report.json')) as RunReport;
  assert.is(json.config_commit, null, 'no work units kept for r-led-2');
  assert.equal(
    json.tables.map((t) => [t.table, t.action, t.state, t.validation?.status]),
    [['txn_202003', 'validate', 'validated', 'passed']],
  );
  assert.match(await read('reports/r-led-2/report.md'), 'txn_202003');
  assert.equal(await messages(), []);
});

const ledgerRefusals = [
  {
    name: 'an unknown run id',
    event: { run_id: 'r-nope' },
    config: () => config,
    message: new RegExp(
      `run r-nope is not in the run ledger \\(DynamoDB table ${LEDGER}\\); recent runs: r-led-2, r-led-1`,
    ),
  },
  { name: 'a run id that is a path', event: { run_id: '../x' }, config: () => config, message: /cannot name an S3/ },
  { name: 'neither run id nor key', event: {}, config: () => config, message: /give `run_id`.*or `key`/ },
  {
    name: 'a run id without a ledger table',
    event: { run_id: 'r-led-1' },
    config: () => ({ ...config, ledgerTable: undefined }),
    message: /OFFLOAD_LEDGER_TABLE is not set/,
  },
  {
    name: "a key holding another run's report",
    event: { run_id: 'r-other', key: 'reports/runs/run-1.json' },
    config: () => config,
    message: /is the report of run run-1, not r-other/,
  },
];
for (const c of ledgerRefusals)
  test(`refused: ${c.name}`, async () => {
    try {
      await renderReport(c.event, c.config(), { s3, sns, ddb });
      assert.unreachable('must be refused');
    } catch (e) {
      assert.match((e as Error).message, c.message);
    }
  });

for (const c of refusals)
  test(`refused: ${c.name}`, async () => {
    if (c.key.startsWith('reports/runs/')) await put(c.key, c.body);
    try {
      await renderReport({ key: c.key }, config, { s3, sns });
      assert.unreachable('must be refused');
    } catch (e) {
      assert.match((e as Error).message, c.message);
    }
  });

test.run();
