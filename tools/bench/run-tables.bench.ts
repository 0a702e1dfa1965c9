/**
 * `offload run` on many small tables vs today's entry points: 60 PostgreSQL tables of 20,000 rows archived
 * and validated end to end by one `offload run` (one worker, one Spark session), against the baseline of
 * one process per job and table (glue/archive_table.py, then glue/validate_table.py) in the same run. The
 * baseline runs on a subset (default 10 tables; a JVM start per process) and is extrapolated per table to
 * all of them, which the output says. Target: offload run ≥ 5× faster. Prints figures; asserts nothing.
 *
 *   bash scripts/services.sh && source scripts/services.env
 *   npm run bench -- run-tables      (BENCH_TABLES=60 BENCH_ROWS=20000 BENCH_BASELINE_TABLES=10)
 */
import { rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { benchRepo, jobsDirect, offloadRun, pgQuery } from './run-helpers.js';

const TABLES = Number(process.env.BENCH_TABLES ?? 60);
const ROWS = Number(process.env.BENCH_ROWS ?? 20_000);
const BASELINE = Math.min(TABLES, Number(process.env.BENCH_BASELINE_TABLES ?? 10));
const SCHEMA = 'runner_bench_tables';
const name = (i: number) => `orders_${String(i).padStart(2, '0')}_202001`;

async function ensureTables() {
  const have = await pgQuery<{ n: string }>(`SELECT count(*) AS n FROM pg_tables WHERE schemaname = $1`, [SCHEMA]);
  const last =
    Number(have[0]!.n) === TABLES
      ? await pgQuery<{ n: string }>(`SELECT count(*) AS n FROM ${SCHEMA}.${name(TABLES - 1)}`)
      : [];
  if (Number(last[0]?.n) === ROWS) return;
  console.error(`[bench] generating ${TABLES} tables of ${ROWS} rows in ${SCHEMA}`);
  await pgQuery(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await pgQuery(`CREATE SCHEMA ${SCHEMA}`);
  for (let i = 0; i < TABLES; i++) {
    await pgQuery(`CREATE TABLE ${SCHEMA}.${name(i)} (id bigint PRIMARY KEY, account int, amount numeric(12,2),
      note text, created_at timestamp(6), booked_on date)`);
    await pgQuery(`INSERT INTO ${SCHEMA}.${name(i)} SELECT g, (g * 7919) % 100003, (g * 104729 % 10000000) / 100.0,
      'payment ' || g, timestamp '2020-01-01' + g * interval '37 second', date '2020-01-01' + (g % 31)
      FROM generate_series(1, ${ROWS}) g`);
  }
  await pgQuery(`ANALYZE`);
}

await ensureTables();
const { dir, env } = benchRepo(SCHEMA, '^orders_', '*_YYYYMM');
try {
  const loadBefore = loadavg()[0]!;
  const run = await offloadRun(dir, env, ['--parallel', '2', '--per-database', '2']);
  if (run.summary.totals.validated !== TABLES)
    throw new Error(
      `offload run validated ${run.summary.totals.validated} of ${TABLES}: ${JSON.stringify(run.summary.totals)}`,
    );
  console.error(`[bench] offload run: ${run.seconds.toFixed(1)} s for ${TABLES} tables`);
  const warehouse = path.join(dir, 'baseline-warehouse');
  const per: { archive: number; validate: number }[] = [];
  for (let i = 0; i < BASELINE; i++) per.push(await jobsDirect(SCHEMA, name(i), warehouse, `bench-${Date.now()}`));
  const baselineSeconds = per.reduce((a, p) => a + p.archive + p.validate, 0);
  const perTable = baselineSeconds / BASELINE;
  const extrapolated = perTable * TABLES;
  console.log(
    JSON.stringify(
      {
        tables: TABLES,
        rows_per_table: ROWS,
        offload_run_seconds: +run.seconds.toFixed(1),
        offload_run_seconds_per_table: +(run.seconds / TABLES).toFixed(2),
        baseline:
          'glue/archive_table.py + glue/validate_table.py, one process each, ' +
          `on ${BASELINE} of the ${TABLES} tables`,
        baseline_seconds_measured: +baselineSeconds.toFixed(1),
        baseline_seconds_per_table: +perTable.toFixed(2),
        baseline_archive_seconds_median: +per
          .map((p) => p.archive)
          .sort((a, b) => a - b)
          [Math.floor(BASELINE / 2)]!.toFixed(1),
        baseline_validate_seconds_median: +per
          .map((p) => p.validate)
          .sort((a, b) => a - b)
          [Math.floor(BASELINE / 2)]!.toFixed(1),
        baseline_seconds_for_all_tables: +extrapolated.toFixed(1),
        baseline_extrapolated: BASELINE < TABLES,
        speedup: +(extrapolated / run.seconds).toFixed(2),
        target_speedup: 5,
        target_met: extrapolated / run.seconds >= 5,
        load_average_1min: { before: +loadBefore.toFixed(1), after: +loadavg()[0]!.toFixed(1) },
      },
      null,
      2,
    ),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
