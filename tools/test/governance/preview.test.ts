/**
 * offload preview shows the Lake Formation grants a pull request adds and revokes: table-driven commits
 * that change `governance` sections in a temp git repo, previewed against the base commit; expected
 * grants written out by hand. The JSON output is checked against schema/preview.schema.json.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { cli } from '../helpers/cli.js';
import { removeTree } from '../helpers/fixtures.js';
import { inventory } from '../engine/fixtures.js';
import { preview } from '../../src/preview/preview.js';
import { renderMarkdown, renderText } from '../../src/preview/render.js';
import { ADMIN, ANALYSTS, AUDITORS, DB1, DB2, INTRUDER, gitRepo, repoTree } from './fixtures.js';

const schema = JSON.parse(
  readFileSync(
    path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../schema/preview.schema.json'),
    'utf8',
  ),
);
const contract = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true }).compile(schema);

const dirs: string[] = [];
test.after(() => dirs.forEach(removeTree));

const db3 = (governance: string) =>
  DB1.replace(/name: db1/, 'name: db3')
    .replace(/db1\.example/, 'db3.example')
    .replace(/acme\/db1/, 'acme/db3')
    .replace(/governance:[\s\S]*$/, governance);

interface Case {
  name: string;
  /** Working-tree files written over the committed base (null deletes). */
  head: Record<string, string | null>;
  added: string[];
  revoked: string[];
  admins?: [string[], string[]];
  locations?: string[];
}

const CASES: Case[] = [
  {
    name: 'no governance change',
    head: { 'databases/db1.yaml': `${DB1}tags:\n  team: ledger\n` },
    added: [],
    revoked: [],
  },
  {
    name: 'a team gets read access',
    head: {
      'databases/db1.yaml': `${DB1}    - principal: ${INTRUDER}\n      permissions: [DESCRIBE, SELECT]\n`,
    },
    added: [
      `${INTRUDER} DESCRIBE archive_db1`,
      `${INTRUDER} DESCRIBE archive_db1.*`,
      `${INTRUDER} SELECT archive_db1.*`,
    ],
    revoked: [],
  },
  {
    name: 'a consumer loses DESCRIBE',
    head: { 'databases/db1.yaml': DB1.replace('[DESCRIBE, SELECT]', '[SELECT]') },
    added: [],
    revoked: [`${ANALYSTS} DESCRIBE archive_db1`, `${ANALYSTS} DESCRIBE archive_db1.*`],
  },
  {
    name: 'a database leaves the repo (custom Glue database name)',
    head: { 'databases/db2.yaml': null },
    added: [],
    revoked: [`${AUDITORS} DESCRIBE ledger_two`, `${AUDITORS} DESCRIBE ledger_two.*`],
  },
  {
    name: 'a consumer moves from one principal to another',
    head: { 'databases/db2.yaml': DB2.replace(AUDITORS, INTRUDER) },
    added: [`${INTRUDER} DESCRIBE ledger_two`, `${INTRUDER} DESCRIBE ledger_two.*`],
    revoked: [`${AUDITORS} DESCRIBE ledger_two`, `${AUDITORS} DESCRIBE ledger_two.*`],
  },
  {
    name: 'a new database archived outside the warehouse, with a new administrator',
    head: {
      'databases/db3.yaml': db3(
        `archive:\n  s3_location: s3://acme-third/x/\ngovernance:\n  data_lake_admins: [${INTRUDER}]\n  consumers:\n` +
          `    - principal: ${AUDITORS}\n      permissions: [SELECT]\n`,
      ),
    },
    added: [`${AUDITORS} SELECT archive_db3.*`],
    revoked: [],
    admins: [[INTRUDER], []],
    locations: ['arn:aws:s3:::acme-third/x'],
  },
  {
    name: 'the only administrator is no longer declared',
    head: { 'databases/db1.yaml': DB1.replace(/ {2}data_lake_admins: .*\n/, '') },
    added: [],
    revoked: [],
    admins: [[], [ADMIN]],
  },
];

function setup(c: Case): string {
  const root = gitRepo(repoTree({ db1: DB1, db2: DB2 }));
  dirs.push(root);
  for (const [rel, text] of Object.entries(c.head)) {
    const p = path.join(root, rel);
    if (text === null) rmSync(p);
    else writeFileSync(p, text);
  }
  mkdirSync(path.join(root, 'inventory'));
  for (const name of ['db1', 'db2', 'db3'])
    writeFileSync(
      path.join(root, 'inventory', `${name}.json`),
      JSON.stringify(inventory(name, [], { schemas: [{ name: 'payments', found: true }] })),
    );
  return root;
}
const line = (g: { principal: string; permission: string; glue_database: string; table?: string }) =>
  `${g.principal} ${g.permission} ${g.glue_database}${g.table ? `.${g.table}` : ''}`;
const sorted = (a: string[]) => [...a].sort();

for (const c of CASES)
  test(`preview governance: ${c.name}`, async () => {
    const root = setup(c);
    const r = await preview({ root, base: 'HEAD', inventory: 'inventory', asOf: '2026-11-27' });
    assert.ok(contract(r), JSON.stringify(contract.errors));
    assert.equal(sorted(r.governance.grants_added.map(line)), sorted(c.added), 'added');
    assert.equal(sorted(r.governance.grants_revoked.map(line)), sorted(c.revoked), 'revoked');
    assert.equal([r.governance.admins_added, r.governance.admins_removed], c.admins ?? [[], []], 'admins');
    assert.equal(r.governance.locations_registered, c.locations ?? [], 'locations');
    const text = renderText(r);
    const md = renderMarkdown(r);
    for (const g of r.governance.grants_added) {
      assert.ok(text.includes(`+ ${g.principal} ${g.permission} on ${line(g).split(' ')[2]}`), text);
      assert.ok(md.includes(`| + grant | <code>${g.principal}</code> | ${g.permission} |`), md);
    }
    for (const g of r.governance.grants_revoked) {
      assert.ok(text.includes(`- ${g.principal} ${g.permission} on ${line(g).split(' ')[2]}`), text);
      assert.ok(md.includes(`| - revoke | <code>${g.principal}</code> | ${g.permission} |`), md);
    }
    if (!c.added.length && !c.revoked.length && !c.admins && !c.locations) {
      assert.match(text, /Lake Formation: no changes/);
      assert.match(md, /Lake Formation: no changes/);
    }
  });

test('the CLI prints the governance changes in every format, exit 0', async () => {
  const c = CASES[1]!;
  const root = setup(c);
  const args = ['preview', '--base', 'HEAD', '--as-of', '2026-11-27'];
  const json = await cli([...args, '--format', 'json'], root);
  assert.is(json.status, 0, json.stderr + json.stdout.slice(0, 2000));
  assert.equal(sorted(JSON.parse(json.stdout).governance.grants_added.map(line)), sorted(c.added));
  const text = await cli(args, root);
  assert.match(text.stdout, /Lake Formation: 3 grants added/);
  const md = await cli([...args, '--format', 'markdown'], root);
  assert.match(md.stdout, /\*\*Lake Formation: 3 grants added\*\*/);
});

test.run();
