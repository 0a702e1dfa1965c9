/** Rendering is a pure function of the plan (and apply result): text, JSON and Markdown. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { renderSync, planDocument, summarize } from '../../src/sync/render.js';
import type { Plan } from '../../src/sync/plan.js';
import type { ApplyResult } from '../../src/sync/apply.js';

function plan(): Plan {
  return {
    target: 'local:/s',
    commit: 'abc',
    desiredHash: 'H',
    baseGeneration: 4,
    baseGenerationRaw: 4,
    stateExists: true,
    prune: false,
    changes: [
      { resource: 'connection', id: 'db1', action: 'update', reason: 'changed: JDBC_CONNECTION_URL', drift: false },
      { resource: 'item', id: 'POLICY#p', action: 'update', reason: 'overwrite change made outside sync', drift: true },
      { resource: 'file', id: 'c/policies/p|q.yaml', action: 'create', reason: 'new file', drift: false },
    ],
    drift: [{ resource: 'item', id: 'POLICY#p', detail: 'changed outside sync' }],
    orphans: [{ resource: 'file', id: 'c/databases/old.yaml' }],
    issues: [{ kind: 'item', id: 'RUN#1', problem: 'foreign', message: 'not an item sync manages; left alone' }],
    manifestReason: 'bring the record up to date',
    lock: {
      generation: 5,
      commit: 'def',
      startedAt: '2026-01-01T00:00:00Z',
      expiresAt: '2026-01-01T00:15:00Z',
      sameDesiredState: false,
      expired: false,
      blocking: true,
    },
    unchanged: { connection: 1, item: 2, file: 3 },
  };
}

const result: ApplyResult = {
  runId: 'run-1',
  generation: 5,
  applied: plan().changes,
  writes: { claim: 1, connections: 1, items: 1, files: 1, manifest: 1 },
  manifestWritten: true,
};

test('summary counts', () => {
  assert.equal(summarize(plan()), {
    create: 1,
    update: 2,
    delete: 0,
    drift: 1,
    orphans: 1,
    unchanged: 6,
    issues: 1,
    noChanges: false,
  });
});

test('text plan: one line per change grouped by resource, drift, kept orphans, foreign state, lock, next step', () => {
  const out = renderSync(plan(), 'text');
  const lines = out.split('\n');
  assert.is(lines[0], 'offload sync plan — local:/s');
  assert.ok(lines.includes('Glue connections:'));
  assert.ok(lines.includes('  ~ update db1  changed: JDBC_CONNECTION_URL'));
  assert.ok(lines.includes('  ~ update POLICY#p  overwrite change made outside sync  [drift]'));
  assert.ok(lines.includes('  ! item POLICY#p: changed outside sync'));
  assert.ok(lines.includes('  = file c/databases/old.yaml'));
  assert.ok(lines.includes('  ? item RUN#1 (foreign): not an item sync manages; left alone'));
  assert.match(out, /holds the lock until 2026-01-01T00:15:00Z \(apply refuses; --break-lock takes it over\)/);
  assert.ok(lines.includes('Plan: 1 to create, 2 to update, 0 to delete; 6 unchanged.'));
  assert.ok(lines.includes('Run with --apply to carry out this plan.'));
});

test('text apply: past tense, generation moved, writes by step', () => {
  const out = renderSync(plan(), 'text', result);
  assert.match(out, /^offload sync apply/);
  assert.match(out, /sync generation 4 → 5/);
  assert.match(out, /Applied: 1 created, 2 updated, 0 deleted; 6 unchanged\./);
  assert.match(out, /Writes: claim 1, connections 1, items 1, files 1, manifest 1; run run-1\./);
});

test('no changes: one sentence', () => {
  const p = { ...plan(), changes: [], drift: [], orphans: [], issues: [], manifestReason: undefined, lock: undefined };
  assert.match(renderSync(p, 'text'), /No changes: the remote state matches the repo\.\n$/);
});

test('json: the documented fields', () => {
  const doc = JSON.parse(renderSync(plan(), 'json', result));
  assert.equal(Object.keys(doc), [
    'mode',
    'target',
    'commit',
    'generation',
    'summary',
    'changes',
    'drift',
    'orphans',
    'issues',
    'manifest',
    'lock',
    'provenance',
    'applied',
  ]);
  assert.equal(doc.generation, { read: 4, written: 5 });
  assert.equal(doc.orphans, [{ resource: 'file', id: 'c/databases/old.yaml', kept: true }]);
  assert.equal(planDocument(plan()).mode, 'plan');
});

test("an unfinished sync's lock is described by its state; an unexpired one is never called expired", () => {
  const until = '2026-01-01T00:15:00Z';
  const cases: { name: string; lock: Partial<NonNullable<Plan['lock']>>; text: RegExp }[] = [
    { name: 'blocking', lock: { blocking: true }, text: /holds the lock until .* \(apply refuses; --break-lock/ },
    {
      name: '--break-lock, unexpired',
      lock: { blocking: false },
      text: /holds the lock until .*; --break-lock takes it over/,
    },
    { name: 'expired', lock: { blocking: false, expired: true }, text: /its lock expired at 2026-01-01T00:15:00Z/ },
    {
      name: 'released',
      lock: { blocking: false, expired: true, releasedAt: '2026-01-01T00:01:00Z' },
      text: /failed and released its lock at 2026-01-01T00:01:00Z/,
    },
    { name: 'same state', lock: { blocking: false, sameDesiredState: true }, text: /wanted this same state/ },
  ];
  for (const c of cases) {
    const p = plan();
    p.lock = { ...p.lock!, expiresAt: until, expired: false, ...c.lock };
    for (const format of ['text', 'markdown'] as const) {
      const out = renderSync(p, format);
      assert.match(out, c.text, `${c.name} (${format})`);
      if (!p.lock.expired) assert.not.match(out, /expired/, `${c.name} (${format})`);
    }
  }
});

test('markdown: marker first, pipes escaped in table cells', () => {
  const out = renderSync(plan(), 'markdown');
  assert.is(out.split('\n')[0], '<!-- offload-sync-plan -->');
  assert.match(out, /\| create \| file \| `c\/policies\/p\\\|q\.yaml` \| new file \|/);
  assert.match(out, /\| update \| item \| `POLICY#p` \| overwrite change made outside sync \(drift\) \|/);
  assert.match(out, /⚠️ 1 drifted/);
});

test.run();
