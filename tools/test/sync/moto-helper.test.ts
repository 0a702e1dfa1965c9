/** The moto helper other tests rely on: loopback only, env set, reset forgets, stop frees the port. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import { S3Client, CreateBucketCommand, ListBucketsCommand } from '@aws-sdk/client-s3';
import { startMoto } from '../helpers/moto.js';

test('startMoto: 127.0.0.1 endpoint in AWS_ENDPOINT_URL, dummy credentials, reset, stop', async () => {
  const moto = await startMoto({ region: 'eu-west-1' });
  try {
    assert.match(moto.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.is(process.env.AWS_ENDPOINT_URL, moto.endpoint);
    assert.is(process.env.AWS_ACCESS_KEY_ID, 'testing');
    assert.is(process.env.AWS_REGION, 'eu-west-1');
    const s3 = new S3Client({});
    await s3.send(
      new CreateBucketCommand({
        Bucket: 'helper-test-bucket',
        CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
      }),
    );
    assert.equal(
      (await s3.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name),
      ['helper-test-bucket'],
    );
    await moto.reset();
    assert.equal((await s3.send(new ListBucketsCommand({}))).Buckets ?? [], [], 'reset forgets everything');
  } finally {
    await moto.stop();
  }
  const free = await new Promise<boolean>((resolve) => {
    const srv = net
      .createServer()
      .once('error', () => resolve(false))
      .listen(moto.port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
  assert.ok(free, 'the port is released after stop');
});

test.run();
