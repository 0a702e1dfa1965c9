/**
 * Plan/apply scenarios against the AWS target on moto in server mode (S3 and DynamoDB always; Glue
 * too where moto implements the calls). moto 5.1 has no UpdateConnection/DeleteConnection, so the
 * scenarios that update or delete connections send Glue calls (AWS_ENDPOINT_URL_GLUE) to the
 * narrow Glue contract server of tools/test/helpers/aws-fakes.ts; glue-contract.test.ts checks
 * the requests themselves.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startMoto, type MotoServer } from '../helpers/moto.js';
import { startGlueContractServer, type GlueContractServer } from '../helpers/aws-fakes.js';
import { awsHarness, syncRepo, BUCKET, TABLE } from '../helpers/sync-env.js';
import { makeCtx, scenarios } from '../helpers/sync-scenarios.js';
import { writeTree } from '../helpers/fixtures.js';
import { runSync } from '../../src/sync/sync.js';
import { readPublishedDynamo } from '../../src/sync/published.js';

let moto: MotoServer;
let glue: GlueContractServer | undefined;

test.before(async () => {
  moto = await startMoto();
});
test.after(async () => {
  await glue?.close();
  await moto?.stop();
});
test.before.each(async () => {
  await moto.reset();
  await glue?.close();
  glue = undefined;
  delete process.env.AWS_ENDPOINT_URL_GLUE;
});

for (const s of scenarios) {
  test(`aws (moto + Glue contract server): ${s.name}`, async () => {
    glue = await startGlueContractServer();
    process.env.AWS_ENDPOINT_URL_GLUE = glue.endpoint;
    const h = awsHarness();
    await h.setup();
    await s.run(makeCtx(h));
  });
}

test('aws (moto for all three): first sync creates Glue connections moto lists; S3, DynamoDB then no-op', async () => {
  const h = awsHarness();
  await h.setup();
  const ctx = makeCtx(h);
  const first = await ctx.sync({ apply: true });
  assert.is(first.status, 'applied');
  const s = await h.state();
  assert.equal(Object.keys(s.connections).sort(), ['db1', 'db2']);
  assert.is(s.connections.db1!.url, 'jdbc:postgresql://db1.example.internal:5432/db1');
  assert.is(s.connections.db1!.secret, 'acme/db1');
  assert.is(s.connections.db1!.subnet, 'subnet-0a1b2c3d4e5f60718');
  assert.equal(s.connections.db1!.sgs, ['sg-0123456789abcdef0']);
  assert.is(s.connections.db1!.az, 'eu-west-1a');
  assert.is(s.connections.db2!.subnet, undefined);
  const again = await ctx.sync();
  assert.equal(
    again.plan.changes.filter((c) => c.resource !== 'connection'),
    [],
  );
});

test('moto canary: GetConnections omits ConnectionType (so round trips use the contract server)', async () => {
  // If this fails, moto now returns ConnectionType: run every scenario on moto's Glue as well.
  const h = awsHarness();
  await h.setup();
  await makeCtx(h).sync({ apply: true });
  const s = await h.state();
  assert.is(s.connections.db1!.type, undefined);
});

test('aws: the pipeline side reads the published configs from DynamoDB', async () => {
  glue = await startGlueContractServer();
  process.env.AWS_ENDPOINT_URL_GLUE = glue.endpoint;
  const h = awsHarness();
  await h.setup();
  await makeCtx(h).sync({ apply: true });
  const pub = await readPublishedDynamo(TABLE);
  assert.is(pub.generation, 1);
  assert.equal(
    pub.databases.map((d) => d.name),
    ['db1', 'db2'],
  );
  assert.is(pub.databases[1]!.resolved!.s3_location, 's3://acme-archive-vault/iceberg/archive_db2/');
  assert.equal(
    pub.policies.map((p) => p.name),
    ['monthly'],
  );
  assert.is(pub.skipped, 0);
});

test('aws: a missing bucket or table is a clear user error, not a stack trace', async () => {
  const root = writeTree(syncRepo());
  try {
    await runSync({ root, target: { kind: 'aws' }, apply: false, prune: false, commit: 'x' });
    assert.unreachable('should fail');
  } catch (e) {
    const err = e as Error & { exitCode?: number };
    assert.is(err.name, 'UserError');
    assert.match(err.message, new RegExp(`${TABLE}|${BUCKET}|does not exist`));
    assert.is(err.exitCode, 2);
  }
});

test('aws: AWS_ENDPOINT_URL is honoured without any endpoint option (the SDK reads it)', async () => {
  const h = awsHarness();
  await h.setup();
  const seen: string[] = [];
  const root = writeTree(syncRepo());
  await runSync({
    root,
    target: { kind: 'aws' },
    apply: false,
    prune: false,
    commit: 'x',
    aws: { onRequest: (svc, cmd) => seen.push(`${svc}:${cmd}`) },
  });
  assert.ok(
    seen.includes('s3:ListObjectsV2') && seen.includes('dynamodb:Scan') && seen.includes('glue:GetConnections'),
    seen.join(','),
  );
});

test('aws: the region comes from the SDK chain and must agree with the settings', async () => {
  const h = awsHarness();
  await h.setup();
  const root = writeTree(syncRepo());
  const saved = { r: process.env.AWS_REGION, d: process.env.AWS_DEFAULT_REGION };
  process.env.AWS_REGION = 'us-east-1';
  try {
    await runSync({ root, target: { kind: 'aws' }, apply: false, prune: false, commit: 'x' });
    assert.unreachable('should fail');
  } catch (e) {
    assert.match((e as Error).message, /region from the environment \(us-east-1\)/);
  } finally {
    process.env.AWS_REGION = saved.r;
    process.env.AWS_DEFAULT_REGION = saved.d;
  }
});

test.run();
