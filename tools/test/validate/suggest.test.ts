/**
 * "Did you mean" (issue 17): an unknown property, an unknown engine and an unknown policy name get
 * the nearest allowed spelling in the finding's `fix`; a name close to nothing gets no guess. The
 * engine spelling `postgresql` is an accepted alias of `postgres`.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeTree, removeTree, markAt, type Tree } from '../helpers/fixtures.js';
import { baseRepo, DB1, MONTHLY, AUDIT } from '../helpers/repo.js';
import { validate } from '../../src/validate/validate.js';
import { loadRepo } from '../../src/config/load.js';
import { fsSource } from '../../src/config/source.js';

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
  code: string;
  file: string;
  /** The suggestion the fix must hold, or null: the fix must hold no "did you mean". */
  suggestion: string | null;
}

const cases: Case[] = [
  {
    name: 'top-level property',
    files: { [AUD]: `${AUDIT}«»descripton: audit tables\n` },
    code: 'schema/unknown-property',
    file: AUD,
    suggestion: 'did you mean "description"?',
  },
  {
    name: 'nested property',
    files: { [MON]: `${MONTHLY}legal_hold:\n  enabled: false\n  «»referense: LIT-1\n` },
    code: 'schema/unknown-property',
    file: MON,
    suggestion: 'did you mean "reference"?',
  },
  {
    name: 'property transposed letters',
    files: { [MON]: sub(MONTHLY, 'priority: 10', '«»prioirty: 10') },
    code: 'schema/unknown-property',
    file: MON,
    suggestion: 'did you mean "priority"?',
  },
  {
    name: 'property close to nothing',
    files: { [AUD]: `${AUDIT}«»zzzzzz: 1\n` },
    code: 'schema/unknown-property',
    file: AUD,
    suggestion: null,
  },
  {
    name: 'engine',
    files: { [DB]: sub(DB1, 'engine: postgres', 'engine: «»postgre') },
    code: 'schema/enum',
    file: DB,
    suggestion: 'did you mean "postgres"?',
  },
  {
    name: 'engine in capitals',
    files: { [DB]: sub(DB1, 'engine: postgres', 'engine: «»MariaDB') },
    code: 'schema/enum',
    file: DB,
    suggestion: 'did you mean "mariadb"?',
  },
  {
    name: 'policy name',
    files: { [DB]: sub(DB1, 'policies: [audit]', 'policies: [«»audti]') },
    code: 'rule/unknown-policy',
    file: DB,
    suggestion: 'did you mean "audit"?',
  },
];

for (const c of cases) {
  test(`did you mean: ${c.name}`, async () => {
    const tree: Tree = { ...baseRepo(), ...c.files };
    const dir = writeTree(tree);
    try {
      const r = await validate({ root: dir, paths: [], cwd: dir });
      const pos = markAt(String(tree[c.file]));
      const f = r.findings.find((x) => x.code === c.code);
      assert.ok(f, `no ${c.code} in ${JSON.stringify(r.findings)}`);
      assert.equal([f!.file, f!.line, f!.column], [c.file, pos.line, pos.column]);
      if (c.suggestion) assert.ok(f!.fix.includes(c.suggestion), f!.fix);
      else assert.not.ok(/did you mean/i.test(f!.fix), f!.fix);
    } finally {
      removeTree(dir);
    }
  });
}

test('engine alias: postgresql validates and loads as postgres', async () => {
  const dir = writeTree({ ...baseRepo(), [DB]: sub(DB1, 'engine: postgres', 'engine: postgresql') });
  try {
    const r = await validate({ root: dir, paths: [], cwd: dir });
    assert.equal(r.findings, []);
    const repo = await loadRepo(fsSource(dir));
    assert.is(repo.databases[0]!.config.engine, 'postgres');
  } finally {
    removeTree(dir);
  }
});

test.run();
