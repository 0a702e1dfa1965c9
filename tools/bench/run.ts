/**
 * `npm run bench`: runs every `tools/bench/*.bench.ts` in its own process, then the data-plane
 * benchmark (Python) when its environment is there. Figures are printed, never asserted.
 * `npm run bench -- validate sync` runs only the benchmarks whose names contain those words.
 * `npm run bench -- peers` (only when named: it installs the peers and takes ~25 minutes) runs
 * glue/bench/peers.sh, our jobs side by side with the tools a user would pick instead.
 */
import { readdirSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const only = process.argv.slice(2);
const pick = (name: string) => only.length === 0 || only.some((w) => name.includes(w));

let failed = 0;
for (const file of readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .sort()) {
  if (!pick(file)) continue;
  console.log(`\n=== ${file} ===`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(here, file)], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) failed++;
}
const pyBench = path.join(root, 'glue/bench/archive_bench.py');
if (existsSync(pyBench) && pick('archive_bench.py')) {
  console.log('\n=== glue/bench/archive_bench.py ===');
  const py = path.join(root, '.venv/bin/python');
  if (!existsSync(py)) console.log('skipped: run scripts/setup.sh first to create .venv');
  else {
    const r = spawnSync(
      'bash',
      [
        '-c',
        'bash scripts/services.sh && source scripts/services.env && ' +
          'TZ=UTC .venv/bin/python glue/bench/archive_bench.py',
      ],
      { stdio: 'inherit', cwd: root },
    );
    if (r.status !== 0) failed++;
  }
}
if (only.includes('peers')) {
  console.log('\n=== glue/bench/peers.sh ===');
  const r = spawnSync('bash', ['glue/bench/peers.sh'], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) failed++;
}
process.exitCode = failed ? 1 : 0;
