/**
 * offload governance on the local target: plan on an empty state, apply, apply again (no-op), a
 * hand-made grant as drift (verify exits 1) revoked only with --prune, a removed database keeping its
 * grants until --prune, uncommitted configs refused, and the local read check. The state is read back
 * with plain JSON.parse, never through the code under test.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { cli } from '../helpers/cli.js';
import { removeTree } from '../helpers/fixtures.js';
import {
  ADMIN,
  ANALYSTS,
  AUDITORS,
  DB1,
  DB2,
  EXPECTED_DB1,
  EXPECTED_DB2,
  EXPECTED_LOCATIONS,
  INTRUDER,
  commit,
  gitRepo,
  repoTree,
} from './fixtures.js';

const dirs: string[] = [];
test.after(() => dirs.forEach(removeTree));

interface FileDoc {
  version: number;
  data_lake_admins: string[];
  locations: string[];
  permissions: {
    principal: string;
    resource: { database: string; table?: string };
    permissions: string[];
    permissions_with_grant_option?: string[];
  }[];
}
const stateFile = (root: string) => path.join(root, '.offload/state/governance.json');
const readDoc = (root: string): FileDoc => JSON.parse(readFileSync(stateFile(root), 'utf8'));
/** Every grant in the file as `principal PERMISSION database[.table]`, sorted. */
function grantsIn(root: string): string[] {
  const out: string[] = [];
  for (const p of readDoc(root).permissions)
    for (const perm of p.permissions)
      out.push(`${p.principal} ${perm} ${p.resource.database}${p.resource.table ? `.${p.resource.table}` : ''}`);
  return out.sort();
}
const sorted = (a: string[]) => [...a].sort();

function setup(dbs: Record<string, string> = { db1: DB1, db2: DB2 }) {
  const root = gitRepo(repoTree(dbs));
  dirs.push(root);
  return root;
}
const gov = (root: string, ...args: string[]) => cli(['governance', ...args], root);
const json = (r: { stdout: string }) => JSON.parse(r.stdout);

test('plan on an empty state lists every declared grant, the admins and the locations; writes nothing', async () => {
  const root = setup();
  const r = await gov(root, 'plan', '--format', 'json');
  assert.is(r.status, 0, r.stderr);
  const doc = json(r);
  const adds = doc.grants.add.map(
    (g: { principal: string; permission: string; database: string; table?: string }) =>
      `${g.principal} ${g.permission} ${g.database}${g.table ? `.${g.table}` : ''}`,
  );
  assert.equal(sorted(adds), sorted([...EXPECTED_DB1, ...EXPECTED_DB2]));
  assert.equal(doc.grants.revoke, []);
  assert.equal(doc.admins.add, [ADMIN]);
  assert.equal(doc.locations.register, EXPECTED_LOCATIONS);
  assert.is(doc.in_sync, false);
  assert.not.ok(existsSync(stateFile(root)), 'plan wrote nothing');
  const v = await gov(root, 'verify');
  assert.is(v.status, 1, 'an empty state is drift');
  assert.match(v.stdout, /DRIFT/);
});

test('apply writes exactly the declared grants; apply twice is a no-op; verify passes', async () => {
  const root = setup();
  const a = await gov(root, 'apply');
  assert.is(a.status, 0, a.stderr);
  assert.match(a.stdout, /now in sync/);
  assert.equal(grantsIn(root), sorted([...EXPECTED_DB1, ...EXPECTED_DB2]));
  assert.equal(readDoc(root).data_lake_admins, [ADMIN]);
  assert.equal(readDoc(root).locations, EXPECTED_LOCATIONS);
  const before = readFileSync(stateFile(root), 'utf8');
  const again = await gov(root, 'apply', '--format', 'json');
  assert.is(again.status, 0, again.stderr);
  const doc = json(again);
  assert.equal([doc.grants.add.length, doc.grants.revoke.length, doc.locations.register.length], [0, 0, 0]);
  assert.is(readFileSync(stateFile(root), 'utf8'), before, 'second apply changed nothing');
  const v = await gov(root, 'verify');
  assert.is(v.status, 0, v.stdout + v.stderr);
  assert.match(v.stdout, /verified/);
});

test('a hand-made grant is drift: verify exits 1, apply keeps it, apply --prune revokes it', async () => {
  const root = setup();
  assert.is((await gov(root, 'apply')).status, 0);
  const doc = readDoc(root);
  doc.permissions.push({
    principal: INTRUDER,
    resource: { database: 'archive_db1', table: '*' },
    permissions: ['SELECT'],
  });
  writeFileSync(stateFile(root), JSON.stringify(doc));
  const v = await gov(root, 'verify', '--format', 'json');
  assert.is(v.status, 1);
  const drift = json(v).grants.revoke;
  assert.equal(
    drift.map((g: { principal: string; permission: string; reason: string }) => [g.principal, g.permission, g.reason]),
    [[INTRUDER, 'SELECT', 'not-declared']],
  );
  const kept = await gov(root, 'apply');
  assert.is(kept.status, 0, kept.stderr);
  assert.match(kept.stdout, /drift kept/);
  assert.ok(grantsIn(root).includes(`${INTRUDER} SELECT archive_db1.*`), 'no revoke without --prune');
  const pruned = await gov(root, 'apply', '--prune');
  assert.is(pruned.status, 0, pruned.stderr);
  assert.equal(grantsIn(root), sorted([...EXPECTED_DB1, ...EXPECTED_DB2]));
  assert.is((await gov(root, 'verify')).status, 0);
});

test('a database removed from the repo keeps its grants until --prune', async () => {
  const root = setup();
  assert.is((await gov(root, 'apply')).status, 0);
  commit(root, { 'databases/db1.yaml': null }, 'remove db1');
  const plan = json(await gov(root, 'plan', '--format', 'json'));
  assert.equal(
    plan.grants.revoke.map((g: { reason: string; database: string }) => `${g.database}:${g.reason}`),
    ['archive_db1:database-removed', 'archive_db1:database-removed', 'archive_db1:database-removed'],
  );
  assert.is((await gov(root, 'apply')).status, 0);
  assert.equal(grantsIn(root), sorted([...EXPECTED_DB1, ...EXPECTED_DB2]), 'kept without --prune');
  assert.is((await gov(root, 'verify')).status, 1);
  assert.is((await gov(root, 'apply', '--prune')).status, 0);
  assert.equal(grantsIn(root), sorted(EXPECTED_DB2));
  // Administrators declared only by db1 are removed with --prune as well; none are declared now, so the
  // account's administrators are no longer managed and stay.
  assert.equal(readDoc(root).data_lake_admins, [ADMIN]);
});

test('apply refuses uncommitted configs unless --allow-uncommitted gives a reason', async () => {
  const root = setup();
  writeFileSync(path.join(root, 'databases/db1.yaml'), DB1.replace('[DESCRIBE, SELECT]', '[SELECT]'));
  const r = await gov(root, 'apply');
  assert.is(r.status, 1);
  assert.match(r.stderr, /governance apply refused: config files differ from commit/);
  assert.match(r.stderr, /databases\/db1\.yaml/);
  assert.not.ok(existsSync(stateFile(root)));
  const ok = await gov(root, 'apply', '--allow-uncommitted', 'INC-1 test');
  assert.is(ok.status, 0, ok.stderr);
  assert.equal(grantsIn(root), sorted([`${ANALYSTS} SELECT archive_db1.*`, ...EXPECTED_DB2]));
});

test('invalid configs and a malformed state file are clear errors, never a stack trace', async () => {
  const root = setup();
  commit(root, { 'databases/db1.yaml': DB1.replace('[DESCRIBE, SELECT]', '[DROP]') });
  const r = await gov(root, 'plan');
  assert.is(r.status, 1);
  assert.match(r.stderr, /databases\/db1\.yaml:\d+:\d+/);
  assert.not.match(r.stderr, /at .*\.ts:\d+/);
  const root2 = setup();
  assert.is((await gov(root2, 'apply')).status, 0);
  writeFileSync(stateFile(root2), '{"version": 1, "permissions": [{"principal": 3}]}');
  const m = await gov(root2, 'verify');
  assert.is(m.status, 2);
  assert.match(m.stderr, /governance\.json: permissions\[0\] needs principal/);
  assert.not.match(m.stderr, /internal error/);
});

const CHECKS: { name: string; args: string[]; status: number; says: RegExp }[] = [
  {
    name: 'granted reader, all tables',
    args: ['--principal', ANALYSTS, '--database', 'archive_db1'],
    status: 0,
    says: /allowed/,
  },
  {
    name: 'granted reader, one table',
    args: ['--principal', ANALYSTS, '--database', 'archive_db1', '--table', 'txn_202001'],
    status: 0,
    says: /allowed/,
  },
  {
    name: 'DESCRIBE only',
    args: ['--principal', AUDITORS, '--database', 'ledger_two'],
    status: 1,
    says: /refused: .*not SELECT/,
  },
  {
    name: 'no grant at all',
    args: ['--principal', INTRUDER, '--database', 'archive_db1'],
    status: 1,
    says: /refused: .*no Lake/,
  },
  {
    name: 'granted elsewhere only',
    args: ['--principal', ANALYSTS, '--database', 'ledger_two'],
    status: 1,
    says: /refused/,
  },
  {
    name: 'an administrator without a grant',
    args: ['--principal', ADMIN, '--database', 'archive_db1'],
    status: 1,
    says: /refused/,
  },
];

test('local read check: refuses a principal with no SELECT grant, allows a granted one', async () => {
  const root = setup();
  const before = await gov(root, 'check', '--principal', ANALYSTS, '--database', 'archive_db1');
  assert.is(before.status, 1, 'nothing applied yet: refused');
  assert.is((await gov(root, 'apply')).status, 0);
  for (const c of CHECKS) {
    const r = await gov(root, 'check', ...c.args);
    assert.is(r.status, c.status, `${c.name}: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout, c.says, c.name);
  }
});

test.run();
