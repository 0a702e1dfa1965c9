/**
 * Odd paths and values on every command (issue 10, defect 6): a folder option that names a file, a
 * folder under a file, a folder that cannot be created (`/proc/…`: the kernel refuses, and Node's
 * recursive mkdir loops forever there), an impossible calendar date, an inventory of a database with
 * no config. Each gives a clear message and the documented exit code — never a stack trace, never a
 * hang (every run is killed after 30 s and then fails).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { writeTree, removeTree } from '../helpers/fixtures.js';
import { baseRepo } from '../helpers/repo.js';
import { BIN } from '../helpers/cli.js';
import { eventCol, inventory, measured, table } from '../engine/fixtures.js';

function run(cwd: string, args: string[]): Promise<{ code: number | null; out: string; err: string; ms: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: {
        ...process.env,
        OFFLOAD_DB_DB1_USER: 'u',
        OFFLOAD_DB_DB1_PASSWORD: 'p',
        AWS_EC2_METADATA_DISABLED: 'true',
      },
    });
    let out = '',
      err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err, ms: Date.now() - started });
    });
  });
}

const DB1_INVENTORY = inventory(
  'db1',
  [table('audit', 'events', { columns: [eventCol], column_max: measured('2020-01-31T10:00:00Z') })],
  {
    schemas: [
      { name: 'audit', found: true },
      { name: 'payments', found: true },
    ],
  },
);

/** A git repo of the base configs, a file `afile`, and the named extra files. */
function repo(extra: Record<string, string> = {}): string {
  const dir = writeTree({ ...baseRepo(), afile: 'not a folder\n', ...extra });
  const git = (...a: string[]) => spawnSync('git', ['-C', dir, ...a], { encoding: 'utf8' });
  git('init', '-q');
  git('add', '-A');
  git('-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-qm', 'base');
  return dir;
}

const PROC = existsSync('/proc/self') ? `/proc/offload-test-${randomBytes(4).toString('hex')}/sub` : undefined;

interface Case {
  name: string;
  args: string[];
  files?: Record<string, string>;
  code: number;
  /** What stderr (or, for warnings, stdout) must say. */
  says: RegExp;
  stream?: 'err' | 'out';
  skip?: boolean;
}

const cases: Case[] = [
  { name: 'validate --root names a file', args: ['validate', '--root', 'afile'], code: 2, says: /afile.*not a folder/ },
  {
    name: 'validate --root is missing',
    args: ['validate', '--root', 'nowhere'],
    code: 2,
    says: /nowhere.*no such folder/,
  },
  {
    name: 'discover --out names a file',
    args: ['discover', '--no-aws', '--out', 'afile'],
    code: 2,
    says: /--out .*afile.* is a file, not a folder/,
  },
  {
    name: 'discover --out under a file',
    args: ['discover', '--no-aws', '--out', 'afile/inv'],
    code: 2,
    says: /--out .*afile\/inv.* is a file, not a folder/,
  },
  {
    name: 'discover --out cannot be created (no endless mkdir)',
    args: ['discover', '--no-aws', '--out', PROC ?? ''],
    code: 2,
    says: /--out .* cannot create/,
    skip: !PROC,
  },
  {
    name: 'sync --target local:FILE (plan)',
    args: ['sync', '--target', 'local:afile'],
    code: 2,
    says: /afile.* is a file, not a folder/,
  },
  {
    name: 'sync --target local:FILE --apply',
    args: ['sync', '--target', 'local:afile', '--apply', '--commit', 'c1'],
    code: 2,
    says: /afile.* is a file, not a folder/,
  },
  {
    name: 'sync --target local:FILE/sub --apply',
    args: ['sync', '--target', 'local:afile/state', '--apply', '--commit', 'c1'],
    code: 2,
    says: /afile.* is a file, not a folder/,
  },
  {
    name: 'sync --target that cannot be created (no endless mkdir)',
    args: ['sync', '--target', `local:${PROC}`, '--apply', '--commit', 'c1'],
    code: 2,
    says: /cannot create/,
    skip: !PROC,
  },
  {
    name: 'sync --apply: a lock that is a folder is refused at once, not waited on',
    args: ['sync', '--target', 'local:st', '--apply', '--commit', 'c1'],
    files: { 'st/.lock/x': 'not a lock file\n' },
    code: 2,
    says: /st\/\.lock is not a lock file/,
  },
  {
    name: 'preview --inventory names a file',
    args: ['preview', '--base', 'HEAD', '--inventory', 'afile'],
    code: 2,
    says: /--inventory .*afile.* is a file, not a folder/,
  },
  {
    name: 'preview --as-of 2026-02-30',
    args: ['preview', '--base', 'HEAD', '--as-of', '2026-02-30'],
    code: 2,
    says: /2026-02-30.*not a calendar date/,
  },
  {
    name: 'preview --as-of 2026-02-29 (not a leap year)',
    args: ['preview', '--base', 'HEAD', '--as-of', '2026-02-29'],
    code: 2,
    says: /2026-02-29.*not a calendar date/,
  },
  {
    name: 'preview --as-of 2026-01-01T24:00',
    args: ['preview', '--base', 'HEAD', '--as-of', '2026-01-01T24:00'],
    code: 2,
    says: /not a calendar date/,
  },
  {
    name: 'preview --archive-state with an impossible date',
    args: ['preview', '--base', 'HEAD', '--archive-state', 'state.json'],
    files: {
      'state.json': JSON.stringify([
        { database: 'db1', schema: 'audit', table: 'events', archived_at: '2026-04-31', validated: true },
      ]),
    },
    code: 2,
    says: /state\.json.*record 1.*archived_at "2026-04-31" is not a calendar date/,
  },
  {
    name: 'preview: an inventory of a database with no config is a warning',
    args: ['preview', '--base', 'HEAD'],
    files: {
      'inventory/db1.json': JSON.stringify(DB1_INVENTORY),
      'inventory/ghost.json': JSON.stringify({ ...DB1_INVENTORY, database: 'ghost' }),
    },
    code: 0,
    says: /ghost\.json.*no database config named ghost/,
    stream: 'out',
  },
];

for (const c of cases) {
  test(c.name, async () => {
    if (c.skip) return;
    const dir = repo(c.files);
    try {
      const r = await run(dir, c.args);
      const text = c.stream === 'out' ? r.out : r.err;
      assert.ok(r.ms < 29_000, `killed after ${r.ms} ms: it hangs`);
      assert.not.match(r.err, /internal error|this is a bug|\n\s+at /, r.err);
      assert.match(text, c.says, `stdout:\n${r.out}\nstderr:\n${r.err}`);
      assert.is(r.code, c.code, r.err);
    } finally {
      removeTree(dir);
    }
  });
}

test('a valid leap day and a real date-time are accepted', async () => {
  const dir = repo({ 'inventory/db1.json': JSON.stringify(DB1_INVENTORY) });
  try {
    for (const asOf of ['2024-02-29', '2026-03-31T23:59']) {
      const r = await run(dir, ['preview', '--base', 'HEAD', '--as-of', asOf, '--format', 'json']);
      assert.is(r.code, 0, r.err);
      assert.is(JSON.parse(r.out).as_of, asOf);
    }
  } finally {
    removeTree(dir);
  }
});

test.run();
