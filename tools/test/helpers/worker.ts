import { readdirSync, readFileSync } from 'node:fs';
import * as assert from 'uvu/assert';

/** Waits until no worker of this warehouse is alive (it exits when the runner's pipe closes). */
export async function waitWorkerGone(warehouse: string) {
  const mine = () =>
    readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
          return cmd.includes('offload_glue.worker') && cmd.includes(warehouse);
        } catch {
          return false;
        }
      });
  const deadline = Date.now() + 60_000;
  while (mine().length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  assert.equal(mine(), [], 'the worker exits when the runner is killed');
}
