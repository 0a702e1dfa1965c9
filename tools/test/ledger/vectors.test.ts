/** The ledger's transition rules against the vector file the Python ledger (glue/offload_glue/ledger.py) also runs. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  applyTransition,
  IllegalTransitionError,
  LedgerConflictError,
  type LedgerEntry,
  type State,
  type Transition,
} from '../../src/ledger/index.js';

interface Step {
  expect: State | null;
  to: State;
  run_id?: string;
  snapshot_id?: string | null;
  rows?: number;
  validation?: { status: 'passed' | 'failed' };
  error?: { code: string; message: string };
  result: 'ok' | 'illegal' | 'conflict';
  state?: State;
  version?: number;
}
const FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/ledger-transitions.json');
const { cases } = JSON.parse(readFileSync(FILE, 'utf8')) as { cases: { name: string; steps: Step[] }[] };

for (const c of cases)
  test(`ledger vectors: ${c.name}`, () => {
    const ref = { database: 'd', schema: 's', table: 't' };
    let entry: LedgerEntry | undefined;
    c.steps.forEach((s, i) => {
      const t: Transition = {
        expect: s.expect,
        to: s.to,
        runId: s.run_id ?? 'r1',
        at: `2026-12-02T10:00:${String(i).padStart(2, '0')}.000Z`,
        ...('snapshot_id' in s ? { snapshotId: s.snapshot_id } : {}),
        ...(s.rows !== undefined ? { rows: s.rows } : {}),
        ...(s.validation ? { validation: s.validation } : {}),
        ...(s.error ? { error: s.error } : {}),
      };
      const where = `step ${i + 1} (${s.expect ?? 'none'} → ${s.to})`;
      try {
        entry = applyTransition(ref, entry, t);
        assert.is(s.result, 'ok', `${where} was allowed`);
        assert.equal([entry.state, entry.version], [s.state, s.version], where);
      } catch (e) {
        if (e instanceof assert.Assertion) throw e;
        assert.instance(e, s.result === 'illegal' ? IllegalTransitionError : LedgerConflictError, `${where}: ${e}`);
      }
    });
  });

test.run();
