/**
 * The run ledger, against both stores (a local state directory and DynamoDB on a moto server): the
 * legal path, every illegal transition refused (and the entry left as it was), stale writers refused,
 * concurrent writers — exactly one wins — and what the policy engine reads from it.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  archiveRecordsOf,
  createLocalLedger,
  IllegalTransitionError,
  LedgerConflictError,
  type Ledger,
  type State,
  type TableRef,
  type Transition,
} from '../../src/ledger/index.js';
import { createDynamoLedger, createLedgerTable } from '../../src/ledger/dynamodb.js';
import { SCHEMA_DIR } from '../../scripts/generate-types.js';
import { startThrottleProxy, type ThrottleProxy } from '../helpers/aws-fakes.js';
import { startMoto, type MotoServer } from '../helpers/moto.js';

const ajv = new Ajv2020({ strict: false });
const entrySchema = ajv.compile(JSON.parse(readFileSync(path.join(SCHEMA_DIR, 'ledger-entry.schema.json'), 'utf8')));

let moto: MotoServer;
/** moto through a one-request-at-a-time proxy: see startThrottleProxy for why (a race test needs atomic writes). */
let serial: ThrottleProxy;
const dirs: string[] = [];
let n = 0;
/** A fresh store; `peer()` opens another writer on the same store (its own instance and client). */
type Store = { name: string; make: () => Promise<Ledger & { peer: () => Ledger }> };
const stores: Store[] = [
  {
    name: 'local',
    make: async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'offload-ledger-'));
      dirs.push(dir);
      return Object.assign(createLocalLedger({ dir }), { peer: () => createLocalLedger({ dir }) });
    },
  },
  {
    name: 'dynamodb',
    make: async () => {
      const table = `ledger-test-${process.pid}-${++n}`;
      await createLedgerTable(table, new DynamoDBClient({}));
      const open = () => createDynamoLedger({ table, client: new DynamoDBClient({ endpoint: serial.endpoint }) });
      return Object.assign(open(), { peer: open });
    },
  },
];

test.before(async () => {
  moto = await startMoto();
  serial = await startThrottleProxy(moto.endpoint, { serialize: true });
});
test.after(async () => {
  await serial?.close();
  await moto?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const ref: TableRef = { database: 'db1', schema: 'pay/ments', table: 'txn.2020 01' };
const SNAP = '9007199254740993'; // past 2^53: kept exactly as text
const step = (expect: State | null, to: State, extra: Partial<Transition> = {}): Transition => ({
  expect,
  to,
  runId: 'r1',
  ...extra,
});
const passed = { status: 'passed' as const, snapshot_id: SNAP, mode: 'full', mismatches: 0 };

for (const store of stores) {
  test(`${store.name}: the legal path, each transition recorded with run, snapshot, rows and validation`, async () => {
    const l = await store.make();
    assert.is(await l.get(ref), undefined);
    await l.transition(ref, step(null, 'planned', { archive: { namespace: 'archive_db1', table: 'x' }, policy: 'p' }));
    await l.transition(ref, step('planned', 'archiving'));
    await l.transition(
      ref,
      step('archiving', 'archived', { snapshotId: SNAP, rows: 300, at: '2026-12-02T10:00:00.000Z' }),
    );
    await l.transition(ref, step('archived', 'validated', { validation: passed }));
    await l.transition(ref, step('validated', 'source_renamed', { runId: 'r2', note: 'renamed to q_x' }));
    await l.transition(ref, step('source_renamed', 'source_dropped', { runId: 'r3' }));
    const last = await l.transition(ref, step('source_dropped', 'purged', { runId: 'r4' }));
    const got = (await l.get(ref))!;
    assert.equal(got, last);
    assert.ok(entrySchema(got), ajv.errorsText(entrySchema.errors));
    assert.equal(
      [got.state, got.version, got.snapshot_id, got.rows, got.archive_run_id, got.archived_at, got.validation?.status],
      ['purged', 7, SNAP, 300, 'r1', '2026-12-02T10:00:00.000Z', 'passed'],
    );
    assert.equal(
      got.history.map((h) => [h.from, h.to, h.run_id]),
      [
        [null, 'planned', 'r1'],
        ['planned', 'archiving', 'r1'],
        ['archiving', 'archived', 'r1'],
        ['archived', 'validated', 'r1'],
        ['validated', 'source_renamed', 'r2'],
        ['source_renamed', 'source_dropped', 'r3'],
        ['source_dropped', 'purged', 'r4'],
      ],
    );
    assert.equal([got.schema, got.table, got.archive_namespace], ['pay/ments', 'txn.2020 01', 'archive_db1']);
  });

  test(`${store.name}: a writer's remembered copy never wins over a newer entry, and never blocks one`, async () => {
    const a = await store.make();
    const b = a.peer();
    await a.transition(ref, step(null, 'archiving'));
    await a.transition(ref, step('archiving', 'archived', { snapshotId: SNAP, rows: 5 }));
    // b moves the table on behind a's back; a still remembers `archived`.
    await b.transition(ref, step('archived', 'validated', { validation: passed, runId: 'rb' }));
    const failed = step('archived', 'failed', { error: { code: 'job/x', message: 'x' } });
    assert.instance(await a.transition(ref, failed).catch((x) => x), LedgerConflictError);
    assert.is((await b.get(ref))!.state, 'validated');
    // What a now asks starts from what is really there: it goes through.
    const renamed = await a.transition(ref, step('validated', 'source_renamed', { runId: 'ra' }));
    assert.equal([renamed.state, renamed.version], ['source_renamed', 4]);
    assert.equal(
      (await b.get(ref))!.history.map((h) => h.run_id),
      ['r1', 'r1', 'rb', 'ra'],
    );
  });

  test(`${store.name}: illegal transitions are refused and change nothing`, async () => {
    const l = await store.make();
    const refused: [State | null, Transition, 'illegal' | 'conflict'][] = [
      [null, step(null, 'archived', { snapshotId: SNAP, rows: 1 }), 'illegal'], // never archived without archiving
      [null, step(null, 'validated', { validation: passed }), 'illegal'],
      [null, step('planned', 'archiving'), 'conflict'], // the writer read a state that is not there
    ];
    for (const [, t, kind] of refused) {
      const e = await l.transition(ref, t).catch((x) => x);
      assert.instance(e, kind === 'illegal' ? IllegalTransitionError : LedgerConflictError, `${t.expect}→${t.to}`);
    }
    assert.is(await l.get(ref), undefined);
    await l.transition(ref, step(null, 'archiving'));
    const cases: [Transition, typeof IllegalTransitionError | typeof LedgerConflictError][] = [
      [step('archiving', 'archived'), IllegalTransitionError], // no snapshot id or row count
      [step('archiving', 'archived', { snapshotId: SNAP }), IllegalTransitionError],
      [step('archiving', 'validated', { validation: passed }), IllegalTransitionError],
      [step('archiving', 'failed'), IllegalTransitionError], // a failure needs its error
      [step('archived', 'validated', { validation: passed }), LedgerConflictError], // stale writer
    ];
    for (const [t, cls] of cases)
      assert.instance(await l.transition(ref, t).catch((x) => x), cls, `${t.expect}→${t.to}`);
    assert.is((await l.get(ref))!.version, 1);
    await l.transition(ref, step('archiving', 'archived', { snapshotId: SNAP, rows: 5 }));
    const failedValidation = { ...passed, status: 'failed' as const, mismatches: 3 };
    assert.instance(
      await l.transition(ref, step('archived', 'validated', { validation: failedValidation })).catch((x) => x),
      IllegalTransitionError,
      'only a passed validation validates',
    );
    const f = await l.transition(
      ref,
      step('archived', 'failed', {
        validation: failedValidation,
        error: { code: 'validation_failed', message: '3 rows' },
      }),
    );
    assert.equal(f.error, { code: 'validation_failed', message: '3 rows', during: 'archived' });
    await l.transition(ref, step('failed', 'archiving', { runId: 'r2' }));
    const re = await l.transition(ref, step('archiving', 'archived', { runId: 'r2', snapshotId: '7', rows: 5 }));
    assert.equal(
      [re.validation, re.error, re.archive_run_id],
      [null, null, 'r2'],
      'a new archive has no validation yet',
    );
    await l.transition(
      ref,
      step('archived', 'validated', { runId: 'r2', validation: { ...passed, snapshot_id: '7' } }),
    );
    for (const to of ['archiving', 'planned', 'archived'] as State[])
      assert.instance(
        await l.transition(ref, step('validated', to, { snapshotId: '8', rows: 1 })).catch((x) => x),
        IllegalTransitionError,
        `a validated table is never redone (validated→${to})`,
      );
    await l.transition(ref, step('validated', 'purged'));
    for (const to of ['planned', 'archiving', 'failed', 'validated'] as State[])
      assert.instance(
        await l
          .transition(ref, step('purged', to, { error: { code: 'x', message: 'y' }, validation: passed }))
          .catch((x) => x),
        IllegalTransitionError,
        `purged is final (→${to})`,
      );
    assert.is((await l.get(ref))!.state, 'purged');
  });

  test(`${store.name}: concurrent writers from the same state — exactly one wins`, async () => {
    const l = await store.make();
    const peers = [l, ...[1, 2, 3, 4, 5, 6, 7].map(() => l.peer())];
    const results = await Promise.allSettled(
      peers.map((p, i) => p.transition(ref, step(null, 'archiving', { runId: `w${i}` }))),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    assert.is(won.length, 1, 'one writer claims the table');
    assert.ok(lost.every((r) => r.reason instanceof LedgerConflictError));
    const entry = (await l.get(ref))!;
    assert.is(entry.version, 1);
    assert.is(entry.run_id, (won[0] as PromiseFulfilledResult<{ run_id: string }>).value.run_id);
    // Then a race between two different next states: one lands, the other is refused.
    const race = await Promise.allSettled([
      peers[1]!.transition(ref, step('archiving', 'archived', { snapshotId: '1', rows: 1 })),
      peers[2]!.transition(ref, step('archiving', 'failed', { error: { code: 'interrupted', message: 'killed' } })),
    ]);
    assert.is(race.filter((r) => r.status === 'fulfilled').length, 1);
    assert.is((await l.get(ref))!.version, 2);
  });

  test(`${store.name}: list and the engine's archive records`, async () => {
    const l = await store.make();
    const t = (table: string) => ({ database: 'db1', schema: 's', table });
    await l.transition(t('a'), step(null, 'archiving'));
    await l.transition(t('b'), step(null, 'archiving'));
    await l.transition(
      t('b'),
      step('archiving', 'archived', { snapshotId: '1', rows: 10, tableDate: '2020-01-31T00:00:00.000Z' }),
    );
    await l.transition(t('c'), step(null, 'archiving'));
    await l.transition(t('c'), step('archiving', 'archived', { snapshotId: '2', rows: 20 }));
    await l.transition(t('c'), step('archived', 'validated', { validation: passed }));
    await l.transition({ database: 'db2', schema: 's', table: 'z' }, step(null, 'planned'));
    assert.equal(
      (await l.list()).map((e) => `${e.database}.${e.table}:${e.state}`),
      ['db1.a:archiving', 'db1.b:archived', 'db1.c:validated', 'db2.z:planned'],
    );
    assert.equal((await l.list('db2')).length, 1);
    const records = archiveRecordsOf(await l.list());
    assert.equal(
      records.map((r) => [r.table, r.validated, r.rows, r.table_date ?? null]),
      [
        ['b', false, 10, '2020-01-31T00:00:00.000Z'],
        ['c', true, 20, null],
      ],
      'archiving and planned tables are not archived yet',
    );
  });
}

test('local: writers in separate processes — exactly one claims the table, the others are refused', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'offload-ledger-'));
  dirs.push(dir);
  const script = `
    import { createLocalLedger } from ${JSON.stringify(path.resolve('tools/src/ledger/index.ts'))};
    const l = createLocalLedger({ dir: process.argv[1] });
    const ref = { database: 'db1', schema: 's', table: 't' };
    try { await l.transition(ref, { expect: null, to: 'archiving', runId: process.argv[2] }); console.log('won'); }
    catch (e) { console.log(e.code ?? e.message); }`;
  const outs = await Promise.all(
    [0, 1, 2, 3, 4].map(
      (i) =>
        new Promise<string>((resolve) => {
          const c = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, dir, `p${i}`], {
            stdio: ['ignore', 'pipe', 'inherit'],
          });
          let out = '';
          c.stdout.on('data', (d) => (out += d));
          c.on('close', () => resolve(out.trim()));
        }),
    ),
  );
  assert.equal(outs.filter((o) => o === 'won').length, 1, outs.join(', '));
  assert.equal(outs.filter((o) => o === 'ledger/conflict').length, 4, outs.join(', '));
  const e = (await createLocalLedger({ dir }).list())[0]!;
  assert.equal([e.state, e.version], ['archiving', 1]);
});

test('local: an interrupted write (a stray temporary file) is never read as an entry', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'offload-ledger-'));
  dirs.push(dir);
  const l = createLocalLedger({ dir });
  await l.transition(ref, step(null, 'archiving'));
  const [file] = readdirSync(path.join(dir, 'ledger')).filter((f) => f.endsWith('.json'));
  writeFileSync(path.join(dir, 'ledger', `${file}.tmp-abcdef`), '{"state": "validat');
  assert.equal(
    (await l.list()).map((e) => e.state),
    ['archiving'],
  );
  assert.is((await l.get(ref))!.state, 'archiving');
});

test.run();
