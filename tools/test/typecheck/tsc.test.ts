/** The whole toolkit type-checks under the strict tsconfig (tsx runs code without checking types). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

test('tsc --noEmit -p tsconfig.json reports no errors', () => {
  const r = spawnSync(
    process.execPath,
    [path.join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', path.join(root, 'tsconfig.json')],
    { cwd: root, encoding: 'utf8' },
  );
  assert.is(r.stdout + r.stderr, '', 'type errors');
  assert.is(r.status, 0);
});

test('tsconfig is strict, ESM (NodeNext) and targets Node 20', async () => {
  const { readFileSync } = await import('node:fs');
  const cfg = JSON.parse(readFileSync(path.join(root, 'tsconfig.json'), 'utf8'));
  assert.is(cfg.compilerOptions.strict, true);
  assert.is(cfg.compilerOptions.module, 'NodeNext');
  assert.is(JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).type, 'module');
});

test.run();
