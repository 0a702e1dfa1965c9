/**
 * offload preview: table-driven cases of config changes between a base commit and the working tree,
 * over fixture inventories; totals recomputed from the fixture's own rows and bytes; the JSON
 * contract; markdown escaping and truncation; the PR comment (edited in place, against a local
 * GitHub stand-in); the CLI's exit codes.
 */
import { test } from 'uvu';
import { cli } from '../helpers/cli.js';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { preview, type PreviewResult } from '../../src/preview/preview.js';
import { renderMarkdown, renderText, renderJson, COMMENT_MARKER, cell } from '../../src/preview/render.js';
import { upsertComment } from '../../src/preview/comment.js';
import { UserError } from '../../src/errors.js';
import type { Inventory } from '../../src/inventory/inventory.js';
import { writeTree, removeTree, type Tree } from '../helpers/fixtures.js';
import { baseRepo, DB1, MONTHLY, AUDIT } from '../helpers/repo.js';
import { inventory, table, eventCol, measured } from '../engine/fixtures.js';
import { startFakeGithub } from '../helpers/github-server.js';

const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
const contract = ajv.compile(
  JSON.parse(
    readFileSync(
      path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../schema/preview.schema.json'),
      'utf8',
    ),
  ),
);
const contractProblems = (doc: unknown) =>
  contract(doc) ? [] : contract.errors!.map((e) => `${e.instancePath} ${e.message}`);

const _ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const AS_OF = '2026-11-27';

const db1Inventory = (): Inventory =>
  inventory('db1', [
    table('payments', 'txn_202001', { rows: 100, bytes: 1000 }),
    table('payments', 'txn_202410', { rows: 200, bytes: 2000 }),
    table('payments', 'txn_202501', { rows: 300, bytes: 3000 }),
    table('payments', 'txn_202611', { rows: 400, bytes: 4000 }),
    table('audit', 'audit_log', {
      columns: [eventCol],
      column_max: measured('2025-06-30T00:00:00Z'),
      rows: 5000,
      bytes: 50000,
    }),
  ]);

/** A git repo: `base` committed, then `head` written over it (null deletes a file). */
function repo(base: Tree, head: Tree, inventories: Record<string, Inventory | string>): string {
  const dir = writeTree(base);
  const git = (...a: string[]) => execFileSync('git', ['-C', dir, ...a], { stdio: 'pipe' });
  git('init', '-q');
  git('add', '.');
  git('-c', 'user.name=t', '-c', 'user.email=t@x.example', 'commit', '-qm', 'base');
  for (const [f, c] of Object.entries(head)) {
    const p = path.join(dir, f);
    if (c === null) execFileSync('rm', ['-f', p]);
    else {
      mkdirSync(path.dirname(p), { recursive: true });
      writeFileSync(p, c);
    }
  }
  mkdirSync(path.join(dir, 'inventory'), { recursive: true });
  for (const [name, inv] of Object.entries(inventories))
    writeFileSync(path.join(dir, 'inventory', `${name}.json`), typeof inv === 'string' ? inv : JSON.stringify(inv));
  return dir;
}

interface Case {
  name: string;
  head: Tree;
  inventories?: Record<string, Inventory | string>;
  /** [table, change, action] */
  changes: [string, string, string][];
  complete: boolean;
}

const DB2 = DB1.replace('name: db1', 'name: db2').replace(/discovery:\n.*\n/, '');
const cases: Case[] = [
  { name: 'no config change: no changes', head: {}, changes: [], complete: true },
  {
    name: 'archive_after shortened: tables newly affected',
    head: { 'policies/monthly.yaml': MONTHLY.replace('archive_after: P2Y', 'archive_after: P18M') },
    changes: [['txn_202501', 'added', 'archive']],
    complete: true,
  }, // txn_202410 was due at P2Y already
  {
    name: 'scope narrowed: tables no longer affected',
    head: { 'databases/db1.yaml': DB1.replace('^txn_[0-9]{6}$', '^txn_2025[0-9]{2}$') },
    changes: [
      ['txn_202001', 'removed', 'none'],
      ['txn_202410', 'removed', 'none'],
    ],
    complete: true,
  },
  {
    name: 'policy swap changes the policy deciding a table',
    head: {
      'databases/db1.yaml': DB1.replace('policies: [audit]', 'policies: [monthly2]'),
      'policies/monthly2.yaml': AUDIT.replace('name: audit', 'name: monthly2').replace('P1Y', 'P6M'),
    },
    changes: [['audit_log', 'changed', 'archive']],
    complete: true,
  },
  {
    name: 'a new database: all its due tables added',
    head: { 'databases/db2.yaml': DB2 },
    inventories: { db1: db1Inventory(), db2: { ...db1Inventory(), database: 'db2' } },
    changes: [
      ['audit_log', 'added', 'archive'],
      ['txn_202001', 'added', 'archive'],
      ['txn_202410', 'added', 'archive'],
    ],
    complete: true,
  },
  {
    name: 'missing inventory: not evaluated, never "no changes"',
    head: {},
    inventories: {},
    changes: [],
    complete: false,
  },
  {
    name: 'partial inventory: incomplete',
    head: {},
    inventories: {
      db1: { ...db1Inventory(), partial: true, errors: [{ code: 'discover/timeout', message: 'db1: timed out' }] },
    },
    changes: [],
    complete: false,
  },
  {
    name: 'inventory of another format version is refused',
    head: {},
    inventories: { db1: JSON.stringify({ ...db1Inventory(), format_version: 2 }) },
    changes: [],
    complete: false,
  },
  {
    name: 'a month-13 table in the working tree makes it incomplete',
    head: {},
    inventories: { db1: { ...db1Inventory(), tables: [...db1Inventory().tables, table('payments', 'txn_202013')] } },
    changes: [],
    complete: false,
  },
];

for (const c of cases) {
  test(`preview: ${c.name}`, async () => {
    const dir = repo(baseRepo(), c.head, c.inventories ?? { db1: db1Inventory() });
    try {
      const r = await preview({ root: dir, base: 'HEAD', inventory: 'inventory', asOf: AS_OF });
      assert.equal(
        r.changes.map((x) => [x.table, x.change, x.action]),
        c.changes,
      );
      assert.is(r.complete, c.complete);
      if (!c.complete) assert.ok(r.problems.length > 0);
      if (c.changes.length === 0 && c.complete) assert.match(renderText(r), /no changes/);
      if (!c.complete) assert.not.match(renderText(r), /no changes —/);
      assert.equal(contractProblems(JSON.parse(renderJson(r))), []);
    } finally {
      removeTree(dir);
    }
  });
}

test('preview: totals per database and policy, source freed only by source-dropping policies', async () => {
  const dir = repo(
    baseRepo(),
    {
      'policies/monthly.yaml': MONTHLY.replace('archive_after: P2Y', 'archive_after: P18M'),
      'policies/audit.yaml': AUDIT.replace('P1Y', 'P2Y'),
    },
    { db1: db1Inventory() },
  );
  try {
    const r = await preview({ root: dir, base: 'HEAD', inventory: 'inventory', asOf: AS_OF });
    // added txn_202501 (300 rows, 3000 B) by monthly (drops the source);
    // removed audit_log (5000, 50000) by audit (keeps the source).
    assert.equal(r.summary, {
      tables: 2,
      rows: 5300,
      bytes: 53000,
      source_freed_bytes: 3000,
      added: 1,
      removed: 1,
      changed: 0,
    });
    assert.equal(r.policies, [
      { policy: 'audit', tables: 1, rows: 5000, bytes: 50000, source_freed_bytes: 0 },
      { policy: 'monthly', tables: 1, rows: 300, bytes: 3000, source_freed_bytes: 3000 },
    ]);
    assert.equal(
      r.databases.map((d) => [d.database, d.tables, d.rows, d.bytes, d.status]),
      [['db1', 2, 5300, 53000, 'ok']],
    );
    // The JSON contract: every change carries exactly these fields.
    const json = JSON.parse(renderJson(r)) as PreviewResult;
    assert.is(json.format_version, 1);
    assert.equal(contractProblems(json), []);
    for (const ch of json.changes)
      assert.equal(Object.keys(ch).sort(), [
        'action',
        'bytes',
        'change',
        'database',
        'policy',
        'previous_action',
        'previous_policy',
        'reason',
        'rows',
        'schedule',
        'schema',
        'source_freed_bytes',
        'table',
      ]);
    // Machine-readable dates, worked out by hand: txn_202501 → 2025-01-31, + P18M = 2026-07-31, + P7Y = 2032-01-31;
    // audit_log (removed: audit now P2Y, no purge_after) → max(event_time) 2025-06-30, + P2Y = 2027-06-30.
    assert.equal(
      json.changes.map((c) => [c.table, c.schedule]),
      [
        [
          'audit_log',
          {
            age_from: 'column',
            table_date: '2025-06-30T00:00:00.000Z',
            archive_due: '2027-06-30T00:00:00.000Z',
            purge_due: null,
            legal_hold: false,
            next_action: 'archive',
            next_action_at: '2027-06-30T00:00:00.000Z',
          },
        ],
        [
          'txn_202501',
          {
            age_from: 'table_name',
            table_date: '2025-01-31T00:00:00.000Z',
            archive_due: '2026-07-31T00:00:00.000Z',
            purge_due: '2032-01-31T00:00:00.000Z',
            legal_hold: false,
            next_action: 'archive',
            next_action_at: '2026-07-31T00:00:00.000Z',
          },
        ],
      ],
    );
    const md = renderMarkdown(r);
    assert.ok(md.startsWith(`${COMMENT_MARKER}\n### Retention preview: 2 tables change`));
    assert.match(md, /<details><summary><b>db1<\/b>/);
  } finally {
    removeTree(dir);
  }
});

test('--archive-state: validated archive, policy now drops the source → cleanup_source, bytes freed', async () => {
  const dir = repo(baseRepo(), { 'policies/monthly.yaml': MONTHLY }, { db1: db1Inventory() });
  try {
    // base: monthly keeps the source; working tree: it drops it after validation
    execFileSync('git', ['-C', dir, 'rm', '-q', '--cached', 'policies/monthly.yaml']);
    writeFileSync(
      path.join(dir, 'policies/monthly.yaml'),
      MONTHLY.replace('  action: drop\n  grace_period: P30D\n', '  action: keep\n'),
    );
    execFileSync('git', ['-C', dir, 'add', 'policies/monthly.yaml']);
    execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@x.example', 'commit', '-qm', 'keep']);
    writeFileSync(path.join(dir, 'policies/monthly.yaml'), MONTHLY);
    writeFileSync(
      path.join(dir, 'archives.json'),
      JSON.stringify([
        {
          database: 'db1',
          schema: 'payments',
          table: 'txn_202001',
          archived_at: '2022-02-15T00:00:00Z',
          validated: true,
        },
      ]),
    );
    const r = await preview({
      root: dir,
      base: 'HEAD',
      inventory: 'inventory',
      asOf: AS_OF,
      archiveState: 'archives.json',
    });
    // txn_202001: archived and validated → cleanup_source (frees its 1000 B);
    // txn_202410: archive, now also freeing 2000 B → unchanged action
    assert.equal(
      r.changes.map((c) => [c.table, c.change, c.action, c.previous_action, c.source_freed_bytes]),
      [['txn_202001', 'added', 'cleanup_source', 'none', 1000]],
    );
    writeFileSync(path.join(dir, 'bad.json'), '{"archives": [{"database": "db1"}]}');
    await preview({ root: dir, base: 'HEAD', inventory: 'inventory', asOf: AS_OF, archiveState: 'bad.json' }).then(
      () => assert.unreachable(),
      (e) => assert.match(e.message, /archive state .*bad\.json: expected a list/),
    );
  } finally {
    removeTree(dir);
  }
});

test('preview: refuses a working tree that fails validation', async () => {
  const dir = repo(
    baseRepo(),
    { 'policies/monthly.yaml': MONTHLY.replace('archive_after: P2Y', 'archive_after: soon') },
    { db1: db1Inventory() },
  );
  try {
    await preview({ root: dir, base: 'HEAD', inventory: 'inventory', asOf: AS_OF }).then(
      () => assert.unreachable('accepted invalid configs'),
      (e) => {
        assert.instance(e, UserError);
        assert.is((e as UserError).exitCode, 1);
        assert.match((e as Error).message, /policies\/monthly\.yaml/);
      },
    );
  } finally {
    removeTree(dir);
  }
});

/** A preview result with n added changes whose names are long and hostile. */
function bigResult(n: number): PreviewResult {
  const changes = Array.from({ length: n }, (_, i) => ({
    database: i % 2 ? 'db_b' : 'db_a',
    schema: 's',
    table: `t|${i}<script>\`x\` @org/team #1 ${'é'.repeat(40)}`,
    policy: 'p',
    action: 'archive' as const,
    change: 'added' as const,
    rows: 1,
    bytes: 1,
    reason: `reason | ${'ü'.repeat(60)}`,
    previous_action: 'none' as const,
    previous_policy: null,
    source_freed_bytes: 0,
    schedule: null,
  }));
  const tot = (f: (c: (typeof changes)[number]) => boolean) => ({
    tables: changes.filter(f).length,
    rows: changes.filter(f).length,
    bytes: changes.filter(f).length,
    source_freed_bytes: 0,
  });
  return {
    format_version: 1,
    base: 'main',
    as_of: AS_OF,
    inventory: 'inventory',
    complete: true,
    summary: { ...tot(() => true), added: n, removed: 0, changed: 0 },
    changes: [...changes].sort((a, b) => (a.database < b.database ? -1 : 1)),
    databases: [
      { database: 'db_a', status: 'ok', inventory_discovered_at: null, ...tot((c) => c.database === 'db_a') },
      { database: 'db_b', status: 'ok', inventory_discovered_at: null, ...tot((c) => c.database === 'db_b') },
    ],
    policies: [{ policy: 'p', ...tot(() => true) }],
    problems: [],
    governance: {
      grants_added: [],
      grants_revoked: [],
      admins_added: [],
      admins_removed: [],
      locations_registered: [],
    },
  };
}

test('markdown: cut at row boundaries below 65,536 characters, saying how much was left out', () => {
  const n = 3000;
  const md = renderMarkdown(bigResult(n));
  assert.ok(md.length < 65_536 && Buffer.byteLength(md) <= 65_536, `length ${md.length}`);
  const rows = md.split('\n').filter((l) => l.startsWith('| + added'));
  const m = /\*\*([\d,]+) of ([\d,]+) changes were left out\*\*/.exec(md);
  assert.ok(m, 'no left-out note');
  assert.is(Number(m![1]!.replace(/,/g, '')) + rows.length, n);
  assert.is(Number(m![2]!.replace(/,/g, '')), n);
  assert.is((md.match(/<details>/g) ?? []).length, (md.match(/<\/details>/g) ?? []).length);
  // every row keeps exactly its 8 cell borders: hostile | and < are escaped
  for (const r of rows) assert.is(r.split('|').length - 1, 8, r);
  assert.not.match(md, /<script>/);
  assert.not.match(md, /@org|#1 /); // no mentions or issue links from table names
  assert.is(cell('a_b&#c|d@e<f>\n`*[\\'), 'a&#95;b&amp;&#35;c&#124;d&#64;e&lt;f&gt; &#96;&#42;&#91;&#92;');
  const small = renderMarkdown(bigResult(10));
  assert.not.match(small, /left out/);
  assert.is(small.split('\n').filter((l) => l.startsWith('| + added')).length, 10);
});

test('comment: the first run creates one comment, the second edits it in place', async () => {
  const gh = await startFakeGithub('acme', 'configs', 42);
  try {
    gh.comments.push(
      ...Array.from({ length: 120 }, (_, i) => ({
        id: i + 1,
        body: `unrelated ${i}`,
        html_url: 'x',
        user: { login: 'someone' },
      })),
    );
    const target = { token: 't0ken', owner: 'acme', repo: 'configs', issueNumber: 42, apiUrl: gh.url };
    const first = await upsertComment(target, `${COMMENT_MARKER}\nfirst`);
    const second = await upsertComment(target, `${COMMENT_MARKER}\nsecond`);
    assert.is(first.action, 'created');
    assert.is(second.action, 'updated');
    assert.is(second.id, first.id);
    assert.is(gh.comments.length, 121);
    assert.is(gh.comments.filter((c) => c.body.includes(COMMENT_MARKER)).length, 1);
    assert.is(gh.comments.at(-1)!.body, `${COMMENT_MARKER}\nsecond`);
    assert.equal(
      gh.requests.filter((r) => r.method !== 'GET').map((r) => r.method),
      ['POST', 'PATCH'],
    );
    assert.ok(gh.requests.every((r) => r.auth === 'token t0ken'));
    // 121 comments: two pages per run, the marker found on page 2
    assert.is(gh.requests.filter((r) => r.method === 'GET').length, 2 + 2);
  } finally {
    await gh.close();
  }
});

test('comment: API failures say what to fix (missing pull request)', async () => {
  const gh = await startFakeGithub('acme', 'configs', 42);
  try {
    await upsertComment(
      { token: 't', owner: 'acme', repo: 'configs', issueNumber: 43, apiUrl: gh.url },
      `${COMMENT_MARKER}\nx`,
    ).then(
      () => assert.unreachable(),
      (e) => {
        assert.instance(e, UserError);
        assert.match(e.message, /cannot comment on acme\/configs#43: repository or pull request not found .*HTTP 404/);
      },
    );
    assert.is(gh.comments.length, 0);
  } finally {
    await gh.close();
  }
});

test('CLI: preview --comment twice through the environment leaves one edited comment; exit codes', async () => {
  const dir = repo(
    baseRepo(),
    { 'policies/monthly.yaml': MONTHLY.replace('archive_after: P2Y', 'archive_after: P18M') },
    { db1: db1Inventory() },
  );
  const gh = await startFakeGithub('acme', 'configs', 7);
  try {
    const event = path.join(dir, 'event.json');
    writeFileSync(event, JSON.stringify({ action: 'synchronize', pull_request: { number: 7 } }));
    const summary = path.join(dir, 'step-summary.md');
    const env = {
      GITHUB_TOKEN: 'tok',
      GITHUB_REPOSITORY: 'acme/configs',
      GITHUB_EVENT_PATH: event,
      GITHUB_API_URL: gh.url,
      GITHUB_STEP_SUMMARY: summary,
    };
    const run1 = await cli(['preview', '--base', 'HEAD', '--as-of', AS_OF, '--comment'], dir, env);
    assert.is(run1.status, 0, run1.stderr);
    assert.match(run1.stderr, /comment created/);
    assert.ok(readFileSync(summary, 'utf8').startsWith(COMMENT_MARKER));
    assert.not.match(gh.comments[0]!.body, /audit&#95;log/);
    writeFileSync(path.join(dir, 'policies/audit.yaml'), AUDIT.replace('P1Y', 'P2Y'));
    const run2 = await cli(['preview', '--base', 'HEAD', '--as-of', AS_OF, '--comment', '--format', 'json'], dir, env);
    assert.is(run2.status, 0, run2.stderr);
    assert.match(run2.stderr, /comment updated/);
    assert.is(gh.comments.length, 1);
    assert.match(gh.comments[0]!.body, /audit&#95;log/);
    assert.equal(
      JSON.parse(run2.stdout).changes.map((c: { table: string; change: string }) => [c.table, c.change]),
      [
        ['audit_log', 'removed'],
        ['txn_202501', 'added'],
      ],
    );
    // exit codes: 1 when a database cannot be evaluated, 2 on usage errors
    const missing = await cli(['preview', '--base', 'HEAD', '--as-of', AS_OF, '--inventory', 'nowhere'], dir);
    assert.is(missing.status, 1);
    assert.match(missing.stdout, /inventory\/missing/);
    assert.is((await cli(['preview', '--base', 'HEAD', '--as-of', 'yesterday'], dir)).status, 2);
    const badRef = await cli(['preview', '--base', 'no-such-ref'], dir);
    assert.is(badRef.status, 2);
    assert.match(badRef.stderr, /no-such-ref/);
    assert.not.match(badRef.stderr, /at .*\.ts:\d+/); // no stack trace
    const noEnv = await cli(['preview', '--base', 'HEAD', '--as-of', AS_OF, '--comment'], dir, { GITHUB_TOKEN: '' });
    assert.is(noEnv.status, 2);
    assert.match(noEnv.stderr, /GITHUB_TOKEN/);
  } finally {
    await gh.close();
    removeTree(dir);
  }
});

test.run();
