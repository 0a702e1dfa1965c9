/**
 * A run report rebuilt from the run ledger: only the run's own transitions count; the validation
 * record's differing keys reach the report; `offload report` writes the three files from a real local
 * ledger and exits 1 when the run had a failure.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createLocalLedger } from '../../src/ledger/local.js';
import { reportFromLedger, runsInLedger } from '../../src/report/from-ledger.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const CLI = path.join(ROOT, 'tools/bin/offload.mjs');

const archive = (t: string) => ({ namespace: 'archive_shop', table: `sales__${t}` });

/** Writes a small history through the real local ledger: run R0 archived a; run R1 validates a, archives and
 * validates b, fails the validation of c. Times are fixed so durations can be checked by hand. */
async function seed(dir: string) {
  const ledger = createLocalLedger({ dir });
  const ref = (table: string) => ({ database: 'shop', schema: 'sales', table });
  const at = (s: number) => new Date(Date.UTC(2026, 11, 2, 10, 0, s)).toISOString();
  const base = { policy: 'monthly' };
  await ledger.transition(ref('a'), {
    ...base,
    expect: null,
    to: 'archiving',
    runId: 'R0',
    at: at(0),
    archive: archive('a'),
  });
  await ledger.transition(ref('a'), {
    ...base,
    expect: 'archiving',
    to: 'archived',
    runId: 'R0',
    at: at(4),
    snapshotId: '11',
    rows: 100,
  });
  const passed = (snapshot: string) => ({
    status: 'passed' as const,
    snapshot_id: snapshot,
    mode: 'full',
    mismatches: 0,
  });
  await ledger.transition(ref('a'), {
    ...base,
    expect: 'archived',
    to: 'validated',
    runId: 'R1',
    at: at(10),
    validation: passed('11'),
  });
  await ledger.transition(ref('b'), {
    ...base,
    expect: null,
    to: 'archiving',
    runId: 'R1',
    at: at(10),
    archive: archive('b'),
  });
  await ledger.transition(ref('b'), {
    ...base,
    expect: 'archiving',
    to: 'archived',
    runId: 'R1',
    at: at(13),
    snapshotId: '9007199254740993',
    rows: 250,
  });
  await ledger.transition(ref('b'), {
    ...base,
    expect: 'archived',
    to: 'validated',
    runId: 'R1',
    at: at(15),
    validation: passed('9007199254740993'),
  });
  await ledger.transition(ref('c'), {
    ...base,
    expect: null,
    to: 'archiving',
    runId: 'R1',
    at: at(11),
    archive: archive('c'),
  });
  await ledger.transition(ref('c'), {
    ...base,
    expect: 'archiving',
    to: 'archived',
    runId: 'R1',
    at: at(12),
    snapshotId: '21',
    rows: 40,
  });
  await ledger.transition(ref('c'), {
    ...base,
    expect: 'archived',
    to: 'failed',
    runId: 'R1',
    at: at(20),
    validation: { status: 'failed', snapshot_id: '21', mode: 'full', mismatches: 1 },
    error: { code: 'validation_failed', message: '1 mismatch(es) between the archive and the source' },
  });
  return ledger;
}

function tempDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'offload-report-'));
}

test('runsInLedger: newest run first', async () => {
  const dir = tempDir();
  try {
    const entries = await (await seed(dir)).list();
    assert.equal(runsInLedger(entries), ['R1', 'R0']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('only the run’s own transitions count; actions, states, durations and the failure come from them', async () => {
  const dir = tempDir();
  try {
    const entries = await (await seed(dir)).list();
    const r = reportFromLedger({
      runId: 'R1',
      runtime: 'local',
      entries,
      validationRecord: (e) =>
        e.table === 'c'
          ? ({
              status: 'failed',
              mismatches: ['row_hash'],
              mode: 'full',
              row_count: { source: 40, archive: 40, match: true },
              row_hash: {
                buckets_compared: 4096,
                buckets_mismatched: 1,
                differing_keys: 1,
                keys: [{ key: { id: '7' }, kind: 'changed', source_rows: 1, archive_rows: 1, columns: ['note'] }],
                truncated: false,
                key_columns: ['id'],
                excluded_columns: [],
              },
            } as never)
          : undefined,
      archiveBytes: (e) => (e.table === 'b' ? 2048 : undefined),
    });
    const row = (t: string) => r.tables.find((x) => x.table === t);
    assert.equal(
      r.tables.map((t) => [t.table, t.action, t.state]),
      [
        ['a', 'validate', 'validated'],
        ['b', 'archive', 'validated'],
        ['c', 'archive', 'failed'],
      ],
    );
    assert.is(row('a')?.duration_ms, 0, 'one transition in R1');
    assert.is(row('b')?.duration_ms, 5000, '10:00:10 → 10:00:15');
    assert.is(row('b')?.snapshot_id, '9007199254740993', 'beyond 2^53 stays exact text');
    assert.is(row('b')?.bytes, 2048);
    assert.is(row('a')?.rows, null, 'R1 recorded no rows for a');
    assert.equal(row('c')?.error, {
      code: 'validation_failed',
      message: '1 mismatch(es) between the archive and the source',
    });
    assert.equal(row('c')?.validation?.differing_keys, [{ key: { id: '7' }, kind: 'changed', columns: ['note'] }]);
    assert.is(r.started_at, '2026-12-02T10:00:10.000Z');
    assert.is(r.finished_at, '2026-12-02T10:00:20.000Z');
    assert.is(r.status, 'partial');
    assert.is(r.totals.rows_archived, 250, 'c failed: its rows do not count as archived');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A work unit of `run` for table `t` of shop.sales, as the runner keeps them (only what the report reads). */
const unit = (run: string, t: string, commit: string, bytes: number | null) =>
  ({
    run_id: run,
    config_commit: commit,
    as_of: '2026-12-01T00:00:00Z',
    database: 'shop',
    source: { schema: 'sales', table: t },
    decision: { reason: 'aged', table_date: null, rows: null, bytes },
  }) as never;

test("the run's work units give the configs' commit, the as-of date and a dropped source's size", async () => {
  const dir = tempDir();
  try {
    const ledger = await seed(dir);
    // R2 quarantines then drops a (validated in R1): the size freed is the one discovered.
    const ref = { database: 'shop', schema: 'sales', table: 'a' };
    const cleanup = { quarantine_table: 'zz_offload_q_20261202_a', renamed_at: '2026-12-02T11:00:00Z' };
    await ledger.transition(ref, {
      expect: 'validated',
      to: 'source_renamed',
      runId: 'R2',
      at: '2026-12-02T11:00:00.000Z',
      sourceCleanup: { ...cleanup, dropped_at: null },
    });
    await ledger.transition(ref, {
      expect: 'source_renamed',
      to: 'source_dropped',
      runId: 'R2',
      at: '2026-12-02T11:00:05.000Z',
      sourceCleanup: { ...cleanup, dropped_at: '2026-12-02T11:00:05Z' },
    });
    const entries = await ledger.list();
    const units = [unit('R2', 'a', 'abc1234', 4096), unit('R1', 'b', 'old0000', 1), unit('R2', 'b', 'abc1234', 9)];
    const r2 = reportFromLedger({ runId: 'R2', runtime: 'local', entries, units });
    assert.is(r2.config_commit, 'abc1234');
    assert.is(r2.as_of, '2026-12-01T00:00:00Z');
    assert.equal(
      r2.tables.map((t) => [t.table, t.action, t.state, t.source_bytes_freed]),
      [['a', 'cleanup_source', 'source_dropped', 4096]],
    );
    assert.is(r2.totals.source_bytes_freed, 4096);
    // Given values win; units that disagree name no commit; no units, no commit.
    const given = reportFromLedger({ runId: 'R2', runtime: 'local', entries, units, configCommit: 'given00' });
    assert.is(given.config_commit, 'given00');
    const mixed = [unit('R2', 'a', 'abc1234', 1), unit('R2', 'b', 'def5678', 1)];
    assert.is(reportFromLedger({ runId: 'R2', runtime: 'local', entries, units: mixed }).config_commit, null);
    assert.is(reportFromLedger({ runId: 'R1', runtime: 'local', entries, units }).config_commit, 'old0000');
    assert.is(reportFromLedger({ runId: 'R2', runtime: 'local', entries }).config_commit, null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('offload report: three files from the local ledger, newest run by default, exit 1 on a failed table', async () => {
  const root = tempDir();
  try {
    const state = path.join(root, '.offload/state');
    await seed(state);
    mkdirSync(path.join(state, 'results'), { recursive: true });
    writeFileSync(
      path.join(state, 'results', 'archive_shop.sales__c.R1.validation.json'),
      JSON.stringify({
        status: 'failed',
        mismatches: ['row_hash'],
        mode: 'full',
        row_hash: { keys: [{ key: { id: '7' }, kind: 'changed', source_rows: 1, archive_rows: 1 }], truncated: false },
      }),
    );
    // The units the runner kept for R1 (runs/<run>.units.json): the report names the configs' commit.
    mkdirSync(path.join(state, 'runs'), { recursive: true });
    writeFileSync(
      path.join(state, 'runs', 'R1.units.json'),
      JSON.stringify({ version: 1, run_id: 'R1', units: [unit('R1', 'b', 'feed123', null)] }),
    );
    const r = spawnSync(process.execPath, [CLI, 'report', '--root', root], { encoding: 'utf8' });
    assert.is(r.status, 1, r.stderr);
    assert.match(readFileSync(path.join(state, 'reports', 'R1.md'), 'utf8'), 'configs at `feed123`');
    assert.match(r.stdout, /^Run R1 partial: 3 tables/);
    for (const ext of ['json', 'md', 'html']) assert.ok(existsSync(path.join(state, 'reports', `R1.${ext}`)), ext);
    const html = readFileSync(path.join(state, 'reports', 'R1.html'), 'utf8');
    assert.match(html, /key id=7: changed/);
    const old = spawnSync(process.execPath, [CLI, 'report', 'R0', '--root', root, '--format', 'json'], {
      encoding: 'utf8',
    });
    assert.is(old.status, 0, old.stderr);
    assert.equal(
      JSON.parse(old.stdout).tables.map((t: { table: string; state: string }) => [t.table, t.state]),
      [['a', 'archived']],
    );
    assert.is(JSON.parse(old.stdout).config_commit, null, 'R0 kept no units');
    const missing = spawnSync(process.execPath, [CLI, 'report', 'R9', '--root', root], { encoding: 'utf8' });
    assert.is(missing.status, 2);
    assert.match(missing.stderr, /run R9 is not in the ledger; recent runs: R1, R0/);
    assert.not.match(missing.stderr, /at .*\.ts:/, 'no stack trace');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test.run();
