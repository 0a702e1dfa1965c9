/** `offload sync` as a user runs it: options, exit codes, formats, refusal, and the sample repo. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeTree } from '../helpers/fixtures.js';
import { syncRepo } from '../helpers/sync-env.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const CLI = path.join(ROOT, 'tools/bin/offload.mjs');
const run = (args: string[], cwd = ROOT) =>
  spawnSync(process.execPath, [CLI, 'sync', ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });

/** The fixtures are not git repositories (the provenance guards have their own tests). */
const FIXTURE = ['--allow-uncommitted', 'test fixture outside git'];

/** The documented sample (examples/natwest), copied so the test never writes into the working tree. */
function sampleRepo(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'offload-sample-'));
  for (const p of ['offload.settings.yaml', 'databases', 'policies'])
    cpSync(path.join(ROOT, 'examples/natwest', p), path.join(dir, p), { recursive: true });
  return dir;
}

test('--help documents every option', () => {
  const r = run(['--help']);
  assert.is(r.status, 0);
  for (const opt of [
    '--target <target>',
    '--plan',
    '--apply',
    '--prune',
    '--format <format>',
    '--root <dir>',
    '--break-lock',
    '--commit <sha>',
    'Exit status',
  ])
    assert.ok(r.stdout.includes(opt), `${opt} in --help`);
});

test('the sample repo: `sync --target local --apply` publishes it, a second run reports no changes', () => {
  const repo = sampleRepo();
  const first = run(['--target', 'local', '--apply', ...FIXTURE], repo);
  assert.is(first.status, 0, first.stderr);
  assert.match(first.stdout, /Applied: \d+ created, 0 updated, 0 deleted/);
  const state = path.join(repo, '.offload/state');
  const dbs = readdirSync(path.join(repo, 'databases')).filter((f) => f.endsWith('.yaml'));
  for (const f of dbs) {
    assert.is(
      readFileSync(path.join(state, 'bucket/configs/databases', f), 'utf8'),
      readFileSync(path.join(repo, 'databases', f), 'utf8'),
    );
    assert.ok(existsSync(path.join(state, 'glue/connections', f.replace(/\.yaml$/, '.json'))));
    assert.ok(existsSync(path.join(state, 'table', `DATABASE%23${f.replace(/\.yaml$/, '')}.json`)));
  }
  const second = run(['--target', 'local', '--apply', ...FIXTURE], repo);
  assert.is(second.status, 0, second.stderr);
  assert.match(second.stdout, /No changes: the remote state matches the repo\./);
});

test('configs that fail validation: exit 1, findings printed, nothing written', () => {
  const tree = syncRepo();
  tree['databases/db1.yaml'] = String(tree['databases/db1.yaml']).replace('engine: postgres', 'engine: db2000');
  const repo = writeTree(tree);
  const r = run(['--target', 'local', '--apply', '--root', repo]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /databases\/db1\.yaml:\d+:\d+: error/);
  assert.match(r.stderr, /sync refused: the configs do not pass `offload validate`/);
  assert.not.match(r.stderr, /at .*\.ts:\d+/, 'no stack trace');
  assert.not.ok(existsSync(path.join(repo, '.offload')));
});

test('usage errors exit 2: --plan with --apply, an unknown target, an unknown format', () => {
  const repo = writeTree(syncRepo());
  for (const [args, msg] of [
    [['--plan', '--apply'], /exclude each other/],
    [['--target', 's3'], /unknown target "s3"/],
    [['--format', 'yaml'], /invalid|Allowed choices/],
  ] as const) {
    const r = run([...args, '--root', repo]);
    assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, msg);
  }
});

test('--format json: a stable document for scripts (plan, then apply)', () => {
  const repo = writeTree(syncRepo());
  const plan = JSON.parse(run(['--format', 'json', '--root', repo, '--commit', 'abc']).stdout);
  assert.is(plan.mode, 'plan');
  assert.is(plan.commit, 'abc');
  assert.equal(plan.summary, {
    create: 10,
    update: 0,
    delete: 0,
    drift: 0,
    orphans: 0,
    unchanged: 0,
    issues: 0,
    noChanges: false,
  });
  assert.equal(plan.changes[0], {
    resource: 'connection',
    id: 'db1',
    action: 'create',
    reason: 'new database',
    drift: false,
  });
  const applied = JSON.parse(
    run(['--format', 'json', '--apply', '--root', repo, '--commit', 'abc', ...FIXTURE]).stdout,
  );
  assert.is(applied.mode, 'apply');
  assert.is(applied.applied.changes, 10);
  assert.is(applied.generation.written, 1);
  assert.ok(applied.applied.manifestWritten);
  const again = JSON.parse(run(['--format', 'json', '--root', repo]).stdout);
  assert.is(again.summary.noChanges, true);
});

test('--format markdown: a PR comment with its marker line and a row per change', () => {
  const repo = writeTree(syncRepo());
  const out = run(['--format', 'markdown', '--root', repo, '--commit', 'abc']).stdout;
  assert.is(out.split('\n')[0], '<!-- offload-sync-plan -->');
  assert.match(out, /\| create \| connection \| `db1` \| new database \|/);
  assert.match(out, /\*\*Plan: 10 to create, 0 to update, 0 to delete; 0 unchanged\.\*\*/);
});

test('--prune is needed to delete; the plan lists what stays', () => {
  const repo = writeTree(syncRepo());
  assert.is(run(['--apply', '--root', repo, ...FIXTURE]).status, 0);
  rmSync(path.join(repo, 'databases/db2.yaml'));
  const kept = run(['--apply', '--root', repo, ...FIXTURE]);
  assert.match(
    kept.stdout,
    new RegExp(
      String.raw`No longer in the repo, kept \(--prune deletes them\):\n {2}= connection db2\n` +
        String.raw` {2}= item DATABASE#db2\n {2}= file configs\/databases\/db2\.yaml`,
    ),
  );
  assert.ok(existsSync(path.join(repo, '.offload/state/glue/connections/db2.json')));
  const pruned = run(['--apply', '--prune', '--root', repo, ...FIXTURE]);
  assert.match(pruned.stdout, /Glue connections:\n {2}- delete db2 /);
  assert.not.ok(existsSync(path.join(repo, '.offload/state/glue/connections/db2.json')));
});

test.run();
