/**
 * Preview benchmark: 20 policies over a 100,000-table inventory (target: under 1 s), end to end —
 * configs at a git base and in the working tree, inventory files read and schema-checked, the engine
 * run twice, the diff, totals and the markdown comment. Baseline, same run: JSON.parse of the same
 * inventory files (the floor of any preview that reads snapshots).
 *   npx tsx tools/bench/preview.bench.ts
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { preview } from '../src/preview/preview.js';
import { renderMarkdown } from '../src/preview/render.js';
import { evaluate } from '../src/engine/evaluate.js';
import { summarize } from '../src/preview/preview.js';
import { diffEvaluations } from '../src/preview/diff.js';
import { readInventory } from '../src/inventory/inventory.js';
import { loadRepo } from '../src/config/load.js';
import { fsSource, gitSource } from '../src/config/source.js';
import { inventoryText, type Inventory, type InventoryTable } from '../src/inventory/inventory.js';

const TABLES = 100_000,
  POLICIES = 20,
  DATABASES = 4,
  SCHEMAS = 5;
const dir = mkdtempSync(path.join(tmpdir(), 'offload-bench-preview-'));
const settings = readFileSync(path.resolve('offload.settings.yaml'), 'utf8');
const write = (rel: string, text: string) => {
  mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
  writeFileSync(path.join(dir, rel), text);
};

// 20 policies: kinds of table names (YYYYMM, YYYY_MM_DD, YYYY) and column-aged ones.
const policy = (i: number, archive: string) => {
  const kind = i % 4;
  const age =
    kind === 0
      ? `  from: table_name\n  pattern: "*_YYYYMM"`
      : kind === 1
        ? `  from: table_name\n  pattern: "*_YYYY_MM_DD"`
        : kind === 2
          ? `  from: table_name\n  pattern: "*_YYYY"`
          : `  from: column\n  column: event_time`;
  return (
    `name: p${String(i).padStart(2, '0')}\nage:\n${age}\narchive_after: ${archive}\npurge_after: P10Y\n` +
    `source:\n  action: ${i % 2 ? 'drop' : 'keep'}\n${i % 2 ? '  grace_period: P30D\n' : ''}priority: ${i + 1}\n`
  );
};
const suffix = (i: number, kind: number) => {
  const y = 2015 + (i % 12),
    m = String(1 + (i % 12)).padStart(2, '0'),
    d = String(1 + (i % 28)).padStart(2, '0');
  return kind === 0 ? `${y}${m}` : kind === 1 ? `${y}_${m}_${d}` : kind === 2 ? `${y}` : 'log';
};
const database = (d: number) =>
  `name: db${d}\nengine: postgres\njdbc_url: jdbc:postgresql://db${d}.internal:5432/app\n` +
  `credentials:\n  secret: bench/db${d}\nowner:\n  team: t\n  contact: t@bench.example\nscope:\n` +
  Array.from(
    { length: POLICIES },
    (_, p) =>
      `  - schema: s${p % SCHEMAS}\n    include: ["^p${String(p).padStart(2, '0')}_"]\n` +
      `    policies: [p${String(p).padStart(2, '0')}]\n`,
  ).join('');

write('offload.settings.yaml', settings);
for (let p = 0; p < POLICIES; p++) write(`policies/p${String(p).padStart(2, '0')}.yaml`, policy(p, 'P3Y'));
for (let d = 0; d < DATABASES; d++) write(`databases/db${d}.yaml`, database(d));
const cols: InventoryTable['columns'] = [
  { name: 'id', type: 'bigint', nullable: false, precision: 64, scale: 0 },
  { name: 'event_time', type: 'timestamp with time zone', nullable: false, precision: null, scale: null },
];
for (let d = 0; d < DATABASES; d++) {
  const tables: InventoryTable[] = [];
  for (let i = d; i < TABLES; i += DATABASES) {
    const p = i % POLICIES,
      kind = p % 4;
    tables.push({
      schema: `s${p % SCHEMAS}`,
      name: `p${String(p).padStart(2, '0')}_t${i}_${suffix(i, kind)}`,
      kind: 'table',
      partition_of: null,
      partitions: 0,
      columns: cols,
      primary_key: ['id'],
      rows: 1000 + i,
      bytes: 8192 * (1 + (i % 100)),
      last_modified: null,
      column_max:
        kind === 3
          ? { event_time: { value: `${2016 + (i % 10)}-06-30T00:00:00.000Z`, measured_at: '2026-11-27T02:00:00.000Z' } }
          : {},
    });
  }
  const inv: Inventory = {
    format_version: 1,
    tool: { name: 'offload', version: 'bench' },
    discovered_at: '2026-11-27T02:00:00.000Z',
    database: `db${d}`,
    engine: 'postgres',
    partial: false,
    errors: [],
    schemas: Array.from({ length: SCHEMAS }, (_, s) => ({ name: `s${s}`, found: true })),
    keeps_last_modified: false,
    tables,
  };
  write(`inventory/db${d}.json`, inventoryText(inv)); // the format discover writes
}
const git = (...a: string[]) => execFileSync('git', ['-C', dir, ...a], { stdio: 'pipe' });
git('init', '-q');
git('add', '.');
git('-c', 'user.name=b', '-c', 'user.email=b@x.example', 'commit', '-qm', 'base');
// The change under review: five policies archive a year earlier.
for (let p = 0; p < 5; p++) write(`policies/p${String(p).padStart(2, '0')}.yaml`, policy(p, 'P2Y'));

const time = async <T>(fn: () => Promise<T> | T): Promise<[T, number]> => {
  const t = performance.now();
  const r = await fn();
  return [r, performance.now() - t];
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
if (process.env.BENCH_KEEP) {
  console.log(dir);
  process.exit(0);
} // keep the fixture for profiling
try {
  await preview({ root: dir, base: 'HEAD', inventory: 'inventory', asOf: '2026-11-27' }); // warm-up
  const e2e: number[] = [],
    parse: number[] = [],
    read: number[] = [],
    configs: number[] = [],
    compute: number[] = [];
  let result;
  for (let k = 0; k < RUNS; k++) {
    // Phases, through the same functions preview() calls.
    const [, p] = await time(() =>
      Array.from(
        { length: DATABASES },
        (_, d) => JSON.parse(readFileSync(path.join(dir, `inventory/db${d}.json`), 'utf8')) as Inventory,
      ),
    );
    parse.push(p);
    const [checked, r] = await time(async () => {
      const m = new Map<string, Inventory>();
      for (let d = 0; d < DATABASES; d++) {
        const x = await readInventory(path.join(dir, 'inventory'), `db${d}`);
        if (x.ok) m.set(`db${d}`, x.inventory);
      }
      return m;
    });
    read.push(r);
    const [[head, base], c] = await time(() =>
      Promise.all([loadRepo(fsSource(dir)), loadRepo(gitSource(dir, 'HEAD'))]),
    );
    configs.push(c);
    const [, e] = await time(() => {
      const run = (repo: typeof head) =>
        evaluate({
          databases: repo.databases.map((x) => x.config),
          policies: repo.policies.map((x) => x.config),
          inventories: checked,
          asOf: '2026-11-27',
        });
      const before = run(base),
        after = run(head);
      const r = summarize(
        { base: 'HEAD', inventory: 'inventory' },
        '2026-11-27',
        before,
        after,
        diffEvaluations(before, after),
      );
      renderMarkdown(r);
      return r;
    });
    compute.push(e);
    const [res, t] = await time(async () => {
      const r = await preview({ root: dir, base: 'HEAD', inventory: 'inventory', asOf: '2026-11-27' });
      renderMarkdown(r);
      return r;
    });
    e2e.push(t);
    result = res;
  }
  const f = (x: number) => `${x.toFixed(0)} ms`;
  const b = median(parse);
  console.log(
    `preview: ${TABLES.toLocaleString('en-US')} tables, ${POLICIES} policies, ${DATABASES} databases → ` +
      `${result!.summary.tables.toLocaleString('en-US')} changes (${result!.summary.added} added, ` +
      `${result!.summary.changed} changed, ${result!.summary.removed} removed); medians of ${RUNS} runs`,
  );
  console.log(
    `  engine ×2 + diff + totals + markdown (in memory): ${f(median(compute))}   target < 1000 ms   ` +
      `${median(compute) < 1000 ? 'OK' : 'MISSED'}`,
  );
  console.log(`  preview end to end (git, configs, inventories from disk, all of the above): ${f(median(e2e))}`);
  console.log(
    `    of which: inventories read + schema-checked ${f(median(read))}, ` +
      `configs at both revisions ${f(median(configs))}`,
  );
  console.log(
    `  baseline JSON.parse of the same inventory files: ${f(b)}   ` +
      `engine / baseline = ${(median(compute) / b).toFixed(2)}×   ` +
      `end to end / baseline = ${(median(e2e) / b).toFixed(2)}×`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
