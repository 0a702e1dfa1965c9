/**
 * One 10-million-row PostgreSQL table through `offload run` (discovery, engine, ledger, the worker's archive
 * and validate) against the archive and validate jobs run directly (glue/archive_table.py, then
 * glue/validate_table.py, one process each), in the same run, alternating. The table is glue/bench/
 * archive_bench.py's (its generator, reused; kept while its row count matches). Target: offload run within
 * 1.15× of the jobs run directly. Prints figures; asserts nothing.
 *
 *   bash scripts/services.sh && source scripts/services.env
 *   npm run bench -- run-large       (BENCH_ROWS=10000000 BENCH_REPEAT=1)
 */
import { rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { benchRepo, jobsDirect, offloadRun, PYTHON, ROOT, timed } from './run-helpers.js';

const ROWS = Number(process.env.BENCH_ROWS ?? 10_000_000);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 1);

// archive_bench.py's table and generator: offload_bench.payments.
await timed(
  PYTHON,
  [
    '-c',
    `import sys; sys.path.insert(0, "glue/bench"); import archive_bench as b; b.ensure_table(b.connection(), ${ROWS})`,
  ],
  { cwd: ROOT },
);
const runs: number[] = [];
const direct: { archive: number; validate: number }[] = [];
const loadBefore = loadavg()[0]!;
for (let i = 0; i < REPEAT; i++) {
  // Aged by its booked_on column (the engine reads its maximum during discovery, part of offload run's cost).
  const repo = benchRepo('offload_bench', '^payments$', '');
  try {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      path.join(repo.dir, 'policies/bench.yaml'),
      'name: bench\nage: { from: column, column: booked_on }\narchive_after: P1Y\n',
    );
    const r = await offloadRun(repo.dir, repo.env, ['--parallel', '1']);
    if (r.summary.totals.validated !== 1) throw new Error(`offload run: ${JSON.stringify(r.summary.totals)}`);
    runs.push(r.seconds);
    direct.push(await jobsDirect('offload_bench', 'payments', path.join(repo.dir, 'direct-warehouse'), `bench-${i}`));
  } finally {
    rmSync(repo.dir, { recursive: true, force: true });
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const runS = median(runs);
const directS = median(direct.map((d) => d.archive + d.validate));
console.log(
  JSON.stringify(
    {
      rows: ROWS,
      repeats: REPEAT,
      offload_run_seconds: runs.map((x) => +x.toFixed(1)),
      direct_archive_seconds: direct.map((d) => +d.archive.toFixed(1)),
      direct_validate_seconds: direct.map((d) => +d.validate.toFixed(1)),
      direct_total_seconds: direct.map((d) => +(d.archive + d.validate).toFixed(1)),
      ratio_run_to_direct: +(runS / directS).toFixed(3),
      target_ratio: 1.15,
      target_met: runS / directS <= 1.15,
      load_average_1min: { before: +loadBefore.toFixed(1), after: +loadavg()[0]!.toFixed(1) },
    },
    null,
    2,
  ),
);
