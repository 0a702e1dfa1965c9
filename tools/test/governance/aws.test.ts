/**
 * offload governance against moto's Lake Formation (a real AWS API emulator in server mode): plan on an
 * empty account, apply, apply twice (no-op), a hand-made grant as drift revoked only with --prune, a
 * removed database kept until --prune. The account is read back and tampered with by plain SDK calls,
 * never through the code under test. What moto does not do like Lake Formation is covered by the narrow
 * contract cases at the end (recorded response shapes).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  GetDataLakeSettingsCommand,
  GrantPermissionsCommand,
  LakeFormationClient,
  ListPermissionsCommand,
  ListResourcesCommand,
  PutDataLakeSettingsCommand,
} from '@aws-sdk/client-lakeformation';
import { cli } from '../helpers/cli.js';
import { removeTree } from '../helpers/fixtures.js';
import { startMoto, type MotoServer } from '../helpers/moto.js';
import { grantsOfEntry } from '../../src/governance/aws-target.js';
import {
  ADMIN,
  ANALYSTS,
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

let moto: MotoServer;
let lf: LakeFormationClient;
const dirs: string[] = [];
test.before(async () => {
  moto = await startMoto();
  lf = new LakeFormationClient({ region: 'eu-west-1' });
});
test.before.each(() => moto.reset());
test.after(async () => {
  dirs.forEach(removeTree);
  lf?.destroy();
  await moto?.stop();
});

/** Every grant in the account as `principal PERMISSION database[.table]`, sorted (plain ListPermissions). */
async function grantsInAccount(): Promise<string[]> {
  const out: string[] = [];
  const r = await lf.send(new ListPermissionsCommand({}));
  for (const e of r.PrincipalResourcePermissions ?? []) {
    const who = e.Principal!.DataLakePrincipalIdentifier!;
    const res = e.Resource!;
    const where = res.Database
      ? res.Database.Name!
      : `${res.Table!.DatabaseName}.${res.Table!.TableWildcard ? '*' : res.Table!.Name}`;
    for (const p of e.Permissions ?? []) out.push(`${who} ${p} ${where}`);
  }
  return out.sort();
}
const adminsInAccount = async () =>
  ((await lf.send(new GetDataLakeSettingsCommand({}))).DataLakeSettings?.DataLakeAdmins ?? []).map(
    (a) => a.DataLakePrincipalIdentifier,
  );
const locationsInAccount = async () =>
  ((await lf.send(new ListResourcesCommand({}))).ResourceInfoList ?? []).map((r) => r.ResourceArn).sort();

const sorted = (a: string[]) => [...a].sort();
function setup(dbs: Record<string, string> = { db1: DB1, db2: DB2 }) {
  const root = gitRepo(repoTree(dbs));
  dirs.push(root);
  return root;
}
const gov = (root: string, ...args: string[]) => cli(['governance', ...args, '--target', 'aws'], root);

test('plan on an empty account lists the declared grants and writes nothing', async () => {
  const root = setup();
  const r = await gov(root, 'plan', '--format', 'json');
  assert.is(r.status, 0, r.stderr);
  // The AWS SDK's Node 20 notice is not printed to users (tools/bin/offload.mjs).
  assert.not.match(r.stderr, /NodeVersionSupportWarning|upgrade to node/);
  const doc = JSON.parse(r.stdout);
  assert.equal(
    sorted(
      doc.grants.add.map(
        (g: { principal: string; permission: string; database: string; table?: string }) =>
          `${g.principal} ${g.permission} ${g.database}${g.table ? `.${g.table}` : ''}`,
      ),
    ),
    sorted([...EXPECTED_DB1, ...EXPECTED_DB2]),
  );
  assert.equal(doc.admins.add, [ADMIN]);
  assert.equal(doc.locations.register, EXPECTED_LOCATIONS);
  assert.equal(await grantsInAccount(), []);
  assert.equal(await locationsInAccount(), []);
  assert.is((await gov(root, 'verify')).status, 1);
});

test('apply grants, sets the administrators, registers the locations; apply twice is a no-op', async () => {
  const root = setup();
  // An existing setting apply must keep: PutDataLakeSettings replaces the whole document.
  const before = (await lf.send(new GetDataLakeSettingsCommand({}))).DataLakeSettings!;
  await lf.send(
    new PutDataLakeSettingsCommand({ DataLakeSettings: { ...before, TrustedResourceOwners: ['210987654321'] } }),
  );
  const a = await gov(root, 'apply');
  assert.is(a.status, 0, a.stderr);
  assert.match(a.stdout, /now in sync/);
  assert.equal(await grantsInAccount(), sorted([...EXPECTED_DB1, ...EXPECTED_DB2]));
  assert.equal(await adminsInAccount(), [ADMIN]);
  assert.equal(await locationsInAccount(), EXPECTED_LOCATIONS);
  const kept = (await lf.send(new GetDataLakeSettingsCommand({}))).DataLakeSettings!;
  assert.equal(kept.TrustedResourceOwners, ['210987654321'], 'other settings kept');
  const again = await gov(root, 'apply', '--format', 'json');
  assert.is(again.status, 0, again.stderr);
  const doc = JSON.parse(again.stdout);
  assert.equal(
    [doc.grants.add.length, doc.grants.revoke.length, doc.admins.add.length, doc.locations.register.length],
    [0, 0, 0, 0],
  );
  assert.equal(await grantsInAccount(), sorted([...EXPECTED_DB1, ...EXPECTED_DB2]));
  assert.is((await gov(root, 'verify')).status, 0);
});

test('a hand-made grant is drift: verify exits 1, apply keeps it, apply --prune revokes only it', async () => {
  const root = setup();
  assert.is((await gov(root, 'apply')).status, 0);
  // By hand, as from the console (with the catalog id spelled out, as the console sends it).
  await lf.send(
    new GrantPermissionsCommand({
      Principal: { DataLakePrincipalIdentifier: INTRUDER },
      Resource: { Table: { CatalogId: '123456789012', DatabaseName: 'archive_db1', TableWildcard: {} } },
      Permissions: ['SELECT'],
    }),
  );
  // A grant on a database governance does not manage is not its business.
  await lf.send(
    new GrantPermissionsCommand({
      Principal: { DataLakePrincipalIdentifier: INTRUDER },
      Resource: { Database: { Name: 'marketing' } },
      Permissions: ['DESCRIBE'],
    }),
  );
  const v = await gov(root, 'verify');
  assert.is(v.status, 1);
  assert.match(v.stdout, new RegExp(`- ${INTRUDER} SELECT on archive_db1\\.\\* — not declared`));
  assert.not.match(v.stdout, /marketing/);
  assert.is((await gov(root, 'apply')).status, 0);
  assert.ok((await grantsInAccount()).includes(`${INTRUDER} SELECT archive_db1.*`), 'kept without --prune');
  const p = await gov(root, 'apply', '--prune');
  assert.is(p.status, 0, p.stderr);
  assert.equal(await grantsInAccount(), sorted([...EXPECTED_DB1, ...EXPECTED_DB2, `${INTRUDER} DESCRIBE marketing`]));
  assert.is((await gov(root, 'verify')).status, 0);
});

test('a database removed from the repo keeps its grants until --prune', async () => {
  const root = setup();
  assert.is((await gov(root, 'apply')).status, 0);
  commit(root, { 'databases/db1.yaml': null });
  const v = await gov(root, 'verify');
  assert.is(v.status, 1);
  assert.match(v.stdout, /its database is no longer in the repo/);
  assert.is((await gov(root, 'apply')).status, 0);
  assert.equal(await grantsInAccount(), sorted([...EXPECTED_DB1, ...EXPECTED_DB2]));
  assert.is((await gov(root, 'apply', '--prune')).status, 0);
  assert.equal(await grantsInAccount(), sorted(EXPECTED_DB2));
});

test('an administrator added by hand is drift, removed only with --prune', async () => {
  const root = setup();
  assert.is((await gov(root, 'apply')).status, 0);
  const s = (await lf.send(new GetDataLakeSettingsCommand({}))).DataLakeSettings!;
  await lf.send(
    new PutDataLakeSettingsCommand({
      DataLakeSettings: { ...s, DataLakeAdmins: [...s.DataLakeAdmins!, { DataLakePrincipalIdentifier: INTRUDER }] },
    }),
  );
  assert.is((await gov(root, 'verify')).status, 1);
  assert.is((await gov(root, 'apply')).status, 0);
  assert.equal(sorted((await adminsInAccount()) as string[]), sorted([ADMIN, INTRUDER]));
  assert.is((await gov(root, 'apply', '--prune')).status, 0);
  assert.equal(await adminsInAccount(), [ADMIN]);
});

// ---- narrow contract: Lake Formation response shapes moto does not produce --------------------------
// Lake Formation lists SELECT on all tables as TableWithColumns ALL_TABLES with a column wildcard, fills in
// CatalogId, and lists column-restricted grants; moto echoes what was granted. Shapes from the API reference.
const SHAPES: { name: string; entry: Parameters<typeof grantsOfEntry>[0]; expected: string[] }[] = [
  {
    name: 'SELECT on all tables, as Lake Formation lists it',
    entry: {
      Principal: { DataLakePrincipalIdentifier: ANALYSTS },
      Resource: {
        TableWithColumns: { CatalogId: '1', DatabaseName: 'archive_db1', Name: 'ALL_TABLES', ColumnWildcard: {} },
      },
      Permissions: ['SELECT'],
      PermissionsWithGrantOption: [],
    },
    expected: [`${ANALYSTS} SELECT archive_db1.*`],
  },
  {
    name: 'a column exclusion is not the declared grant',
    entry: {
      Principal: { DataLakePrincipalIdentifier: ANALYSTS },
      Resource: {
        TableWithColumns: {
          DatabaseName: 'archive_db1',
          Name: 'txn_202001',
          ColumnWildcard: { ExcludedColumnNames: ['iban'] },
        },
      },
      Permissions: ['SELECT'],
    },
    expected: [`${ANALYSTS} SELECT archive_db1.txn_202001 (all columns except iban)`],
  },
  {
    name: 'a grant option is its own (undeclarable) grant',
    entry: {
      Principal: { DataLakePrincipalIdentifier: ANALYSTS },
      Resource: { Database: { CatalogId: '1', Name: 'archive_db1' } },
      Permissions: ['DESCRIBE'],
      PermissionsWithGrantOption: ['DESCRIBE'],
    },
    expected: [`${ANALYSTS} DESCRIBE archive_db1`, `${ANALYSTS} DESCRIBE archive_db1 +grant-option`],
  },
  {
    name: 'catalog and data location grants are not about an archive database',
    entry: {
      Principal: { DataLakePrincipalIdentifier: ANALYSTS },
      Resource: { DataLocation: { ResourceArn: 'arn:aws:s3:::acme-archive-vault/iceberg' } },
      Permissions: ['DATA_LOCATION_ACCESS'],
    },
    expected: [],
  },
];

test('contract: listed permission shapes map to the grants the configs declare (or to drift)', () => {
  for (const c of SHAPES) {
    const got = grantsOfEntry(c.entry)
      .map(
        (g) =>
          `${g.principal} ${g.permission} ${g.database}${g.table ? `.${g.table}` : ''}` +
          `${g.detail ? ` (${g.detail})` : ''}${g.grantable ? ' +grant-option' : ''}`,
      )
      .sort();
    assert.equal(got, c.expected, c.name);
  }
});

test.run();
