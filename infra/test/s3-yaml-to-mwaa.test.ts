/**
 * s3_yaml_to_mwaa: S3 and the runs table on the moto server; MWAA (which moto lacks) as a narrow
 * contract test — a local HTTP server standing in for the MWAA API (CreateCliToken, SigV4-signed) and
 * the web server's /aws_mwaa/cli endpoint (Bearer token, the CLI command as a text/plain body).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { MWAAClient } from '@aws-sdk/client-mwaa';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startMoto, type MotoServer } from '../../tools/test/helpers/moto.js';
import { trigger, type Clients, type ObjectCreatedEvent, type TriggerConfig } from '../lambdas/s3-yaml-to-mwaa.js';

const REGION = 'eu-west-2';
const config: TriggerConfig = {
  bucket: `offload-configs-${process.pid}`,
  prefix: 'configs',
  runsTable: `offload-runs-${process.pid}`,
  environment: 'acme-archival',
  dagId: 'acme_archival',
  webServerScheme: 'http',
};

/** The stand-in for MWAA: records every request and answers like the service. */
class FakeMwaa {
  server = http.createServer((req, res) => this.serve(req, res));
  tokens: { authorization: string; path: string }[] = [];
  cli: { authorization: string; contentType: string; body: string }[] = [];
  runs = new Set<string>();
  failNextCli = false;
  private issued = 0;
  port = 0;
  async start() {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }
  private serve(req: http.IncomingMessage, res: http.ServerResponse) {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const json = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      if (req.method === 'POST' && req.url?.startsWith('/clitoken/')) {
        this.tokens.push({ authorization: String(req.headers.authorization), path: req.url });
        this.issued++;
        return json(200, { CliToken: `token-${this.issued}`, WebServerHostname: `127.0.0.1:${this.port}` });
      }
      if (req.method === 'POST' && req.url === '/aws_mwaa/cli') {
        this.cli.push({
          authorization: String(req.headers.authorization),
          contentType: String(req.headers['content-type']),
          body,
        });
        if (req.headers.authorization !== `Bearer token-${this.issued}`) return json(403, { message: 'bad token' });
        if (this.failNextCli) {
          this.failNextCli = false;
          return json(500, { message: 'web server unavailable' });
        }
        const runId = /--run-id '([^']+)'/.exec(body)?.[1] ?? '';
        const b64 = (s: string) => Buffer.from(s).toString('base64');
        if (this.runs.has(runId))
          return json(200, { stdout: '', stderr: b64(`DagRun for acme_archival with run_id ${runId} already exists`) });
        this.runs.add(runId);
        return json(200, { stdout: b64(`Created <DagRun acme_archival @ now: ${runId}, state:queued>`), stderr: '' });
      }
      json(404, { message: `unexpected ${req.method} ${req.url}` });
    });
  }
}

let moto: MotoServer;
let mwaa: FakeMwaa;
let clients: Clients;
let ddb: DynamoDBDocumentClient;
let s3: S3Client;

test.before(async () => {
  moto = await startMoto({ region: REGION });
  mwaa = new FakeMwaa();
  await mwaa.start();
  s3 = new S3Client({ region: REGION, forcePathStyle: true });
  ddb = DynamoDBDocumentClient.from(new DynamoDBClient({ region: REGION }));
  await s3.send(
    new CreateBucketCommand({ Bucket: config.bucket, CreateBucketConfiguration: { LocationConstraint: REGION } }),
  );
  await ddb.send(
    new CreateTableCommand({
      TableName: config.runsTable,
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  clients = {
    s3,
    ddb,
    mwaa: new MWAAClient({ region: REGION, endpoint: `http://127.0.0.1:${mwaa.port}`, disableHostPrefix: true }),
    fetch,
  };
});
test.after(async () => {
  mwaa?.server.close();
  await moto?.stop();
});

const MANIFEST_KEY = 'configs/_offload/manifest.json';
async function writeManifest(generation: unknown, commit: unknown = 'c0ffee1234') {
  await s3.send(
    new PutObjectCommand({
      Bucket: config.bucket,
      Key: MANIFEST_KEY,
      Body: JSON.stringify({ format: 1, generation, commit }),
    }),
  );
}
const event = (key = MANIFEST_KEY, bucket = config.bucket): ObjectCreatedEvent => ({
  'detail-type': 'Object Created',
  detail: { bucket: { name: bucket }, object: { key } },
});
const claimOf = async (generation: number) =>
  (
    await ddb.send(
      new GetCommand({
        TableName: config.runsTable,
        Key: { pk: 'TRIGGER#acme_archival', sk: `GENERATION#${String(generation).padStart(12, '0')}` },
      }),
    )
  ).Item;

test('a new manifest triggers the DAG once: token exchange, then the CLI with the generation as conf', async () => {
  await writeManifest(7);
  const out = await trigger(event(), config, clients);
  assert.is(out.status, 'triggered');
  assert.is(mwaa.tokens.length, 1);
  assert.is(mwaa.tokens[0]!.path, '/clitoken/acme-archival');
  assert.match(
    mwaa.tokens[0]!.authorization,
    /^AWS4-HMAC-SHA256 Credential=testing\/\d{8}\/eu-west-2\/airflow\/aws4_request/,
  );
  assert.is(mwaa.cli.length, 1);
  assert.is(mwaa.cli[0]!.authorization, 'Bearer token-1');
  assert.is(mwaa.cli[0]!.contentType, 'text/plain');
  const conf = JSON.stringify({
    generation: 7,
    commit: 'c0ffee1234',
    config_bucket: config.bucket,
    config_prefix: 'configs',
  });
  assert.is(mwaa.cli[0]!.body, `dags trigger 'acme_archival' --run-id 'offload-sync-generation-7' --conf '${conf}'`);
  const claim = await claimOf(7);
  assert.is(claim?.status, 'triggered');
  assert.is(claim?.commit, 'c0ffee1234');
});

test('the same event again (a duplicate delivery) starts nothing', async () => {
  const cliBefore = mwaa.cli.length;
  const out = await trigger(event(), config, clients);
  assert.is(out.status, 'duplicate');
  assert.is(mwaa.cli.length, cliBefore);
});

test('two deliveries at the same moment: exactly one DAG run', async () => {
  await writeManifest(8);
  const cliBefore = mwaa.cli.length;
  const outs = await Promise.all([trigger(event(), config, clients), trigger(event(), config, clients)]);
  assert.equal(outs.map((o) => o.status).sort(), ['duplicate', 'triggered']);
  assert.is(mwaa.cli.length, cliBefore + 1);
});

test('other objects and other buckets are ignored without calling MWAA', async () => {
  const before = mwaa.tokens.length;
  for (const e of [event('configs/databases/a.yaml'), event(MANIFEST_KEY, 'someone-else'), { detail: {} }]) {
    const out = await trigger(e, config, clients);
    assert.is(out.status, 'ignored');
  }
  assert.is(mwaa.tokens.length, before);
});

test('a failed trigger releases its claim, so the retry of the same event triggers', async () => {
  await writeManifest(9);
  mwaa.failNextCli = true;
  try {
    await trigger(event(), config, clients);
    assert.unreachable('the 500 must surface so Lambda retries the event');
  } catch (e) {
    assert.match((e as Error).message, /answered 500/);
  }
  assert.is(await claimOf(9), undefined);
  const out = await trigger(event(), config, clients);
  assert.is(out.status, 'triggered');
  assert.ok(mwaa.runs.has('offload-sync-generation-9'));
});

test('a claim left by a crashed invocation is taken over only once it is stale', async () => {
  await writeManifest(10);
  const now = Date.now();
  await ddb.send(
    new PutCommand({
      TableName: config.runsTable,
      Item: {
        pk: 'TRIGGER#acme_archival',
        sk: 'GENERATION#000000000010',
        status: 'triggering',
        claim: 'x',
        claimed_at: now - 60_000,
      },
    }),
  );
  assert.is((await trigger(event(), config, clients, now)).status, 'duplicate', 'a fresh claim is respected');
  assert.is((await trigger(event(), config, clients, now + 10 * 60_000)).status, 'triggered', 'a stale one is taken');
});

test('Airflow refusing an existing run id counts as a duplicate, not a failure', async () => {
  await writeManifest(11);
  mwaa.runs.add('offload-sync-generation-11'); // triggered before, its claim record lost
  const out = await trigger(event(), config, clients);
  assert.is(out.status, 'duplicate');
});

test('a late event of an older sync is superseded: no run over a newer generation', async () => {
  await writeManifest(20);
  assert.is((await trigger(event(), config, clients)).status, 'triggered');
  await writeManifest(19); // the older sync's manifest, delivered after the newer one
  const cliBefore = mwaa.cli.length;
  const out = await trigger(event(), config, clients);
  assert.equal(out, { status: 'superseded', generation: 19, latest: 20 });
  assert.is(mwaa.cli.length, cliBefore);
  assert.is(await claimOf(19), undefined);
});

const badManifests = [
  { name: 'no generation', generation: undefined, message: /positive integer generation/ },
  { name: 'generation as text', generation: '12', message: /positive integer generation/ },
  { name: 'no commit', generation: 22, commit: '', message: /no commit/ },
];
for (const c of badManifests)
  test(`a manifest with ${c.name} fails clearly and claims nothing`, async () => {
    await writeManifest(c.generation, c.commit ?? 'abc');
    const before = mwaa.tokens.length;
    try {
      await trigger(event(), config, clients);
      assert.unreachable('must fail');
    } catch (e) {
      assert.match((e as Error).message, c.message);
      assert.match((e as Error).message, MANIFEST_KEY);
    }
    assert.is(mwaa.tokens.length, before);
    assert.is(await claimOf(22), undefined);
  });

test.run();
