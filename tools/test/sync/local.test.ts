/** Plan/apply scenarios against the local target (a state directory). */
import { test } from 'uvu';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, existsSync, utimesSync } from 'node:fs';
import { hostname } from 'node:os';
import { parse } from 'yaml';
import { localHarness, syncRepo, SETTINGS } from '../helpers/sync-env.js';
import { makeCtx, scenarios } from '../helpers/sync-scenarios.js';
import { writeTree } from '../helpers/fixtures.js';
import { runSync } from '../../src/sync/sync.js';
import { createLocalTarget } from '../../src/sync/local-target.js';
import { readPublishedLocal } from '../../src/sync/published.js';
import { readFileSync } from 'node:fs';

const base = mkdtempSync(path.join(tmpdir(), 'offload-local-target-'));
let n = 0;
for (const s of scenarios) {
  test(`local: ${s.name}`, async () => {
    const h = localHarness(path.join(base, `state-${++n}`));
    await h.setup();
    await s.run(makeCtx(h));
  });
}

function lockedDir(pid: number, ageMs = 0): string {
  const dir = path.join(base, `locked-${++n}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, '.lock'), JSON.stringify({ pid, host: hostname(), at: new Date().toISOString() }));
  if (ageMs) {
    const t = new Date(Date.now() - ageMs);
    utimesSync(path.join(dir, '.lock'), t, t);
  }
  return dir;
}
const syncWith = (dir: string, staleLockMs?: number) => {
  const root = writeTree(syncRepo());
  return runSync({
    root,
    target: { kind: 'local', dir },
    apply: true,
    prune: false,
    commit: 'c1',
    allowUncommitted: 'test fixture outside git',
    targetImpl: createLocalTarget({ dir, settings: parse(SETTINGS), staleLockMs }),
  });
};

test('local mutex: a lock left by a dead process is broken at once', async () => {
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  const dir = lockedDir(dead);
  const t0 = Date.now();
  const out = await syncWith(dir);
  assert.is(out.status, 'applied');
  assert.ok(Date.now() - t0 < 5000, 'no waiting for the stale-lock timeout');
  assert.not.ok(existsSync(path.join(dir, '.lock')), 'released');
});

test('local mutex: a live holder is waited for, and its lock broken once older than the stale limit', async () => {
  const holder = spawn('sleep', ['30']);
  try {
    const dir = lockedDir(holder.pid!);
    const t0 = Date.now();
    const out = await syncWith(dir, 700);
    assert.is(out.status, 'applied');
    assert.ok(Date.now() - t0 >= 600, 'waited for the holder');
  } finally {
    holder.kill();
  }
});

test('the pipeline side reads what sync published, and skips an item edited by hand', async () => {
  const dir = path.join(base, `published-${++n}`);
  const root = writeTree(syncRepo());
  await runSync({
    root,
    target: { kind: 'local', dir },
    apply: true,
    prune: false,
    commit: 'c9',
    allowUncommitted: 'test fixture outside git',
  });
  const pub = await readPublishedLocal(dir);
  assert.is(pub.generation, 1);
  assert.equal(
    pub.databases.map((d) => d.name),
    ['db1', 'db2'],
  );
  assert.equal(pub.databases[0]!.config, parse(readFileSync(path.join(root, 'databases/db1.yaml'), 'utf8')));
  assert.is(pub.databases[0]!.resolved!.glue_connection, 'db1');
  assert.is(pub.databases[0]!.resolved!.glue_database, 'archive_db1');
  assert.is(pub.databases[0]!.gitCommit, 'c9');
  assert.equal(
    pub.policies.map((p) => p.name),
    ['monthly'],
  );
  assert.is(pub.settings!.config.resource_prefix, 'acme');
  const file = path.join(dir, 'table', 'DATABASE%23db2.json');
  const item = JSON.parse(readFileSync(file, 'utf8'));
  writeFileSync(
    file,
    JSON.stringify({ ...item, config: { ...item.config, jdbc_url: 'jdbc:postgresql://evil:5432/x' } }),
  );
  const after = await readPublishedLocal(dir);
  assert.equal(
    after.databases.map((d) => d.name),
    ['db1'],
  );
  assert.is(after.skipped, 1);
});

test.run();
