/**
 * The GitHub workflows pass actionlint and zizmor (pedantic persona) with no findings, and the same
 * script does report a workflow with the known problems — so this test can fail. Both linters are
 * installed on first use by scripts/lint-workflows.sh and cached in .cache.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const WORKFLOWS = path.join(ROOT, '.github', 'workflows');

function lint(dir?: string) {
  const r = spawnSync('bash', [path.join(ROOT, 'scripts/lint-workflows.sh'), ...(dir ? [dir] : [])], {
    encoding: 'utf8',
    timeout: 9 * 60_000,
  });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

test('the repository workflows: actionlint and zizmor report nothing', () => {
  const r = lint();
  assert.is(r.status, 0, r.out);
  assert.match(r.out, /No findings to report/);
});

test('a workflow with the classic mistakes is reported by both linters', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'offload-wf-'));
  writeFileSync(
    path.join(dir, 'bad.yml'),
    `name: bad
on: pull_request
jobs:
  check:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: echo "\${{ github.base_ref }}" \${{ steps.nothing.outputs.x }}
`,
  );
  const r = lint(dir);
  assert.is.not(r.status, 0, r.out);
  for (const audit of ['unpinned-uses', 'template-injection', 'artipacked', 'excessive-permissions'])
    assert.match(r.out, audit, `zizmor: ${audit}`);
  assert.match(r.out, /property "nothing" is not defined/, 'actionlint: the undefined step output');
});

const files = readdirSync(WORKFLOWS).filter((f) => f.endsWith('.yml'));

test('every action is pinned by a full commit SHA with its tag in a comment', () => {
  assert.equal(files.sort(), ['deploy.yml', 'pr-check.yml', 'tests.yml']);
  for (const f of files) {
    const uses = readFileSync(path.join(WORKFLOWS, f), 'utf8')
      .split('\n')
      .filter((l) => /^\s*-?\s*uses:/.test(l));
    assert.ok(uses.length > 0, f);
    for (const l of uses) assert.match(l, /uses: [\w.-]+\/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/, `${f}: ${l.trim()}`);
  }
});

test('deploy: region read from the settings, not written in the workflow; scripts/deploy.sh does the work', () => {
  const text = readFileSync(path.join(WORKFLOWS, 'deploy.yml'), 'utf8');
  assert.not.match(text, /\b[a-z]{2}(-gov)?-[a-z]+-\d\b/, 'no literal region');
  const wf = parse(text) as {
    jobs: Record<string, { steps: { uses?: string; run?: string; with?: Record<string, string> }[] }>;
  };
  const steps = Object.values(wf.jobs).flatMap((j) => j.steps);
  const aws = steps.find((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@'))!;
  // The step output expression, written in two parts so it is not read as a template literal.
  assert.is(aws.with?.['aws-region'], `$${'{{ steps.settings.outputs.region }}'}`);
  assert.ok(steps.some((s) => s.run === 'bash scripts/deploy.sh'));
  assert.ok(steps.some((s) => s.run?.includes('scripts/deploy.sh --region')));
});

test.run();
