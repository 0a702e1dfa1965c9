/**
 * The repository made one's own: a copy of this working tree with a first user's database and
 * policies added at the root (`databases/`, `policies/`), committed, runs the toolkit's test files
 * that involve configs, and they pass — no test depends on the configs a user keeps.
 *
 * The subset (the full suite takes far longer): the files that used to read the root configs
 * (schema, validate CLI, sync CLI, the sample under examples/), the engine's table-driven cases and status.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BIN } from '../helpers/cli.js';
import { removeTree } from '../helpers/fixtures.js';
import { firstUserTree } from '../fixtures/first-user.js';

const TOOLKIT = path.resolve(BIN, '../../..');
const TESTS = [
  'tools/test/schema/schema.test.ts',
  'tools/test/examples/natwest.test.ts',
  'tools/test/validate/cli.test.ts',
  'tools/test/sync/cli.test.ts',
  'tools/test/engine/evaluate.test.ts',
  'tools/test/status/status.test.ts',
];
const GIT_ID = {
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@x.example',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@x.example',
};

const copy = mkdtempSync(path.join(tmpdir(), 'offload-own-repo-'));

test.before(() => {
  // Tracked and untracked-but-not-ignored files: the working tree as a user would commit it.
  const files = execFileSync('git', ['-C', TOOLKIT, 'ls-files', '-z', '-co', '--exclude-standard'], {
    encoding: 'utf8',
  })
    .split('\0')
    .filter(Boolean);
  for (const f of files) {
    mkdirSync(path.dirname(path.join(copy, f)), { recursive: true });
    cpSync(path.join(TOOLKIT, f), path.join(copy, f), { dereference: false });
  }
  symlinkSync(path.join(TOOLKIT, 'node_modules'), path.join(copy, 'node_modules'));
  for (const [f, content] of Object.entries(firstUserTree('ledger'))) writeFileSync(path.join(copy, f), content!);
  const git = (...a: string[]) => execFileSync('git', ['-C', copy, ...a], { env: { ...process.env, ...GIT_ID } });
  git('init', '-q');
  git('add', '-A');
  git('commit', '-qm', 'toolkit + a first user database');
});

test('the copy holds the user configs at the root and validates', () => {
  const r = spawnSync(process.execPath, [path.join(copy, 'tools/bin/offload.mjs'), 'validate'], {
    cwd: copy,
    encoding: 'utf8',
  });
  assert.is(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /valid: 4 files, 0 errors, 0 warnings/);
});

for (const t of TESTS)
  test(`${t} passes in the copy`, () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(copy, t)], {
      cwd: copy,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
    });
    const total = /Total:\s+(\d+)/.exec(r.stdout)?.[1];
    const passed = /Passed:\s+(\d+)/.exec(r.stdout)?.[1];
    assert.is(r.status, 0, `${r.stdout.slice(-3000)}\n${r.stderr.slice(-2000)}`);
    assert.ok(Number(total) > 0 && passed === total, `${passed}/${total}`);
  });

test.after(() => removeTree(copy));
test.run();
