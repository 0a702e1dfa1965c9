/**
 * presigned_urls against the moto server: which callers, keys and lifetimes are refused, and — since
 * moto does not verify signatures — the issued URL's expiry, key and SigV4 signature recomputed here
 * from the credentials, independently of the SDK's presigner.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createHash, createHmac } from 'node:crypto';
import { startMoto, type MotoServer } from '../../tools/test/helpers/moto.js';
import { handle, type PresignConfig } from '../lambdas/presigned-urls.js';

const ACCOUNT = '111122223333';
const READER = `arn:aws:iam::${ACCOUNT}:role/team/report-reader`;
const AUDITOR = `arn:aws:iam::${ACCOUNT}:user/auditor`;
const BUCKET = `offload-reports-${process.pid}`;
const config: PresignConfig = { bucket: BUCKET, prefix: 'reports', callers: [READER, AUDITOR] };
const assumed = (role: string, account = ACCOUNT) => `arn:aws:sts::${account}:assumed-role/${role}/session-1`;

let moto: MotoServer;
let s3: S3Client;

test.before(async () => {
  moto = await startMoto({ region: 'eu-west-2' });
  s3 = new S3Client({ region: 'eu-west-2', forcePathStyle: true });
  await s3.send(
    new CreateBucketCommand({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: 'eu-west-2' } }),
  );
  for (const key of ['reports/run-1/report.html', 'other/secret.csv', 'reportsX/a.html'])
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: `body of ${key}` }));
});
test.after(async () => moto?.stop());

const call = (body: unknown, caller?: string) =>
  handle(
    {
      body: typeof body === 'string' ? body : JSON.stringify(body),
      ...(caller ? { requestContext: { authorizer: { iam: { userArn: caller } } } } : {}),
    },
    { s3, config },
  );

const refusals: { name: string; caller?: string; body: unknown; status: number; message: RegExp }[] = [
  { name: 'no caller identity', body: { key: 'reports/run-1/report.html' }, status: 403, message: /IAM/ },
  {
    name: 'caller not allowed',
    caller: assumed('intruder'),
    body: { key: 'reports/run-1/report.html' },
    status: 403,
    message: /may not/,
  },
  {
    name: 'allowed role name in another account',
    caller: assumed('report-reader', '999999999999'),
    body: { key: 'reports/run-1/report.html' },
    status: 403,
    message: /may not/,
  },
  {
    name: 'key outside the prefix',
    caller: assumed('report-reader'),
    body: { key: 'other/secret.csv' },
    status: 403,
    message: /under reports\//,
  },
  {
    name: 'prefix look-alike',
    caller: assumed('report-reader'),
    body: { key: 'reportsX/a.html' },
    status: 403,
    message: /under reports\//,
  },
  {
    name: 'dot-dot escape',
    caller: assumed('report-reader'),
    body: { key: 'reports/../other/secret.csv' },
    status: 400,
    message: /"\.\."/,
  },
  { name: 'missing key', caller: assumed('report-reader'), body: {}, status: 400, message: /key/ },
  {
    name: 'absent object',
    caller: assumed('report-reader'),
    body: { key: 'reports/none.html' },
    status: 404,
    message: /no report object/,
  },
  {
    name: 'TTL over one hour',
    caller: AUDITOR,
    body: { key: 'reports/run-1/report.html', ttl_seconds: 3601 },
    status: 400,
    message: /3600/,
  },
  {
    name: 'TTL zero',
    caller: AUDITOR,
    body: { key: 'reports/run-1/report.html', ttl_seconds: 0 },
    status: 400,
    message: /positive/,
  },
  {
    name: 'TTL fraction',
    caller: AUDITOR,
    body: { key: 'reports/run-1/report.html', ttl_seconds: 1.5 },
    status: 400,
    message: /whole/,
  },
  {
    name: 'TTL as text',
    caller: AUDITOR,
    body: { key: 'reports/run-1/report.html', ttl_seconds: '60' },
    status: 400,
    message: /whole/,
  },
  { name: 'body not JSON', caller: AUDITOR, body: '{not json', status: 400, message: /JSON object/ },
  { name: 'body a list', caller: AUDITOR, body: '[1]', status: 400, message: /JSON object/ },
];
for (const c of refusals)
  test(`refused: ${c.name} → ${c.status}`, async () => {
    const r = await call(c.body, c.caller);
    assert.is(r.statusCode, c.status, r.body);
    const body = JSON.parse(r.body) as { error: string; url?: string };
    assert.match(body.error, c.message);
    assert.not.ok(body.url);
  });

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const hmac = (key: Buffer | string, s: string) => createHmac('sha256', key).update(s).digest();

/** The SigV4 query-string signature of a presigned GET, computed from the URL and the secret key. */
function expectedSignature(url: URL, secret: string): string {
  const q = [...url.searchParams.entries()].filter(([k]) => k !== 'X-Amz-Signature');
  const enc = (s: string) =>
    encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const canonicalQuery = q
    .map(([k, v]) => [enc(k), enc(v)])
    .sort(([a], [b]) => (a! < b! ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonical = ['GET', url.pathname, canonicalQuery, `host:${url.host}`, '', 'host', 'UNSIGNED-PAYLOAD'].join(
    '\n',
  );
  const amzDate = url.searchParams.get('X-Amz-Date')!;
  const [, date, region, service] = /^[^/]+\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request$/.exec(
    url.searchParams.get('X-Amz-Credential')!,
  )!;
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date!), region!), service!), 'aws4_request');
  return createHmac('sha256', key).update(toSign).digest('hex');
}

const granted = [
  {
    name: 'assumed allowed role (role path ignored), default TTL',
    caller: assumed('report-reader'),
    ttl: undefined,
    expect: 900,
  },
  { name: 'allowed IAM user, the maximum TTL', caller: AUDITOR, ttl: 3600, expect: 3600 },
  { name: 'allowed IAM user, one minute', caller: AUDITOR, ttl: 60, expect: 60 },
];
for (const c of granted)
  test(`granted: ${c.name} → a GET URL valid ${c.expect} s for exactly that key`, async () => {
    const before = Date.now();
    const r = await call({ key: 'reports/run-1/report.html', ...(c.ttl ? { ttl_seconds: c.ttl } : {}) }, c.caller);
    assert.is(r.statusCode, 200, r.body);
    const body = JSON.parse(r.body) as { url: string; expiresAt: string; ttlSeconds: number };
    const url = new URL(body.url);
    assert.is(url.pathname, `/${BUCKET}/reports/run-1/report.html`);
    assert.is(url.searchParams.get('X-Amz-Expires'), String(c.expect));
    assert.is(url.searchParams.get('X-Amz-Algorithm'), 'AWS4-HMAC-SHA256');
    assert.is(url.searchParams.get('X-Amz-SignedHeaders'), 'host');
    assert.match(url.searchParams.get('X-Amz-Credential')!, /^testing\/\d{8}\/eu-west-2\/s3\/aws4_request$/);
    assert.is(url.searchParams.get('X-Amz-Signature'), expectedSignature(url, 'testing'));
    const expires = Date.parse(body.expiresAt);
    assert.ok(expires >= before + c.expect * 1000 - 1000 && expires <= Date.now() + c.expect * 1000 + 1000);
    // The URL reaches the object (moto serves it; it does not check the signature).
    const got = await fetch(url);
    assert.is(got.status, 200);
    assert.is(await got.text(), 'body of reports/run-1/report.html');
  });

test('a tampered URL no longer matches its signature (the check above can fail)', async () => {
  const r = await call({ key: 'reports/run-1/report.html' }, AUDITOR);
  const url = new URL((JSON.parse(r.body) as { url: string }).url);
  url.searchParams.set('X-Amz-Expires', '604800');
  assert.is.not(url.searchParams.get('X-Amz-Signature'), expectedSignature(url, 'testing'));
});

test.run();
