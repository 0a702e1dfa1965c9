/**
 * Loading configs from memory (a Lambda that read them from the config bucket) gives exactly what
 * loading the same tree from disk gives: the same files listed, the same findings, the same configs.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fsSource, loadRepo, memorySource } from '../../src/core/index.js';
import { removeTree, type Tree, writeTree } from '../helpers/fixtures.js';
import { baseRepo } from '../helpers/repo.js';

const cases: { name: string; tree: Tree; files: string[] }[] = [
  {
    name: 'a valid repo',
    tree: baseRepo(),
    files: ['offload.settings.yaml', 'databases/db1.yaml', 'policies/audit.yaml', 'policies/monthly.yaml'],
  },
  {
    name: 'broken files and files that are not configs',
    tree: {
      ...baseRepo(),
      'databases/zz.yml': 'name: zz\nengine: [oops\n',
      'databases/nested/x.yaml': 'name: x\n',
      'policies/notes.txt': 'not a config',
      'README.md': '# hello',
      'policies/a-first.yaml': 'name: wrong-name\nage: { from: table_name }\narchive_after: P1Y\n',
    },
    files: [
      'offload.settings.yaml',
      'databases/db1.yaml',
      'databases/zz.yml',
      'policies/a-first.yaml',
      'policies/audit.yaml',
      'policies/monthly.yaml',
    ],
  },
  {
    name: 'no settings file',
    tree: { 'databases/db1.yaml': baseRepo()['databases/db1.yaml']! },
    files: ['databases/db1.yaml'],
  },
];

for (const c of cases)
  test(`memory and disk load the same: ${c.name}`, async () => {
    const dir = writeTree(c.tree);
    try {
      const entries = Object.entries(c.tree).filter((e): e is [string, string | Uint8Array] => e[1] !== null);
      const fromMemory = await loadRepo(memorySource(new Map(entries), 'mem'));
      const fromDisk = await loadRepo(fsSource(dir));
      assert.equal(fromMemory.files, c.files);
      assert.equal(fromDisk.files, c.files);
      assert.equal(fromMemory.findings, fromDisk.findings);
      assert.equal(
        fromMemory.databases.map((d) => d.config),
        fromDisk.databases.map((d) => d.config),
      );
      assert.equal(
        fromMemory.policies.map((p) => p.config),
        fromDisk.policies.map((p) => p.config),
      );
      assert.is(fromMemory.errors, fromDisk.errors);
      assert.is(fromDisk.errors > 0, c.name !== 'a valid repo', 'broken trees have errors, the valid one none');
    } finally {
      removeTree(dir);
    }
  });

test.run();
