/**
 * The architecture rules (.dependency-cruiser.cjs) catch what they promise: each case lays out a small
 * tools/src tree in a temp dir with one offending import, runs dependency-cruiser with the repo's rules
 * and expects exactly that rule to fire (and nothing on the clean tree).
 */
import { symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { cruise, type ICruiseOptions, type ICruiseResult, type IForbiddenRuleType } from 'dependency-cruiser';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { removeTree, type Tree, writeTree } from '../helpers/fixtures.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');

const clean: Tree = {
  'tools/src/errors.ts': 'export class UserError extends Error {}\n',
  'tools/src/config/load.ts': "import { UserError } from '../errors.ts';\nexport const load = () => new UserError();\n",
  'tools/src/engine/evaluate.ts': "import { load } from '../config/load.ts';\nexport const evaluate = () => load();\n",
  'tools/src/core/index.ts': "export { evaluate } from '../engine/evaluate.ts';\n",
  'tools/src/sync/sync.ts': "import { evaluate } from '../core/index.ts';\nexport const sync = () => evaluate();\n",
  'tools/src/cli/main.ts':
    "import { sync } from '../sync/sync.ts';\nimport 'commander';\nexport const main = () => sync();\n",
};

const cases: { name: string; files: Tree; rule: string | null }[] = [
  { name: 'the clean tree', files: {}, rule: null },
  {
    name: 'a cycle',
    files: {
      'tools/src/config/rules.ts': "import { load } from './load.ts';\nexport const rules = () => load;\n",
      'tools/src/config/load.ts': "import { rules } from './rules.ts';\nexport const load = () => rules;\n",
    },
    rule: 'no-circular',
  },
  {
    name: 'an upward import (engine → sync)',
    files: {
      'tools/src/engine/evaluate.ts': "import { sync } from '../sync/sync.ts';\nexport const evaluate = () => sync;\n",
      'tools/src/sync/sync.ts': 'export const sync = 1;\n', // not through the core: no cycle, only the layer rule
    },
    rule: 'layer-engine',
  },
  {
    name: 'a sideways import between rooms of one layer (sync → catalog)',
    files: {
      'tools/src/catalog/discover.ts': 'export const discover = 1;\n',
      'tools/src/sync/sync.ts':
        "import { discover } from '../catalog/discover.ts';\nexport const sync = () => discover;\n",
    },
    rule: 'layer-sync',
  },
  {
    name: 'the core importing commander',
    files: {
      'tools/src/engine/evaluate.ts':
        "import { Command } from 'commander';\nexport const evaluate = () => new Command();\n",
    },
    rule: 'core-no-edge-packages',
  },
  {
    name: 'the core importing a database driver',
    files: { 'tools/src/config/load.ts': "import pg from 'pg';\nexport const load = () => pg;\n" },
    rule: 'core-no-edge-packages',
  },
  {
    name: 'the core importing the AWS SDK',
    files: {
      'tools/src/engine/evaluate.ts':
        "import { S3Client } from '@aws-sdk/client-s3';\nexport const evaluate = () => S3Client;\n",
    },
    rule: 'core-no-edge-packages',
  },
  {
    name: 'a room missing from the layers',
    files: { 'tools/src/newroom/x.ts': "import { UserError } from '../errors.ts';\nexport const x = UserError;\n" },
    rule: 'layer-unknown',
  },
  {
    name: 'src importing a test helper',
    files: {
      'tools/test/helpers/fake.ts': 'export const fake = 1;\n',
      'tools/src/sync/sync.ts': "import { fake } from '../../test/helpers/fake.ts';\nexport const sync = () => fake;\n",
    },
    rule: 'src-not-to-test',
  },
];

// In-process (one Node start, not one per case): the repo's rules, applied with cwd at the temp tree.
const config = createRequire(import.meta.url)(path.join(ROOT, '.dependency-cruiser.cjs')) as {
  forbidden: IForbiddenRuleType[];
  options: ICruiseOptions;
};

for (const c of cases)
  test(`architecture rules: ${c.name}`, async () => {
    const dir = writeTree({ ...clean, ...c.files }, 'offload-arch-');
    const cwd = process.cwd();
    try {
      symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
      process.chdir(dir);
      const r = await cruise(['tools/src'], {
        validate: true,
        ruleSet: { forbidden: config.forbidden },
        doNotFollow: config.options.doNotFollow,
        tsPreCompilationDeps: true,
      });
      const out = r.output as ICruiseResult;
      const fired = [...new Set(out.summary.violations.map((v) => v.rule.name))].sort();
      assert.equal(fired, c.rule ? [c.rule] : []);
    } finally {
      process.chdir(cwd);
      removeTree(dir);
    }
  });

test.run();
