/** The `offload validate` command end to end: exit codes, formats, paths, and no stack traces. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { writeTree, removeTree } from '../helpers/fixtures.js';
import { baseRepo, DB1, MONTHLY } from '../helpers/repo.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/offload.mjs');
const REPO_ROOT = path.resolve(BIN, '../../..');

function run(cwd: string, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const BAD = {
  'databases/db1.yaml': DB1.replace('policies: [audit]', 'policies: [nope]'),
  'policies/monthly.yaml': `${MONTHLY}extra: 1\n`,
};

test('the documented sample (examples/natwest) validates cleanly', () => {
  const r = run(path.join(REPO_ROOT, 'examples/natwest'), ['validate']);
  assert.is(r.code, 0, r.out + r.err);
  assert.match(r.out, /✓ valid: 7 files, 0 errors, 0 warnings/);
});

test('errors exit 1 and are listed with file:line:col, code and fix', () => {
  const dir = writeTree({ ...baseRepo(), ...BAD });
  try {
    const r = run(dir, ['validate']);
    assert.is(r.code, 1);
    assert.match(
      r.out,
      'policies/monthly.yaml:11:1: error schema/unknown-property: (top level): unknown property "extra"',
    );
    assert.match(r.out, 'databases/db1.yaml:16:16: error rule/unknown-policy: policy "nope" does not exist');
    assert.match(r.out, /fix: add policies\/nope\.yaml or use one of: audit/);
    assert.match(r.out, /✗ invalid: 4 files, 2 errors/);
  } finally {
    removeTree(dir);
  }
});

test('--format json is the documented structure', () => {
  const dir = writeTree({ ...baseRepo(), ...BAD });
  try {
    const r = run(dir, ['validate', '--format', 'json']);
    assert.is(r.code, 1);
    const j = JSON.parse(r.out);
    assert.equal(Object.keys(j).sort(), ['files', 'findings', 'ok', 'summary', 'version']);
    const schema = JSON.parse(readFileSync(path.join(REPO_ROOT, 'schema/validate-output.schema.json'), 'utf8'));
    const check = new Ajv2020({ strict: false }).compile(schema);
    assert.ok(check(j as object), JSON.stringify(check.errors));
    assert.is(j.version, 1);
    assert.is(j.ok, false);
    assert.equal(j.summary, { files: 4, errors: 2, warnings: 1 }); // audit is now unused
    assert.equal(Object.keys(j.findings[0]).sort(), [
      'code',
      'column',
      'file',
      'fix',
      'line',
      'message',
      'pointer',
      'severity',
    ]);
    assert.equal(
      j.findings.map((f: { file: string; pointer: string }) => `${f.file}#${f.pointer}`),
      ['databases/db1.yaml#/scope/1/policies/0', 'policies/audit.yaml#/name', 'policies/monthly.yaml#/extra'],
    );
  } finally {
    removeTree(dir);
  }
});

test('--format github prints annotations and appends the step summary', () => {
  const dir = writeTree({ ...baseRepo(), ...BAD, 'summary.md': '# before\n' });
  try {
    const summary = path.join(dir, 'summary.md');
    const r = run(dir, ['validate', '--format', 'github'], { GITHUB_STEP_SUMMARY: summary });
    assert.is(r.code, 1);
    assert.match(
      r.out,
      '::error file=databases/db1.yaml,line=16,col=16,title=rule/unknown-policy::policy "nope" does not exist. Fix: ',
    );
    const md = readFileSync(summary, 'utf8');
    assert.ok(md.startsWith('# before\n'), 'appends');
    assert.match(md, '| `databases/db1.yaml:16:16` | error | `rule/unknown-policy` |');
  } finally {
    removeTree(dir);
  }
});

test('paths restrict the report to those files, with the rest as context', () => {
  const dir = writeTree({ ...baseRepo(), ...BAD });
  try {
    const ok = run(dir, ['validate', 'policies/audit.yaml', 'offload.settings.yaml']);
    assert.is(ok.code, 0, ok.out);
    assert.match(ok.out, /✓ valid with warnings: 2 files, 0 errors, 1 warning/);
    const bad = run(path.join(dir, 'databases'), ['validate', 'db1.yaml']);
    assert.is(bad.code, 1);
    assert.match(bad.out, /1 file, 1 error/);
    assert.not.match(bad.out, /monthly/);
  } finally {
    removeTree(dir);
  }
});

test('usage errors exit 2 with a message and no stack trace', () => {
  const dir = writeTree(baseRepo());
  try {
    for (const args of [
      ['validate', 'nowhere.yaml'],
      ['validate', 'README.md'],
      ['validate', '--format', 'xml'],
      ['no-such-command'],
    ]) {
      if (args[1] === 'README.md') writeFileSync(path.join(dir, 'README.md'), 'x');
      const r = run(dir, args);
      assert.is(r.code, 2, args.join(' '));
      assert.not.match(r.err, /\n\s+at /, 'no stack trace');
      assert.ok(r.err.length > 10);
    }
  } finally {
    removeTree(dir);
  }
});

test('--help describes every option', () => {
  const r = run(REPO_ROOT, ['validate', '--help']);
  assert.is(r.code, 0);
  for (const opt of ['--format', '--root', 'paths']) assert.match(r.out, opt);
  const top = run(REPO_ROOT, ['--help']);
  assert.match(top.out, 'validate');
  const version = run(REPO_ROOT, ['--version']);
  assert.is(version.code, 0);
  assert.is(version.out.trim(), JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).version);
});

test.run();
