/** The plan as a pure function: table-driven cases over hand-built desired states and snapshots. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { computePlan, fileShaNeeded, isNoop } from '../../src/sync/plan.js';
import type { DesiredState, Manifest, Snapshot } from '../../src/sync/model.js';
import { batchOps } from '../../src/sync/apply.js';

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const etag = (s: string) => `"${createHash('md5').update(s).digest('hex')}"`;
const NOW = new Date('2026-06-01T12:00:00Z');

function desired(): DesiredState {
  const body = (t: string) => new TextEncoder().encode(t);
  return {
    files: [
      { key: 'c/databases/db1.yaml', file: 'databases/db1.yaml', body: body('db1'), sha256: sha('db1') },
      { key: 'c/policies/p.yaml', file: 'policies/p.yaml', body: body('p'), sha256: sha('p') },
    ],
    items: [
      {
        pk: 'DATABASE#db1',
        kind: 'database',
        name: 'db1',
        file: 'databases/db1.yaml',
        config: {},
        contentSha256: sha('db1'),
        configSha256: 'cfg-db1',
        s3Key: 'c/databases/db1.yaml',
      },
      {
        pk: 'POLICY#p',
        kind: 'policy',
        name: 'p',
        file: 'policies/p.yaml',
        config: {},
        contentSha256: sha('p'),
        configSha256: 'cfg-p',
        s3Key: 'c/policies/p.yaml',
      },
    ],
    connections: [{ name: 'db1', spec: { type: 'JDBC', properties: {} }, sha256: 'conn-db1', tags: {} }],
    hash: 'H',
    commit: 'c1',
  };
}

/** A remote that holds exactly the desired state, with a manifest of it (generation 3). */
function synced(): Snapshot {
  const manifest: Manifest = {
    format: 1,
    generation: 3,
    commit: 'c0',
    desiredHash: 'H',
    runId: 'r',
    completedAt: '2026-05-01T00:00:00Z',
    files: {
      'c/databases/db1.yaml': { sha256: sha('db1'), etag: etag('db1') },
      'c/policies/p.yaml': { sha256: sha('p'), etag: etag('p') },
    },
    items: {
      'DATABASE#db1': { version: 2, configSha256: 'cfg-db1', contentSha256: sha('db1') },
      'POLICY#p': { version: 1, configSha256: 'cfg-p', contentSha256: sha('p') },
    },
    connections: { db1: { sha256: 'conn-db1' } },
  };
  return {
    files: new Map([
      ['c/databases/db1.yaml', { key: 'c/databases/db1.yaml', etag: etag('db1') }],
      ['c/policies/p.yaml', { key: 'c/policies/p.yaml', etag: etag('p') }],
    ]),
    items: new Map([
      [
        'DATABASE#db1',
        {
          pk: 'DATABASE#db1',
          version: 2,
          rawVersion: 2,
          configSha256: 'cfg-db1',
          storedConfigSha256: 'cfg-db1',
          contentSha256: sha('db1'),
          s3Key: 'c/databases/db1.yaml',
          generation: 2,
        },
      ],
      [
        'POLICY#p',
        {
          pk: 'POLICY#p',
          version: 1,
          rawVersion: 1,
          configSha256: 'cfg-p',
          storedConfigSha256: 'cfg-p',
          contentSha256: sha('p'),
          s3Key: 'c/policies/p.yaml',
          generation: 1,
        },
      ],
    ]),
    connections: new Map([['db1', { name: 'db1', spec: { type: 'JDBC', properties: {} }, sha256: 'conn-db1' }]]),
    state: { exists: true, generation: 3, rawGeneration: 3 },
    manifest,
    issues: [],
  };
}

type Case = {
  name: string;
  edit?: (d: DesiredState, s: Snapshot) => void;
  prune?: boolean;
  breakLock?: boolean;
  fileSha?: Map<string, string | undefined>;
  changes: string[];
  drift?: string[];
  orphans?: string[];
  manifest?: RegExp;
  lock?: { blocking: boolean; sameDesiredState: boolean; expired?: boolean };
};

const cases: Case[] = [
  { name: 'in sync: nothing to do', changes: [] },
  {
    name: 'empty remote: everything created, manifest for the first sync',
    edit: (_, s) => {
      s.files.clear();
      s.items.clear();
      s.connections.clear();
      s.manifest = undefined;
      s.state = { exists: false, generation: 0 };
    },
    changes: [
      'create connection db1',
      'create item DATABASE#db1',
      'create item POLICY#p',
      'create file c/databases/db1.yaml',
      'create file c/policies/p.yaml',
    ],
    manifest: /first sync/,
  },
  {
    name: 'a changed file in git: item and file updated, no drift',
    edit: (d) => {
      d.files[1]!.body = new TextEncoder().encode('p2');
      d.files[1]!.sha256 = sha('p2');
      d.items[1]!.contentSha256 = sha('p2');
      d.items[1]!.configSha256 = 'cfg-p2';
      d.hash = 'H2';
    },
    changes: ['update item POLICY#p', 'update file c/policies/p.yaml'],
    manifest: /up to date/,
  },
  {
    name: 'an object edited by hand: drift, overwritten',
    edit: (_, s) => {
      s.files.set('c/policies/p.yaml', { key: 'c/policies/p.yaml', etag: etag('hand') });
    },
    changes: ['update file c/policies/p.yaml'],
    drift: ['file c/policies/p.yaml'],
    manifest: /up to date/,
  },
  {
    name: 'an object edited by hand and back: same ETag as the content, nothing to do',
    edit: (_, s) => {
      s.manifest!.files['c/policies/p.yaml']!.etag = '"multipart-etag-2"';
      s.files.set('c/policies/p.yaml', { key: 'c/policies/p.yaml', etag: etag('p') });
    },
    changes: [],
    drift: ['file c/policies/p.yaml'],
    manifest: /up to date/,
  },
  {
    name: 'an unrecorded object whose metadata hash matches (e.g. a KMS ETag): unchanged',
    edit: (_, s) => {
      delete s.manifest!.files['c/policies/p.yaml'];
      s.files.set('c/policies/p.yaml', { key: 'c/policies/p.yaml', etag: '"kms-etag"' });
    },
    fileSha: new Map([['c/policies/p.yaml', sha('p')]]),
    changes: [],
  },
  {
    name: 'an item edited by hand (config no longer matches its hash): drift, overwritten',
    edit: (_, s) => {
      s.items.get('POLICY#p')!.configSha256 = 'something-else';
    },
    changes: ['update item POLICY#p'],
    drift: ['item POLICY#p'],
    manifest: /up to date/,
  },
  {
    name: 'an item whose version was bumped by hand: drift',
    edit: (_, s) => {
      s.items.get('POLICY#p')!.version = 9;
      s.items.get('POLICY#p')!.rawVersion = 9;
    },
    changes: ['update item POLICY#p'],
    drift: ['item POLICY#p'],
    manifest: /up to date/,
  },
  {
    name: 'a malformed managed item: replaced, reported as drift',
    edit: (_, s) => {
      s.items.set('POLICY#p', { pk: 'POLICY#p', rawVersion: 'x', malformed: 'version "x" is not an integer' });
    },
    changes: ['update item POLICY#p'],
    drift: ['item POLICY#p'],
    manifest: /up to date/,
  },
  {
    name: 'a connection changed by hand: drift, overwritten',
    edit: (_, s) => {
      s.connections.get('db1')!.sha256 = 'hand';
    },
    changes: ['update connection db1'],
    drift: ['connection db1'],
    manifest: /up to date/,
  },
  {
    name: 'a connection deleted by hand: recreated',
    edit: (_, s) => {
      s.connections.delete('db1');
    },
    changes: ['create connection db1'],
    drift: ['connection db1'],
    manifest: /up to date/,
  },
  {
    name: 'removed from the repo, without --prune: orphans listed, nothing deleted',
    edit: (d) => {
      d.connections = [];
      d.items = d.items.slice(1);
      d.files = d.files.slice(1);
      d.hash = 'H3';
    },
    changes: [],
    orphans: ['connection db1', 'item DATABASE#db1', 'file c/databases/db1.yaml'],
    manifest: /up to date/,
  },
  {
    name: 'removed from the repo, with --prune: deleted files first, then items, then connections',
    edit: (d) => {
      d.connections = [];
      d.items = d.items.slice(1);
      d.files = d.files.slice(1);
      d.hash = 'H3';
    },
    prune: true,
    changes: ['delete file c/databases/db1.yaml', 'delete item DATABASE#db1', 'delete connection db1'],
    orphans: ['connection db1', 'item DATABASE#db1', 'file c/databases/db1.yaml'],
    manifest: /up to date/,
  },
  {
    name: 'the config prefix moved: the items are rewritten with their new object keys',
    edit: (_, s) => {
      s.items.get('POLICY#p')!.s3Key = 'old/policies/p.yaml';
    },
    changes: ['update item POLICY#p'],
  },
  {
    name: 'a connection sync never wrote is foreign: never an orphan, never deleted',
    edit: (_, s) => {
      s.connections.set('legacy', { name: 'legacy', spec: { type: 'JDBC', properties: {} }, sha256: 'x' });
    },
    prune: true,
    changes: [],
  },
  {
    name: 'an unfinished sync wanting another state, lease running: blocking',
    edit: (_, s) => {
      s.state = {
        exists: true,
        generation: 4,
        rawGeneration: 4,
        lockDesiredHash: 'OTHER',
        lockExpiresAt: '2026-06-01T12:10:00Z',
      };
    },
    changes: [],
    manifest: /interrupted sync \(generation 4\)/,
    lock: { blocking: true, sameDesiredState: false },
  },
  {
    name: 'an unfinished sync wanting the same state: taken over',
    edit: (_, s) => {
      s.state = {
        exists: true,
        generation: 4,
        rawGeneration: 4,
        lockDesiredHash: 'H',
        lockExpiresAt: '2026-06-01T12:10:00Z',
      };
    },
    changes: [],
    manifest: /interrupted/,
    lock: { blocking: false, sameDesiredState: true },
  },
  {
    name: 'an unfinished sync whose lease expired: taken over',
    edit: (_, s) => {
      s.state = {
        exists: true,
        generation: 4,
        rawGeneration: 4,
        lockDesiredHash: 'OTHER',
        lockExpiresAt: '2026-06-01T11:59:59Z',
      };
    },
    changes: [],
    manifest: /interrupted/,
    lock: { blocking: false, sameDesiredState: false, expired: true },
  },
  {
    name: '--break-lock: taken over at once',
    edit: (_, s) => {
      s.state = {
        exists: true,
        generation: 4,
        rawGeneration: 4,
        lockDesiredHash: 'OTHER',
        lockExpiresAt: '2026-06-01T12:10:00Z',
      };
    },
    breakLock: true,
    changes: [],
    manifest: /interrupted/,
    lock: { blocking: false, sameDesiredState: false, expired: false },
  },
  {
    name: 'an unfinished sync whose lease end is missing or unreadable: held (never taken for expired)',
    edit: (_, s) => {
      s.state = { exists: true, generation: 4, rawGeneration: 4, lockDesiredHash: 'OTHER', lockExpiresAt: 'soon' };
    },
    changes: [],
    manifest: /interrupted/,
    lock: { blocking: true, sameDesiredState: false, expired: false },
  },
  {
    name: 'an unfinished sync that failed and released its claim: taken over within its lease',
    edit: (_, s) => {
      s.state = {
        exists: true,
        generation: 4,
        rawGeneration: 4,
        lockDesiredHash: 'OTHER',
        lockExpiresAt: '2026-06-01T12:10:00Z',
        lockReleasedAt: '2026-06-01T11:50:00Z',
      };
    },
    changes: [],
    manifest: /interrupted/,
    lock: { blocking: false, sameDesiredState: false, expired: true },
  },
  {
    name: 'an item the interrupted sync wrote is not drift',
    edit: (_, s) => {
      s.state = {
        exists: true,
        generation: 4,
        rawGeneration: 4,
        lockDesiredHash: 'H',
        lockExpiresAt: '2026-06-01T12:10:00Z',
      };
      const it = s.items.get('POLICY#p')!;
      it.version = 2;
      it.rawVersion = 2;
      it.generation = 4;
    },
    changes: [],
    drift: [],
    manifest: /interrupted/,
    lock: { blocking: false, sameDesiredState: true },
  },
];

for (const c of cases) {
  test(c.name, () => {
    const d = desired();
    const s = synced();
    c.edit?.(d, s);
    const plan = computePlan(
      { target: 't', desired: d, snapshot: s, fileSha: c.fileSha, prune: !!c.prune, now: NOW, breakLock: c.breakLock },
      md5,
    );
    assert.equal(
      plan.changes.map((x) => `${x.action} ${x.resource} ${x.id}`),
      c.changes,
    );
    assert.equal(
      plan.drift.map((x) => `${x.resource} ${x.id}`),
      c.drift ?? [],
    );
    assert.equal(
      plan.orphans.map((x) => `${x.resource} ${x.id}`),
      c.orphans ?? [],
    );
    if (c.manifest) assert.match(plan.manifestReason ?? '', c.manifest);
    else assert.is(plan.manifestReason, undefined);
    if (c.lock)
      assert.equal(
        {
          blocking: plan.lock?.blocking,
          sameDesiredState: plan.lock?.sameDesiredState,
          ...(c.lock.expired === undefined ? {} : { expired: plan.lock?.expired }),
        },
        c.lock,
      );
    else assert.is(plan.lock, undefined);
    assert.is(isNoop(plan), c.changes.length === 0 && !c.manifest);
  });
}

test('fileShaNeeded: only objects neither the manifest nor the MD5 ETag can vouch for', () => {
  const d = desired();
  const s = synced();
  assert.equal(fileShaNeeded(d, s, md5), []);
  delete s.manifest!.files['c/policies/p.yaml'];
  assert.equal(fileShaNeeded(d, s, md5), [], 'the ETag is the MD5 of the desired content');
  s.files.set('c/policies/p.yaml', { key: 'c/policies/p.yaml', etag: '"kms"' });
  assert.equal(fileShaNeeded(d, s, md5), ['c/policies/p.yaml']);
});

test('item batches: at most 99 ops and about 3.5 MB each; an item over 350 KB is a user error', () => {
  const op = (i: number, bytes: number) => ({
    pk: `POLICY#p${i}`,
    put: { pk: `POLICY#p${i}`, blob: 'x'.repeat(bytes) },
    expect: { exists: false as const },
  });
  assert.equal(
    batchOps(
      Array.from({ length: 250 }, (_, i) => op(i, 10)),
      99,
    ).map((b) => b.length),
    [99, 99, 52],
  );
  assert.equal(
    batchOps(
      Array.from({ length: 30 }, (_, i) => op(i, 300_000)),
      99,
    ).map((b) => b.length),
    [11, 11, 8],
  );
  assert.throws(() => batchOps([op(1, 400_000)], 99), /POLICY#p1 is too large for a DynamoDB item/);
});

test.run();
