/**
 * The core entry point bundles into one ES module free of the CLI, GitHub, the sync code, database
 * drivers and the AWS SDK, and that bundle works on its own: imported by a fresh Node process in a temp
 * dir with no repo files around, it loads configs from memory and decides with the engine.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build, type Metafile } from 'esbuild';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bundleCore, CORE_EXTERNALS } from '../../scripts/bundle-core.js';
import { SETTINGS } from '../helpers/repo.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');

/** Bundled inputs that must never reach the core: packages of the edges and the edge rooms of tools/src. */
const FORBIDDEN_INPUT = new RegExp(
  String.raw`(^|\/)node_modules\/` +
    String.raw`(commander|cli-progress|@octokit|pg|pg-[a-z-]+|mysql2|oracledb|mssql|tedious|@aws-sdk|@smithy)\/` +
    String.raw`|^tools\/src\/(cli|sync|catalog|preview|validate)\/`,
);
const FORBIDDEN_IMPORT = /^(commander|cli-progress|@octokit\/|pg$|pg\/|mysql2|oracledb|mssql|tedious|@aws-sdk\/)/;

function forbiddenInputs(meta: Metafile): string[] {
  return Object.keys(meta.inputs).filter((f) => FORBIDDEN_INPUT.test(f));
}

/** Modules the bundle still imports at run time (import/export statements, `import()` and `require` calls). */
function runtimeImports(code: string): string[] {
  const out = new Set<string>();
  const patterns = [
    /^\s*(?:import|export)\b[^;"]*?\bfrom\s*"([^"]+)"/gm,
    /^\s*import\s*"([^"]+)"/gm,
    /\bimport\(\s*"([^"]+)"\s*\)/g,
    /\brequire\(\s*"([^"]+)"\s*\)/g,
  ];
  for (const re of patterns) for (const m of code.matchAll(re)) out.add(m[1]!);
  return [...out].sort();
}
const isBuiltin = (m: string) => m.startsWith('node:') || builtinModules.includes(m);

const dir = mkdtempSync(path.join(tmpdir(), 'offload-core-bundle-'));
const bundle = path.join(dir, 'core.mjs');
let meta: Metafile;

test.before(async () => {
  meta = await bundleCore(bundle);
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('the checks catch a forbidden import (a probe importing commander and the sync code fails them)', async () => {
  const probe = await build({
    stdin: {
      contents:
        "import { Command } from 'commander';\nimport { STATE_PK } from './tools/src/sync/model.ts';\n" +
        'console.log(new Command(), STATE_PK);',
      resolveDir: ROOT,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const found = forbiddenInputs(probe.metafile);
  assert.ok(
    found.some((f) => f.includes('node_modules/commander/')),
    found.join(', '),
  );
  assert.ok(found.includes('tools/src/sync/model.ts'), found.join(', '));
});

test('the core bundle holds no CLI, GitHub, sync, driver or AWS SDK module', () => {
  const inputs = Object.keys(meta.inputs);
  assert.ok(inputs.includes('tools/src/engine/evaluate.ts'), 'the engine is in the bundle');
  assert.equal(forbiddenInputs(meta), []);
  const code = readFileSync(bundle, 'utf8');
  assert.not.ok(code.includes('SYNC#STATE'), 'no sync code (its state item key) in the bundle');
});

test('the bundle imports at run time only Node built-ins and the declared externals', () => {
  const imports = runtimeImports(readFileSync(bundle, 'utf8'));
  assert.ok(imports.includes('re2-wasm') && imports.includes('node:crypto'), `the scan finds imports: ${imports}`);
  assert.equal(
    imports.filter((m) => FORBIDDEN_IMPORT.test(m)),
    [],
  );
  // ajv's code generator holds `require("ajv/dist/runtime/…")` as text of the code it generates.
  const unexpected = imports.filter((m) => !isBuiltin(m) && !CORE_EXTERNALS.includes(m) && !m.startsWith('ajv'));
  assert.equal(unexpected, []);
});

const DATABASE = `name: shop
engine: postgres
jdbc_url: jdbc:postgresql://shop.example.internal:5432/shop
credentials:
  secret: acme/shop
owner:
  team: Shop
  contact: shop@acme.example
scope:
  - schema: sales
    include: ["^orders_"]
    policies: [monthly]
`;
const POLICY = `name: monthly
age:
  from: table_name
  pattern: "*_YYYYMM"
archive_after: P1Y
purge_after: P3Y
`;
const tableOf = (name: string) => ({
  schema: 'sales',
  name,
  kind: 'table',
  partition_of: null,
  partitions: 0,
  columns: [{ name: 'id', type: 'bigint', nullable: false, precision: 64, scale: 0 }],
  primary_key: ['id'],
  rows: 10,
  bytes: 8192,
  last_modified: null,
  column_max: {},
});
const INVENTORY = {
  format_version: 1,
  tool: { name: 'offload', version: '0.1.0' },
  discovered_at: '2026-01-10T02:00:00.000Z',
  database: 'shop',
  engine: 'postgres',
  partial: false,
  keeps_last_modified: false,
  schemas: [{ name: 'sales', found: true }],
  tables: ['orders_202301', 'orders_202406', 'orders_202512', 'orders_x', 'other'].map(tableOf),
  errors: [],
};

/** Runs in the temp dir, next to the bundle only: configs from memory, inventory from text, decisions out. */
const RUNNER = `import { readFileSync } from 'node:fs';
import * as core from './core.mjs';
const input = JSON.parse(readFileSync(new URL('./input.json', import.meta.url), 'utf8'));
const repo = await core.loadRepo(core.memorySource(new Map(Object.entries(input.files)), 's3://configs'));
const inv = core.parseInventory(input.inventory, 'shop', 's3://inventory/shop.json');
if (!inv.ok) throw new Error(inv.message);
const result = core.evaluate({
  databases: repo.databases.map((d) => d.config),
  policies: repo.policies.map((p) => p.config),
  inventories: new Map([['shop', inv.inventory]]),
  asOf: '2026-01-15',
});
const db = repo.databases[0].config;
const settings = repo.settings.config;
console.log(JSON.stringify({
  errors: repo.errors,
  findings: repo.findings.map((f) => f.code),
  decisions: result.databases[0].decisions.map((d) => [d.table, d.action, d.problem?.code ?? null]),
  names: [core.glueDatabaseOf(db, settings), core.s3LocationOf(db, settings), core.connectionNameOf(db),
    core.archiveTableName('sales', 'orders_202301'), core.archiveTableName('Sales', 'Orders 2023')],
}));
`;

test('the bundle runs alone in a fresh process: configs from memory → decisions and names', () => {
  // What a Lambda package holds: the bundle, and the declared external packages installed beside it.
  for (const pkg of CORE_EXTERNALS)
    cpSync(path.join(ROOT, 'node_modules', pkg), path.join(dir, 'node_modules', pkg), { recursive: true });
  writeFileSync(
    path.join(dir, 'input.json'),
    JSON.stringify({
      files: { 'offload.settings.yaml': SETTINGS, 'databases/shop.yaml': DATABASE, 'policies/monthly.yaml': POLICY },
      inventory: JSON.stringify(INVENTORY),
    }),
  );
  writeFileSync(path.join(dir, 'run.mjs'), RUNNER);
  const env = { PATH: process.env.PATH ?? '', TZ: 'UTC' }; // no NODE_OPTIONS: no tsx loader
  const r = spawnSync(process.execPath, ['run.mjs'], { cwd: dir, env, encoding: 'utf8', timeout: 60_000 });
  assert.is(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.is(out.errors, 0, out.findings.join(', '));
  // By hand: a month table's date is its last day; archive is due when that date + P1Y ≤ 2026-01-15.
  assert.equal(out.decisions, [
    ['orders_202301', 'archive', null], // 2023-01-31 + 1 year = 2024-01-31
    ['orders_202406', 'archive', null], // 2024-06-30 + 1 year = 2025-06-30
    ['orders_202512', 'none', null], // 2025-12-31 + 1 year = 2026-12-31, not yet
    ['orders_x', 'none', 'engine/name-no-date'],
  ]);
  assert.equal(out.names.slice(0, 4), [
    'archive_shop',
    's3://acme-archive-vault/iceberg/archive_shop/',
    'shop',
    'sales__orders_202301',
  ]);
  assert.match(out.names[4], /^sales__orders_2023_h[0-9a-f]{8}$/);
});

test.run();
