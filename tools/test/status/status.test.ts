/**
 * `offload status`: every claimed table with its dates, action now, next action and ledger state.
 * Expected dates are worked out by hand (month table → the month's last day; + P2Y / P7Y / P1Y in
 * calendar units), not by the engine's date code; the JSON is checked against schema/status.schema.json.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { status, type StatusResult } from '../../src/status/status.js';
import { renderText } from '../../src/status/render.js';
import { SCHEMA_DIR } from '../../scripts/generate-types.js';
import { cli } from '../helpers/cli.js';
import { writeTree, removeTree } from '../helpers/fixtures.js';
import { SETTINGS } from '../helpers/repo.js';
import { firstUserTree } from '../fixtures/first-user.js';
import { createLocalLedger } from '../../src/ledger/index.js';
import { inventory, table, eventCol, measured } from '../engine/fixtures.js';

const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
const contract = ajv.compile(JSON.parse(readFileSync(path.join(SCHEMA_DIR, 'status.schema.json'), 'utf8')));
const contractProblems = (doc: unknown) =>
  contract(doc) ? [] : contract.errors!.map((e) => `${e.instancePath} ${e.message}`);

const T = (d: string) => `${d}T00:00:00.000Z`;
const TABLES = [
  table('ledger', 'txn_202001', { rows: 10, bytes: 100 }),
  table('ledger', 'txn_202411', { rows: 20, bytes: 200 }),
  table('ledger', 'txn_current'),
  table('ledger', 'audit_log', { columns: [eventCol], column_max: measured('2025-06-30T00:00:00Z') }),
];

function repo(tables = TABLES, archive?: unknown): string {
  const dir = writeTree({ 'offload.settings.yaml': SETTINGS, ...firstUserTree('ledger') });
  mkdirSync(path.join(dir, 'inventory'));
  writeFileSync(path.join(dir, 'inventory/ledger.json'), JSON.stringify(inventory('ledger', tables)));
  if (archive) writeFileSync(path.join(dir, 'archive-state.json'), JSON.stringify(archive));
  return dir;
}

type Row = [string, string, string | null, string | null, string | null, boolean | null, string | null, string | null];
/** [table, action, archive_due, purge_due, table_date, legal_hold, next_action, next_action_at] */
const rows = (r: StatusResult): Row[] =>
  r.tables.map((t) => [
    t.table,
    t.problem ? `!${t.problem.code}` : t.action,
    t.schedule?.archive_due ?? null,
    t.schedule?.purge_due ?? null,
    t.schedule?.table_date ?? null,
    t.schedule?.legal_hold ?? null,
    t.schedule?.next_action ?? null,
    t.schedule?.next_action_at ?? null,
  ]);

interface Case {
  name: string;
  tables?: typeof TABLES;
  archive?: unknown;
  asOf: string;
  expected: Row[];
  complete: boolean;
}

const cases: Case[] = [
  {
    name: 'nothing archived yet: due now, not yet, held with no purge, unclaimed left out',
    asOf: '2026-11-27',
    expected: [
      // max(event_time) 2025-06-30 + P1Y = 2026-06-30 ≤ as-of; audit-trail has no purge_after and a hold
      ['audit_log', 'archive', T('2026-06-30'), null, T('2025-06-30'), true, 'archive', T('2026-06-30')],
      // 2020-01-31 + P2Y = 2022-01-31; + P7Y = 2027-01-31
      ['txn_202001', 'archive', T('2022-01-31'), T('2027-01-31'), T('2020-01-31'), false, 'archive', T('2022-01-31')],
      // 2024-11-30 + P2Y = 2026-11-30, after the as-of date: nothing now, archive then
      ['txn_202411', 'none', T('2026-11-30'), T('2031-11-30'), T('2024-11-30'), false, 'archive', T('2026-11-30')],
    ],
    complete: true,
  },
  {
    name: 'the day txn_202411 falls due',
    asOf: '2026-11-30',
    expected: [
      ['audit_log', 'archive', T('2026-06-30'), null, T('2025-06-30'), true, 'archive', T('2026-06-30')],
      ['txn_202001', 'archive', T('2022-01-31'), T('2027-01-31'), T('2020-01-31'), false, 'archive', T('2022-01-31')],
      ['txn_202411', 'archive', T('2026-11-30'), T('2031-11-30'), T('2024-11-30'), false, 'archive', T('2026-11-30')],
    ],
    complete: true,
  },
  {
    name: 'archive records: validated → purge next, past purge → purge now, unvalidated → validate, source gone',
    asOf: '2026-11-27',
    archive: [
      {
        database: 'ledger',
        schema: 'ledger',
        table: 'txn_202001',
        archived_at: '2022-03-01T00:00:00Z',
        validated: true,
      },
      {
        database: 'ledger',
        schema: 'ledger',
        table: 'audit_log',
        archived_at: '2026-07-01T00:00:00Z',
        validated: false,
      },
      // Source dropped; aged by its name: 2018-01-31 + P7Y = 2025-01-31 ≤ as-of
      {
        database: 'ledger',
        schema: 'ledger',
        table: 'txn_201801',
        archived_at: '2020-02-01T00:00:00Z',
        validated: true,
      },
    ],
    expected: [
      ['audit_log', 'none', T('2026-06-30'), null, T('2025-06-30'), true, 'validate', '2026-07-01T00:00:00Z'],
      ['txn_201801', 'purge', T('2020-01-31'), T('2025-01-31'), T('2018-01-31'), false, 'purge', T('2025-01-31')],
      ['txn_202001', 'none', T('2022-01-31'), T('2027-01-31'), T('2020-01-31'), false, 'purge', T('2027-01-31')],
      ['txn_202411', 'none', T('2026-11-30'), T('2031-11-30'), T('2024-11-30'), false, 'archive', T('2026-11-30')],
    ],
    complete: true,
  },
  {
    name: 'an impossible month: listed with its problem, no dates, incomplete',
    tables: [table('ledger', 'txn_202013'), table('ledger', 'txn_202001')],
    asOf: '2026-11-27',
    expected: [
      ['txn_202001', 'archive', T('2022-01-31'), T('2027-01-31'), T('2020-01-31'), false, 'archive', T('2022-01-31')],
      ['txn_202013', '!engine/name-bad-date', null, null, null, null, null, null],
    ],
    complete: false,
  },
];

for (const c of cases)
  test(`status: ${c.name}`, async () => {
    const dir = repo(c.tables, c.archive);
    try {
      const r = await status({
        root: dir,
        inventory: 'inventory',
        asOf: c.asOf,
        ...(c.archive ? { archiveState: 'archive-state.json' } : {}),
      });
      assert.equal(rows(r), c.expected);
      assert.is(r.complete, c.complete);
      assert.equal(contractProblems(JSON.parse(JSON.stringify(r))), []);
      assert.is(r.ledger, null);
      assert.ok(r.tables.every((t) => t.state === null));
      assert.is(r.summary.tables, c.expected.length);
      assert.is(r.summary.due_now, c.expected.filter((e) => !['none'].includes(e[1]) && !e[1].startsWith('!')).length);
    } finally {
      removeTree(dir);
    }
  });

test("status --ledger: each table's state, and the engine decides with the ledger's archive records", async () => {
  const dir = repo();
  try {
    const ledger = createLocalLedger({ dir: path.join(dir, '.offload/state') });
    const ref = (table: string) => ({ database: 'ledger', schema: 'ledger', table });
    const archived = { runId: 'r1', at: '2022-03-01T00:00:00.000Z', snapshotId: '9223372036854775783', rows: 10 };
    await ledger.transition(ref('txn_202001'), { expect: null, to: 'archiving', runId: 'r1' });
    await ledger.transition(ref('txn_202001'), { expect: 'archiving', to: 'archived', ...archived });
    await ledger.transition(ref('txn_202001'), {
      expect: 'archived',
      to: 'validated',
      runId: 'r1',
      at: '2022-03-01T01:00:00.000Z',
      validation: { status: 'passed', snapshot_id: '9223372036854775783', validated_at: '2022-03-01T01:00:00Z' },
    });
    await ledger.transition(ref('audit_log'), { expect: null, to: 'archiving', runId: 'r2' });
    const r = await cli(['status', '--as-of', '2026-11-27', '--format', 'json'], dir);
    assert.is(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as StatusResult;
    assert.equal(contractProblems(doc), []);
    assert.match(doc.ledger!, /^local:/);
    assert.equal(
      doc.tables.map((t) => [t.table, t.action, t.state?.state ?? null, t.schedule?.next_action ?? null]),
      [
        ['audit_log', 'archive', 'archiving', 'archive'], // a started archive is not archived: decided afresh
        ['txn_202001', 'none', 'validated', 'purge'], // validated: nothing now, purge on 2027-01-31
        ['txn_202411', 'none', null, 'archive'],
      ],
    );
    const txn = doc.tables.find((t) => t.table === 'txn_202001')!;
    assert.equal(
      [txn.state?.snapshot_id, txn.schedule?.next_action_at],
      ['9223372036854775783', '2027-01-31T00:00:00.000Z'],
    );
    const none = JSON.parse(
      (await cli(['status', '--as-of', '2026-11-27', '--format', 'json', '--ledger', 'none'], dir)).stdout,
    );
    assert.is(none.ledger, null);
    assert.ok(none.tables.every((t: StatusResult['tables'][number]) => t.state === null));
  } finally {
    removeTree(dir);
  }
});

test('status text: a row per table, the reason for those with nothing to do, the hold', async () => {
  const dir = repo();
  try {
    const text = renderText(await status({ root: dir, inventory: 'inventory', asOf: '2026-11-27' }));
    const line = (t: string) => text.split('\n').find((l) => l.includes(`ledger.${t} `))!;
    assert.match(line('txn_202411'), /2024-11-30\s+2026-11-30\s+2031-11-30\s+-\s+none\s+archive on 2026-11-30/);
    assert.match(line('audit_log'), /2026-06-30\s+never\s+held\s+archive\s+archive now \(due 2026-06-30\)/);
    assert.match(text, /why: \d+ days old \(name → month 2024-11, last day 2024-11-30\); archive due 2026-11-30/);
    assert.match(text, /1 table\(s\) no scope claims/);
  } finally {
    removeTree(dir);
  }
});

test('status CLI: --format json, --database, exit codes (1 missing inventory, 2 unknown database)', async () => {
  const dir = repo();
  try {
    const ok = await cli(['status', '--as-of', '2026-11-27', '--format', 'json', '--database', 'ledger'], dir);
    assert.is(ok.status, 0, ok.stderr);
    assert.equal(contractProblems(JSON.parse(ok.stdout)), []);
    assert.is(JSON.parse(ok.stdout).tables.length, 3);
    const unknown = await cli(['status', '--database', 'ledgr'], dir);
    assert.is(unknown.status, 2);
    assert.match(unknown.stderr, /no database config named "ledgr"; the configs declare: ledger/);
    removeTree(path.join(dir, 'inventory'));
    const missing = await cli(['status', '--as-of', '2026-11-27'], dir);
    assert.is(missing.status, 1);
    assert.match(missing.stdout, /inventory\/missing: .*run `offload discover --database ledger`/);
    assert.not.match(missing.stderr, /\n\s+at /);
  } finally {
    removeTree(dir);
  }
});

test.run();
