/** Plan/apply scenarios against the local target (a state directory). */
import { test } from 'uvu';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { localHarness } from '../helpers/sync-env.js';
import { makeCtx, scenarios } from '../helpers/sync-scenarios.js';

const base = mkdtempSync(path.join(tmpdir(), 'offload-local-target-'));
let n = 0;
for (const s of scenarios) {
  test(`local: ${s.name}`, async () => {
    const h = localHarness(path.join(base, `state-${++n}`));
    await h.setup();
    await s.run(makeCtx(h));
  });
}

test.run();
