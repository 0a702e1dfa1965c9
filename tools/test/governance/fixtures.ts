/**
 * A governance fixture repo written by hand (independent of the samples) in a git repository, and the
 * grants its configs must produce, spelled out literally so the expectations never come from the code
 * under test.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync, rmSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { writeTree, type Tree } from '../helpers/fixtures.js';
import { SETTINGS, MONTHLY } from '../helpers/repo.js';

const ACCOUNT = '123456789012';
export const ANALYSTS = `arn:aws:iam::${ACCOUNT}:role/analysts`;
export const AUDITORS = `arn:aws:iam::${ACCOUNT}:role/auditors`;
export const ADMIN = `arn:aws:iam::${ACCOUNT}:role/lake-admin`;
export const INTRUDER = `arn:aws:iam::${ACCOUNT}:user/someone`;

function database(name: string, governance: string, extra = ''): string {
  return `name: ${name}
engine: postgres
jdbc_url: jdbc:postgresql://${name}.example.internal:5432/${name}
credentials:
  secret: acme/${name}
owner:
  team: Ledger
  contact: ledger@acme.example
${extra}scope:
  - schema: payments
    include: ["^txn_[0-9]{6}$"]
    policies: [monthly]
${governance}`;
}

/** db1: analysts read, one admin; db2: auditors DESCRIBE only, archived outside the warehouse. */
export const DB1 = database(
  'db1',
  `governance:
  data_lake_admins: [${ADMIN}]
  consumers:
    - principal: ${ANALYSTS}
      permissions: [DESCRIBE, SELECT]
`,
);
export const DB2 = database(
  'db2',
  `governance:
  consumers:
    - principal: ${AUDITORS}
      permissions: [DESCRIBE]
`,
  `archive:
  glue_database: ledger_two
  s3_location: s3://acme-other-bucket/two/
`,
);

/** The grants DB1 and DB2 declare, as `principal PERMISSION database[.table]` lines. */
export const EXPECTED_DB1 = [
  `${ANALYSTS} DESCRIBE archive_db1`,
  `${ANALYSTS} DESCRIBE archive_db1.*`,
  `${ANALYSTS} SELECT archive_db1.*`,
];
export const EXPECTED_DB2 = [`${AUDITORS} DESCRIBE ledger_two`, `${AUDITORS} DESCRIBE ledger_two.*`];
/** The warehouse root of helpers/repo.ts's settings (acme-archive-vault/iceberg) and db2's own location. */
export const EXPECTED_LOCATIONS = ['arn:aws:s3:::acme-archive-vault/iceberg', 'arn:aws:s3:::acme-other-bucket/two'];

export function repoTree(dbs: Record<string, string>): Tree {
  const tree: Tree = { 'offload.settings.yaml': SETTINGS, 'policies/monthly.yaml': MONTHLY };
  for (const [name, text] of Object.entries(dbs)) tree[`databases/${name}.yaml`] = text;
  return tree;
}

const git = (dir: string, ...args: string[]) =>
  execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@x.example', ...args], { stdio: 'pipe' });

/** A committed git repo holding the tree; `.offload/` is ignored as in a real checkout. */
export function gitRepo(tree: Tree): string {
  const dir = writeTree({ ...tree, '.gitignore': '.offload/\n' }, 'offload-gov-');
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'base');
  return dir;
}

/** Writes (or with null deletes) files and commits them. */
export function commit(dir: string, files: Record<string, string | null>, message = 'change'): void {
  for (const [rel, text] of Object.entries(files)) {
    const p = path.join(dir, rel);
    if (text === null) rmSync(p, { force: true });
    else {
      mkdirSync(path.dirname(p), { recursive: true });
      writeFileSync(p, text);
    }
  }
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', message);
}
