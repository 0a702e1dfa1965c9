/**
 * The policy engine, table-driven: each case gives configs, an inventory and an as-of date, and the
 * expected action (and problem code) per table, worked out by hand from the policy semantics
 * (a month table's date is the month's last day; due when date + duration ≤ as-of).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { evaluate, type ArchiveRecord, type EngineInput } from '../../src/engine/evaluate.js';
import type { PolicyConfig } from '../../src/generated/policy.js';
import { audit, db, eventCol, inventory, measured, monthly, table, touched, yearly } from './fixtures.js';

interface Case {
  name: string;
  input: EngineInput;
  /** table → action or `!code` for a problem; tables not listed must not be decided (unclaimed). */
  expected: Record<string, string>;
  reason?: Record<string, RegExp>;
}

const monthlyDb = db('d', [
  { schema: 'payments', include: ['^txn_'], exclude: ['^txn_current$'], policies: ['monthly'] },
]);
const names = [
  'txn_202001',
  'txn_201901',
  'txn_202411',
  'txn_202410',
  'txn_202611',
  'txn_202613',
  'txn_203001',
  'txn_202402',
  'txn_current',
  'txn_x',
  'other',
];
const monthlyInv = inventory(
  'd',
  names.map((n) => table('payments', n)),
);
const one = (
  database: typeof monthlyDb,
  policies: PolicyConfig[],
  inv: ReturnType<typeof inventory>,
  asOf: string,
  archive?: ArchiveRecord[],
): EngineInput => ({
  databases: [database],
  policies,
  inventories: new Map([[database.name, inv]]),
  asOf,
  ...(archive ? { archive } : {}),
});

const auditDb = db('d', [{ schema: 'audit', policies: ['audit'] }]);
const auditInv = inventory('d', [
  table('audit', 'audit_log', { columns: [eventCol], column_max: measured('2025-06-30T17:45:00.000Z') }),
  table('audit', 'login_audit', { columns: [eventCol], column_max: measured('2026-01-01T00:00:00.000Z') }),
  table('audit', 'empty_log', { columns: [eventCol], column_max: measured(null) }),
  table('audit', 'unmeasured', { columns: [eventCol] }),
  table('audit', 'no_column'),
  table('audit', 'int_column', {
    columns: [{ name: 'event_time', type: 'integer', nullable: true, precision: 32, scale: 0 }],
  }),
  table('audit', 'from_future', { columns: [eventCol], column_max: measured('2031-01-01T00:00:00.000Z') }),
  table('audit', 'after_as_of', { columns: [eventCol], column_max: measured('2026-11-20T00:00:00.000Z') }),
]);

const cases: Case[] = [
  {
    name: 'month-named tables: archive, not yet, current month, impossible and future dates, leap day',
    input: one(monthlyDb, [monthly], monthlyInv, '2026-11-27'),
    expected: {
      txn_202001: 'archive', // 2020-01-31 + 2Y = 2022-01-31 ≤ as-of; purge 2027-01-31 not yet
      txn_201901: 'archive', // past purge 2026-01-31 too: still archive first
      txn_202411: 'none', // 2024-11-30 + 2Y = 2026-11-30 > 2026-11-27
      txn_202410: 'archive', // 2026-10-31
      txn_202611: 'none', // current month
      txn_202613: '!engine/name-bad-date',
      txn_203001: '!engine/date-in-future',
      txn_202402: 'archive', // 2024-02-29 + 2Y = 2026-02-28
      txn_x: '!engine/name-no-date',
    },
    reason: {
      txn_201901: /purged once validated/,
      txn_202001: /dropped after P30D/,
      txn_202611: /-3 days old/,
      txn_202613: /month 13/,
    },
  },
  {
    name: 'due on the day itself',
    input: one(monthlyDb, [monthly], inventory('d', [table('payments', 'txn_202410')]), '2026-10-31'),
    expected: { txn_202410: 'archive' },
  },
  {
    name: 'one day before it is due',
    input: one(monthlyDb, [monthly], inventory('d', [table('payments', 'txn_202410')]), '2026-10-30'),
    expected: { txn_202410: 'none' },
  },
  {
    name: 'age from a timestamp column',
    input: one(auditDb, [audit], auditInv, '2026-11-27'),
    expected: {
      audit_log: 'archive', // 2025-06-30 + 1Y ≤ as-of
      login_audit: 'none', // 2027-01-01
      empty_log: 'none',
      unmeasured: '!engine/not-measured',
      no_column: '!engine/column-missing',
      int_column: '!engine/column-not-date',
      from_future: '!engine/date-in-future',
      after_as_of: 'none',
    },
    reason: { empty_log: /empty/ },
  },
  {
    name: 'last_modified: PostgreSQL keeps none, MariaDB does',
    input: {
      databases: [
        db('pg', [{ schema: 's', policies: ['touched'] }]),
        db('maria', [{ schema: 's', policies: ['touched'] }], 'mariadb'),
      ],
      policies: [touched],
      inventories: new Map([
        ['pg', inventory('pg', [table('s', 't1', { last_modified: null })])],
        [
          'maria',
          inventory(
            'maria',
            [
              table('s', 'old', { last_modified: '2026-01-01T00:00:00Z' }),
              table('s', 'fresh', { last_modified: '2026-11-01T00:00:00Z' }),
              table('s', 'unknown'),
            ],
            { engine: 'mariadb', keeps_last_modified: true },
          ),
        ],
      ]),
      asOf: '2026-11-27',
    },
    expected: {
      t1: '!engine/no-last-modified',
      old: 'archive',
      fresh: 'none',
      unknown: '!engine/last-modified-unknown',
    },
  },
  {
    name: 'two policies, equal priority, different outcomes: a conflict',
    input: one(
      db('d', [
        { schema: 's', policies: ['a'] },
        { schema: 's', include: ['^t'], policies: ['b'] },
      ]),
      [
        { name: 'a', age: { from: 'table_name', pattern: 't_YYYY' }, archive_after: 'P1Y', priority: 10 },
        { name: 'b', age: { from: 'table_name', pattern: 't_YYYY' }, archive_after: 'P9Y', priority: 10 },
      ],
      inventory('d', [table('s', 't_2020'), table('s', 't_2026')]),
      '2026-11-27',
    ),
    expected: { t_2020: '!engine/conflict', t_2026: 'none' }, // t_2026: both say none — they agree
  },
  {
    name: 'missing priorities on a conflict: reported',
    input: one(
      db('d', [{ schema: 's', policies: ['a', 'b'] }]),
      [
        { name: 'a', age: { from: 'table_name', pattern: 't_YYYY' }, archive_after: 'P1Y' },
        { name: 'b', age: { from: 'table_name', pattern: 't_YYYY' }, archive_after: 'P9Y' },
      ],
      inventory('d', [table('s', 't_2020')]),
      '2026-11-27',
    ),
    expected: { t_2020: '!engine/conflict' },
  },
  {
    name: 'the higher priority wins',
    input: one(
      db('d', [{ schema: 's', policies: ['a', 'b'] }]),
      [
        { name: 'a', age: { from: 'table_name', pattern: 't_YYYY' }, archive_after: 'P1Y', priority: 5 },
        { name: 'b', age: { from: 'table_name', pattern: 't_YYYY' }, archive_after: 'P9Y', priority: 7 },
      ],
      inventory('d', [table('s', 't_2020')]),
      '2026-11-27',
    ),
    expected: { t_2020: 'none' },
    reason: { t_2020: /archive due 2029-12-31/ },
  },
  {
    name: 'archive state: validated archive → purge, cleanup, legal hold, unvalidated, source gone',
    input: {
      databases: [
        db('d', [
          { schema: 's', include: ['^stmt_'], policies: ['yearly'] },
          { schema: 's', include: ['^txn_'], policies: ['monthly'] },
          { schema: 's', include: ['^free_'], policies: ['free'] },
        ]),
      ],
      policies: [
        yearly,
        monthly,
        {
          ...yearly,
          name: 'free',
          pattern: undefined,
          age: { from: 'table_name', pattern: 'free_YYYY' },
          legal_hold: { enabled: false },
        } as PolicyConfig,
      ],
      inventories: new Map([
        [
          'd',
          inventory('d', [
            table('s', 'stmt_2015'),
            table('s', 'txn_202001'),
            table('s', 'txn_202002'),
            table('s', 'free_2015'),
          ]),
        ],
      ]),
      asOf: '2026-11-27',
      archive: [
        { database: 'd', schema: 's', table: 'stmt_2015', archived_at: '2020-01-01T00:00:00Z', validated: true },
        { database: 'd', schema: 's', table: 'free_2015', archived_at: '2020-01-01T00:00:00Z', validated: true },
        { database: 'd', schema: 's', table: 'txn_202001', archived_at: '2022-03-01T00:00:00Z', validated: true },
        { database: 'd', schema: 's', table: 'txn_202002', archived_at: '2022-03-01T00:00:00Z', validated: false },
        {
          database: 'd',
          schema: 's',
          table: 'txn_201801',
          archived_at: '2020-03-01T00:00:00Z',
          validated: true,
          table_date: '2018-01-31',
          rows: 5,
          bytes: 10,
        },
        {
          database: 'd',
          schema: 's',
          table: 'txn_202005',
          archived_at: '2022-06-01T00:00:00Z',
          validated: true,
          table_date: '2020-05-31',
        },
        // aged by its name
        { database: 'd', schema: 's', table: 'txn_201802', archived_at: '2020-06-01T00:00:00Z', validated: true },
        {
          database: 'd',
          schema: 's',
          table: 'free_x',
          archived_at: '2020-06-01T00:00:00Z',
          validated: true,
          purged: true,
        },
      ],
    },
    expected: {
      stmt_2015: 'none',
      free_2015: 'purge',
      txn_202001: 'cleanup_source',
      txn_202002: 'none',
      txn_201801: 'purge',
      txn_202005: 'none',
      txn_201802: 'purge',
      free_x: 'none',
    },
    reason: { stmt_2015: /LIT-1/, txn_202002: /not validated/, free_x: /archive purged/ },
  },
  {
    name: 'partitions are decided with their parent; a read error names the table',
    input: one(
      db('d', [{ schema: 's', policies: ['monthly'] }]),
      [monthly],
      inventory(
        'd',
        [
          table('s', 'ledger_202001', { kind: 'partition', partition_of: { schema: 's', name: 'ledger' } }),
          table('s', 'txn_202001'),
        ],
        {
          partial: true,
          errors: [{ code: 'discover/table-missing', schema: 's', table: 'txn_202001', message: 'gone' }],
        },
      ),
      '2026-11-27',
    ),
    expected: { ledger_202001: 'none', txn_202001: '!discover/table-missing' },
    reason: { ledger_202001: /partition of s\.ledger/ },
  },
];

for (const c of cases) {
  test(c.name, () => {
    const ev = evaluate(c.input);
    const got: Record<string, string> = {};
    for (const d of ev.databases.flatMap((x) => x.decisions))
      got[d.table] = d.problem ? `!${d.problem.code}` : d.action;
    assert.equal(got, c.expected);
    for (const [t, re] of Object.entries(c.reason ?? {})) {
      const d = ev.databases.flatMap((x) => x.decisions).find((x) => x.table === t)!;
      assert.match(d.reason, re, `${t}: ${d.reason}`);
    }
  });
}

test('an archive whose source is gone, aged by a column, needs its table_date', () => {
  const ev = evaluate({
    databases: [auditDb],
    policies: [audit],
    inventories: new Map([['d', inventory('d', [], { schemas: [{ name: 'audit', found: true }] })]]),
    asOf: '2026-11-27',
    archive: [
      { database: 'd', schema: 'audit', table: 'old_log', archived_at: '2020-01-01T00:00:00Z', validated: true },
    ],
  });
  assert.equal(
    ev.databases[0]!.decisions.map((d) => [d.table, d.in_source, d.problem?.code]),
    [['old_log', false, 'engine/archive-undated']],
  );
});

test('month table age: date is the last day of the month, days counted to the as-of date', () => {
  const d = evaluate(one(monthlyDb, [monthly], inventory('d', [table('payments', 'txn_202402')]), '2026-11-27'))
    .databases[0]!.decisions[0]!;
  assert.is(d.age?.date.slice(0, 10), '2024-02-29');
  assert.is(d.age?.days, 1002); // 2024-02-29 → 2026-11-27: 306 (rest of 2024) + 365 + 331
  assert.is(d.frees_source, true);
  assert.is(d.policy, 'monthly');
});

test('missing and partial inventories fail or flag their database', () => {
  const ev = evaluate({
    databases: [
      db('a', [{ schema: 's', policies: ['monthly'] }]),
      db('b', [
        { schema: 's', policies: ['monthly'] },
        { schema: 'ghost', policies: ['monthly'] },
      ]),
    ],
    policies: [monthly],
    inventories: new Map([['b', inventory('b', [table('s', 'txn_202001')])]]),
    asOf: '2026-11-27',
  });
  assert.equal(
    ev.databases.map((d) => [d.database, d.status, d.problems.map((p) => p.code)]),
    [
      ['a', 'failed', ['inventory/missing']],
      ['b', 'partial', ['inventory/schema-not-discovered']],
    ],
  );
});

test('unclaimed tables are counted, not decided', () => {
  const ev = evaluate(one(monthlyDb, [monthly], monthlyInv, '2026-11-27'));
  assert.is(ev.databases[0]!.unclaimed, 2); // txn_current (excluded) and other
});

test('deterministic: input order does not change the output', () => {
  const a = evaluate(one(monthlyDb, [monthly], monthlyInv, '2026-11-27'));
  const b = evaluate(
    one(monthlyDb, [monthly], { ...monthlyInv, tables: [...monthlyInv.tables].reverse() }, '2026-11-27'),
  );
  assert.equal(JSON.stringify(a), JSON.stringify(b));
});

test('hostile names are matched by patterns as plain text', () => {
  const names = [
    `txn_2020"; DROP TABLE x; --`,
    'Txn_202001',
    'txn.202001',
    'txn 202001',
    'tx\u00f1_202001',
    'txn_202001',
  ];
  const ev = evaluate(
    one(
      db('d', [{ schema: 's', include: ['^txn_[0-9]{6}$'], policies: ['monthly'] }]),
      [monthly],
      inventory(
        'd',
        names.map((n) => table('s', n)),
      ),
      '2026-11-27',
    ),
  );
  assert.equal(
    ev.databases[0]!.decisions.map((d) => d.table),
    ['txn_202001'],
  );
});

test.run();
