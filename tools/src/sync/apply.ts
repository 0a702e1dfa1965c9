/**
 * Apply: carries out exactly a plan's changes, in this order, so that the pipeline (triggered by
 * uploads to the config bucket, reading the config table and using the Glue connections) never
 * reads a half-synced state:
 *
 *   1. claim      take the next sync generation, conditional on the one the plan read
 *                 (folded into the first item batch when there is no connection change);
 *                 every later write is fenced by it (item transactions carry a check of the
 *                 claim; every batch of objects or connections, and the manifest, runs only
 *                 after the target re-checked it), so a sync that lost its claim stops;
 *   2. connections create/update Glue connections (nothing refers to a new one yet);
 *   3. items      conditional, batched table writes, fenced by the claim;
 *   4. files      config files to the bucket (these uploads trigger the pipeline, which then
 *                 finds the table and connections already in place);
 *   5. deletes    with --prune only: files, then items, then connections (reverse order);
 *   6. manifest   the record of what this sync wrote, last of all: its generation marks the
 *                 sync complete and releases the claim.
 *
 * A sync killed anywhere leaves a claimed-but-incomplete generation; the next run re-plans from
 * what is there and converges (it may take over at once when it wants the same desired state).
 * A sync that fails in a way the process survives gives its claim up first (release), so the next
 * sync need not wait for the lease to end.
 */
import { randomUUID } from 'node:crypto';
import pLimit from 'p-limit';
import { UserError } from '../errors.js';
import type { ConfigItem } from '../generated/config-item.js';
import type { DesiredFile, DesiredItem, DesiredState, Manifest, Snapshot } from './model.js';
import { MANIFEST_FORMAT } from './model.js';
import type { Change, Plan } from './plan.js';
import { LostClaimError, type Claim, type Fence, type ItemOp, type Target } from './target.js';

type Step =
  | 'claim'
  | 'connections'
  | 'items'
  | 'files'
  | 'delete-files'
  | 'delete-items'
  | 'delete-connections'
  | 'manifest';

export interface ApplyOptions {
  runId?: string;
  /** How long the claim keeps other syncs (wanting a different state) away. Default 900 s. */
  leaseSeconds?: number;
  now?: () => Date;
  /** Parallel object uploads. Default 16. */
  concurrency?: number;
  /**
   * Called after each step and after each batch within a step (`items#1`, `files#3`…). Fault tests
   * throw or kill the process here to simulate a sync that dies between its writes.
   */
  afterStep?: (step: string) => void | Promise<void>;
  /** Aborts before the next write batch (the CLI aborts on SIGINT/SIGTERM); the claim is then released. */
  signal?: AbortSignal;
}

export interface ApplyResult {
  runId: string;
  generation: number;
  /** What was done, in order (the plan's changes). */
  applied: Change[];
  /** Write requests made, by step. */
  writes: Partial<Record<Step, number>>;
  manifestWritten: boolean;
}

export async function applyPlan(
  plan: Plan,
  desired: DesiredState,
  snapshot: Snapshot,
  target: Target,
  opts: ApplyOptions = {},
): Promise<ApplyResult> {
  if (plan.desiredHash !== desired.hash) throw new Error('plan and desired state disagree');
  if (plan.lock?.blocking) {
    const l = plan.lock;
    throw new UserError(
      `another sync (generation ${l.generation}, commit ${l.commit ?? 'unknown'}, started ${l.startedAt ?? '?'}) ` +
        `has not completed and holds the lock until ${l.expiresAt}; it wants a different state. ` +
        'Wait for it (or for the lock to expire) and rerun, or pass --break-lock if it is known to be dead.',
      1,
    );
  }
  const now = opts.now ?? (() => new Date());
  const runId = opts.runId ?? randomUUID();
  const leaseMs = (opts.leaseSeconds ?? 900) * 1000;
  const writes: Partial<Record<Step, number>> = {};
  const count = (s: Step, n = 1) => {
    writes[s] = (writes[s] ?? 0) + n;
  };
  const after = async (s: string) => {
    await opts.afterStep?.(s);
    if (opts.signal?.aborted) throw new UserError(`sync interrupted by a signal after ${s}; the claim was released`, 1);
  };
  const result: ApplyResult = { runId, generation: plan.baseGeneration, applied: [], writes, manifestWritten: false };
  if (plan.changes.length === 0 && !plan.manifestReason) return result;
  if (opts.signal?.aborted) throw new UserError('sync interrupted by a signal before it wrote anything', 1);

  const started = now();
  const claim: Claim = {
    runId,
    fromGeneration: plan.baseGeneration,
    fromRaw: plan.baseGenerationRaw,
    stateExists: plan.stateExists,
    toGeneration: plan.baseGeneration + 1,
    desiredHash: desired.hash,
    commit: desired.commit,
    startedAt: started.toISOString(),
    expiresAt: new Date(started.getTime() + leaseMs).toISOString(),
  };
  const fence: Fence = { runId, generation: claim.toGeneration };
  const leaseLeft = () => {
    // Object uploads cannot be made conditional on the table; stop before the lease could lapse.
    if (now().getTime() > started.getTime() + leaseMs - 30_000)
      throw new UserError(`the sync lease (${leaseMs / 1000} s) is about to expire; stopping. Rerun to finish.`, 1);
  };
  /** A batch of writes that cannot be conditional: only while the lease lasts and the claim is still ours. */
  const fenced = <T>(fn: () => Promise<T>) => {
    leaseLeft();
    return target.fenced(fence, fn);
  };
  result.generation = claim.toGeneration;
  const by = (r: Change['resource'], a: 'write' | 'delete') =>
    plan.changes.filter((c) => c.resource === r && (a === 'delete' ? c.action === 'delete' : c.action !== 'delete'));
  const connWrites = by('connection', 'write');
  const itemWrites = by('item', 'write');
  const fileWrites = by('file', 'write');
  const desiredConn = new Map(desired.connections.map((c) => [c.name, c]));
  const desiredItem = new Map(desired.items.map((i) => [i.pk, i]));
  const desiredFile = new Map(desired.files.map((f) => [f.key, f]));
  const newItemRecords: Manifest['items'] = {};
  const newEtags = new Map<string, string>();

  try {
    // 1. Claim, on its own unless the first item batch can carry it.
    let pendingClaim: Claim | undefined = claim;
    if (connWrites.length > 0 || itemWrites.length === 0) {
      await target.claim(claim);
      count('claim');
      pendingClaim = undefined;
      await after('claim');
    }

    // 2. Glue connections.
    const glue = pLimit(4);
    const chunk = 64;
    for (let i = 0; i < connWrites.length; i += chunk) {
      const part = connWrites.slice(i, i + chunk);
      await fenced(() =>
        Promise.all(
          part.map((c) =>
            glue(async () => {
              await target.putConnection(desiredConn.get(c.id)!, c.action === 'update');
              count('connections');
            }),
          ),
        ),
      );
      result.applied.push(...part);
      await after(i + chunk < connWrites.length ? `connections#${i / chunk + 1}` : 'connections');
    }

    // 3. Table items, in conditional batches fenced by the claim.
    const ts = started.toISOString();
    const ops: ItemOp[] = itemWrites.map((c) => {
      const d = desiredItem.get(c.id)!;
      const r = snapshot.items.get(c.id);
      const version = (r?.version ?? 0) + 1;
      newItemRecords[d.pk] = { version, configSha256: d.configSha256, contentSha256: d.contentSha256 };
      return {
        pk: d.pk,
        put: configItem(d, {
          version,
          commit: desired.commit,
          generation: claim.toGeneration,
          runId,
          createdAt: r && !r.malformed && r.createdAt ? r.createdAt : ts,
          updatedAt: ts,
        }),
        expect: r ? { exists: true, rawVersion: r.rawVersion } : { exists: false },
      };
    });
    await writeBatches(target, ops, fence, pendingClaim, 'items', count, after);
    if (pendingClaim) await after('claim');
    pendingClaim = undefined;
    result.applied.push(...itemWrites);

    // 4. Config files: the uploads that trigger the pipeline come after everything they refer to.
    const files = pLimit(opts.concurrency ?? 16);
    for (let i = 0; i < fileWrites.length; i += chunk) {
      const part = fileWrites.slice(i, i + chunk);
      await fenced(() =>
        Promise.all(
          part.map((c) =>
            files(async () => {
              const f: DesiredFile = desiredFile.get(c.id)!;
              newEtags.set(f.key, await target.putFile(f, { commit: desired.commit, generation: claim.toGeneration }));
              count('files');
            }),
          ),
        ),
      );
      result.applied.push(...part);
      await after(i + chunk < fileWrites.length ? `files#${i / chunk + 1}` : 'files');
    }

    // 5. Deletes (--prune only; the plan lists them): reverse order.
    const fileDeletes = by('file', 'delete');
    for (let i = 0; i < fileDeletes.length; i += chunk) {
      const part = fileDeletes.slice(i, i + chunk);
      await fenced(() =>
        Promise.all(
          part.map((c) =>
            files(async () => {
              await target.deleteFile(c.id);
              count('delete-files');
            }),
          ),
        ),
      );
      result.applied.push(...part);
    }
    if (fileDeletes.length) await after('delete-files');
    const itemDeletes = by('item', 'delete');
    await writeBatches(
      target,
      itemDeletes.map((c) => ({
        pk: c.id,
        expect: { exists: true as const, rawVersion: snapshot.items.get(c.id)?.rawVersion },
      })),
      fence,
      undefined,
      'delete-items',
      count,
      after,
    );
    result.applied.push(...itemDeletes);
    const connDeletes = by('connection', 'delete');
    for (let i = 0; i < connDeletes.length; i += chunk) {
      const part = connDeletes.slice(i, i + chunk);
      await fenced(() =>
        Promise.all(
          part.map((c) =>
            glue(async () => {
              await target.deleteConnection(c.id);
              count('delete-connections');
            }),
          ),
        ),
      );
      result.applied.push(...part);
    }
    if (connDeletes.length) await after('delete-connections');

    // 6. The manifest, last: it marks the generation complete.
    const manifest = buildManifest(plan, desired, snapshot, claim, newItemRecords, newEtags, now());
    await fenced(() => target.putManifest(JSON.stringify(manifest, null, 1)));
    count('manifest');
    result.manifestWritten = true;
    await after('manifest');
  } catch (e) {
    // Any failure this process survives: give the claim up so that the next sync need not wait out
    // the lease. Conditional on the claim still being ours; a failed release leaves the lease to expire.
    // (Once the manifest is written the generation is complete and the claim holds nobody back.)
    if (!(e instanceof LostClaimError) && !result.manifestWritten)
      await target.release(fence, now().toISOString()).catch(() => false);
    throw e;
  }
  return result;
}

/** DynamoDB limits: 400 KB per item, 4 MB per transaction (kept under with a margin). */
const MAX_ITEM_BYTES = 350_000;
const MAX_BATCH_BYTES = 3_500_000;

/** Splits ops into batches of at most `count` ops and about MAX_BATCH_BYTES each. */
/** The config table item `offload sync` writes for one desired item (what the discover Lambda reads back). */
export function configItem(
  d: DesiredItem,
  at: { version: number; commit: string; generation: number; runId: string; createdAt: string; updatedAt: string },
): Record<string, unknown> {
  const item: ConfigItem = {
    pk: d.pk,
    kind: d.kind,
    name: d.name,
    source_file: d.file,
    s3_key: d.s3Key,
    config: d.config,
    ...(d.resolved ? { resolved: d.resolved } : {}),
    content_sha256: d.contentSha256,
    config_sha256: d.configSha256,
    version: at.version,
    git_commit: at.commit,
    sync_generation: at.generation,
    sync_run_id: at.runId,
    created_at: at.createdAt,
    updated_at: at.updatedAt,
  };
  return { ...item };
}

export function batchOps(ops: ItemOp[], count: number): ItemOp[][] {
  const batches: ItemOp[][] = [];
  let cur: ItemOp[] = [];
  let bytes = 0;
  for (const op of ops) {
    const size = op.put ? Buffer.byteLength(JSON.stringify(op.put)) : 100;
    if (size > MAX_ITEM_BYTES)
      throw new UserError(
        `${op.pk} is too large for a DynamoDB item ` +
          `(${Math.round(size / 1024)} KB of at most ${MAX_ITEM_BYTES / 1000} KB); split the config`,
        1,
      );
    if (cur.length && (cur.length >= count || bytes + size > MAX_BATCH_BYTES)) {
      batches.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(op);
    bytes += size;
  }
  if (cur.length) batches.push(cur);
  return batches;
}

async function writeBatches(
  target: Target,
  ops: ItemOp[],
  fence: Fence,
  claim: Claim | undefined,
  step: Step,
  count: (s: Step, n?: number) => void,
  after: (s: string) => Promise<void>,
): Promise<void> {
  const batches = batchOps(ops, target.maxItemsPerBatch);
  for (const [i, batch] of batches.entries()) {
    await target.writeItemBatch(batch, fence, i === 0 ? claim : undefined);
    count(step);
    await after(i + 1 < batches.length ? `${step}#${i + 1}` : step);
  }
}

/** The record of what the remote holds once this sync completes: desired resources and kept orphans. */
function buildManifest(
  plan: Plan,
  desired: DesiredState,
  snapshot: Snapshot,
  claim: Claim,
  items: Manifest['items'],
  etags: Map<string, string>,
  completedAt: Date,
): Manifest {
  const deleted = new Set(plan.changes.filter((c) => c.action === 'delete').map((c) => `${c.resource}:${c.id}`));
  const m: Manifest = {
    format: MANIFEST_FORMAT,
    generation: claim.toGeneration,
    commit: desired.commit,
    desiredHash: desired.hash,
    runId: claim.runId,
    completedAt: completedAt.toISOString(),
    files: {},
    items: {},
    connections: {},
    ...(plan.provenance?.overrides.length ? { overrides: plan.provenance.overrides } : {}),
  };
  for (const f of desired.files)
    m.files[f.key] = { sha256: f.sha256, etag: etags.get(f.key) ?? snapshot.files.get(f.key)?.etag ?? '' };
  for (const i of desired.items) {
    const r = snapshot.items.get(i.pk);
    m.items[i.pk] = items[i.pk] ?? {
      version: r?.version ?? 0,
      configSha256: i.configSha256,
      contentSha256: i.contentSha256,
    };
  }
  for (const c of desired.connections) m.connections[c.name] = { sha256: c.sha256 };
  for (const o of plan.orphans) {
    if (deleted.has(`${o.resource}:${o.id}`)) continue;
    if (o.resource === 'file') {
      const r = snapshot.files.get(o.id);
      if (r) m.files[o.id] = { sha256: r.sha256 ?? snapshot.manifest?.files[o.id]?.sha256 ?? '', etag: r.etag };
    } else if (o.resource === 'item') {
      const r = snapshot.items.get(o.id);
      if (r)
        m.items[o.id] = {
          version: r.version ?? 0,
          configSha256: r.configSha256 ?? '',
          contentSha256: r.contentSha256 ?? '',
        };
    } else {
      const r = snapshot.connections.get(o.id);
      if (r) m.connections[o.id] = { sha256: r.sha256 };
    }
  }
  return m;
}
