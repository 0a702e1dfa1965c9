/**
 * scripts/deploy.sh as far as it runs without AWS: its arguments, the region it hands the workflow,
 * the refusal without credentials (before building anything), and a build whose artifacts are exactly
 * what the synthesized Glue jobs reference. `cdk deploy` and the sync itself need an AWS account.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FEATURE_FLAGS } from '../bin/app.js';
import { CONTEXT_BUILD_DIR, loadDeploySettings } from '../bin/settings.js';
import { OffloadStack } from '../lib/stack.js';
import { settingsYaml, writeFixtureRepo } from './fixture.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Runs deploy.sh with no AWS credentials reachable: no AWS_* variables, an empty HOME, no IMDS. */
function deploy(args: string[], env: Record<string, string> = {}) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')));
  const home = mkdtempSync(path.join(os.tmpdir(), 'offload-home-'));
  const r = spawnSync('bash', [path.join(ROOT, 'scripts/deploy.sh'), ...args], {
    encoding: 'utf8',
    env: { ...clean, HOME: home, AWS_EC2_METADATA_DISABLED: 'true', ...env },
    timeout: 8 * 60_000,
  });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}`, stdout: r.stdout };
}

const usage = [
  { args: ['--help'], status: 0, out: /Usage: bash scripts\/deploy\.sh/ },
  { args: ['--bogus'], status: 2, out: /unknown option '--bogus'/ },
  { args: ['--plan', '--build'], status: 2, out: /one option at most/ },
];
for (const c of usage)
  test(`deploy.sh ${c.args.join(' ')} → exit ${c.status}`, () => {
    const r = deploy(c.args);
    assert.is(r.status, c.status, r.out);
    assert.match(r.out, c.out);
  });

test('--region prints the settings region; a settings file without one is refused naming the file', () => {
  const root = writeFixtureRepo();
  const r = deploy(['--region'], { OFFLOAD_SETTINGS_ROOT: root });
  assert.is(r.status, 0, r.out);
  assert.is(r.stdout.trim(), 'eu-west-2');
  const bad = mkdtempSync(path.join(os.tmpdir(), 'offload-noregion-'));
  writeFileSync(path.join(bad, 'offload.settings.yaml'), settingsYaml().replace(/^region: .*\n/m, ''));
  const r2 = deploy(['--region'], { OFFLOAD_SETTINGS_ROOT: bad });
  assert.is(r2.status, 2, r2.out);
  assert.match(r2.out, /offload\.settings\.yaml: no region/);
});

for (const mode of ['--plan', ''])
  test(`${mode || '(deploy)'} without AWS credentials: exit 2, a clear message, nothing built`, () => {
    const build = path.join(mkdtempSync(path.join(os.tmpdir(), 'offload-build-')), 'out');
    const r = deploy(mode ? [mode] : [], { OFFLOAD_BUILD_DIR: build });
    assert.is(r.status, 2, r.out);
    assert.match(r.out, /no AWS credentials found/);
    assert.match(r.out, /Nothing was built or changed/);
    assert.not.ok(existsSync(build), 'the build did not start');
  });

const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

test('--build produces the artifacts the CDK app references, byte-identical on a rebuild', () => {
  const build = path.join(mkdtempSync(path.join(os.tmpdir(), 'offload-build-')), 'out');
  const r = deploy(['--build'], { OFFLOAD_BUILD_DIR: build });
  assert.is(r.status, 0, r.out);
  const zip = path.join(build, 'glue', 'offload_glue.zip');
  const first = sha(zip);
  // The zip holds every module of the package (listed here from the sources, not from the script).
  const listing = spawnSync(
    'python3',
    ['-c', 'import sys,zipfile;print("\\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))', zip],
    {
      encoding: 'utf8',
    },
  ).stdout.split('\n');
  for (const f of readdirSync(path.join(ROOT, 'glue', 'offload_glue')).filter((f) => f.endsWith('.py')))
    assert.ok(listing.includes(`offload_glue/${f}`), `offload_glue/${f} in the zip`);
  const r2 = deploy(['--build'], { OFFLOAD_BUILD_DIR: build });
  assert.is(r2.status, 0, r2.out);
  assert.is(sha(zip), first, 'a rebuild of unchanged sources is byte-identical (nothing to redeploy)');

  // Synthesize against this build: every script, package and jar a job names exists in it.
  const root = writeFixtureRepo();
  const app = new App({ context: { ...FEATURE_FLAGS, 'aws:cdk:bundling-stacks': [], [CONTEXT_BUILD_DIR]: build } });
  const settings = loadDeploySettings(root, (k) => app.node.tryGetContext(k));
  const t = Template.fromStack(
    new OffloadStack(app, 'S', { settings, env: { account: '111122223333', region: 'eu-west-2' } }),
  );
  const jobs = Object.values(t.findResources('AWS::Glue::Job'));
  const expectedJobs = [
    'archive_table.py',
    'validate_table.py',
    'purge_table.py',
    'cleanup_source.py',
    'hold_table.py',
  ].filter((s) => existsSync(path.join(ROOT, 'glue', s)));
  assert.is(jobs.length, expectedJobs.length);
  const key = (v: unknown) =>
    /\/glue\/(.+)$/.exec(JSON.stringify(v).replace(/"\]\]\}$/, ''))?.[1]?.replace(/"\]\]\}/, '');
  for (const job of jobs) {
    const script = key(job.Properties.Command.ScriptLocation)!;
    assert.ok(existsSync(path.join(build, 'glue', script)), `script ${script} is built`);
    assert.ok(expectedJobs.includes(script));
    assert.is(key(job.Properties.DefaultArguments['--extra-py-files']), 'offload_glue.zip');
    const jars = JSON.stringify(job.Properties.DefaultArguments['--extra-jars']).match(/jars\/[^,"]+\.jar/g) ?? [];
    assert.equal(
      jars.map((j) => j.slice('jars/'.length)).sort(),
      readdirSync(path.join(build, 'glue', 'jars')).sort(),
      'every built jar is on --extra-jars, and nothing else',
    );
  }
});

test.run();
