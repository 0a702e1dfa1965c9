/**
 * Benchmark of `offload sync --target aws` at scale: 1,000 databases and 100 policies generated
 * into a temp dir, synced against moto in server mode (S3, DynamoDB) and the Glue contract server
 * (moto cannot update connections and omits ConnectionType, so a no-op could not be measured on
 * it). Counts every HTTP attempt by service and operation (SDK middleware) and the wall time of:
 * the first sync, a no-op sync, a one-file policy change and a one-file database change that also
 * changes its Glue connection.
 *
 *   npx tsx tools/bench/sync.bench.ts [--json]
 *
 * Targets (exit 1 when missed): no-op sync 0 writes and ≤ 15 requests; one-file change ≤ 4 writes
 * (the database-with-connection change needs 5, see docs/sync.md).
 */
import { mkdtempSync, writeFileSync, mkdirSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { runSync, type TargetSpec } from '../src/sync/sync.js';
import { startMoto } from '../test/helpers/moto.js';
import { startGlueContractServer } from '../test/helpers/aws-fakes.js';
import { awsHarness, database, policy, SETTINGS } from '../test/helpers/sync-env.js';

const DATABASES = Number(process.env.BENCH_DATABASES ?? 1000);
const POLICIES = Number(process.env.BENCH_POLICIES ?? 100);
const WRITES = new Set([
  'Claim',
  'WriteItems',
  'PutObject',
  'DeleteObject',
  'TransactWriteItems',
  'UpdateItem',
  'PutItem',
  'DeleteItem',
  'BatchWriteItem',
  'CreateConnection',
  'UpdateConnection',
  'DeleteConnection',
]);

function generate(root: string) {
  mkdirSync(path.join(root, 'databases'), { recursive: true });
  mkdirSync(path.join(root, 'policies'), { recursive: true });
  writeFileSync(path.join(root, 'offload.settings.yaml'), SETTINGS);
  for (let i = 0; i < POLICIES; i++)
    writeFileSync(path.join(root, 'policies', `policy${i}.yaml`), policy(`policy${i}`, `P${1 + (i % 6)}Y`));
  for (let i = 0; i < DATABASES; i++) {
    const text = database(`db${i}`, { network: i % 3 !== 0 }).replace(
      'policies: [monthly]',
      `policies: [policy${i % POLICIES}]`,
    );
    writeFileSync(path.join(root, 'databases', `db${i}.yaml`), text);
  }
}

interface Figure {
  name: string;
  ms: number;
  requests: number;
  writes: number;
  byKind: Record<string, number>;
  changes: number;
  steps: Record<string, number>;
}

async function main() {
  const json = process.argv.includes('--json');
  const moto = await startMoto();
  const glue = await startGlueContractServer();
  process.env.AWS_ENDPOINT_URL_GLUE = glue.endpoint;
  const root = mkdtempSync(path.join(tmpdir(), 'offload-sync-bench-'));
  const figures: Figure[] = [];
  try {
    generate(root);
    await awsHarness().setup();
    const measure = async (name: string, target: TargetSpec = { kind: 'aws' }) => {
      const byKind: Record<string, number> = {};
      const steps: Record<string, number> = {};
      const count = (s: string, c: string) => {
        byKind[`${s}:${c}`] = (byKind[`${s}:${c}`] ?? 0) + 1;
      };
      const t0 = performance.now();
      let last = t0;
      const out = await runSync({
        root,
        target,
        apply: true,
        prune: false,
        commit: 'bench',
        // The generated repo is not a git repository.
        allowUncommitted: 'benchmark fixture',
        aws: { onRequest: count },
        onRequest: count,
        afterPlan: () => {
          const now = performance.now();
          steps['read+plan'] = now - last;
          last = now;
        },
        applyOptions: {
          afterStep: (step) => {
            const now = performance.now();
            steps[step.replace(/#\d+$/, '')] = (steps[step.replace(/#\d+$/, '')] ?? 0) + now - last;
            last = now;
          },
        },
      });
      const ms = performance.now() - t0;
      if (out.status !== 'applied')
        throw new Error(
          `${name}: ${
            out.status === 'invalid'
              ? out.repo.findings
                  .slice(0, 3)
                  .map((f) => f.message)
                  .join('; ')
              : 'not applied'
          }`,
        );
      const requests = Object.values(byKind).reduce((a, b) => a + b, 0);
      const writes = Object.entries(byKind)
        .filter(([k]) => WRITES.has(k.split(':')[1]!))
        .reduce((a, [, v]) => a + v, 0);
      figures.push({ name, ms, requests, writes, byKind, changes: out.plan.changes.length, steps });
    };
    const policyFile = path.join(root, 'policies', 'policy7.yaml');
    const dbFile = path.join(root, 'databases', 'db42.yaml');
    const original = { policy: readFileSync(policyFile, 'utf8'), db: readFileSync(dbFile, 'utf8') };
    const editPolicy = () => writeFileSync(policyFile, policy('policy7', 'P6Y'));
    const editDb = () =>
      writeFileSync(
        dbFile,
        database('db42', { url: 'jdbc:postgresql://db42-moved.example.internal:5432/db42' }).replace(
          'policies: [monthly]',
          `policies: [policy${42 % POLICIES}]`,
        ),
      );
    await measure('first sync');
    await measure('no-op sync');
    editPolicy();
    await measure('one-file change (policy)');
    editDb();
    await measure('one-file change (database + its connection)');
    // The same on the local target (operations instead of HTTP requests).
    writeFileSync(policyFile, original.policy);
    writeFileSync(dbFile, original.db);
    const local: TargetSpec = { kind: 'local', dir: path.join(root, '.offload/state') };
    await measure('local: first sync', local);
    await measure('local: no-op sync', local);
    editPolicy();
    await measure('local: one-file change (policy)', local);
    editDb();
    await measure('local: one-file change (database + connection)', local);
  } finally {
    await glue.close();
    await moto.stop();
    rmSync(root, { recursive: true, force: true });
  }
  const noop = figures[1]!;
  const policyChange = figures[2]!;
  const checks = [
    { what: 'no-op sync: 0 writes', ok: noop.writes === 0 },
    { what: 'no-op sync: ≤ 15 requests', ok: noop.requests <= 15 },
    { what: 'one-file change (policy): ≤ 4 writes', ok: policyChange.writes <= 4 },
  ];
  if (json) {
    process.stdout.write(
      `${JSON.stringify({ benchmark: 'sync', databases: DATABASES, policies: POLICIES, figures, checks }, null, 2)}\n`,
    );
  } else {
    const out = [
      `sync benchmark: ${DATABASES} databases, ${POLICIES} policies, ` +
        'target aws (moto server for S3 + DynamoDB, Glue contract server)',
      '',
    ];
    out.push(
      `${'scenario'.padEnd(46)} ${'wall'.padStart(9)} ${'requests'.padStart(9)} ${'writes'.padStart(7)} ` +
        `${'changes'.padStart(8)}  requests by kind`,
    );
    for (const f of figures) {
      const kinds = Object.entries(f.byKind)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
      out.push(
        `${f.name.padEnd(46)} ${(f.ms / 1000).toFixed(2).padStart(8)}s ${String(f.requests).padStart(9)} ` +
          `${String(f.writes).padStart(7)} ${String(f.changes).padStart(8)}  ${kinds}`,
      );
      const steps = Object.entries(f.steps)
        .map(([k, v]) => `${k} ${(v / 1000).toFixed(2)}s`)
        .join(', ');
      out.push(`${''.padEnd(46)} (${steps})`);
    }
    out.push('');
    for (const c of checks) out.push(`${c.ok ? 'ok  ' : 'MISS'} ${c.what}`);
    process.stdout.write(`${out.join('\n')}\n`);
  }
  process.exitCode = checks.every((c) => c.ok) ? 0 : 1;
}

await main();
