/**
 * Contract test of the Glue connection calls moto does not implement (UpdateConnection,
 * DeleteConnection) and of GetConnections paging: the real SDK client talks to a local stand-in
 * of the Glue JSON 1.1 API (tools/test/helpers/aws-fakes.ts), which records each request. The
 * expected request bodies are written from the Glue API reference, not from the sync code.
 * S3 and DynamoDB run on moto.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { startMoto, type MotoServer } from '../helpers/moto.js';
import { startGlueContractServer, type GlueContractServer } from '../helpers/aws-fakes.js';
import { awsHarness, database, syncRepo, SETTINGS } from '../helpers/sync-env.js';
import { parse } from 'yaml';
import { createAwsTarget } from '../../src/sync/aws-target.js';
import { writeTree } from '../helpers/fixtures.js';
import { runSync } from '../../src/sync/sync.js';

let moto: MotoServer;
let glue: GlueContractServer;

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
  glue = await startGlueContractServer({ pageSize: 1 });
  process.env.AWS_ENDPOINT_URL_GLUE = glue.endpoint;
  await awsHarness().setup();
});

const sync = (root: string, apply = true, prune = false, maxAttempts?: number) =>
  runSync({
    root,
    target: { kind: 'aws' },
    apply,
    prune,
    commit: 'c1',
    allowUncommitted: 'test fixture outside git',
    aws: maxAttempts ? { maxAttempts } : undefined,
  });
const writes = () => glue.requests.filter((r) => !r.action.startsWith('Get'));

const DB1_INPUT = {
  Name: 'db1',
  Description: 'Test database db1',
  ConnectionType: 'JDBC',
  ConnectionProperties: {
    JDBC_CONNECTION_URL: 'jdbc:postgresql://db1.example.internal:5432/db1',
    SECRET_ID: 'acme/db1',
  },
  PhysicalConnectionRequirements: {
    SubnetId: 'subnet-0a1b2c3d4e5f60718',
    SecurityGroupIdList: ['sg-0123456789abcdef0'],
    AvailabilityZone: 'eu-west-1a',
  },
};

test('CreateConnection: named after the database, JDBC URL, SECRET_ID, first subnet, groups, AZ, tags', async () => {
  const root = writeTree(syncRepo());
  await sync(root);
  const byName = (x: { body: any }, y: { body: any }) =>
    x.body.ConnectionInput.Name.localeCompare(y.body.ConnectionInput.Name);
  assert.equal(writes().sort(byName), [
    { action: 'CreateConnection', body: { ConnectionInput: DB1_INPUT, Tags: { 'managed-by': 'offload-test' } } },
    {
      action: 'CreateConnection',
      body: {
        ConnectionInput: {
          Name: 'db2',
          Description: 'Test database db2',
          ConnectionType: 'JDBC',
          ConnectionProperties: {
            JDBC_CONNECTION_URL: 'jdbc:postgresql://db2.example.internal:5432/db2',
            SECRET_ID: 'acme/db2',
          },
        },
        Tags: { 'managed-by': 'offload-test' },
      },
    },
  ]);
});

test('GetConnections: asks with HidePassword and MaxResults 1000, follows NextToken to the last page', async () => {
  const root = writeTree(syncRepo());
  await sync(root);
  glue.requests.length = 0;
  const out = await sync(root, false);
  const gets = glue.requests.filter((r) => r.action === 'GetConnections');
  assert.equal(
    gets.map((g) => g.body),
    [
      { HidePassword: true, MaxResults: 1000 },
      { HidePassword: true, MaxResults: 1000, NextToken: '1' },
    ],
  );
  assert.equal(out.status === 'planned' && out.plan.changes, [], 'both pages read: nothing to create');
});

test('UpdateConnection: the whole ConnectionInput under Name, no tags; only the changed connection', async () => {
  const root = writeTree(syncRepo());
  await sync(root);
  glue.requests.length = 0;
  writeFileSync(
    path.join(root, 'databases/db1.yaml'),
    database('db1', { secret: 'acme/db1-rotated', sg: 'sg-0fedcba9876543210', az: 'eu-west-1b' }),
  );
  await sync(root);
  assert.equal(writes(), [
    {
      action: 'UpdateConnection',
      body: {
        Name: 'db1',
        ConnectionInput: {
          ...DB1_INPUT,
          ConnectionProperties: { ...DB1_INPUT.ConnectionProperties, SECRET_ID: 'acme/db1-rotated' },
          PhysicalConnectionRequirements: {
            ...DB1_INPUT.PhysicalConnectionRequirements,
            SecurityGroupIdList: ['sg-0fedcba9876543210'],
            AvailabilityZone: 'eu-west-1b',
          },
        },
      },
    },
  ]);
  assert.equal(glue.connections.get('db1')!.tags, { 'managed-by': 'offload-test' }, 'tags kept');
});

test('DeleteConnection: ConnectionName, only with --prune', async () => {
  const root = writeTree(syncRepo());
  await sync(root);
  rmSync(path.join(root, 'databases/db2.yaml'));
  glue.requests.length = 0;
  await sync(root);
  assert.equal(writes(), [], 'no Glue write without --prune');
  await sync(root, true, true);
  assert.equal(writes(), [{ action: 'DeleteConnection', body: { ConnectionName: 'db2' } }]);
  assert.equal([...glue.connections.keys()], ['db1']);
});

test('DeleteConnection of a connection someone already deleted is not an error', async () => {
  const target = await createAwsTarget({ settings: parse(SETTINGS) });
  await target.deleteConnection('gone');
  assert.equal(writes(), [{ action: 'DeleteConnection', body: { ConnectionName: 'gone' } }]);
});

test('Glue throttling is retried with backoff by the SDK; persistent throttling is a clear error', async () => {
  const root = writeTree(syncRepo());
  glue.throttleNext(3);
  const out = await sync(root);
  assert.is(out.status, 'applied');
  assert.equal([...glue.connections.keys()].sort(), ['db1', 'db2']);
  assert.ok(glue.requests.length >= 3 + 1 + 2, 'the throttled requests were retried');
  writeFileSync(
    path.join(root, 'databases/db1.yaml'),
    database('db1', { url: 'jdbc:postgresql://elsewhere:5432/db1' }),
  );
  glue.throttleNext(1000);
  try {
    await sync(root, true, false, 2);
    assert.unreachable('should fail');
  } catch (e) {
    assert.is((e as Error).name, 'UserError');
    assert.match((e as Error).message, /Glue connections.*throttled after every retry/);
  }
});

test.run();
