/**
 * Ledger overhead per table in `offload run`: what the runner does with the ledger for one table that is
 * archived, validated and its source renamed — one read and four conditional transitions (archiving,
 * archived, validated, source_renamed) — timed on the local state directory and on DynamoDB (moto server).
 * Target: under 20 ms per table on each store. Prints figures; asserts nothing.
 *
 *   npm run bench -- ledger          (or: node --import tsx tools/bench/ledger.bench.ts [tables])
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createLocalLedger, type Ledger } from '../src/ledger/index.js';
import { createDynamoLedger, createLedgerTable } from '../src/ledger/dynamodb.js';
import { startMoto } from '../test/helpers/moto.js';

const TABLES = Number(process.argv[2] ?? 200);

/** CPU time of this process per table in the last perTable call (less sensitive to the machine's load). */
let cpuPerTableMs = 0;

async function perTable(ledger: Ledger, run: string): Promise<number[]> {
  const out: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < TABLES; i++) {
    const ref = { database: 'bench', schema: 'public', table: `${run}_t${i}` };
    const common = { runId: run, archive: { namespace: 'archive_bench', table: `public__t${i}` }, policy: 'p' };
    const t0 = performance.now();
    const cur = await ledger.get(ref);
    await ledger.transition(ref, { ...common, expect: cur?.state ?? null, to: 'archiving' });
    await ledger.transition(ref, {
      ...common,
      expect: 'archiving',
      to: 'archived',
      snapshotId: '9007199254740993',
      rows: 20000,
    });
    await ledger.transition(ref, {
      ...common,
      expect: 'archived',
      to: 'validated',
      validation: { status: 'passed', snapshot_id: '9007199254740993', mode: 'full', mismatches: 0 },
    });
    await ledger.transition(ref, {
      ...common,
      expect: 'validated',
      to: 'source_renamed',
      sourceCleanup: {
        quarantine_table: `zz_offload_q_20261202_t${i}`,
        renamed_at: new Date().toISOString(),
        dropped_at: null,
      },
    });
    out.push(performance.now() - t0);
  }
  const cpu = process.cpuUsage(cpu0);
  cpuPerTableMs = (cpu.user + cpu.system) / 1000 / TABLES;
  return out;
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return {
    mean_ms: +(xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(2),
    median_ms: +q(0.5).toFixed(2),
    p95_ms: +q(0.95).toFixed(2),
  };
};

const dir = mkdtempSync(path.join(tmpdir(), 'offload-ledger-bench-'));
const moto = await startMoto();
try {
  const local = { ...stats(await perTable(createLocalLedger({ dir }), 'local')), cpu_ms: +cpuPerTableMs.toFixed(2) };
  const table = `ledger-bench-${process.pid}`;
  await createLedgerTable(table, new DynamoDBClient({}));
  const dynamo = createDynamoLedger({ table });
  await perTable(dynamo, 'warmup'); // the SDK's and moto's first-call costs are not per-table overhead
  const ddb = { ...stats(await perTable(dynamo, 'moto')), client_cpu_ms: +cpuPerTableMs.toFixed(2) };
  dynamo.close();
  console.log(
    JSON.stringify(
      {
        tables: TABLES,
        per_table: 'one get + 4 transitions (archiving, archived, validated, source_renamed)',
        local,
        dynamodb_moto: ddb,
        target_ms: 20,
        local_target_met: local.mean_ms < 20,
        dynamodb_target_met: ddb.mean_ms < 20,
        load_average_1min: +loadavg()[0]!.toFixed(2),
      },
      null,
      2,
    ),
  );
} finally {
  await moto.stop();
  rmSync(dir, { recursive: true, force: true });
}
