/** `offload preview` reads the run ledger (the local state directory by default): what the pipeline
 * archived and validated changes what a config change does; `--archive-state` still overrides it. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createLocalLedger } from '../../src/ledger/index.js';
import { baseRepo, MONTHLY } from '../helpers/repo.js';
import { removeTree, writeTree } from '../helpers/fixtures.js';
import { cli } from '../helpers/cli.js';
import { inventory, table } from '../engine/fixtures.js';

function repo(): string {
  // base: monthly keeps the source; working tree: it drops it after a validated archive
  const dir = writeTree({
    ...baseRepo(),
    'policies/monthly.yaml': MONTHLY.replace('  action: drop\n  grace_period: P30D\n', '  action: keep\n'),
  });
  const git = (...a: string[]) => execFileSync('git', ['-C', dir, ...a], { stdio: 'pipe' });
  git('init', '-q');
  git('add', '.');
  git('-c', 'user.name=t', '-c', 'user.email=t@x.example', 'commit', '-qm', 'base');
  writeFileSync(path.join(dir, 'policies/monthly.yaml'), MONTHLY);
  mkdirSync(path.join(dir, 'inventory'));
  const inv = inventory('db1', [table('payments', 'txn_202001', { rows: 100, bytes: 1000 }), table('audit', 'x')]);
  writeFileSync(path.join(dir, 'inventory/db1.json'), JSON.stringify(inv));
  return dir;
}

const changes = async (dir: string, ...extra: string[]) => {
  const r = await cli(['preview', '--base', 'HEAD', '--as-of', '2026-11-27', '--format', 'json', ...extra], dir);
  assert.ok(r.status === 0 || r.status === 1, r.stderr);
  return (JSON.parse(r.stdout).changes as { table: string; action: string; change: string }[]).map(
    (c) => `${c.table} ${c.change} ${c.action}`,
  );
};

test('preview: a table the ledger shows validated becomes cleanup_source; not without the ledger', async () => {
  const dir = repo();
  try {
    assert.equal(await changes(dir), [], 'no ledger yet: nothing archived, the policy change alters no action');
    const l = createLocalLedger({ dir: path.join(dir, '.offload/state') });
    const ref = { database: 'db1', schema: 'payments', table: 'txn_202001' };
    await l.transition(ref, { expect: null, to: 'archiving', runId: 'r1' });
    assert.equal(await changes(dir), [], 'archiving is not archived');
    await l.transition(ref, { expect: 'archiving', to: 'archived', runId: 'r1', snapshotId: '1', rows: 100 });
    await l.transition(ref, { expect: 'archived', to: 'validated', runId: 'r1', validation: { status: 'passed' } });
    assert.equal(await changes(dir), ['txn_202001 added cleanup_source']);
    assert.equal(await changes(dir, '--ledger', 'none'), []);
    writeFileSync(path.join(dir, 'none.json'), '[]');
    assert.equal(await changes(dir, '--archive-state', 'none.json'), [], '--archive-state overrides the ledger');
    assert.equal(await changes(dir, '--ledger', `local:${path.join(dir, 'elsewhere')}`), []);
  } finally {
    removeTree(dir);
  }
});

test.run();
