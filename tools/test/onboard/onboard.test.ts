/**
 * offload onboard end to end against the live PostgreSQL and MariaDB (uniquely named schemas and
 * logins, dropped afterwards) and moto's Secrets Manager: the file written (modeline, derived names,
 * passes `offload validate`), the credentials stored (never printed), the first inventory and preview;
 * a rerun reuses everything; a wrong password, an unreachable host, a login that can write and an
 * invalid answer are each refused clearly with nothing left behind.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, statSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawn } from 'node:child_process';
import pg from 'pg';
import mysql from 'mysql2/promise';
import { SecretsManagerClient, GetSecretValueCommand, ListSecretsCommand } from '@aws-sdk/client-secrets-manager';
import { BIN, cli } from '../helpers/cli.js';
import { removeTree } from '../helpers/fixtures.js';
import { startMoto, type MotoServer } from '../helpers/moto.js';
import { env, myConn, pgConn } from '../catalog/live-setup.js';
import { gitRepo, repoTree } from '../governance/fixtures.js';
import { startFakeGitHub } from './github-git-server.js';

const RUN = `${process.pid.toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
const SCHEMA = `onb_${RUN}`;
const RO = `onb_ro_${RUN}`;
const RO_PASSWORD = `ro-${RUN}-secret!`;
const ADMIN_PASSWORD = env('OFFLOAD_TEST_PASSWORD');
const dirs: string[] = [];
let moto: MotoServer;

/** Runs the CLI with the password on stdin. */
function onboard(root: string, args: string[], password: string, extraEnv: NodeJS.ProcessEnv = {}) {
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [BIN, 'onboard', ...args, '--password-stdin'], {
      cwd: root,
      env: { ...process.env, ...extraEnv },
    });
    let stdout = '',
      stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(`${password}\n`);
  });
}

test.before(async () => {
  const c = new pg.Client(pgConn());
  await c.connect();
  await c.query(`CREATE SCHEMA ${SCHEMA}`);
  await c.query(`CREATE TABLE ${SCHEMA}.txn_202001 (id int primary key, amount numeric(12,2))`);
  await c.query(`INSERT INTO ${SCHEMA}.txn_202001 SELECT g, g FROM generate_series(1, 50) g`);
  await c.query(`CREATE TABLE ${SCHEMA}.txn_202611 (id int primary key)`);
  await c.query(`CREATE ROLE ${RO} LOGIN PASSWORD '${RO_PASSWORD}'`);
  await c.query(`GRANT USAGE ON SCHEMA ${SCHEMA} TO ${RO}`);
  await c.query(`GRANT SELECT ON ALL TABLES IN SCHEMA ${SCHEMA} TO ${RO}`);
  await c.end();
  const m = await mysql.createConnection(myConn());
  await m.query(`CREATE DATABASE ${SCHEMA}`);
  await m.query(`CREATE TABLE ${SCHEMA}.txn_202001 (id int primary key)`);
  await m.query(`INSERT INTO ${SCHEMA}.txn_202001 VALUES (1), (2), (3)`);
  await m.query(`CREATE USER '${RO}'@'%' IDENTIFIED BY '${RO_PASSWORD}'`);
  await m.query(`GRANT SELECT ON ${SCHEMA}.* TO '${RO}'@'%'`);
  await m.end();
  moto = await startMoto();
});

test.after(async () => {
  dirs.forEach(removeTree);
  const c = new pg.Client(pgConn());
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await c.query(`DROP ROLE IF EXISTS ${RO}`);
  await c.end();
  const m = await mysql.createConnection(myConn());
  await m.query(`DROP DATABASE IF EXISTS ${SCHEMA}`);
  await m.query(`DROP USER IF EXISTS '${RO}'@'%'`);
  await m.end();
  await moto?.stop();
});

function setup(): string {
  const root = gitRepo(repoTree({}));
  dirs.push(root);
  return root;
}
const pgUrl = (port = env('OFFLOAD_TEST_PG_PORT')) =>
  `jdbc:postgresql://${env('OFFLOAD_TEST_PG_HOST')}:${port}/${env('OFFLOAD_TEST_DB')}`;
const args = (name: string, url: string, user: string, more: string[] = []) => [
  '--name',
  name,
  '--engine',
  url.startsWith('jdbc:postgresql') ? 'postgres' : 'mariadb',
  '--jdbc-url',
  url,
  '--schema',
  SCHEMA,
  '--policy',
  'monthly',
  '--owner-team',
  'Ledger',
  '--owner-contact',
  'ledger@acme.example',
  '--user',
  user,
  '--as-of',
  '2026-11-27',
  ...more,
];
/** Nothing of the onboarding is left: no file, no credentials, no inventory. */
function nothingLeft(root: string, name: string) {
  assert.not.ok(existsSync(path.join(root, `databases/${name}.yaml`)), 'no YAML file');
  assert.not.ok(existsSync(path.join(root, '.offload/credentials.yaml')), 'no credentials file');
  assert.not.ok(existsSync(path.join(root, `inventory/${name}.json`)), 'no inventory');
}

test('PostgreSQL, local: file, credentials, inventory, preview; password never printed; rerun reuses', async () => {
  const root = setup();
  const r = await onboard(root, args('ledger_pg', pgUrl(), RO), RO_PASSWORD);
  assert.is(r.status, 0, r.stderr);
  assert.not.ok(r.stdout.includes(RO_PASSWORD) || r.stderr.includes(RO_PASSWORD), 'password printed');
  const yaml = readFileSync(path.join(root, 'databases/ledger_pg.yaml'), 'utf8');
  assert.is(yaml.split('\n')[0], '# yaml-language-server: $schema=../schema/database.schema.json');
  assert.match(yaml, /# {3}Glue database: {4}archive_ledger_pg\n/);
  assert.match(yaml, /# {3}Archive location: s3:\/\/acme-archive-vault\/iceberg\/archive_ledger_pg\/\n/);
  assert.match(yaml, /secret: acme\/archival\/ledger_pg\n/);
  assert.not.ok(yaml.includes(RO_PASSWORD));
  const v = await cli(['validate'], root);
  assert.is(v.status, 0, v.stdout + v.stderr);
  const credFile = path.join(root, '.offload/credentials.yaml');
  assert.match(
    readFileSync(credFile, 'utf8'),
    new RegExp(`ledger_pg:\\n\\s+user: ${RO}\\n\\s+password: ${RO_PASSWORD}`),
  );
  assert.is(statSync(credFile).mode & 0o777, 0o600);
  const inv = JSON.parse(readFileSync(path.join(root, 'inventory/ledger_pg.json'), 'utf8'));
  assert.equal(inv.tables.map((t: { name: string }) => t.name).sort(), ['txn_202001', 'txn_202611']);
  // monthly archives after P2Y: txn_202001 (ends 2020-01-31) yes, txn_202611 not yet.
  assert.match(r.stdout, new RegExp(`\\+ "${SCHEMA}"\\."txn_202001": archive`));
  assert.not.match(r.stdout, /txn_202611/);
  const again = await onboard(root, args('ledger_pg', pgUrl(), RO), RO_PASSWORD);
  assert.is(again.status, 0, again.stderr);
  assert.match(again.stdout, /ledger_pg\.yaml: unchanged/);
  assert.match(again.stdout, /credentials: unchanged/);
});

test('refusals leave nothing behind: wrong password, unreachable host, a writing login, a bad answer', async () => {
  const closed = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
  const cases: { name: string; args: string[]; password: string; says: RegExp }[] = [
    { name: 'wrong password', args: args('bad_pw', pgUrl(), RO), password: 'nope', says: /auth-failed/ },
    {
      name: 'unreachable host',
      args: args('bad_host', pgUrl(String(closed)), RO),
      password: RO_PASSWORD,
      says: /unreachable/,
    },
    {
      name: 'a login that can write (PostgreSQL)',
      args: args('writer_pg', pgUrl(), env('OFFLOAD_TEST_USER')),
      password: ADMIN_PASSWORD,
      says: /refused the login .*superuser.*may write 2 table/,
    },
    {
      name: 'a login that can write (MariaDB)',
      args: args(
        'writer_my',
        `jdbc:mariadb://${env('OFFLOAD_TEST_MYSQL_HOST')}:${env('OFFLOAD_TEST_MYSQL_PORT')}/${SCHEMA}`,
        env('OFFLOAD_TEST_USER'),
      ),
      password: ADMIN_PASSWORD,
      says: /refused the login .*global write privileges/,
    },
    {
      name: 'an unknown policy',
      args: args('bad_policy', pgUrl(), RO).map((a) => (a === 'monthly' ? 'weekly' : a)),
      password: RO_PASSWORD,
      says: /databases\/bad_policy\.yaml:\d+:\d+ rule\/unknown-policy/,
    },
  ];
  for (const c of cases) {
    const root = setup();
    const name = c.args[1]!;
    const r = await onboard(root, c.args, c.password);
    assert.is(r.status, 1, `${c.name}: ${r.stderr}`);
    assert.match(r.stderr, c.says, c.name);
    assert.match(r.stderr, /nothing was written/, c.name);
    assert.not.match(r.stderr, /internal error|\n\s+at /, c.name);
    assert.not.ok(r.stderr.includes(c.password) && c.password.length > 4, `${c.name}: password printed`);
    nothingLeft(root, name);
  }
});

test('MariaDB, aws target: the secret in Secrets Manager (moto); a failed run creates no secret', async () => {
  const root = setup();
  const url = `jdbc:mariadb://${env('OFFLOAD_TEST_MYSQL_HOST')}:${env('OFFLOAD_TEST_MYSQL_PORT')}/${SCHEMA}`;
  const sm = new SecretsManagerClient({ region: 'eu-west-1' });
  const bad = await onboard(root, args('ledger_my', url, RO, ['--target', 'aws']), 'wrong');
  assert.is(bad.status, 1);
  assert.equal((await sm.send(new ListSecretsCommand({}))).SecretList ?? [], []);
  const r = await onboard(root, args('ledger_my', url, RO, ['--target', 'aws']), RO_PASSWORD);
  assert.is(r.status, 0, r.stderr);
  assert.not.ok(r.stdout.includes(RO_PASSWORD) || r.stderr.includes(RO_PASSWORD));
  const s = await sm.send(new GetSecretValueCommand({ SecretId: 'acme/archival/ledger_my' }));
  assert.equal(JSON.parse(s.SecretString!), { username: RO, password: RO_PASSWORD });
  assert.not.ok(existsSync(path.join(root, '.offload/credentials.yaml')), 'aws target writes no local file');
  assert.match(r.stdout, new RegExp(`\\+ "${SCHEMA}"\\."txn_202001": archive`));
  sm.destroy();
});

test('--pr: one commit with the file and inventory on a new branch, the preview as body (fake GitHub)', async () => {
  const gh = await startFakeGitHub('acme', 'configs');
  const root = setup();
  const prEnv = { GITHUB_TOKEN: 'test-token', GITHUB_REPOSITORY: 'acme/configs', GITHUB_API_URL: gh.url };
  const r = await onboard(root, args('ledger_pr', pgUrl(), RO, ['--pr']), RO_PASSWORD, prEnv);
  await gh.close();
  assert.is(r.status, 0, r.stderr);
  assert.match(
    r.stdout,
    /pull request #7 on offload\/onboard-ledger_pr: https:\/\/github\.example\/acme\/configs\/pull\/7/,
  );
  const req = (method: string, suffix: string) =>
    gh.requests.find((x) => x.method === method && x.path.endsWith(suffix));
  const tree = req('POST', '/git/trees')!.body;
  assert.is(tree.base_tree, 'base-tree-sha');
  assert.equal(
    tree.tree.map((f: { path: string }) => f.path),
    ['databases/ledger_pr.yaml', 'inventory/ledger_pr.json'],
  );
  assert.is(tree.tree[0].content, readFileSync(path.join(root, 'databases/ledger_pr.yaml'), 'utf8'));
  assert.is(tree.tree[1].content, readFileSync(path.join(root, 'inventory/ledger_pr.json'), 'utf8'));
  assert.not.ok(JSON.stringify(gh.requests).includes(RO_PASSWORD), 'the password never reaches GitHub');
  const commit = req('POST', '/git/commits')!.body;
  assert.equal([commit.tree, commit.parents], ['new-tree-sha', ['base-commit-sha']]);
  assert.equal(req('POST', '/git/refs')!.body, { ref: 'refs/heads/offload/onboard-ledger_pr', sha: 'new-commit-sha' });
  const pull = req('POST', '/pulls')!.body;
  assert.equal([pull.head, pull.base, pull.title], ['offload/onboard-ledger_pr', 'main', 'Onboard database ledger_pr']);
  assert.match(pull.body, /<!-- offload-preview -->/);
  assert.match(pull.body, /txn&#95;202001/);
  assert.ok(gh.requests.every((x) => x.auth === 'token test-token'));
});

test('--pr that fails deletes its branch and undoes the local writes', async () => {
  const gh = await startFakeGitHub('acme', 'configs', { failPulls: true });
  const root = setup();
  const prEnv = { GITHUB_TOKEN: 't', GITHUB_REPOSITORY: 'acme/configs', GITHUB_API_URL: gh.url };
  const r = await onboard(root, args('ledger_fail', pgUrl(), RO, ['--pr']), RO_PASSWORD, prEnv);
  await gh.close();
  assert.is(r.status, 1);
  assert.match(r.stderr, /opening the pull request on acme\/configs failed \(HTTP 422\)/);
  assert.not.match(r.stderr, /POST \/repos/, 'no request log besides the one message');
  assert.ok(
    gh.requests.some((x) => x.method === 'DELETE' && x.path.endsWith('/git/refs/heads/offload/onboard-ledger_fail')),
  );
  assert.equal([...gh.refs.keys()], ['heads/main']);
  nothingLeft(root, 'ledger_fail');
});

test.run();
