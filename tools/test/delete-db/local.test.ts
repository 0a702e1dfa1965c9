/**
 * delete-archive-database on the local runtime: a Hadoop warehouse written as Iceberg lays it out,
 * the local run ledger, the local governance file. Each refusal is tried; the dry run must change no
 * byte; an apply must leave nothing at the locations; an apply that fails midway must be finished by a
 * rerun. Expectations are written out by hand from the fixture.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { writeTree } from '../helpers/fixtures.js';
import { baseRepo } from '../helpers/repo.js';
import { cli } from '../helpers/cli.js';
import { deleteArchiveDatabase } from '../../src/delete-db/delete-db.js';
import { openDeleteTargets } from '../../src/delete-db/targets.js';
import { createLocalLedger } from '../../src/ledger/local.js';
import { createLocalGovernanceTarget } from '../../src/governance/local-target.js';
import { UserError } from '../../src/errors.js';

const DB = 'archive_db1';
const FUTURE = `${new Date().getUTCFullYear() + 3}-01-01`;
const PAST = '2020-01-01';
const HELD = `name: held
age:
  from: table_name
  pattern: "*_YYYYMM"
archive_after: P1Y
legal_hold:
  enabled: true
  reason: litigation
  reference: CASE-42
`;

interface TableSpec {
  name: string;
  props: Record<string, string>;
  files?: number;
}

function writeTable(root: string, t: TableSpec) {
  const dir = path.join(root, '.offload/warehouse', DB, t.name);
  mkdirSync(path.join(dir, 'metadata'), { recursive: true });
  mkdirSync(path.join(dir, 'data'), { recursive: true });
  writeFileSync(
    path.join(dir, 'metadata/v2.metadata.json'),
    JSON.stringify({
      'format-version': 2,
      location: dir,
      properties: { 'write.format.default': 'parquet', ...t.props },
    }),
  );
  writeFileSync(path.join(dir, 'metadata/v1.metadata.json'), '{"format-version":2,"properties":{}}');
  writeFileSync(path.join(dir, 'metadata/version-hint.text'), '2');
  for (let i = 0; i < (t.files ?? 2); i++) writeFileSync(path.join(dir, `data/part-${i}.parquet`), 'x'.repeat(100));
}

const ok = (policy = 'monthly') => ({
  'offload.legal_hold': 'false',
  'offload.retention_until': PAST,
  'offload.policy': policy,
});

async function fixture(opts: { tables: TableSpec[]; extra?: Record<string, string> }) {
  const root = writeTree({ ...baseRepo(), 'policies/held.yaml': HELD, ...(opts.extra ?? {}) });
  for (const t of opts.tables) writeTable(root, t);
  const state = path.join(root, '.offload/state');
  const ledger = createLocalLedger({ dir: state });
  for (const t of opts.tables) {
    const ref = { database: 'db1', schema: 'payments', table: t.name.replace('payments__', '') };
    await ledger.transition(ref, {
      expect: null,
      to: 'archiving',
      runId: 'r1',
      archive: { namespace: DB, table: t.name },
    });
    await ledger.transition(ref, { expect: 'archiving', to: 'archived', runId: 'r1', snapshotId: '7', rows: 2 });
    await ledger.transition(ref, {
      expect: 'archived',
      to: 'validated',
      runId: 'r1',
      validation: { status: 'passed', snapshot_id: '7' },
    });
  }
  const gov = createLocalGovernanceTarget(state);
  const reader = 'arn:aws:iam::123456789012:role/reader';
  await gov.apply(
    {
      grant: [
        { principal: reader, database: DB, permission: 'DESCRIBE' },
        { principal: reader, database: DB, table: '*', permission: 'SELECT' },
        { principal: reader, database: 'archive_other', table: '*', permission: 'SELECT' },
      ],
      revoke: [],
      register: [],
    },
    await gov.read(),
  );
  return root;
}

const run = async (root: string, o: { apply?: boolean; forceReason?: string; onStep?: (s: string) => void } = {}) => {
  const t = await openDeleteTargets(root, 'local');
  return deleteArchiveDatabase({ root, database: DB, apply: !!o.apply, ...o, ...t });
};

/** Every file under root with its content hash: the dry run must leave this identical. */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = path.join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out[path.relative(root, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(root);
  return out;
}

const refusalCases: {
  name: string;
  tables: TableSpec[];
  extra?: Record<string, string>;
  force?: string;
  reason: RegExp;
}[] = [
  {
    name: 'a hold in the current config (the policy the archive records)',
    tables: [{ name: 'payments__txn_201901', props: ok('held') }],
    reason: /payments__txn_201901 is under legal hold \(config policy held \(CASE-42\)\)/,
  },
  {
    name: 'a hold on a policy the database scope names, even forced',
    tables: [{ name: 'payments__txn_201901', props: ok() }],
    extra: {
      'policies/monthly.yaml': `${baseRepo()['policies/monthly.yaml']}legal_hold:\n  enabled: true\n  reason: audit\n`,
    },
    force: 'tidy up',
    reason: /under legal hold \(config policy monthly\)/,
  },
  {
    name: 'a hold recorded only in the archive',
    tables: [{ name: 'payments__txn_201901', props: { ...ok(), 'offload.legal_hold': 'true' } }],
    force: 'tidy up',
    reason: /under legal hold \(recorded offload\.legal_hold=true\)/,
  },
  {
    name: 'a recorded hold that is missing counts as held',
    tables: [{ name: 'payments__txn_201901', props: { 'offload.retention_until': PAST } }],
    reason: /recorded offload\.legal_hold=\(missing\)/,
  },
  {
    name: 'retention not ended',
    tables: [
      { name: 'payments__txn_201901', props: ok() },
      { name: 'payments__txn_201902', props: { ...ok(), 'offload.retention_until': FUTURE } },
    ],
    reason: new RegExp(`payments__txn_201902 is kept until ${FUTURE}: deleting it earlier needs --force-reason`),
  },
  {
    name: 'no retention end known',
    tables: [{ name: 'payments__txn_201901', props: { 'offload.legal_hold': 'false', 'offload.policy': 'audit' } }],
    reason: /has no known retention end/,
  },
];

for (const c of refusalCases)
  test(`refused: ${c.name}; nothing changes, the refusal is audited`, async () => {
    const root = await fixture({ tables: c.tables, ...(c.extra ? { extra: c.extra } : {}) });
    const before = snapshot(root);
    const dry = await run(root, c.force ? { forceReason: c.force } : {});
    assert.is(dry.status, 'refused');
    assert.match(dry.refusals.join('\n'), c.reason);
    assert.equal(snapshot(root), before, 'a refused dry run changes nothing');
    const r = await run(root, { apply: true, ...(c.force ? { forceReason: c.force } : {}) });
    assert.is(r.status, 'refused');
    const after = snapshot(root);
    const added = Object.keys(after).filter((k) => !(k in before));
    assert.equal(added.length, 1, `only the audit record is new: ${added.join(', ')}`);
    assert.match(added[0]!, /^\.offload\/state\/audit\/archive_db1\..*\.refused\.delete-database-audit\.json$/);
    for (const k of Object.keys(before)) assert.is(after[k], before[k], `${k} unchanged`);
  });

test('refused: a hold recorded in the ledger (its policy) even when the archive records no policy', async () => {
  const root = await fixture({
    tables: [
      { name: 'payments__txn_201901', props: { 'offload.legal_hold': 'false', 'offload.retention_until': PAST } },
    ],
  });
  // The ledger says the table's policy is `held` (a hold on in the configs).
  const ledger = createLocalLedger({ dir: path.join(root, '.offload/state') });
  const ref = { database: 'db1', schema: 'payments', table: 'txn_201901' };
  await ledger.transition(ref, { expect: 'validated', to: 'failed', runId: 'r2', error: { code: 'x', message: 'x' } });
  await ledger.transition(ref, { expect: 'failed', to: 'archiving', runId: 'r2', policy: 'held' });
  const r = await run(root, { forceReason: 'because' });
  assert.is(r.status, 'refused');
  assert.match(r.refusals.join('\n'), /under legal hold \(config policy held/);
});

test('force without a reason is a usage error', async () => {
  const root = await fixture({ tables: [{ name: 'payments__txn_201901', props: ok() }] });
  try {
    await run(root, { forceReason: '  ' });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, UserError);
    assert.match((e as Error).message, /--force-reason needs a reason/);
  }
  const out = await cli(['delete-archive-database', DB, '--force-reason', ''], root);
  assert.is(out.status, 2);
  assert.match(out.stderr, /--force-reason needs a reason/);
  assert.not.match(out.stderr, /at .*\.ts:\d+/, 'no stack trace');
});

test('a database this repository does not archive to is refused by name', async () => {
  const root = await fixture({ tables: [] });
  const t = await openDeleteTargets(root, 'local');
  try {
    await deleteArchiveDatabase({ root, database: 'sales', apply: false, ...t });
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /sales is not an archive database of this repository/);
  }
});

test('dry run lists tables, files, bytes, grants, ledger entries, changes nothing; apply deletes it all', async () => {
  const root = await fixture({
    tables: [
      { name: 'payments__txn_201901', props: ok(), files: 3 },
      { name: 'payments__txn_201902', props: { ...ok(), 'offload.retention_until': FUTURE } },
    ],
  });
  const before = snapshot(root);
  const dry = await run(root, { forceReason: 'migrated to the new vault (CHG-7)' });
  assert.is(dry.status, 'would_delete');
  assert.equal(
    dry.tables.map((t) => [t.table, t.files, t.forced]),
    [
      ['payments__txn_201901', 3 + 3, false], // 3 data files + 2 metadata files + the version hint
      ['payments__txn_201902', 2 + 3, true],
    ],
  );
  assert.is(dry.grants.length, 2);
  assert.equal(
    dry.ledger.map((e) => `${e.table}:${e.state}→${e.to}`),
    ['payments.txn_201901:validated→purged', 'payments.txn_201902:validated→purged'],
  );
  assert.equal(snapshot(root), before, 'the dry run changes nothing');

  const r = await run(root, { apply: true, forceReason: 'migrated to the new vault (CHG-7)' });
  assert.is(r.status, 'deleted');
  assert.not.ok(existsSync(path.join(root, '.offload/warehouse', DB)), 'the database directory is gone');
  const gov = await createLocalGovernanceTarget(path.join(root, '.offload/state')).read();
  assert.equal(
    gov.grants.map((g) => g.database),
    ['archive_other'],
    'only the other database keeps its grant',
  );
  const entries = await createLocalLedger({ dir: path.join(root, '.offload/state') }).list();
  assert.equal(
    entries.map((e) => e.state),
    ['purged', 'purged'],
  );
  const audits = readdirSync(path.join(root, '.offload/state/audit')).sort();
  assert.equal(
    audits.map((a) => a.split('.').at(-3)),
    ['deleted', 'deleting'].sort(),
  );
  const done = JSON.parse(
    readFileSync(path.join(root, '.offload/state/audit', audits.find((a) => a.includes('.deleted.'))!), 'utf8'),
  );
  assert.is(done.forced_reason, 'migrated to the new vault (CHG-7)');
  assert.is(done.tables.length, 2);
  // A second run finds nothing left.
  try {
    await run(root, { apply: true });
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /no archive database archive_db1 .* nothing left of one/);
  }
});

test('an apply that fails midway (a table half deleted) is finished by a rerun', async () => {
  const root = await fixture({
    tables: [
      { name: 'payments__txn_201901', props: ok() },
      { name: 'payments__txn_201902', props: ok() },
      { name: 'payments__txn_201903', props: ok() },
    ],
  });
  const t = await openDeleteTargets(root, 'local');
  const real = t.store.deleteFiles.bind(t.store);
  // The second table loses its metadata, then the process "dies" before its data files go.
  t.store.deleteFiles = async (location: string) => {
    if (location.endsWith('payments__txn_201902')) {
      await real(path.join(location, 'metadata'));
      throw new Error('killed');
    }
    return real(location);
  };
  try {
    await deleteArchiveDatabase({ root, database: DB, apply: true, ...t });
    assert.unreachable();
  } catch (e) {
    assert.is((e as Error).message, 'killed');
  }
  const wh = path.join(root, '.offload/warehouse', DB);
  assert.equal(readdirSync(wh).sort(), ['payments__txn_201902', 'payments__txn_201903']);
  // Without the journal the half-deleted table would count as held (unknown recorded hold); with it, it is not.
  const dry = await run(root);
  assert.is(dry.status, 'would_delete', dry.refusals.join('; '));
  assert.is(dry.tables.find((x) => x.table === 'payments__txn_201902')!.from_journal, true);
  const r = await run(root, { apply: true });
  assert.is(r.status, 'deleted');
  assert.not.ok(existsSync(wh));
  const entries = await createLocalLedger({ dir: path.join(root, '.offload/state') }).list();
  assert.equal(
    entries.map((e) => e.state),
    ['purged', 'purged', 'purged'],
  );
});

test('a table with unreadable metadata and no journal counts as held', async () => {
  const root = await fixture({ tables: [{ name: 'payments__txn_201901', props: ok() }] });
  writeFileSync(
    path.join(root, '.offload/warehouse', DB, 'payments__txn_201901/metadata/v2.metadata.json'),
    '{not json',
  );
  const r = await run(root, { forceReason: 'x' });
  assert.is(r.status, 'refused');
  assert.match(r.refusals.join('\n'), /metadata cannot be read/);
});

test.run();
