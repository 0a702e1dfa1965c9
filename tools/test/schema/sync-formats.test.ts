/**
 * Real outputs of `offload sync` match their schemas: every `--format json` document (plan, apply, a
 * no-op, drift, orphans kept and pruned) and every config table item written (local target, the same
 * item builder as the DynamoDB target).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SCHEMA_DIR } from '../../scripts/generate-types.js';
import { BIN } from '../helpers/cli.js';
import { removeTree, writeTree } from '../helpers/fixtures.js';
import { baseRepo } from '../helpers/repo.js';

const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, allowUnionTypes: true });
addFormats.default(ajv, ['date-time']);
const load = (f: string) => ajv.compile(JSON.parse(readFileSync(path.join(SCHEMA_DIR, f), 'utf8')));
const syncOutput = load('sync-output.schema.json');
const configItem = load('config-item.schema.json');

function assertValid(v: typeof syncOutput, doc: unknown, what: string) {
  assert.ok(v(doc), `${what}: ${ajv.errorsText(v.errors)}\n${JSON.stringify(doc, null, 1).slice(0, 2000)}`);
}

const EXTRA = 'name: extra\nage:\n  from: table_name\n  pattern: "*_YYYY"\narchive_after: P5Y\n';

const repo = writeTree({ ...baseRepo(), 'policies/extra.yaml': EXTRA });
/** Sync applies committed configs only: the fixture is a git repository. */
function git(...args: string[]) {
  const r = spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@x.example', ...args], {
    cwd: repo,
    encoding: 'utf8',
  });
  assert.is(r.status, 0, r.stderr);
}
git('init', '-q');
git('add', '-A');
git('commit', '-qm', 'configs');
const state = path.join(repo, '.offload/state');
function sync(...args: string[]): Record<string, unknown> {
  const r = spawnSync(process.execPath, [BIN, 'sync', '--target', 'local', '--format', 'json', ...args], {
    cwd: repo,
    encoding: 'utf8',
  });
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}
const items = () =>
  readdirSync(path.join(state, 'table'))
    .filter((f) => f.endsWith('.json') && f !== 'SYNC%23STATE.json')
    .map((f) => [f, JSON.parse(readFileSync(path.join(state, 'table', f), 'utf8'))] as const);

test.after(() => removeTree(repo));

test('plan, apply and a no-op apply print documents that match sync-output.schema.json', () => {
  const plan = sync();
  assertValid(syncOutput, plan, 'first plan');
  assert.ok(plan.provenance, 'the plan says where the configs come from');
  assert.is(plan.mode, 'plan');
  const apply = sync('--apply');
  assertValid(syncOutput, apply, 'first apply');
  assert.ok(apply.applied, 'apply reports what it did');
  const noop = sync('--apply');
  assertValid(syncOutput, noop, 'no-op apply');
  assert.is((noop.summary as { noChanges: boolean }).noChanges, true);
});

test('every config item written matches config-item.schema.json', () => {
  const written = items();
  assert.equal(written.map(([f]) => f).sort(), [
    'DATABASE%23db1.json',
    'POLICY%23audit.json',
    'POLICY%23extra.json',
    'POLICY%23monthly.json',
    'SETTINGS.json',
  ]);
  for (const [f, item] of written) assertValid(configItem, item, f);
  assert.ok(written.find(([f]) => f.startsWith('DATABASE'))![1].resolved, 'database items carry resolved values');
});

test('drift, orphans and a prune print documents that match the schema', () => {
  // A hand edit of an item: drift.
  const file = path.join(state, 'table', 'POLICY%23audit.json');
  const item = JSON.parse(readFileSync(file, 'utf8'));
  item.config.archive_after = 'P9Y';
  writeFileSync(file, JSON.stringify(item));
  // A policy removed from the repo: an orphan, kept without --prune.
  rmSync(path.join(repo, 'policies/extra.yaml'));
  git('commit', '-qam', 'drop the extra policy');
  const plan = sync();
  assertValid(syncOutput, plan, 'plan with drift and an orphan');
  assert.ok((plan.drift as unknown[]).length > 0 && (plan.orphans as unknown[]).length > 0);
  const pruned = sync('--apply', '--prune');
  assertValid(syncOutput, pruned, 'apply --prune');
  assert.ok((pruned.changes as { action: string }[]).some((c) => c.action === 'delete'));
  for (const [f, i] of items()) assertValid(configItem, i, `${f} after the prune`);
});

test('the schemas refuse what they do not describe (a field added without updating them)', () => {
  const doc = sync();
  assert.not.ok(syncOutput({ ...doc, extra: 1 }));
  const [, item] = items()[0]!;
  assert.not.ok(configItem({ ...item, extra: 1 }));
  const { version: _, ...noVersion } = item;
  assert.not.ok(configItem(noVersion));
});

test.run();
