/**
 * The claim fences every write, on the local target and on moto (+ the Glue contract server):
 * - a sync whose lock is broken (`--break-lock`) while it is mid-apply writes nothing more and fails
 *   loudly; the remote ends holding exactly the breaker's state, manifest included;
 * - `--break-lock` on a lock still within its lease says so (never "expired");
 * - an error after the claim releases the claim, so the next sync (wanting another state) need not
 *   wait out the lease;
 * - local target: an item batch is all or nothing even for a run killed in its middle, and the
 *   temporary files of killed runs are removed by the next run.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runSync, parseTarget, type SyncOutcome } from '../../src/sync/sync.js';
import { renderSync } from '../../src/sync/render.js';
import { readPublishedLocal } from '../../src/sync/published.js';
import { UserError } from '../../src/errors.js';
import { startMoto, type MotoServer } from '../helpers/moto.js';
import { startGlueContractServer, type GlueContractServer } from '../helpers/aws-fakes.js';
import {
  awsHarness,
  database,
  holdsRepo,
  localHarness,
  manifestDisagreements,
  policy,
  syncRepo,
  type Harness,
} from '../helpers/sync-env.js';
import { writeTree } from '../helpers/fixtures.js';

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../bin/offload.mjs');
const base = mkdtempSync(path.join(tmpdir(), 'offload-fencing-'));
let moto: MotoServer;
let glue: GlueContractServer | undefined;
let n = 0;

test.before(async () => {
  moto = await startMoto();
});
test.after(async () => {
  await glue?.close();
  await moto?.stop();
});

const TARGETS: { name: string; fresh: () => Promise<Harness> }[] = [
  {
    name: 'local',
    fresh: async () => {
      const h = localHarness(path.join(base, `state-${++n}`));
      await h.setup();
      return h;
    },
  },
  {
    name: 'aws',
    fresh: async () => {
      await moto.reset();
      await glue?.close();
      glue = await startGlueContractServer();
      process.env.AWS_ENDPOINT_URL_GLUE = glue.endpoint;
      const h = awsHarness();
      await h.setup();
      return h;
    },
  },
];

async function sync(
  root: string,
  h: Harness,
  o: {
    apply?: boolean;
    breakLock?: boolean;
    afterStep?: (s: string) => void | Promise<void>;
  } = {},
): Promise<SyncOutcome & { status: 'planned' | 'applied' }> {
  const out = await runSync({
    root,
    target: parseTarget(h.target, root),
    apply: o.apply ?? true,
    prune: true,
    // The fixtures are not git repositories; the provenance guards have their own tests.
    commit: 'c1',
    allowUncommitted: 'test fixture outside git',
    breakLock: o.breakLock,
    applyOptions: o.afterStep ? { afterStep: o.afterStep } : undefined,
  });
  if (out.status === 'invalid') throw new Error('fixture invalid');
  return out;
}

/** Sync A's edit: db1 moves host (connection, item, file change). */
function editA(root: string) {
  writeFileSync(
    path.join(root, 'databases/db1.yaml'),
    database('db1', { url: 'jdbc:postgresql://a.example.internal:5432/db1' }),
  );
}
/** Sync B's edit: another db1 host, db2 removed, db3 added, the policy changed. */
function editB(root: string) {
  writeFileSync(
    path.join(root, 'databases/db1.yaml'),
    database('db1', { url: 'jdbc:postgresql://b.example.internal:5432/db1' }),
  );
  rmSync(path.join(root, 'databases/db2.yaml'));
  writeFileSync(path.join(root, 'databases/db3.yaml'), database('db3', { subnet: 'subnet-0f1e2d3c4b5a69788' }));
  writeFileSync(path.join(root, 'policies/monthly.yaml'), policy('monthly', 'P3Y'));
}

for (const t of TARGETS) {
  for (const pause of ['claim', 'connections', 'items', 'files']) {
    test(`${t.name}: lock broken after "${pause}": the overtaken sync fails and writes nothing more`, async () => {
      const h = await t.fresh();
      await sync(writeTree(syncRepo()), h);
      const a = writeTree(syncRepo());
      editA(a);
      const b = writeTree(syncRepo());
      editB(b);
      let bDone = false;
      let planText = '';
      const first = sync(a, h, {
        afterStep: async (s) => {
          if (s !== pause || bDone) return;
          // A is alive and holds an unexpired lease: B's plan must say so, and --break-lock takes over.
          const p = await sync(b, h, { apply: false, breakLock: true });
          planText = renderSync(p.plan, 'text');
          const out = await sync(b, h, { breakLock: true });
          assert.is(out.status, 'applied');
          bDone = true;
        },
      });
      try {
        await first;
        assert.unreachable('the overtaken sync must fail');
      } catch (e) {
        assert.ok(e instanceof UserError, String((e as Error).stack));
        assert.is((e as UserError).exitCode, 1);
        assert.match((e as Error).message, /lost its claim/);
      }
      assert.ok(bDone, 'B ran');
      assert.not.match(planText, /expired/, planText);
      assert.match(planText, /holds the lock until .*--break-lock takes it over/);
      const s = await h.state();
      assert.ok(holdsRepo(s, b), `${pause}: the remote holds exactly B's configs`);
      assert.equal(manifestDisagreements(s), [], 'the manifest records what is stored');
      assert.is(JSON.parse(s.files['configs/_offload/manifest.json']!.body).runId, s.items['SYNC#STATE']!.lock_owner);
      const again = await sync(b, h, { apply: false });
      assert.equal(again.plan.changes, [], 'nothing left to do');
      assert.equal(again.plan.drift, []);
    });
  }

  for (const step of ['claim', 'items', 'files']) {
    test(`${t.name}: an internal error after "${step}" releases the claim; another state syncs at once`, async () => {
      const h = await t.fresh();
      const root = writeTree(syncRepo());
      await sync(root, h);
      const other = writeTree(syncRepo());
      editB(other);
      const bug = new Error('injected internal error');
      try {
        await sync(other, h, {
          afterStep: (s) => {
            if (s === step) throw bug;
          },
        });
        assert.unreachable('the injected error surfaces');
      } catch (e) {
        assert.is(e, bug, 'the original error is what the caller sees');
      }
      const plan = await sync(root, h, { apply: false });
      assert.ok(plan.plan.lock, 'the plan notices the unfinished sync');
      assert.not.ok(plan.plan.lock!.blocking, 'a released claim blocks nobody');
      assert.match(renderSync(plan.plan, 'text'), /released/);
      const out = await sync(root, h);
      assert.is(out.status, 'applied');
      assert.ok(holdsRepo(await h.state(), root));
    });
  }
}

test('local: a run killed mid-batch leaves the batch whole or absent for every reader; a rerun completes', async () => {
  const tree = syncRepo();
  for (let i = 0; i < 150; i++)
    tree[`policies/p${String(i).padStart(3, '0')}.yaml`] = policy(`p${String(i).padStart(3, '0')}`);
  const root = writeTree(tree);
  const dir = path.join(base, `batch-${++n}`);
  const run = (env: Record<string, string> = {}) =>
    spawnSync(
      process.execPath,
      [CLI, 'sync', '--target', `local:${dir}`, '--apply', '--root', root, '--allow-uncommitted', 'test fixture'],
      { encoding: 'utf8', env: { ...process.env, ...env } },
    );
  // The first batch holds the claim and 99 items: 2 databases and 97 policies (sorted by pk).
  const killed = run({ OFFLOAD_SYNC_CRASH_AFTER: 'item-file#50' });
  assert.is(killed.signal, 'SIGKILL', killed.stderr);
  const pub = await readPublishedLocal(dir);
  assert.is(pub.databases.length + pub.policies.length, 99, 'the whole first batch, not the 50 files on disk');
  const plan = await runSync({
    root,
    target: { kind: 'local', dir },
    apply: false,
    prune: false,
    allowUncommitted: 'test fixture',
  });
  const creates = plan.status === 'planned' ? plan.plan.changes.filter((c) => c.resource === 'item') : [];
  assert.is(creates.length, 55, 'the plan sees the first batch written: 54 policies and the settings remain');
  const rerun = run();
  assert.is(rerun.status, 0, rerun.stderr);
  assert.not.ok(existsSync(path.join(dir, 'journal.json')));
  assert.ok(holdsRepo(await localHarness(dir).state(), root));
});

test("local: killed runs' temp files go at the next apply; a live run's are kept, plan leaves all", async () => {
  const dir = path.join(base, `temps-${++n}`);
  const h = localHarness(dir);
  const root = writeTree(syncRepo());
  await sync(root, h);
  const dead = spawnSync('true').pid!;
  const live = spawn('sleep', ['30']);
  try {
    const leftovers = [
      `bucket/configs/databases/db1.yaml.tmp-${dead}-0123456789ab`,
      `table/DATABASE%23db1.json.tmp-${dead}-0123456789ab`,
      `glue/connections/db1.json.tmp-${dead}-0123456789ab`,
      `journal.json.tmp-${dead}-0123456789ab`,
      'table/POLICY%23monthly.json.tmp-00aa11bb22cc', // no pid (older versions): removed once old
    ];
    const kept = `bucket/configs/policies/monthly.yaml.tmp-${live.pid}-0123456789ab`;
    for (const f of [...leftovers, kept]) {
      mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      writeFileSync(path.join(dir, f), 'half a file');
    }
    const hourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(path.join(dir, leftovers[4]!), hourAgo, hourAgo);
    const all = () => (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.includes('.tmp-')).sort();
    const plan = await sync(root, h, { apply: false });
    assert.equal(plan.plan.issues, [], 'temporary files are not reported as foreign');
    assert.is(all().length, 6, 'a plan removes nothing');
    editA(root);
    await sync(root, h);
    assert.equal(all(), [kept], "only the live run's file is left");
  } finally {
    live.kill();
  }
});

test('local: a SIGTERM (a cancelled CI job) stops the CLI before its next write and releases the claim', async () => {
  const dir = path.join(base, `sigterm-${++n}`);
  const h = localHarness(dir);
  const root = writeTree(syncRepo());
  await sync(root, h);
  const other = writeTree(syncRepo());
  editB(other);
  const r = spawnSync(
    process.execPath,
    [CLI, 'sync', '--target', `local:${dir}`, '--apply', '--root', other, '--commit', 'c1', '--allow-uncommitted', 'x'],
    { encoding: 'utf8', env: { ...process.env, OFFLOAD_SYNC_SIGTERM_AFTER: 'items' } },
  );
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /interrupted by a signal/);
  const s = await h.state();
  assert.ok(s.items['SYNC#STATE']!.lock_released_at, 'released');
  assert.not.ok(s.files['configs/databases/db3.yaml'], 'no upload after the signal');
  const out = await sync(root, h);
  assert.is(out.status, 'applied', 'another state syncs at once');
  assert.ok(holdsRepo(await h.state(), root));
});

test.run();
