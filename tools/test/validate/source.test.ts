/** Config sources: the working tree and a git revision list and read the same kinds of files. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { writeTree, removeTree } from '../helpers/fixtures.js';
import { baseRepo, AUDIT } from '../helpers/repo.js';
import { fsSource, gitSource } from '../../src/config/source.js';
import { loadRepo } from '../../src/config/load.js';
import { UserError } from '../../src/errors.js';

function gitRepo(): string {
  const dir = writeTree({
    ...baseRepo(),
    'policies/nested/ignored.yaml': 'name: x\n',
    'databases/notes.txt': 'x',
    'README.md': '# r\n',
  });
  const g = (...args: string[]) => execFileSync('git', ['-C', dir, ...args], { stdio: 'pipe' });
  g('init', '-q', '-b', 'main');
  g('-c', 'user.email=t@example.com', '-c', 'user.name=t', 'add', '-A');
  g('-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-qm', 'base');
  return dir;
}

test('a git revision lists the configs of that revision and reads their committed bytes', async () => {
  const dir = gitRepo();
  try {
    writeFileSync(path.join(dir, 'policies/audit.yaml'), AUDIT.replace('P1Y', 'P5Y'));
    writeFileSync(path.join(dir, 'policies/new.yaml'), 'name: new\n');
    const src = gitSource(dir, 'HEAD');
    assert.equal(
      await src.listFiles(),
      ['databases/db1.yaml', 'offload.settings.yaml', 'policies/audit.yaml', 'policies/monthly.yaml'].sort(),
    );
    assert.is(new TextDecoder().decode(await src.readFile('policies/audit.yaml')), AUDIT);
    assert.is(await src.readFile('policies/new.yaml'), undefined);
    const work = fsSource(dir);
    assert.ok((await work.listFiles()).includes('policies/new.yaml'));
    assert.match(new TextDecoder().decode(await work.readFile('policies/audit.yaml')), 'P5Y');
    const repo = await loadRepo(src);
    assert.is(repo.errors, 0);
    assert.is(repo.policies.find((p) => p.config.name === 'audit')!.config.archive_after, 'P1Y');
  } finally {
    removeTree(dir);
  }
});

test('an unknown revision is a user error naming it', async () => {
  const dir = gitRepo();
  try {
    try {
      await gitSource(dir, 'origin/no-such-branch').listFiles();
      assert.unreachable('should throw');
    } catch (e) {
      assert.instance(e, UserError);
      assert.match((e as Error).message, 'origin/no-such-branch');
    }
  } finally {
    removeTree(dir);
  }
});

test('the working tree skips missing folders and non-config files', async () => {
  const dir = writeTree({ 'offload.settings.yaml': 'x: 1\n' });
  try {
    mkdirSync(path.join(dir, 'policies'));
    writeFileSync(path.join(dir, 'policies/readme.md'), '#');
    assert.equal(await fsSource(dir).listFiles(), ['offload.settings.yaml']);
  } finally {
    removeTree(dir);
  }
});

test.run();
