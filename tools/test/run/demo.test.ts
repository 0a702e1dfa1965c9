/**
 * The README's main job: the demo deployment (examples/demo, created by scripts/demo_db.py on the
 * local test servers) plans exactly the tables its README says are due, as a dry run of `offload run`
 * (no Spark; the full run is what `bash scripts/main.sh` does, and tools/test/run/run.test.ts runs the
 * runner end to end). The expected list is written by hand from the demo's data and policies.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const DEMO = path.join(ROOT, 'examples/demo');

const months = ['202407', '202408', '202409', '202410', '202411', '202412']
  .concat(['202501', '202502', '202503', '202504', '202505', '202506', '202507', '202508', '202509', '202510'])
  .concat(['202511']);
const EXPECTED = [
  ...months.map((m) => `demo_pg: sales.txn_${m}`),
  'demo_pg: audit.audit_log',
  'demo_pg: odd.Mixed Case Table',
  'demo_pg: odd.ünïcode_täble',
  ...['2019', '2020', '2021', '2022'].map((y) => `demo_maria: shop.orders_${y}`),
].sort();

test('the demo plans exactly the due tables its README lists (24 of 37)', () => {
  const env = process.env;
  const user = env.OFFLOAD_TEST_USER;
  const password = env.OFFLOAD_TEST_PASSWORD;
  assert.ok(user && password, 'run through scripts/test.sh (source scripts/services.env)');
  const made = spawnSync(path.join(ROOT, '.venv/bin/python'), [path.join(ROOT, 'scripts/demo_db.py')], {
    encoding: 'utf8',
  });
  assert.is(made.status, 0, made.stderr);
  const creds = {
    OFFLOAD_DB_DEMO_PG_USER: user,
    OFFLOAD_DB_DEMO_PG_PASSWORD: password,
    OFFLOAD_DB_DEMO_MARIA_USER: user,
    OFFLOAD_DB_DEMO_MARIA_PASSWORD: password,
  };
  const r = spawnSync(
    process.execPath,
    [
      path.join(ROOT, 'tools/bin/offload.mjs'),
      'run',
      '--dry-run',
      '--configs',
      'worktree',
      '--root',
      DEMO,
      '--state',
      path.join(DEMO, '.offload/test-state'),
      '--as-of',
      '2026-12-02',
      '--format',
      'json',
      '--no-aws',
      '--quiet',
    ],
    { encoding: 'utf8', env: { ...env, ...creds }, cwd: DEMO },
  );
  assert.is(r.status, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as {
    units: { action: string; database: string; source: { schema: string; table: string } }[];
  };
  const archived = summary.units
    .filter((u) => u.action === 'archive')
    .map((u) => `${u.database}: ${u.source.schema}.${u.source.table}`)
    .sort();
  assert.equal(archived, EXPECTED);
  assert.is(summary.units.filter((u) => u.action === 'validate').length, EXPECTED.length, 'each archive is validated');
});

test.run();
