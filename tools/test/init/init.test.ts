/**
 * `offload init`: a new config repository in an empty folder validates, previews (over an inventory
 * fixture) and syncs locally; bad input exits 2 and writes nothing. The new repository is a clone of
 * this toolkit's committed HEAD; the commands run are this working tree's CLI, in the new folder.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { BIN } from '../helpers/cli.js';
import { removeTree } from '../helpers/fixtures.js';
import { remoteUrl } from '../../src/init/init.js';
import { firstUserTree } from '../fixtures/first-user.js';
import { inventory, table, eventCol, measured } from '../engine/fixtures.js';

const TOOLKIT = path.resolve(BIN, '../../..');
const GIT_ID = {
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@x.example',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@x.example',
};
const run = (cwd: string, args: string[]) => {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'], // no terminal: init must not prompt
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-C', cwd, ...args], { encoding: 'utf8', env: { ...process.env, ...GIT_ID } }).trim();

const parent = mkdtempSync(path.join(tmpdir(), 'offload-init-'));

test('init in a new folder: settings from flags, empty config folders, workflows, schemas, the toolkit remote', () => {
  const dir = path.join(parent, 'configs');
  const r = run(parent, [
    'init',
    'configs',
    '--prefix',
    'acme-data',
    '--region',
    'us-east-2',
    '--account',
    '123456789012',
    '--config-bucket',
    'acme-cfg',
  ]);
  assert.is(r.code, 0, r.out + r.err);
  const settings = readFileSync(path.join(dir, 'offload.settings.yaml'), 'utf8');
  const s = parse(settings);
  assert.is(s.resource_prefix, 'acme-data');
  assert.is(s.region, 'us-east-2');
  assert.is(s.account_id, '123456789012');
  assert.is(s.config.bucket, 'acme-cfg');
  assert.is(s.config.dynamodb_table, 'acme-data-archival-configs');
  assert.is(s.archive.bucket, 'acme-data-data-archive-vault');
  assert.is(s.dags.archival, 'acme_data_data_archival_to_iceberg');
  // The modeline points at a schema that exists in the new repository.
  const modeline = /^# yaml-language-server: \$schema=(.+)$/.exec(settings.split('\n')[0]!);
  assert.ok(modeline && existsSync(path.join(dir, modeline[1]!)), settings.split('\n')[0]);
  for (const d of ['databases', 'policies'])
    assert.equal(
      readdirSync(path.join(dir, d)).filter((f) => /\.ya?ml$/.test(f)),
      [],
      `${d}/ starts empty`,
    );
  for (const f of ['.github/workflows/pr-check.yml', '.github/workflows/deploy.yml', 'schema/policy.schema.json'])
    assert.ok(existsSync(path.join(dir, f)), f);
  assert.not.ok(existsSync(path.join(dir, 'inventory')), 'no sample inventory at the root');
  assert.is(git(dir, 'rev-parse', '--abbrev-ref', 'HEAD'), 'main');
  assert.is(git(dir, 'status', '--porcelain'), '', 'everything committed');
  // Updates come from where this toolkit checkout came from (its origin), else from the checkout itself.
  assert.is(git(dir, 'remote', 'get-url', 'toolkit'), remoteUrl(TOOLKIT, 'origin') ?? TOOLKIT);
  assert.is(git(dir, 'log', '-1', '--format=%s'), 'offload init: settings for acme-data');
  assert.equal(
    readdirSync(parent).filter((f) => f !== 'configs'),
    [],
    'no work folder left',
  );
});

test('the new repository validates, previews over an inventory fixture, and syncs locally', () => {
  const dir = path.join(parent, 'configs');
  const empty = run(dir, ['validate']);
  assert.is(empty.code, 0, empty.out + empty.err);
  assert.match(empty.out, /valid: 1 file, 0 errors/);
  for (const [f, content] of Object.entries(firstUserTree('ledger'))) writeFileSync(path.join(dir, f), content!);
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'onboard ledger');
  const v = run(dir, ['validate']);
  assert.is(v.code, 0, v.out + v.err);
  assert.match(v.out, /valid: 4 files, 0 errors, 0 warnings/);
  mkdirSync(path.join(dir, 'inventory'));
  const inv = inventory('ledger', [
    table('ledger', 'txn_202001'),
    table('ledger', 'txn_202410'),
    table('ledger', 'txn_202411'),
    table('ledger', 'audit_log', { columns: [eventCol], column_max: measured('2025-06-30T00:00:00Z') }),
  ]);
  writeFileSync(path.join(dir, 'inventory/ledger.json'), JSON.stringify(inv));
  const p = run(dir, ['preview', '--base', 'HEAD~1', '--as-of', '2026-11-27', '--format', 'json']);
  assert.is(p.code, 0, p.out + p.err);
  const json = JSON.parse(p.out);
  assert.is(json.complete, true);
  // By hand: txn_202001 → 2020-01-31 + P2Y = 2022-01-31; txn_202410 → 2026-10-31 (both due);
  // txn_202411 → 2026-11-30 (not yet); audit_log → 2025-06-30 + P1Y = 2026-06-30, held, no purge.
  assert.equal(
    json.changes.map((c: { table: string; change: string; action: string }) => [c.table, c.change, c.action]),
    [
      ['audit_log', 'added', 'archive'],
      ['txn_202001', 'added', 'archive'],
      ['txn_202410', 'added', 'archive'],
    ],
  );
  const audit = json.changes[0].schedule;
  assert.equal([audit.archive_due, audit.purge_due, audit.legal_hold], ['2026-06-30T00:00:00.000Z', null, true]);
  const s = run(dir, ['sync', '--target', 'local', '--apply']);
  assert.is(s.code, 0, s.out + s.err);
  const state = path.join(dir, '.offload/state');
  assert.is(
    readFileSync(path.join(state, 'bucket/configs/databases/ledger.yaml'), 'utf8'),
    readFileSync(path.join(dir, 'databases/ledger.yaml'), 'utf8'),
  );
  assert.ok(existsSync(path.join(state, 'glue/connections/ledger.json')));
  assert.is(git(dir, 'status', '--porcelain'), '?? inventory/', '.offload/ is ignored');
});

const refused: [string, string[], RegExp][] = [
  ['missing --region with no terminal', ['init', 'x1', '--prefix', 'acme'], /missing --region/],
  ['an invalid prefix names its option', ['init', 'x2', '--prefix', 'Acme!', '--region', 'eu-west-1'], /--prefix: /],
  ['an invalid region', ['init', 'x3', '--prefix', 'acme', '--region', 'Europe'], /--region: /],
];
for (const [name, args, message] of refused)
  test(`refused, exit 2, nothing written: ${name}`, () => {
    const r = run(parent, args);
    assert.is(r.code, 2, r.out + r.err);
    assert.match(r.err, message);
    assert.not.match(r.err, /\n\s+at /, 'no stack trace');
    assert.not.ok(existsSync(path.join(parent, args[1]!)));
    assert.equal(readdirSync(parent).sort(), ['configs']);
  });

test('refused, exit 2: a folder that is not empty is left as it was', () => {
  const r = run(parent, ['init', 'configs', '--prefix', 'acme', '--region', 'eu-west-1']);
  assert.is(r.code, 2);
  assert.match(r.err, /is not empty/);
  assert.is(
    parse(readFileSync(path.join(parent, 'configs/offload.settings.yaml'), 'utf8')).resource_prefix,
    'acme-data',
  );
});

test('on a terminal, init asks for what the flags did not give (answers typed ahead are kept)', () => {
  // `script` (util-linux) gives the command a terminal; the answers arrive before the first question.
  const r = spawnSync('script', ['-qec', `${process.execPath} ${BIN} init asked --account 210987654321`, '/dev/null'], {
    cwd: parent,
    input: 'acme-asked\neu-central-1\n',
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  assert.is(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /Resource prefix .*AWS region/s);
  assert.not.match(r.stdout, /AWS account id/, '--account was given');
  const s = parse(readFileSync(path.join(parent, 'asked/offload.settings.yaml'), 'utf8'));
  assert.equal([s.resource_prefix, s.region, s.account_id], ['acme-asked', 'eu-central-1', '210987654321']);
});

test.after(() => removeTree(parent));
test.run();
