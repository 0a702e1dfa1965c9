/**
 * Include/exclude patterns are checked by RE2 itself (issue 10, defect 9): every pattern RE2 accepts
 * validates — inline flags, POSIX classes, named groups, `\z`, `\Q…\E` — and runs, in the engine, with
 * RE2's meaning; what RE2 refuses is refused with RE2's own reason. Nested repetition is valid: the
 * patterns only ever run in RE2 (or a JavaScript subset without groups), so it cannot backtrack.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeTree, removeTree, markAt } from '../helpers/fixtures.js';
import { baseRepo, DB1 } from '../helpers/repo.js';
import { validate } from '../../src/validate/validate.js';
import { compileScope } from '../../src/engine/scope.js';
import type { DatabaseConfig } from '../../src/generated/database.js';

const withPattern = (p: string) => DB1.replace('include: ["^txn_[0-9]{6}$"]', `include: [«»${JSON.stringify(p)}]`);

/** [pattern, a name it must claim, a name it must not claim] — meanings per RE2's syntax reference. */
const valid: [string, string, string][] = [
  ['(?i)^txn_[0-9]{6}$', 'TXN_202001', 'txn_2020011'],
  ['(?i:TXN)_[0-9]+', 'txn_1', 'tx_1'],
  ['^txn_\\d{6}\\z', 'txn_202001', 'txn_2020011'],
  ['^[[:alpha:]]+_[0-9]+$', 'ledger_1', 'led9er_1'],
  ['^(?P<kind>txn|fee)_[0-9]+$', 'fee_12', 'tax_12'],
  ['^\\Qtxn.\\E[0-9]+$', 'txn.12', 'txnX12'],
  ['^\\pL+$', 'grün', 'g1'],
  ['^(a+)+$', 'aaaa', `${'a'.repeat(40)}b`],
];

for (const [pattern, yes, no] of valid) {
  test(`valid RE2 validates and runs with RE2's meaning: ${pattern}`, async () => {
    const text = withPattern(pattern);
    const dir = writeTree({ ...baseRepo(), 'databases/db1.yaml': text });
    try {
      const r = await validate({ root: dir, paths: [], cwd: dir });
      assert.equal(r.findings, [], JSON.stringify(r.findings));
      const db = { name: 'db1', scope: [{ schema: 'payments', include: [pattern], policies: ['monthly'] }] };
      const [scope] = compileScope(db as unknown as DatabaseConfig);
      assert.ok(scope?.matches, 'the engine compiles it');
      const started = Date.now();
      assert.ok(scope!.matches!(yes), yes);
      assert.not.ok(scope!.matches!(no), no);
      assert.ok(Date.now() - started < 500, 'linear time');
    } finally {
      removeTree(dir);
    }
  });
}

const invalid: [string, RegExp][] = [
  ['(?=x)txn', /invalid perl operator/],
  ['(a)\\1', /invalid escape sequence/],
  ['^txn_[0-9{6}$', /missing \]/],
  ['a{2,1}', /invalid repetition size/],
];

for (const [pattern, reason] of invalid) {
  test(`RE2 refuses, with its reason and location: ${pattern}`, async () => {
    const text = withPattern(pattern);
    const dir = writeTree({ ...baseRepo(), 'databases/db1.yaml': text });
    try {
      const r = await validate({ root: dir, paths: [], cwd: dir });
      const pos = markAt(text);
      assert.equal(
        r.findings.map((f) => [f.code, f.line, f.column]),
        [['rule/pattern-invalid', pos.line, pos.column]],
      );
      assert.match(r.findings[0]!.message, reason);
    } finally {
      removeTree(dir);
    }
  });
}

test.run();
