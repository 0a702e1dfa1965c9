/**
 * Only committed, reviewed configs reach a target, and an older commit never silently replaces a
 * newer one (local target, real git repositories in temp dirs):
 * - `--apply` refuses modified, staged, untracked, ignored-but-loaded and deleted config files, and
 *   configs outside any git repository, unless `--allow-uncommitted <reason>` (recorded in the
 *   manifest); a plan is still shown and says it includes uncommitted changes;
 * - a commit that is not a descendant of the last synced one (out-of-order run, diverged branch) is
 *   refused naming both commits, unless `--allow-non-descendant <reason>` (recorded); a shallow clone
 *   that cannot tell is refused with a hint to fetch the full history;
 * - the merge-to-deploy workflow never passes either override.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runSync, type SyncOptions } from '../../src/sync/sync.js';
import { renderSync } from '../../src/sync/render.js';
import { UserError } from '../../src/errors.js';
import { writeTree } from '../helpers/fixtures.js';
import { database, holdsRepo, localHarness, policy, syncRepo } from '../helpers/sync-env.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const CLI = path.join(ROOT, 'tools/bin/offload.mjs');
const base = mkdtempSync(path.join(tmpdir(), 'offload-provenance-'));
let n = 0;

function git(dir: string, ...args: string[]): string {
  const r = spawnSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', ...args], {
    cwd: dir,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

/** A git repository holding the sync fixture, committed; returns its root. */
function gitRepo(): string {
  const root = writeTree(syncRepo(), 'offload-prov-repo-');
  git(root, 'init', '-q', '-b', 'main');
  git(root, 'add', '-A');
  git(root, 'commit', '-q', '-m', 'initial configs');
  return root;
}

function commitAll(root: string, message: string): string {
  git(root, 'add', '-A');
  git(root, 'commit', '-q', '-m', message);
  return git(root, 'rev-parse', 'HEAD');
}

const stateDir = () => path.join(base, `state-${++n}`);

async function sync(root: string, dir: string, o: Partial<SyncOptions> = {}) {
  const out = await runSync({ root, target: { kind: 'local', dir }, apply: true, prune: false, ...o });
  if (out.status === 'invalid') throw new Error('fixture invalid');
  return out;
}

async function refused(p: Promise<unknown>, code: 1 | 2 = 1): Promise<string> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof UserError, String((e as Error).stack));
    assert.is((e as UserError).exitCode, code, (e as Error).message);
    return (e as Error).message;
  }
  assert.unreachable('apply must be refused');
  return '';
}

const manifestOf = (dir: string) =>
  JSON.parse(readFileSync(path.join(dir, 'bucket/configs/_offload/manifest.json'), 'utf8'));
const tableOf = (dir: string) =>
  existsSync(path.join(dir, 'table')) ? readdirSync(path.join(dir, 'table')).sort() : [];

// ---- Issue 17, guard 2: uncommitted configs ------------------------------------------------------

const DIRTY: { name: string; edit: (root: string) => void; file: string }[] = [
  {
    name: 'a modified config',
    edit: (r) =>
      writeFileSync(path.join(r, 'databases/db1.yaml'), database('db1', { url: 'jdbc:postgresql://x:1/db1' })),
    file: 'databases/db1.yaml',
  },
  {
    name: 'a staged, uncommitted config',
    edit: (r) => {
      writeFileSync(path.join(r, 'policies/monthly.yaml'), policy('monthly', 'P3Y'));
      git(r, 'add', 'policies/monthly.yaml');
    },
    file: 'policies/monthly.yaml',
  },
  {
    name: 'an untracked new database',
    edit: (r) => writeFileSync(path.join(r, 'databases/db9.yaml'), database('db9')),
    file: 'databases/db9.yaml',
  },
  {
    name: 'a git-ignored config sync would still publish',
    edit: (r) => {
      writeFileSync(path.join(r, '.gitignore'), 'databases/local_*.yaml\n');
      commitAll(r, 'ignore local databases');
      writeFileSync(
        path.join(r, 'databases/local_dev.yaml'),
        database('local_dev', { url: 'jdbc:postgresql://localdev.example.internal:5432/dev' }),
      );
    },
    file: 'databases/local_dev.yaml',
  },
  {
    name: 'a deleted config',
    edit: (r) => rmSync(path.join(r, 'databases/db2.yaml')),
    file: 'databases/db2.yaml',
  },
  {
    name: 'modified settings',
    edit: (r) =>
      writeFileSync(
        path.join(r, 'offload.settings.yaml'),
        `${readFileSync(path.join(r, 'offload.settings.yaml'), 'utf8')}# edited\n`,
      ),
    file: 'offload.settings.yaml',
  },
];

for (const c of DIRTY) {
  test(`--apply refuses ${c.name} (named), writes nothing; the plan is shown and says so`, async () => {
    const root = gitRepo();
    const dir = stateDir();
    c.edit(root);
    const msg = await refused(sync(root, dir));
    assert.ok(msg.includes(c.file), msg);
    assert.match(msg, /--allow-uncommitted/);
    assert.equal(tableOf(dir), [], 'nothing written');
    const plan = await sync(root, dir, { apply: false });
    assert.is(plan.status, 'planned');
    const text = renderSync(plan.plan, 'text');
    assert.match(text, /uncommitted/);
    assert.ok(text.includes(c.file), text);
    assert.match(renderSync(plan.plan, 'markdown'), /uncommitted/);
    const doc = JSON.parse(renderSync(plan.plan, 'json'));
    assert.ok(
      doc.provenance.uncommitted.some((u: string) => u.startsWith(`${c.file} (`)),
      doc.provenance.uncommitted,
    );
  });
}

test('--allow-uncommitted <reason> applies them and records the reason and the files in the manifest', async () => {
  const root = gitRepo();
  const head = git(root, 'rev-parse', 'HEAD');
  const dir = stateDir();
  writeFileSync(path.join(root, 'databases/db9.yaml'), database('db9'));
  const out = await sync(root, dir, { allowUncommitted: 'INC-42 hotfix, reviewed on the call' });
  assert.is(out.status, 'applied');
  const m = manifestOf(dir);
  assert.is(m.commit, `${head}-dirty`);
  assert.equal(m.overrides, [
    { kind: 'uncommitted', reason: 'INC-42 hotfix, reviewed on the call', detail: 'databases/db9.yaml (untracked)' },
  ]);
  assert.ok(holdsRepo(await localHarness(dir).state(), root));
});

test('a clean, committed repo applies without a flag and records HEAD; no override is recorded', async () => {
  const root = gitRepo();
  const dir = stateDir();
  await sync(root, dir);
  const m = manifestOf(dir);
  assert.is(m.commit, git(root, 'rev-parse', 'HEAD'));
  assert.is(m.overrides, undefined);
});

test('configs outside git are refused unless --allow-uncommitted; an empty reason is a usage error', async () => {
  const root = writeTree(syncRepo());
  const dir = stateDir();
  const msg = await refused(sync(root, dir));
  assert.match(msg, /not in a git repository/);
  await refused(sync(root, dir, { allowUncommitted: '   ' }), 2);
  assert.is((await sync(root, dir, { allowUncommitted: 'local experiment' })).status, 'applied');
});

test('--commit naming another commit than the checked-out one is refused (it would mislabel the configs)', async () => {
  const root = gitRepo();
  const first = git(root, 'rev-parse', 'HEAD');
  writeFileSync(path.join(root, 'policies/monthly.yaml'), policy('monthly', 'P3Y'));
  commitAll(root, 'policy change');
  const msg = await refused(sync(root, stateDir(), { commit: first }), 2);
  assert.ok(msg.includes(first.slice(0, 12)), msg);
});

// ---- Issue 10, defect 3: an older commit never silently replaces a newer one --------------------

test('out of order: syncing the parent after its child is refused naming both; the override is recorded', async () => {
  const root = gitRepo();
  const dir = stateDir();
  const c1 = git(root, 'rev-parse', 'HEAD');
  assert.is((await sync(root, dir)).status, 'applied', 'the first sync ever needs no ancestry');
  writeFileSync(path.join(root, 'policies/monthly.yaml'), policy('monthly', 'P3Y'));
  const c2 = commitAll(root, 'keep longer');
  await sync(root, dir);
  assert.is(manifestOf(dir).commit, c2);
  assert.equal((await sync(root, dir)).plan.changes, [], 'the same commit again is a no-op');
  git(root, 'checkout', '-q', c1);
  const msg = await refused(sync(root, dir));
  assert.ok(msg.includes(c1) && msg.includes(c2), msg);
  assert.match(msg, /not a descendant/);
  assert.match(msg, /--allow-non-descendant/);
  assert.is(manifestOf(dir).commit, c2, 'nothing reverted');
  const manifestFile = path.join(dir, 'bucket/configs/_offload/manifest.json');
  const saved = readFileSync(manifestFile);
  rmSync(manifestFile);
  const again = await refused(sync(root, dir));
  assert.ok(again.includes(c2), `without the manifest, the items' commit stands in: ${again}`);
  writeFileSync(manifestFile, saved);
  const plan = await sync(root, dir, { apply: false });
  assert.match(renderSync(plan.plan, 'text'), /not a descendant/);
  await sync(root, dir, { allowNonDescendant: 'roll back INC-7' });
  const m = manifestOf(dir);
  assert.is(m.commit, c1);
  assert.equal(m.overrides, [{ kind: 'non-descendant', reason: 'roll back INC-7', detail: `last synced ${c2}` }]);
  git(root, 'checkout', '-q', 'main');
  assert.is((await sync(root, dir)).status, 'applied', 'the child of c1 syncs again');
  assert.is(manifestOf(dir).commit, c2);
});

test('diverged branches: a commit from a branch that does not contain the last synced one is refused', async () => {
  const root = gitRepo();
  const dir = stateDir();
  git(root, 'branch', 'feature');
  writeFileSync(path.join(root, 'policies/monthly.yaml'), policy('monthly', 'P3Y'));
  const onMain = commitAll(root, 'main change');
  await sync(root, dir);
  git(root, 'checkout', '-q', 'feature');
  writeFileSync(path.join(root, 'policies/monthly.yaml'), policy('monthly', 'P4Y'));
  const onFeature = commitAll(root, 'feature change');
  const msg = await refused(sync(root, dir));
  assert.ok(msg.includes(onFeature) && msg.includes(onMain), msg);
  git(root, 'checkout', '-q', 'main');
  git(root, 'merge', '-q', '--no-edit', '-X', 'theirs', 'feature');
  assert.is((await sync(root, dir)).status, 'applied', 'the merge contains both');
});

test('a shallow clone that cannot see the last synced commit is refused with a hint; full history passes', async () => {
  const origin = gitRepo();
  const dir = stateDir();
  writeFileSync(path.join(origin, 'policies/monthly.yaml'), policy('monthly', 'P3Y'));
  const c2 = commitAll(origin, 'c2');
  await sync(origin, dir);
  writeFileSync(path.join(origin, 'policies/monthly.yaml'), policy('monthly', 'P4Y'));
  const c3 = commitAll(origin, 'c3');
  const clone = path.join(base, `clone-${++n}`);
  git(base, 'clone', '-q', '--depth', '1', `file://${origin}`, clone);
  const msg = await refused(sync(clone, dir));
  assert.ok(msg.includes(c3) && msg.includes(c2), msg);
  assert.match(msg, /fetch the full history|fetch-depth: 0/);
  git(clone, 'fetch', '-q', '--unshallow');
  assert.is((await sync(clone, dir)).status, 'applied');
  assert.is(manifestOf(dir).commit, c3);
});

// ---- The CLI and the deploy workflow ------------------------------------------------------------

test('CLI: both overrides are documented, take a reason, and exit 1 when refused', () => {
  const help = spawnSync(process.execPath, [CLI, 'sync', '--help'], { encoding: 'utf8' });
  assert.match(help.stdout, /--allow-uncommitted <reason>/);
  assert.match(help.stdout, /--allow-non-descendant <reason>/);
  const root = gitRepo();
  writeFileSync(path.join(root, 'databases/db9.yaml'), database('db9'));
  const state = stateDir();
  const run = (...extra: string[]) =>
    spawnSync(process.execPath, [CLI, 'sync', '--target', `local:${state}`, '--apply', '--root', root, ...extra], {
      encoding: 'utf8',
    });
  const r = run();
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /databases\/db9\.yaml/);
  assert.not.match(r.stderr, /at .*\.ts:\d+/, 'no stack trace');
  const ok = run('--allow-uncommitted', 'trying the new database locally');
  assert.is(ok.status, 0, ok.stderr);
});

test('the merge-to-deploy workflow never passes an override, and checks out the full history', () => {
  // The workflow deploys through scripts/deploy.sh, which runs the sync: neither may pass an override.
  const wf = readFileSync(path.join(ROOT, '.github/workflows/deploy.yml'), 'utf8');
  const deploy = readFileSync(path.join(ROOT, 'scripts/deploy.sh'), 'utf8');
  assert.match(wf, /scripts\/deploy\.sh/);
  assert.match(deploy, /offload sync --target aws --apply/);
  for (const text of [wf, deploy]) assert.not.match(text, /allow-uncommitted|allow-non-descendant|break-lock/);
  assert.match(wf, /fetch-depth: 0/);
});

test.run();
