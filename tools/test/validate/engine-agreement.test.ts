/**
 * Validate passes nothing the policy engine refuses (issue 17, guard hole 3): for each config-only
 * refusal of the engine, the same repo gives a validate finding at the place to fix, and the engine,
 * run on an inventory holding the tables the scopes claim, refuses it. Both use one compile function.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeTree, removeTree, markAt, type Tree } from '../helpers/fixtures.js';
import { baseRepo, DB1, MONTHLY, AUDIT } from '../helpers/repo.js';
import { validate } from '../../src/validate/validate.js';
import { loadRepo } from '../../src/config/load.js';
import { fsSource } from '../../src/config/source.js';
import { evaluate } from '../../src/engine/evaluate.js';
import { eventCol, inventory, measured, table } from '../engine/fixtures.js';

const sub = (text: string, from: string, to: string) => {
  if (!text.includes(from)) throw new Error(`fixture edit: "${from}" not found`);
  return text.replace(from, to);
};
const DB = 'databases/db1.yaml';
const MON = 'policies/monthly.yaml';
const AUD = 'policies/audit.yaml';

interface Case {
  name: string;
  files: Tree;
  /** The validate error expected, at the «» marker of that file. */
  finding: [code: string, file: string];
  /** The engine's refusal of the same configs. */
  engine: string;
}

const template = (t: string): Tree => ({ [MON]: sub(MONTHLY, 'pattern: "*_YYYYMM"', `pattern: «»"${t}"`) });

const cases: Case[] = [
  {
    name: 'template txn_YYYYMMM',
    files: template('txn_YYYYMMM'),
    finding: ['rule/name-date-pattern', MON],
    engine: 'engine/policy-invalid',
  },
  {
    name: 'template *_YYYYMDD',
    files: template('*_YYYYMDD'),
    finding: ['rule/name-date-pattern', MON],
    engine: 'engine/policy-invalid',
  },
  {
    name: 'template *_YYYYYMM',
    files: template('*_YYYYYMM'),
    finding: ['rule/name-date-pattern', MON],
    engine: 'engine/policy-invalid',
  },
  {
    name: 'template *_YYYYMMDDD',
    files: template('*_YYYYMMDDD'),
    finding: ['rule/name-date-pattern', MON],
    engine: 'engine/policy-invalid',
  },
  {
    name: 'template without YYYY',
    files: template('*_MM'),
    finding: ['rule/name-date-pattern', MON],
    engine: 'engine/policy-invalid',
  },
  {
    name: 'last_modified on PostgreSQL',
    files: {
      [AUD]: sub(AUDIT, '  from: column\n  column: event_time', '  from: last_modified'),
      [DB]: sub(DB1, 'policies: [audit]', 'policies: [«»audit]'),
    },
    finding: ['rule/age-unsupported', DB],
    engine: 'engine/no-last-modified',
  },
  {
    name: 'include pattern RE2 refuses',
    files: { [DB]: sub(DB1, 'include: ["^txn_[0-9]{6}$"]', 'include: [«»"(?=t)txn"]') },
    finding: ['rule/pattern-invalid', DB],
    engine: 'engine/pattern-invalid',
  },
];

for (const c of cases) {
  test(c.name, async () => {
    const tree: Tree = { ...baseRepo(), ...c.files };
    const dir = writeTree(tree);
    try {
      const r = await validate({ root: dir, paths: [], cwd: dir });
      const pos = markAt(String(tree[c.finding[1]]));
      const errors = r.findings
        .filter((f) => f.severity === 'error')
        .map((f) => `${f.code} ${f.file}:${f.line}:${f.column}`);
      assert.equal(errors, [`${c.finding[0]} ${c.finding[1]}:${pos.line}:${pos.column}`]);

      const repo = await loadRepo(fsSource(dir));
      const inv = inventory('db1', [
        table('payments', 'txn_202001'),
        table('audit', 'events', { columns: [eventCol], column_max: measured('2020-01-31T10:00:00Z') }),
      ]);
      const ev = evaluate({
        databases: repo.databases.map((d) => d.config),
        policies: repo.policies.map((p) => p.config),
        inventories: new Map([['db1', inv]]),
        asOf: '2026-12-01',
      });
      const codes = ev.databases.flatMap((d) => [
        ...d.problems.map((p) => p.code),
        ...d.decisions.flatMap((x) => (x.problem ? [x.problem.code] : [])),
      ]);
      assert.ok(codes.includes(c.engine), `engine refusals: ${codes.join(', ')}`);
    } finally {
      removeTree(dir);
    }
  });
}

test('the base repo: no finding, and the engine evaluates every table', async () => {
  const dir = writeTree(baseRepo());
  try {
    const r = await validate({ root: dir, paths: [], cwd: dir });
    assert.equal(r.findings, []);
    const repo = await loadRepo(fsSource(dir));
    const ev = evaluate({
      databases: repo.databases.map((d) => d.config),
      policies: repo.policies.map((p) => p.config),
      inventories: new Map([
        [
          'db1',
          inventory('db1', [
            table('payments', 'txn_202001'),
            table('audit', 'events', { columns: [eventCol], column_max: measured('2020-01-31T10:00:00Z') }),
          ]),
        ],
      ]),
      asOf: '2026-12-01',
    });
    assert.equal(
      ev.databases[0]!.decisions.map((d) => [d.table, d.action, d.problem?.code]),
      [
        ['events', 'archive', undefined],
        ['txn_202001', 'archive', undefined],
      ],
    );
  } finally {
    removeTree(dir);
  }
});

test.run();
