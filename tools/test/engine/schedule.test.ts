/**
 * The engine's machine-readable dates per decision (`schedule`): archive due, purge due, legal hold,
 * next action and when. Every expected date below is worked out by hand from the policy semantics
 * (a month table's date is the month's last day; a year table's is 31 December; durations are added
 * in calendar units with the day clamped to the month's end), never by calling the engine's date code.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { evaluate, type ArchiveRecord, type Schedule } from '../../src/engine/evaluate.js';
import type { PolicyConfig } from '../../src/generated/policy.js';
import { audit, db, eventCol, inventory, measured, monthly, table, touched, yearly } from './fixtures.js';

const T = (day: string) => `${day}T00:00:00.000Z`;
const unheld: PolicyConfig = {
  ...yearly,
  name: 'free',
  age: { from: 'table_name', pattern: 'free_YYYY' },
  legal_hold: { enabled: false },
};

const archived = (table: string, validated: boolean, extra: Partial<ArchiveRecord> = {}): ArchiveRecord => ({
  database: 'd',
  schema: 's',
  table,
  archived_at: '2022-03-01T00:00:00Z',
  validated,
  ...extra,
});

interface Case {
  name: string;
  policies: PolicyConfig[];
  scope: { include: [string]; policies: [string] }[];
  tables: ReturnType<typeof table>[];
  archive?: ArchiveRecord[];
  engine?: 'postgres' | 'mariadb';
  /** table → [action, schedule] (null: the table has no date). */
  expected: Record<string, [string, Schedule | null]>;
}

const cases: Case[] = [
  {
    name: 'month tables before and after archive_after, leap day clamped, no archive yet',
    policies: [monthly], // archive_after P2Y, purge_after P7Y, no hold
    scope: [{ include: ['^txn_'], policies: ['monthly'] }],
    tables: [table('s', 'txn_202001'), table('s', 'txn_202411'), table('s', 'txn_202402'), table('s', 'txn_x')],
    expected: {
      // 2020-01-31 + 2Y = 2022-01-31 (due since); + 7Y = 2027-01-31
      txn_202001: [
        'archive',
        {
          archive_due: T('2022-01-31'),
          purge_due: T('2027-01-31'),
          legal_hold: false,
          next_action: 'archive',
          next_action_at: T('2022-01-31'),
        },
      ],
      // 2024-11-30 + 2Y = 2026-11-30, three days after the as-of date: nothing now, archive then
      txn_202411: [
        'none',
        {
          archive_due: T('2026-11-30'),
          purge_due: T('2031-11-30'),
          legal_hold: false,
          next_action: 'archive',
          next_action_at: T('2026-11-30'),
        },
      ],
      // 2024-02-29 + 2Y → 2026-02-28 (no 29 February in 2026); + 7Y → 2031-02-28
      txn_202402: [
        'archive',
        {
          archive_due: T('2026-02-28'),
          purge_due: T('2031-02-28'),
          legal_hold: false,
          next_action: 'archive',
          next_action_at: T('2026-02-28'),
        },
      ],
      txn_x: ['none', null], // name-no-date: no schedule
    },
  },
  {
    name: 'archive state: held, purge due, cleanup, unvalidated',
    policies: [yearly, unheld, monthly], // yearly/free: P3Y, P7Y (yearly held); monthly drops the source
    scope: [
      { include: ['^stmt_'], policies: ['yearly'] },
      { include: ['^free_'], policies: ['free'] },
      { include: ['^txn_'], policies: ['monthly'] },
    ],
    tables: [table('s', 'stmt_2015'), table('s', 'free_2015'), table('s', 'txn_202001'), table('s', 'txn_202002')],
    archive: [
      archived('stmt_2015', true),
      archived('free_2015', true),
      archived('txn_202001', true),
      archived('txn_202002', false),
    ],
    expected: {
      // 2015-12-31 + 3Y = 2018-12-31; + 7Y = 2022-12-31 (past), but the legal hold keeps it: nothing next
      stmt_2015: [
        'none',
        {
          archive_due: T('2018-12-31'),
          purge_due: T('2022-12-31'),
          legal_hold: true,
          next_action: null,
          next_action_at: null,
        },
      ],
      free_2015: [
        'purge',
        {
          archive_due: T('2018-12-31'),
          purge_due: T('2022-12-31'),
          legal_hold: false,
          next_action: 'purge',
          next_action_at: T('2022-12-31'),
        },
      ],
      // validated and the policy drops the source: the cleanup is due since the archive
      txn_202001: [
        'cleanup_source',
        {
          archive_due: T('2022-01-31'),
          purge_due: T('2027-01-31'),
          legal_hold: false,
          next_action: 'cleanup_source',
          next_action_at: '2022-03-01T00:00:00Z',
        },
      ],
      // 2020-02-29 + 2Y = 2022-02-28; + 7Y = 2027-02-28; archived, not validated: validation is next
      txn_202002: [
        'none',
        {
          archive_due: T('2022-02-28'),
          purge_due: T('2027-02-28'),
          legal_hold: false,
          next_action: 'validate',
          next_action_at: '2022-03-01T00:00:00Z',
        },
      ],
    },
  },
  {
    name: 'age from a timestamp column keeps its time of day; an empty table has no date',
    policies: [audit], // P1Y, P10Y
    scope: [{ include: ['_log$'], policies: ['audit'] }],
    tables: [
      table('s', 'audit_log', { columns: [eventCol], column_max: measured('2025-06-30T17:45:00.000Z') }),
      table('s', 'empty_log', { columns: [eventCol], column_max: measured(null) }),
    ],
    expected: {
      audit_log: [
        'archive',
        {
          archive_due: '2026-06-30T17:45:00.000Z',
          purge_due: '2035-06-30T17:45:00.000Z',
          legal_hold: false,
          next_action: 'archive',
          next_action_at: '2026-06-30T17:45:00.000Z',
        },
      ],
      empty_log: ['none', null],
    },
  },
  {
    name: 'no purge_after: archived and validated, nothing next',
    policies: [touched], // last_modified, P6M, no purge_after
    scope: [{ include: ['.'], policies: ['touched'] }],
    engine: 'mariadb',
    tables: [
      table('s', 'old', { last_modified: '2026-01-01T00:00:00Z' }),
      table('s', 'kept', { last_modified: '2025-03-31T12:00:00Z' }),
    ],
    archive: [archived('kept', true)],
    expected: {
      old: [
        'archive',
        {
          archive_due: T('2026-07-01'),
          purge_due: null,
          legal_hold: false,
          next_action: 'archive',
          next_action_at: T('2026-07-01'),
        },
      ],
      // 2025-03-31 + 6M = 2025-09-30 (September has 30 days), time of day kept
      kept: [
        'none',
        {
          archive_due: '2025-09-30T12:00:00.000Z',
          purge_due: null,
          legal_hold: false,
          next_action: null,
          next_action_at: null,
        },
      ],
    },
  },
];

for (const c of cases) {
  test(c.name, () => {
    const engine = c.engine ?? 'postgres';
    const ev = evaluate({
      databases: [db('d', c.scope.map((s) => ({ schema: 's', ...s })) as unknown as Parameters<typeof db>[1], engine)],
      policies: c.policies,
      inventories: new Map([['d', inventory('d', c.tables, { engine, keeps_last_modified: engine !== 'postgres' })]]),
      asOf: '2026-11-27',
      ...(c.archive ? { archive: c.archive } : {}),
    });
    const got: Record<string, [string, Schedule | null]> = {};
    for (const d of ev.databases[0]!.decisions) got[d.table] = [d.action, d.schedule];
    assert.equal(got, c.expected);
  });
}

test('a partition and a conflict have no schedule', () => {
  const ev = evaluate({
    databases: [db('d', [{ schema: 's', policies: ['a', 'b'] }])],
    policies: [
      { name: 'a', age: { from: 'table_name', pattern: 't_YYYY' }, archive_after: 'P1Y' },
      { name: 'b', age: { from: 'table_name', pattern: 't_YYYY' }, archive_after: 'P9Y' },
    ],
    inventories: new Map([
      [
        'd',
        inventory('d', [
          table('s', 't_2020'),
          table('s', 't_2019', { kind: 'partition', partition_of: { schema: 's', name: 't' } }),
        ]),
      ],
    ]),
    asOf: '2026-11-27',
  });
  assert.equal(
    ev.databases[0]!.decisions.map((d) => [d.table, d.problem?.code ?? null, d.schedule]),
    [
      ['t_2019', null, null],
      ['t_2020', 'engine/conflict', null],
    ],
  );
});

test.run();
