/**
 * Plan/apply scenarios every sync target must pass, run by tools/test/sync/local.test.ts and
 * aws.test.ts against their own harness. Expectations come from the fixture text itself (parsed
 * with `yaml`, hashed with node:crypto), never from the sync code.
 */
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { writeFileSync, rmSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { runSync, parseTarget, type SyncOutcome } from '../../src/sync/sync.js';
import { writeTree } from './fixtures.js';
import { database, policy, stable, syncRepo, PREFIX, type Harness, type RemoteState } from './sync-env.js';

export interface Ctx {
  h: Harness;
  root: string;
  sync(opts?: {
    apply?: boolean;
    prune?: boolean;
    commit?: string;
  }): Promise<SyncOutcome & { status: 'planned' | 'applied' }>;
  write(rel: string, text: string): void;
  remove(rel: string): void;
  text(rel: string): string;
}

export function makeCtx(h: Harness): Ctx {
  const root = writeTree(syncRepo(), 'offload-sync-');
  return {
    h,
    root,
    async sync(opts = {}) {
      const out = await runSync({
        root,
        target: parseTarget(h.target, root),
        apply: !!opts.apply,
        prune: !!opts.prune,
        commit: opts.commit ?? 'c0ffee',
        // The fixtures are not git repositories (the provenance guards have their own tests).
        allowUncommitted: 'test fixture outside git',
        allowNonDescendant: 'test fixture outside git',
      });
      if (out.status === 'invalid')
        throw new Error(`fixture invalid: ${out.repo.findings.map((f) => f.message).join('; ')}`);
      return out;
    },
    write(rel, text) {
      writeFileSync(path.join(root, rel), text);
    },
    remove(rel) {
      rmSync(path.join(root, rel));
    },
    text(rel) {
      return readFileSync(path.join(root, rel), 'utf8');
    },
  };
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const key = (rel: string) => `${PREFIX}/${rel}`;
const MANIFEST = `${PREFIX}/_offload/manifest.json`;
const changesOf = (o: { plan: { changes: { resource: string; id: string; action: string }[] } }) =>
  o.plan.changes.map((c) => `${c.action} ${c.resource} ${c.id}`).sort();
const driftOf = (o: { plan: { drift: { resource: string; id: string }[] } }) =>
  o.plan.drift.map((d) => `${d.resource} ${d.id}`).sort();
const writesOf = (o: SyncOutcome) =>
  o.status === 'applied' ? Object.values(o.result.writes).reduce((a, b) => a + (b ?? 0), 0) : 0;

function assertMatchesRepo(ctx: Ctx, s: RemoteState, files: string[]) {
  const expectedKeys = [...files.map(key), MANIFEST].sort();
  assert.equal(Object.keys(s.files).sort(), expectedKeys, 'object keys');
  for (const rel of files) {
    const text = ctx.text(rel);
    assert.is(s.files[key(rel)]!.body, text, `body of ${rel}`);
    if (s.files[key(rel)]!.sha256 !== undefined)
      assert.is(s.files[key(rel)]!.sha256, sha(text), `sha256 metadata of ${rel}`);
    const kind = rel.startsWith('databases/') ? 'DATABASE' : rel.startsWith('policies/') ? 'POLICY' : 'SETTINGS';
    const pk = kind === 'SETTINGS' ? 'SETTINGS' : `${kind}#${path.basename(rel, '.yaml')}`;
    const item = s.items[pk];
    assert.ok(item, `item ${pk}`);
    assert.equal(item!.config, parse(text), `config of ${pk}`);
    assert.is(item!.content_sha256, sha(text));
    assert.is(item!.s3_key, key(rel));
    assert.type(item!.version, 'number');
  }
  const dbs = files.filter((f) => f.startsWith('databases/'));
  assert.equal(Object.keys(s.connections).sort(), dbs.map((f) => path.basename(f, '.yaml')).sort(), 'connections');
  for (const rel of dbs) {
    const y = parse(ctx.text(rel));
    const c = s.connections[y.name]!;
    assert.is(c.type, 'JDBC');
    assert.is(c.url, y.jdbc_url);
    assert.is(c.secret, y.credentials.secret);
    assert.is(c.subnet, y.network?.subnet_ids[0]);
    assert.equal(c.sgs ?? undefined, y.network?.security_group_ids);
    assert.is(c.az, y.network?.availability_zone);
  }
  assert.equal(
    Object.keys(s.items).sort(),
    [
      ...files.map((rel) =>
        rel.startsWith('databases/')
          ? `DATABASE#${path.basename(rel, '.yaml')}`
          : rel.startsWith('policies/')
            ? `POLICY#${path.basename(rel, '.yaml')}`
            : 'SETTINGS',
      ),
      'SYNC#STATE',
    ].sort(),
    'item keys',
  );
}

const ALL = ['offload.settings.yaml', 'databases/db1.yaml', 'databases/db2.yaml', 'policies/monthly.yaml'];

export const scenarios: { name: string; run: (ctx: Ctx) => Promise<void> }[] = [
  {
    name: 'first apply publishes every file, item and connection; a second run has nothing to do',
    async run(ctx) {
      const plan = await ctx.sync();
      assert.is(plan.status, 'planned');
      assert.equal((await ctx.h.state()).files, {}, 'plan writes nothing');
      assert.equal(changesOf(plan), [
        'create connection db1',
        'create connection db2',
        'create file configs/databases/db1.yaml',
        'create file configs/databases/db2.yaml',
        'create file configs/offload.settings.yaml',
        'create file configs/policies/monthly.yaml',
        'create item DATABASE#db1',
        'create item DATABASE#db2',
        'create item POLICY#monthly',
        'create item SETTINGS',
      ]);
      const first = await ctx.sync({ apply: true });
      const s1 = await ctx.h.state();
      assertMatchesRepo(ctx, s1, ALL);
      assert.is(s1.items['DATABASE#db1']!.version, 1);
      assert.is(s1.items['DATABASE#db1']!.git_commit, 'c0ffee');
      assert.is(s1.items['SYNC#STATE']!.generation, 1);
      assert.is(JSON.parse(s1.files[MANIFEST]!.body).generation, 1);
      assert.ok(writesOf(first) > 0);
      const again = await ctx.sync({ apply: true });
      assert.equal(changesOf(again), []);
      assert.is(again.plan.manifestReason, undefined);
      assert.is(writesOf(again), 0, 'a no-op sync writes nothing');
      assert.equal(await ctx.h.state(), s1, 'state untouched, timestamps included');
    },
  },
  {
    name: 'one changed database updates exactly its connection, item and file; the version goes up, created_at stays',
    async run(ctx) {
      await ctx.sync({ apply: true });
      const before = await ctx.h.state();
      ctx.write('databases/db1.yaml', database('db1', { url: 'jdbc:postgresql://db1-new.example.internal:5433/db1' }));
      const plan = await ctx.sync();
      assert.equal(changesOf(plan), [
        'update connection db1',
        'update file configs/databases/db1.yaml',
        'update item DATABASE#db1',
      ]);
      assert.equal(driftOf(plan), []);
      const out = await ctx.sync({ apply: true, commit: 'beef' });
      const after = await ctx.h.state();
      assertMatchesRepo(ctx, after, ALL);
      assert.is(after.connections.db1!.url, 'jdbc:postgresql://db1-new.example.internal:5433/db1');
      assert.is(after.items['DATABASE#db1']!.version, 2);
      assert.is(after.items['DATABASE#db1']!.git_commit, 'beef');
      assert.is(after.items['DATABASE#db1']!.created_at, before.items['DATABASE#db1']!.created_at);
      assert.equal(after.items['DATABASE#db2'], before.items['DATABASE#db2'], 'untouched item');
      assert.equal(after.connections.db2, before.connections.db2);
      assert.ok(writesOf(out) <= 5, `writes ${writesOf(out)}`);
    },
  },
  {
    name: 'a comment-only change rewrites the file and the item hash, not the connection',
    async run(ctx) {
      await ctx.sync({ apply: true });
      ctx.write('databases/db2.yaml', database('db2', { network: false, comment: 'reviewed' }));
      const plan = await ctx.sync();
      assert.equal(changesOf(plan), ['update file configs/databases/db2.yaml', 'update item DATABASE#db2']);
      assert.match(plan.plan.changes.find((c) => c.resource === 'item')!.reason, /formatting or comments/);
      const out = await ctx.sync({ apply: true });
      assert.ok(
        writesOf(out) <= 3,
        `a one-file change without connection change: ${JSON.stringify(out.status === 'applied' && out.result.writes)}`,
      );
      assertMatchesRepo(ctx, await ctx.h.state(), ALL);
    },
  },
  {
    name: 'a removed database is kept without --prune and deleted with it, exactly as the plan shows',
    async run(ctx) {
      await ctx.sync({ apply: true });
      ctx.remove('databases/db2.yaml');
      ctx.write('policies/monthly.yaml', policy('monthly', 'P3Y'));
      const keep = await ctx.sync({ apply: true });
      assert.equal(changesOf(keep), ['update file configs/policies/monthly.yaml', 'update item POLICY#monthly']);
      assert.equal(keep.plan.orphans.map((o) => `${o.resource} ${o.id}`).sort(), [
        'connection db2',
        'file configs/databases/db2.yaml',
        'item DATABASE#db2',
      ]);
      const kept = await ctx.h.state();
      assert.ok(
        kept.connections.db2 && kept.items['DATABASE#db2'] && kept.files['configs/databases/db2.yaml'],
        'nothing deleted without --prune',
      );
      const plan = await ctx.sync({ prune: true });
      assert.equal(changesOf(plan), [
        'delete connection db2',
        'delete file configs/databases/db2.yaml',
        'delete item DATABASE#db2',
      ]);
      await ctx.sync({ apply: true, prune: true });
      const after = await ctx.h.state();
      assertMatchesRepo(ctx, after, ['offload.settings.yaml', 'databases/db1.yaml', 'policies/monthly.yaml']);
      const again = await ctx.sync({ prune: true });
      assert.equal(changesOf(again), []);
    },
  },
  {
    name: 'hand edits are reported as drift by plan, left alone by plan, and overwritten by apply',
    async run(ctx) {
      await ctx.sync({ apply: true });
      const clean = stable(await ctx.h.state());
      const s = await ctx.h.state();
      await ctx.h.putFile(key('policies/monthly.yaml'), 'name: monthly\n# edited in the console\n');
      await ctx.h.putItem({
        ...s.items['DATABASE#db1'],
        config: { ...s.items['DATABASE#db1']!.config, jdbc_url: 'jdbc:postgresql://evil:5432/x' },
      });
      await ctx.h.putConnection('db2', {
        JDBC_CONNECTION_URL: 'jdbc:postgresql://hand-made:5432/db2',
        SECRET_ID: 'acme/db2',
      });
      const tampered = await ctx.h.state();
      const plan = await ctx.sync();
      assert.equal(driftOf(plan), ['connection db2', 'file configs/policies/monthly.yaml', 'item DATABASE#db1']);
      assert.equal(changesOf(plan), [
        'update connection db2',
        'update file configs/policies/monthly.yaml',
        'update item DATABASE#db1',
      ]);
      assert.ok(
        plan.plan.changes.every((c) => c.drift),
        'each change is marked as overwriting drift',
      );
      assert.equal(await ctx.h.state(), tampered, 'plan leaves drift in place');
      await ctx.sync({ apply: true });
      const fixed = stable(await ctx.h.state());
      const noManifest = (f: RemoteState['files']) =>
        Object.fromEntries(Object.entries(f).filter(([k]) => k !== MANIFEST));
      assert.equal(noManifest(fixed.files), noManifest(clean.files));
      assert.equal(fixed.connections, clean.connections);
      assert.is(fixed.items['DATABASE#db1']!.version, 2, 'the overwrite is a new version');
      assert.equal(fixed.items['DATABASE#db1']!.config, clean.items['DATABASE#db1']!.config);
      assert.equal(changesOf(await ctx.sync()), [], 'converged');
      assert.equal(driftOf(await ctx.sync()), []);
    },
  },
  {
    name: 'objects and items deleted by hand are recreated, reported as drift',
    async run(ctx) {
      await ctx.sync({ apply: true });
      await ctx.h.deleteFile(key('databases/db1.yaml'));
      await ctx.h.deleteItem('POLICY#monthly');
      const plan = await ctx.sync();
      assert.equal(driftOf(plan), ['file configs/databases/db1.yaml', 'item POLICY#monthly']);
      assert.equal(changesOf(plan), ['create file configs/databases/db1.yaml', 'create item POLICY#monthly']);
      await ctx.sync({ apply: true });
      assertMatchesRepo(ctx, await ctx.h.state(), ALL);
    },
  },
  {
    name: 'foreign and malformed objects and items are reported, never crashed on, foreign ones never touched',
    async run(ctx) {
      await ctx.sync({ apply: true });
      await ctx.h.putFile('configs/notes/readme.txt', 'not a config');
      await ctx.h.putFile('configs/databases/nested/x.yaml', 'name: x');
      await ctx.h.putItem({ pk: 'RUN#2026-01-01', status: 'done' });
      await ctx.h.putItem({ pk: 'POLICY#ghost', config: 'not a map' });
      await ctx.h.putItem({ pk: 'POLICY#monthly', version: 'seven', config: { name: 'monthly' } });
      await ctx.h.putFile(MANIFEST, '{ not json');
      const plan = await ctx.sync({ prune: true });
      const issues = plan.plan.issues.map((i) => `${i.kind} ${i.id} ${i.problem}`).sort();
      assert.equal(issues, [
        'file configs/databases/nested/x.yaml foreign',
        'file configs/notes/readme.txt foreign',
        'item RUN#2026-01-01 foreign',
        `manifest ${MANIFEST} malformed`,
      ]);
      assert.equal(changesOf(plan), ['delete item POLICY#ghost', 'update item POLICY#monthly']);
      assert.ok(plan.plan.drift.some((d) => d.id === 'POLICY#monthly' && /malformed/.test(d.detail)));
      await ctx.sync({ apply: true, prune: true });
      const s = await ctx.h.state();
      assert.is(
        s.files['configs/notes/readme.txt']!.body,
        'not a config',
        'foreign object left alone even with --prune',
      );
      assert.ok(s.files['configs/databases/nested/x.yaml']);
      assert.equal(s.items['RUN#2026-01-01'], { pk: 'RUN#2026-01-01', status: 'done' });
      assert.is(s.items['POLICY#ghost'], undefined);
      assert.equal(s.items['POLICY#monthly']!.config, parse(ctx.text('policies/monthly.yaml')));
      assert.is(s.items['POLICY#monthly']!.version, 1);
      assert.is(JSON.parse(s.files[MANIFEST]!.body).format, 1, 'manifest rewritten');
      assert.equal(changesOf(await ctx.sync({ prune: true })), []);
    },
  },
  {
    name: 'configs that fail validation are refused before anything is read or written',
    async run(ctx) {
      ctx.write('databases/db1.yaml', ctx.text('databases/db1.yaml').replace('engine: postgres', 'engine: db2000'));
      const out = await runSync({
        root: ctx.root,
        target: parseTarget(ctx.h.target, ctx.root),
        apply: true,
        prune: true,
        commit: 'x',
        allowUncommitted: 'test fixture outside git',
      });
      assert.is(out.status, 'invalid');
      assert.ok(out.status === 'invalid' && out.repo.errors > 0);
      assert.equal((await ctx.h.state()).files, {});
      assert.equal((await ctx.h.state()).items, {});
    },
  },
];
