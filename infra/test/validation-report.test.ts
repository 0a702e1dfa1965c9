/**
 * validation_report against the moto server: the run report read from the reports bucket, JSON,
 * Markdown and HTML written beside it, and the SNS topic notified (observed through an SQS queue
 * subscribed to it) exactly when a table failed or a validation found a mismatch.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startMoto, type MotoServer } from '../../tools/test/helpers/moto.js';
import type { RunReport } from '../../tools/src/core/index.js';
import { renderReport, type ReportConfig } from '../lambdas/validation-report.js';

const REGION = 'eu-west-2';
const BUCKET = `offload-reports-vr-${process.pid}`;
let moto: MotoServer;
let s3: S3Client;
let sns: SNSClient;
let sqs: SQSClient;
let queueUrl = '';
let config: ReportConfig;

test.before(async () => {
  moto = await startMoto({ region: REGION });
  s3 = new S3Client({ region: REGION, forcePathStyle: true });
  sns = new SNSClient({ region: REGION });
  sqs = new SQSClient({ region: REGION });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: REGION } }));
  const topic = await sns.send(new CreateTopicCommand({ Name: 'offload-alarms' }));
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'offload-alarms-watch' }))).QueueUrl!;
  const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] })))
    .Attributes!.QueueArn!;
  await sns.send(new SubscribeCommand({ TopicArn: topic.TopicArn!, Protocol: 'sqs', Endpoint: queueArn }));
  config = { bucket: BUCKET, prefix: 'reports', topicArn: topic.TopicArn! };
});
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
