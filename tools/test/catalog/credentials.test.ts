/**
 * Credentials: environment first, then the local credentials file, then Secrets Manager (against
 * moto in server mode, the project's AWS emulator); every failure names the database and where it looked.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync } from 'node:fs';
import { SecretsManagerClient, CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { resolveCredentials, CredentialsError } from '../../src/catalog/credentials.js';
import { envPrefix } from '../../src/config/naming.js';
import { targetOf } from '../../src/catalog/discover.js';
import type { DatabaseConfig } from '../../src/generated/database.js';
import { writeTree, removeTree } from '../helpers/fixtures.js';
import { startMoto, type MotoServer } from '../helpers/moto.js';

const db = (name: string, secret = `acme/${name}`): DatabaseConfig => ({
  name,
  engine: 'postgres',
  jdbc_url: `jdbc:postgresql://db.internal:5432/${name}`,
  credentials: { secret },
  owner: { team: 't', contact: 't@x.example' },
  scope: [{ schema: 's', policies: ['p'] }],
});

test('environment variable names: upper-cased, other characters to _', () => {
  assert.is(envPrefix('nucleus_dev'), 'OFFLOAD_DB_NUCLEUS_DEV_');
  assert.is(envPrefix('bizops-orcl.conn'), 'OFFLOAD_DB_BIZOPS_ORCL_CONN_');
});

test('environment wins, with an optional URL override', async () => {
  const c = await resolveCredentials(db('nucleus_dev'), {
    env: {
      OFFLOAD_DB_NUCLEUS_DEV_USER: 'u',
      OFFLOAD_DB_NUCLEUS_DEV_PASSWORD: 'p',
      OFFLOAD_DB_NUCLEUS_DEV_URL: 'jdbc:postgresql://127.0.0.1:55432/x',
    },
    aws: false,
  });
  assert.equal(
    [c.user, c.password, c.url, c.origin],
    ['u', 'p', 'jdbc:postgresql://127.0.0.1:55432/x', 'environment OFFLOAD_DB_NUCLEUS_DEV_*'],
  );
  assert.equal(targetOf(db('nucleus_dev'), c), { host: '127.0.0.1', port: 55432, database: 'x', params: {} });
  assert.equal(targetOf(db('nucleus_dev'), { host: 'h2', port: 6000 }), {
    host: 'h2',
    port: 6000,
    database: 'nucleus_dev',
    params: {},
  });
});

test('half-set environment is an error naming both variables', async () => {
  await resolveCredentials(db('a'), { env: { OFFLOAD_DB_A_USER: 'u' }, aws: false }).then(
    () => assert.unreachable(),
    (e) => {
      assert.instance(e, CredentialsError);
      assert.match(e.message, /OFFLOAD_DB_A_USER and OFFLOAD_DB_A_PASSWORD/);
    },
  );
});

test('local credentials file under .offload/ (git-ignored), and OFFLOAD_CREDENTIALS_FILE', async () => {
  const dir = writeTree({
    '.offload/credentials.yaml':
      'databases:\n  a:\n    user: fu\n    password: fp\n    url: jdbc:postgresql://127.0.0.1:1/a\n',
    'other.yaml': 'databases:\n  a: { user: ou, password: op }\n',
    'bad.yaml': 'databases:\n  a: { user: 1 }\n',
  });
  try {
    chmodSync(`${dir}/.offload/credentials.yaml`, 0o600);
    const c = await resolveCredentials(db('a'), { env: { HOME: '/nonexistent' }, root: dir, aws: false });
    assert.equal(
      [c.user, c.password, c.url, c.origin],
      ['fu', 'fp', 'jdbc:postgresql://127.0.0.1:1/a', `${dir}/.offload/credentials.yaml`],
    );
    const o = await resolveCredentials(db('a'), {
      env: { OFFLOAD_CREDENTIALS_FILE: `${dir}/other.yaml` },
      root: dir,
      aws: false,
    });
    assert.is(o.user, 'ou');
    await resolveCredentials(db('a'), { env: { OFFLOAD_CREDENTIALS_FILE: `${dir}/bad.yaml` }, aws: false }).then(
      () => assert.unreachable(),
      (e) => assert.match(e.message, /databases\.a needs string "user" and "password"/),
    );
    await resolveCredentials(db('a'), { env: { OFFLOAD_CREDENTIALS_FILE: `${dir}/missing.yaml` }, aws: false }).then(
      () => assert.unreachable(),
      (e) => assert.match(e.message, /cannot be read/),
    );
    await resolveCredentials(db('b'), { env: { HOME: '/nonexistent' }, root: dir, aws: false }).then(
      () => assert.unreachable(),
      (e) => assert.match(e.message, /no credentials for database b: set OFFLOAD_DB_B_USER/),
    );
  } finally {
    removeTree(dir);
  }
});

let moto: MotoServer | undefined;
test('Secrets Manager (moto): username/password/host/port from the secret; a missing secret is named', async () => {
  moto = await startMoto();
  const sm = new SecretsManagerClient({});
  await sm.send(
    new CreateSecretCommand({
      Name: 'acme/nucleus',
      SecretString: JSON.stringify({
        username: 'svc',
        password: 's3cret',
        host: 'nucleus.internal',
        port: 6543,
        engine: 'postgres',
      }),
    }),
  );
  sm.destroy();
  const c = await resolveCredentials(db('nucleus', 'acme/nucleus'), {
    env: { HOME: '/nonexistent' },
    region: 'eu-west-1',
  });
  assert.equal(
    [c.user, c.password, c.host, c.port, c.origin],
    ['svc', 's3cret', 'nucleus.internal', 6543, 'secret acme/nucleus'],
  );
  assert.equal(targetOf(db('nucleus'), c).host, 'nucleus.internal');
  await resolveCredentials(db('gone', 'acme/gone'), { env: { HOME: '/nonexistent' }, region: 'eu-west-1' }).then(
    () => assert.unreachable(),
    (e) => {
      assert.match(
        e.message,
        new RegExp(
          String.raw`no credentials for database gone: Secrets Manager secret "acme\/gone" could not be read ` +
            String.raw`\(ResourceNotFoundException`,
        ),
      );
      assert.match(e.message, /OFFLOAD_DB_GONE_USER/);
    },
  );
  // A client to reuse (a warm Lambda's): every read of its region goes through it, and it stays open.
  const shared = new SecretsManagerClient({ region: 'eu-west-1' });
  let sent = 0;
  shared.middlewareStack.add(
    (next) => async (args) => {
      sent++;
      return next(args);
    },
    { step: 'initialize' },
  );
  const opts = { env: { HOME: '/nonexistent' }, region: 'eu-west-1', secretsManager: shared };
  for (let i = 0; i < 2; i++) assert.is((await resolveCredentials(db('nucleus', 'acme/nucleus'), opts)).user, 'svc');
  assert.is(sent, 2);
  // An ARN naming another region gets a client of that region, not the shared one.
  const other = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:acme/other';
  await resolveCredentials(db('other', other), opts).then(
    () => assert.unreachable(),
    (e) => assert.match(e.message, /secret "arn:aws:secretsmanager:us-east-1/),
  );
  assert.is(sent, 2);
  shared.destroy();
});

test.after(async () => {
  await moto?.stop();
});

test.run();
