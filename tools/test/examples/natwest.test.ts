/**
 * The documented sample, `examples/natwest/` (the seed deployment's names, three databases, three
 * policies and their sample inventories): it validates, its snapshots are valid, and the engine's
 * decisions on it (the README's main command's data) are worked out by hand for 2026-11-27.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { inventoryProblems, readInventory } from '../../src/inventory/inventory.js';
import { loadRepo } from '../../src/config/load.js';
import { fsSource } from '../../src/config/source.js';
import { evaluate } from '../../src/engine/evaluate.js';
import { preview } from '../../src/preview/preview.js';
import { validate } from '../../src/validate/validate.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../examples/natwest');
const SCHEMA = path.resolve(ROOT, '../../schema');

test('the sample validates with no finding, and every file points its modeline at its schema', async () => {
  const r = await validate({ root: ROOT, paths: [], cwd: ROOT });
  assert.equal(r.findings, []);
  assert.equal(r.files.length, 7);
  for (const f of r.files) {
    const kind = f === 'offload.settings.yaml' ? 'settings' : f.startsWith('databases/') ? 'database' : 'policy';
    const want = path.relative(path.dirname(path.join(ROOT, f)), path.join(SCHEMA, `${kind}.schema.json`));
    assert.is(readFileSync(path.join(ROOT, f), 'utf8').split('\n')[0], `# yaml-language-server: $schema=${want}`, f);
  }
});
const NAMES = ['bizops_orcl_conn', 'nucleus_dev', 'onprem_orcl_conn'];

test('sample inventories validate against schema/inventory.schema.json', () => {
  for (const n of NAMES)
    assert.equal(inventoryProblems(JSON.parse(readFileSync(path.join(ROOT, 'inventory', `${n}.json`), 'utf8'))), [], n);
});

test('decisions on the sample repo as of 2026-11-27', async () => {
  const repo = await loadRepo(fsSource(ROOT));
  const inventories = new Map();
  for (const n of NAMES) {
    const r = await readInventory(path.join(ROOT, 'inventory'), n);
    assert.ok(r.ok, n);
    if (r.ok) inventories.set(n, r.inventory);
  }
  const ev = evaluate({
    databases: repo.databases.map((d) => d.config),
    policies: repo.policies.map((p) => p.config),
    inventories,
    asOf: '2026-11-27',
  });
  const act = (db: string, t: string) => {
    const d = ev.databases.find((x) => x.database === db)!.decisions.find((x) => x.table === t);
    return d ? (d.problem ? `!${d.problem.code}` : d.action) : 'unclaimed';
  };
  const expected: [string, string, string][] = [
    ['nucleus_dev', 'txn_202001', 'archive'], // 2020-01-31 + P2Y
    ['nucleus_dev', 'txn_202410', 'archive'], // 2026-10-31
    ['nucleus_dev', 'txn_202411', 'none'], // 2026-11-30
    ['nucleus_dev', 'txn_current', 'unclaimed'], // excluded
    ['nucleus_dev', `txn_2020'; DROP TABLE payments.txn_202001; --`, 'unclaimed'],
    ['nucleus_dev', 'Txn_202001', 'unclaimed'],
    ['nucleus_dev', 'audit_log', 'archive'], // max(event_time) 2025-06-30 + P1Y
    ['nucleus_dev', 'login_audit', 'none'],
    ['onprem_orcl_conn', 'GL_POSTINGS_201901', 'archive'],
    ['onprem_orcl_conn', 'STATEMENT_ARCHIVE_2022', 'archive'], // 2022-12-31 + P3Y = 2025-12-31
    ['onprem_orcl_conn', 'STATEMENT_ARCHIVE_2023', 'none'], // 2026-12-31
    ['onprem_orcl_conn', 'GL_ACCOUNTS', 'unclaimed'],
    // EVENT_TIME 2025-03-31 + P1Y; the policy's event_time found case-insensitively
    ['bizops_orcl_conn', 'AUDIT_TRAIL', 'archive'],
    ['bizops_orcl_conn', 'CASE_EVENTS', 'none'],
  ];
  assert.equal(
    expected.map(([db, t]) => [db, t, act(db, t)]),
    expected,
  );
  assert.ok(ev.databases.every((d) => d.status === 'ok'));
});

test("the README's main command: preview of the sample repo against its sample inventory evaluates all", async () => {
  const r = await preview({ root: ROOT, base: 'HEAD', inventory: 'inventory', asOf: '2026-11-27' });
  assert.is(r.complete, true, JSON.stringify(r.problems));
  assert.equal(
    r.databases.map((d) => d.status),
    ['ok', 'ok', 'ok'],
  );
});

test.run();
