/**
 * Faults and races, on the local target and on moto (+ the Glue contract server for connection
 * updates and deletes):
 * - a sync that dies after any step (or mid-step, between batches) and is rerun ends in exactly the
 *   state of an uninterrupted sync; a SIGKILLed CLI process too;
 * - an unfinished sync wanting another state blocks others until its lease ends (or --break-lock);
 * - concurrent syncs: each either completes or fails cleanly asking for a rerun; the remote always
 *   holds exactly one repo's state, never a mix; reruns converge;
 * - throttling (S3 SlowDown, DynamoDB and Glue ThrottlingException) is retried with backoff;
 * - without --prune nothing is ever deleted (property test over random edit sequences).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { runSync, parseTarget } from '../../src/sync/sync.js';
import { startMoto, type MotoServer } from '../helpers/moto.js';
import { startGlueContractServer, startThrottleProxy, type GlueContractServer } from '../helpers/aws-fakes.js';
import {
  awsHarness,
  database,
  localHarness,
  policy,
  stable,
  syncRepo,
  holdsRepo,
  type Harness,
} from '../helpers/sync-env.js';
import { writeTree } from '../helpers/fixtures.js';
import { UserError } from '../../src/errors.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const CLI = path.join(ROOT, 'tools/bin/offload.mjs');
const base = mkdtempSync(path.join(tmpdir(), 'offload-faults-'));
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

/** A fresh, empty target of each kind. */
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

class Crash extends Error {}
const crashAt = (step: string) => ({
  afterStep: (s: string) => {
    if (s === step) throw new Crash(`crash after ${s}`);
  },
});
async function sync(
  root: string,
  h: Harness,
  o: { apply?: boolean; prune?: boolean; step?: string; breakLock?: boolean; now?: () => Date; commit?: string } = {},
) {
  const out = await runSync({
    root,
    target: parseTarget(h.target, root),
    apply: o.apply ?? true,
    prune: o.prune ?? true,
    commit: o.commit ?? 'c1',
    // The fixtures are not git repositories; the provenance guards have their own tests.
    allowUncommitted: 'test fixture outside git',
    breakLock: o.breakLock,
    now: o.now,
    applyOptions: o.step ? crashAt(o.step) : undefined,
  });
  if (out.status === 'invalid')
    throw new Error(`fixture invalid: ${out.repo.findings.map((f) => f.message).join('; ')}`);
  return out;
}

/**
 * Starts a sync that stops for good after `step`, as a process that hangs or was killed without a
 * chance to release its claim would (an error it survives would release it); resolves once there.
 */
function hangAfter(root: string, h: Harness, step: string): Promise<void> {
  return new Promise((reached) => {
    void runSync({
      root,
      target: parseTarget(h.target, root),
      apply: true,
      prune: true,
      commit: 'c1',
      allowUncommitted: 'test fixture outside git',
      applyOptions: {
        afterStep: (s) => {
          if (s !== step) return;
          reached();
          return new Promise<void>(() => {});
        },
      },
    });
  });
}

/** The edit a second sync publishes: one database changed, one removed, one added, a policy changed. */
function change(root: string) {
  writeFileSync(
    path.join(root, 'databases/db1.yaml'),
    database('db1', { url: 'jdbc:postgresql://db1-moved.example.internal:5432/db1' }),
  );
  rmSync(path.join(root, 'databases/db2.yaml'));
  writeFileSync(path.join(root, 'databases/db3.yaml'), database('db3', { subnet: 'subnet-0f1e2d3c4b5a69788' }));
  writeFileSync(path.join(root, 'policies/monthly.yaml'), policy('monthly', 'P3Y'));
}

const FIRST_STEPS = ['claim', 'connections', 'items', 'files'];
const CHANGE_STEPS = [
  'claim',
  'connections',
  'items',
  'files',
  'delete-files',
  'delete-items',
  'delete-connections',
  'manifest',
];

for (const t of TARGETS) {
  test(`${t.name}: a sync killed after any step, then rerun, ends exactly like an uninterrupted one`, async () => {
    const refH = await t.fresh();
    const refRoot = writeTree(syncRepo());
    await sync(refRoot, refH);
    const refFirst = stable(await refH.state());
    change(refRoot);
    await sync(refRoot, refH);
    const refChanged = stable(await refH.state());
    assert.ok(holdsRepo(await refH.state(), refRoot));

    for (const step of FIRST_STEPS) {
      const h = await t.fresh();
      const root = writeTree(syncRepo());
      try {
        await sync(root, h, { step });
        assert.unreachable(`no crash at ${step}`);
      } catch (e) {
        if (!(e instanceof Crash)) throw e;
      }
      const plan = await sync(root, h, { apply: false });
      assert.ok(
        plan.status === 'planned' && plan.plan.lock?.sameDesiredState,
        `first sync, ${step}: the plan notices the unfinished sync`,
      );
      await sync(root, h);
      assert.equal(stable(await h.state()), refFirst, `first sync crashed after ${step}`);
    }
    for (const step of CHANGE_STEPS) {
      const h = await t.fresh();
      const root = writeTree(syncRepo());
      await sync(root, h);
      change(root);
      try {
        await sync(root, h, { step });
        assert.unreachable(`no crash at ${step}`);
      } catch (e) {
        if (!(e instanceof Crash)) throw e;
      }
      await sync(root, h);
      assert.equal(stable(await h.state()), refChanged, `second sync crashed after ${step}`);
      const again = await sync(root, h, { apply: false });
      assert.ok(
        again.status === 'planned' && again.plan.changes.length === 0 && !again.plan.manifestReason,
        `converged after ${step}`,
      );
    }
  });

  test(`${t.name}: a crash between item batches (150 policies, two conditional batches) converges too`, async () => {
    const tree = syncRepo();
    for (let i = 0; i < 150; i++)
      tree[`policies/p${String(i).padStart(3, '0')}.yaml`] = policy(`p${String(i).padStart(3, '0')}`);
    const h = await t.fresh();
    const root = writeTree(tree);
    try {
      await sync(root, h, { step: 'items#1' });
      assert.unreachable('no crash');
    } catch (e) {
      if (!(e instanceof Crash)) throw e;
    }
    const mid = await h.state();
    const written = Object.keys(mid.items).filter((k) => k !== 'SYNC#STATE').length;
    assert.is(written, 99, 'exactly the first batch is there');
    await sync(root, h);
    assert.ok(holdsRepo(await h.state(), root));
  });

  test(`${t.name}: an unfinished sync wanting another state blocks apply until lease end or --break-lock`, async () => {
    const h = await t.fresh();
    const root = writeTree(syncRepo());
    await sync(root, h);
    const other = writeTree(syncRepo());
    change(other);
    await hangAfter(other, h, 'items');
    const plan = await sync(root, h, { apply: false });
    assert.ok(plan.status === 'planned' && plan.plan.lock?.blocking, 'plan shows the lock');
    try {
      await sync(root, h);
      assert.unreachable('apply must refuse');
    } catch (e) {
      assert.ok(e instanceof UserError);
      assert.match((e as Error).message, /has not completed and holds the lock until .*--break-lock/);
    }
    const later = new Date(Date.now() + 16 * 60_000);
    await sync(root, h, { now: () => later });
    assert.ok(holdsRepo(await h.state(), root), 'after the lease a rerun takes over');
    await hangAfter(other, h, 'items');
    await sync(root, h, { breakLock: true });
    assert.ok(holdsRepo(await h.state(), root), '--break-lock takes over at once');
  });

  test(`${t.name}: concurrent syncs complete or fail cleanly; remote holds a whole repo; reruns converge`, async () => {
    // On moto, through a one-request-at-a-time proxy: see startThrottleProxy for why.
    const proxy = t.name === 'aws' ? await startThrottleProxy(moto.endpoint, { serialize: true }) : undefined;
    const saved = process.env.AWS_ENDPOINT_URL;
    try {
      for (let round = 0; round < 6; round++) {
        const h = await t.fresh();
        if (proxy) process.env.AWS_ENDPOINT_URL = proxy.endpoint;
        const start = writeTree(syncRepo());
        await sync(start, h);
        const a = writeTree(syncRepo());
        writeFileSync(
          path.join(a, 'databases/db1.yaml'),
          database('db1', { url: 'jdbc:postgresql://a.example.internal:5432/db1' }),
        );
        const b = writeTree(syncRepo());
        change(b);
        const b2 = writeTree(syncRepo());
        change(b2); // the same desired state as b
        const roots = [a, b, b2];
        const results = await Promise.allSettled(roots.map((r) => sync(r, h)));
        const ok = roots.filter((_, i) => results[i]!.status === 'fulfilled');
        const snap = await h.state();
        const s0 = () => snap;
        for (const r of results) {
          if (r.status === 'rejected') {
            assert.ok(r.reason instanceof UserError, String((r.reason as Error).stack));
            assert.match((r.reason as Error).message, /another sync|has not completed|changed since/);
          }
        }
        // Safety, not liveness: when a sync completed, the remote holds one whole repo. (In a rare
        // interleaving every one of them loses and asks for a rerun; the reruns below converge.)
        if (ok.length)
          assert.ok(
            roots.some((r) => holdsRepo(s0(), r)),
            `round ${round}: the remote holds one whole repo`,
          );
        // The loser's rerun converges; then the newest commit's rerun wins back: no update is lost.
        for (const r of [a, b]) {
          await sync(r, h);
          assert.ok(holdsRepo(await h.state(), r), `round ${round}: rerun converges`);
        }
        process.env.AWS_ENDPOINT_URL = saved;
      }
    } finally {
      process.env.AWS_ENDPOINT_URL = saved;
      await proxy?.close();
    }
  });
}

test('local: a SIGKILLed `offload sync --apply` process, rerun, converges; a third run has no changes', () => {
  const root = writeTree(syncRepo());
  const state = path.join(base, `cli-${++n}`);
  const run = (env: Record<string, string> = {}) =>
    spawnSync(
      process.execPath,
      [
        CLI,
        'sync',
        '--target',
        `local:${state}`,
        '--apply',
        '--root',
        root,
        '--commit',
        'c1',
        '--allow-uncommitted',
        'test fixture',
      ],
      { encoding: 'utf8', env: { ...process.env, ...env } },
    );
  const killed = run({ OFFLOAD_SYNC_CRASH_AFTER: 'items' });
  assert.is(killed.signal, 'SIGKILL', killed.stderr);
  const h = localHarness(state);
  const rerun = run();
  assert.is(rerun.status, 0, rerun.stderr);
  assert.match(rerun.stdout, /complete the interrupted sync/);
  const third = run();
  assert.is(third.status, 0);
  assert.match(third.stdout, /No changes/);
  return h.state().then((s) => assert.ok(holdsRepo(s, root)));
});

test('aws: a SIGKILLed `offload sync --target aws --apply` (after the connections), rerun, converges', async () => {
  const h = await TARGETS[1]!.fresh();
  const root = writeTree(syncRepo());
  const env = { ...process.env, ...moto.env, AWS_ENDPOINT_URL_GLUE: glue!.endpoint };
  // Asynchronously: the Glue contract server lives in this process and must keep answering.
  const run = (extra: Record<string, string> = {}) =>
    new Promise<{ status: number | null; signal: string | null; stdout: string; stderr: string }>((resolve) => {
      const p = spawn(
        process.execPath,
        [
          '--no-warnings',
          CLI,
          'sync',
          '--target',
          'aws',
          '--apply',
          '--root',
          root,
          '--commit',
          'c1',
          '--allow-uncommitted',
          'test fixture',
        ],
        { env: { ...env, ...extra } },
      );
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d) => {
        stdout += d;
      });
      p.stderr.on('data', (d) => {
        stderr += d;
      });
      p.on('exit', (status, signal) => resolve({ status, signal, stdout, stderr }));
    });
  const killed = await run({ OFFLOAD_SYNC_CRASH_AFTER: 'connections' });
  assert.is(killed.signal, 'SIGKILL', killed.stderr);
  const mid = await h.state();
  assert.equal(Object.keys(mid.connections).sort(), ['db1', 'db2'], 'killed after the connections step');
  assert.equal(Object.keys(mid.files), [], 'before any upload');
  const rerun = await run();
  assert.is(rerun.status, 0, rerun.stderr);
  assert.ok(holdsRepo(await h.state(), root));
  assert.match((await run()).stdout, /No changes/);
});

test('local: concurrent CLI processes on one state directory lose no update', async () => {
  const state = path.join(base, `cli-race-${++n}`);
  const roots = [0, 1, 2, 3].map(() => writeTree(syncRepo()));
  roots.forEach((r, i) =>
    writeFileSync(
      path.join(r, 'databases/db1.yaml'),
      database('db1', { url: `jdbc:postgresql://host${i}.example.internal:5432/db1` }),
    ),
  );
  const runs = await Promise.all(
    roots.map(
      (root) =>
        new Promise<{ code: number | null; err: string }>((resolve) => {
          const p = spawn(
            process.execPath,
            [
              CLI,
              'sync',
              '--target',
              `local:${state}`,
              '--apply',
              '--root',
              root,
              '--commit',
              'c1',
              '--allow-uncommitted',
              'test fixture',
            ],
            { stdio: ['ignore', 'ignore', 'pipe'] },
          );
          let err = '';
          p.stderr.on('data', (d) => {
            err += d;
          });
          p.on('exit', (code) => resolve({ code, err }));
        }),
    ),
  );
  for (const r of runs) {
    if (r.code !== 0) {
      assert.is(r.code, 1, r.err);
      assert.match(r.err, /another sync|has not completed|Run it again/);
    }
  }
  assert.ok(runs.some((r) => r.code === 0));
  const s = await localHarness(state).state();
  assert.ok(
    roots.some((r) => holdsRepo(s, r)),
    'one whole repo, never a mix',
  );
});

test('aws: throttling (S3 SlowDown, DynamoDB and Glue ThrottlingException) is retried with backoff', async () => {
  await moto.reset();
  await glue?.close();
  glue = undefined;
  delete process.env.AWS_ENDPOINT_URL_GLUE;
  const h = awsHarness();
  await h.setup();
  const proxy = await startThrottleProxy(moto.endpoint);
  const saved = process.env.AWS_ENDPOINT_URL;
  process.env.AWS_ENDPOINT_URL = proxy.endpoint;
  try {
    const root = writeTree(syncRepo());
    proxy.throttleNext('s3', 4);
    proxy.throttleNext('dynamodb', 4);
    proxy.throttleNext('glue', 2);
    const attempts: string[] = [];
    const out = await runSync({
      root,
      target: { kind: 'aws' },
      apply: true,
      prune: false,
      commit: 'c1',
      allowUncommitted: 'test fixture outside git',
      aws: { onRequest: (s, c) => attempts.push(`${s}:${c}`) },
    });
    assert.is(out.status, 'applied');
    assert.equal(proxy.throttled, { s3: 4, dynamodb: 4, glue: 2 });
    process.env.AWS_ENDPOINT_URL = saved;
    const s = await h.state();
    assert.equal(Object.keys(s.connections).sort(), ['db1', 'db2']);
    assert.is(Object.keys(s.files).length, 5);
    process.env.AWS_ENDPOINT_URL = proxy.endpoint;
    // Throttled for good: the SDK gives up after maxAttempts and sync says so plainly.
    writeFileSync(path.join(root, 'policies/monthly.yaml'), policy('monthly', 'P5Y'));
    proxy.throttleNext('dynamodb', 1000);
    try {
      await runSync({
        root,
        target: { kind: 'aws' },
        apply: true,
        prune: false,
        commit: 'c1',
        allowUncommitted: 'test fixture outside git',
        aws: { maxAttempts: 2 },
      });
      assert.unreachable('should fail');
    } catch (e) {
      assert.is((e as Error & { exitCode?: number }).exitCode, 2);
      assert.match((e as Error).message, /throttled after every retry/);
    }
  } finally {
    process.env.AWS_ENDPOINT_URL = saved;
    await proxy.close();
  }
});

test('local: without --prune nothing is ever deleted, whatever sequence of edits is synced (property)', async () => {
  const names = ['a', 'b', 'c', 'd'];
  const edit = fc.record({
    kind: fc.constantFrom('add', 'remove', 'change'),
    what: fc.constantFrom('db', 'policy'),
    name: fc.constantFrom(...names),
    v: fc.integer({ min: 1, max: 7 }),
  });
  await fc.assert(
    fc.asyncProperty(fc.array(edit, { minLength: 1, maxLength: 6 }), async (edits) => {
      const h = localHarness(path.join(base, `prop-${++n}`));
      await h.setup();
      const root = writeTree(syncRepo());
      await sync(root, h, { prune: false });
      let before = await h.state();
      for (const e of edits) {
        const dir = e.what === 'db' ? 'databases' : 'policies';
        const file = path.join(root, dir, `${e.what}${e.name}.yaml`);
        if (e.kind === 'remove') rmSync(file, { force: true });
        else
          writeFileSync(
            file,
            e.what === 'db'
              ? database(`db${e.name}`, { url: `jdbc:postgresql://h${e.v}.example.internal:5432/x` })
              : policy(`policy${e.name}`, `P${e.v}Y`),
          );
        await sync(root, h, { prune: false });
        const after = await h.state();
        for (const k of Object.keys(before.files)) assert.ok(after.files[k], `file ${k} kept`);
        for (const k of Object.keys(before.items)) assert.ok(after.items[k], `item ${k} kept`);
        for (const k of Object.keys(before.connections)) assert.ok(after.connections[k], `connection ${k} kept`);
        before = after;
      }
    }),
    { numRuns: 25 },
  );
});

test.run();
