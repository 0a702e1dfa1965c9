/**
 * Plan: a pure function of the desired state, the remote snapshot and the record of the last
 * completed sync (the manifest). Apply carries out exactly the plan's changes, in the plan's order.
 */
import { cmp } from './desired.js';
import type { DesiredState, Manifest, RemoteIssue, Snapshot } from './model.js';
import type { Provenance } from './provenance.js';

export type Resource = 'connection' | 'item' | 'file';
type Action = 'create' | 'update' | 'delete';

export interface Change {
  resource: Resource;
  id: string;
  action: Action;
  /** Why the change is needed, in words. */
  reason: string;
  /** The remote differed from what the last sync wrote: the change overwrites a hand edit. */
  drift: boolean;
}

interface DriftEntry {
  resource: Resource;
  id: string;
  detail: string;
}

interface Orphan {
  resource: Resource;
  id: string;
}

interface LockInfo {
  /** A sync took a generation and has not completed it (running, or died). */
  generation: number;
  commit?: string;
  startedAt?: string;
  expiresAt?: string;
  /** It wants exactly our desired state: taking it over is safe. */
  sameDesiredState: boolean;
  /** Its lease has ended (or it released the claim when it failed). */
  expired: boolean;
  /** When it failed and released its claim. */
  releasedAt?: string;
  /** Still within its lease and wanting another state: apply refuses unless told to break the lock. */
  blocking: boolean;
}

export interface Plan {
  target: string;
  commit: string;
  desiredHash: string;
  /** Sync generation the plan read; apply's claim is conditional on it. */
  baseGeneration: number;
  /** The generation attribute exactly as read (a malformed one is compared as it is). */
  baseGenerationRaw: unknown;
  stateExists: boolean;
  prune: boolean;
  /** In apply order: connections, items, files (creates/updates), then deletes in reverse. */
  changes: Change[];
  drift: DriftEntry[];
  /** Managed remote state no longer in the repo: deleted only with --prune (then also in changes). */
  orphans: Orphan[];
  issues: RemoteIssue[];
  /** The manifest must be (re)written even without other changes (first sync, interrupted sync). */
  manifestReason?: string;
  lock?: LockInfo;
  unchanged: { connection: number; item: number; file: number };
  /** Where the configs come from (commit, uncommitted files, ancestry, overrides); set by sync. */
  provenance?: Provenance;
}

export interface PlanInput {
  target: string;
  desired: DesiredState;
  snapshot: Snapshot;
  /** sha256 from object metadata for objects the manifest does not record (see fileShaNeeded). */
  fileSha?: Map<string, string | undefined>;
  prune: boolean;
  now: Date;
  breakLock?: boolean;
}

const quoteMd5 = (md5: string) => `"${md5}"`;

/** Objects whose content plan cannot tell from the listing and the manifest: their metadata is read. */
export function fileShaNeeded(desired: DesiredState, snapshot: Snapshot, md5: (body: Uint8Array) => string): string[] {
  const out: string[] = [];
  for (const f of desired.files) {
    const r = snapshot.files.get(f.key);
    if (!r || r.sha256) continue;
    const rec = snapshot.manifest?.files[f.key];
    if (rec && rec.etag === r.etag) continue;
    if (r.etag === quoteMd5(md5(f.body))) continue;
    out.push(f.key);
  }
  return out;
}

export function computePlan(input: PlanInput, md5: (body: Uint8Array) => string): Plan {
  const { desired, snapshot, prune } = input;
  const manifest: Manifest | undefined = snapshot.manifest;
  const completed = manifest?.generation ?? 0;
  const state = snapshot.state;
  const interrupted = state.exists && state.generation > completed;
  const changes: Change[] = [];
  const deletes: Change[] = [];
  const drift: DriftEntry[] = [];
  const orphans: Orphan[] = [];
  const unchanged = { connection: 0, item: 0, file: 0 };
  const fromInterrupted = 'written by the interrupted sync';

  // Glue connections: managed = desired, recorded by the last sync, or named by a database item.
  const desiredConns = new Map(desired.connections.map((c) => [c.name, c]));
  for (const c of desired.connections) {
    const r = snapshot.connections.get(c.name);
    const rec = manifest?.connections[c.name];
    const drifted = !!rec && (!r || r.sha256 !== rec.sha256);
    if (drifted)
      drift.push({
        resource: 'connection',
        id: c.name,
        detail: !r
          ? 'deleted outside sync'
          : interrupted
            ? `differs from the last completed sync (changed by hand or ${fromInterrupted})`
            : 'changed outside sync',
      });
    if (!r)
      changes.push({
        resource: 'connection',
        id: c.name,
        action: 'create',
        reason: rec ? 'recreate (deleted outside sync)' : 'new database',
        drift: drifted,
      });
    else if (r.sha256 !== c.sha256)
      changes.push({
        resource: 'connection',
        id: c.name,
        action: 'update',
        reason:
          drifted && rec?.sha256 === c.sha256 ? 'overwrite change made outside sync' : diffConnection(r.spec, c.spec),
        drift: drifted,
      });
    else unchanged.connection++;
  }
  const managedConns = new Set<string>([...Object.keys(manifest?.connections ?? {})]);
  for (const pk of snapshot.items.keys())
    if (pk.startsWith('DATABASE#')) managedConns.add(pk.slice('DATABASE#'.length));
  for (const name of [...managedConns].sort(cmp)) {
    if (desiredConns.has(name) || !snapshot.connections.has(name)) continue;
    orphans.push({ resource: 'connection', id: name });
    if (prune)
      deletes.push({
        resource: 'connection',
        id: name,
        action: 'delete',
        reason: 'database removed from the repo (--prune)',
        drift: false,
      });
  }

  // Table items.
  const desiredItems = new Set(desired.items.map((i) => i.pk));
  for (const d of desired.items) {
    const r = snapshot.items.get(d.pk);
    const rec = manifest?.items[d.pk];
    const byInterrupted =
      !!r &&
      !r.malformed &&
      r.generation !== undefined &&
      r.generation > completed &&
      r.storedConfigSha256 === r.configSha256;
    let driftDetail: string | undefined;
    if (r?.malformed) driftDetail = `malformed: ${r.malformed}`;
    else if (r && r.storedConfigSha256 !== r.configSha256)
      driftDetail = 'config edited outside sync (its config_sha256 no longer matches)';
    else if (rec && !r) driftDetail = 'deleted outside sync';
    else if (rec && r && !byInterrupted && (r.version !== rec.version || r.configSha256 !== rec.configSha256))
      driftDetail = 'changed outside sync';
    if (driftDetail) drift.push({ resource: 'item', id: d.pk, detail: driftDetail });
    const isDrift = !!driftDetail;
    if (!r)
      changes.push({
        resource: 'item',
        id: d.pk,
        action: 'create',
        reason: rec ? 'recreate (deleted outside sync)' : `new ${d.kind}`,
        drift: isDrift,
      });
    else if (
      r.malformed ||
      isDrift ||
      r.configSha256 !== d.configSha256 ||
      r.contentSha256 !== d.contentSha256 ||
      r.s3Key !== d.s3Key
    ) {
      const reason = r.malformed
        ? 'replace malformed item'
        : isDrift && rec?.configSha256 === d.configSha256
          ? 'overwrite change made outside sync'
          : r.configSha256 !== d.configSha256
            ? 'config changed'
            : r.contentSha256 !== d.contentSha256
              ? 'source file changed (formatting or comments only)'
              : r.s3Key !== d.s3Key
                ? `object key changed (${r.s3Key ?? 'none'} → ${d.s3Key})`
                : 'overwrite change made outside sync';
      changes.push({ resource: 'item', id: d.pk, action: 'update', reason, drift: isDrift });
    } else unchanged.item++;
  }
  for (const [pk, r] of [...snapshot.items.entries()].sort((a, b) => cmp(a[0], b[0]))) {
    if (desiredItems.has(pk) || pk === 'SYNC#STATE') continue;
    orphans.push({ resource: 'item', id: pk });
    if (prune)
      deletes.push({
        resource: 'item',
        id: pk,
        action: 'delete',
        reason: r.malformed ? 'malformed item not in the repo (--prune)' : 'config removed from the repo (--prune)',
        drift: false,
      });
  }

  // Config files.
  const desiredFiles = new Set(desired.files.map((f) => f.key));
  for (const f of desired.files) {
    const r = snapshot.files.get(f.key);
    const rec = manifest?.files[f.key];
    const drifted = !!rec && (!r || r.etag !== rec.etag);
    if (drifted)
      drift.push({
        resource: 'file',
        id: f.key,
        detail: !r
          ? 'deleted outside sync'
          : interrupted
            ? `differs from the last completed sync (changed by hand or ${fromInterrupted})`
            : 'changed outside sync',
      });
    const sameContent =
      !!r &&
      (r.etag === quoteMd5(md5(f.body)) ||
        (rec !== undefined && rec.etag === r.etag && rec.sha256 === f.sha256) ||
        (r.sha256 ?? input.fileSha?.get(f.key)) === f.sha256);
    if (!r)
      changes.push({
        resource: 'file',
        id: f.key,
        action: 'create',
        reason: rec ? 'recreate (deleted outside sync)' : 'new file',
        drift: drifted,
      });
    else if (!sameContent)
      changes.push({
        resource: 'file',
        id: f.key,
        action: 'update',
        reason: drifted && rec?.sha256 === f.sha256 ? 'overwrite change made outside sync' : 'content changed',
        drift: drifted,
      });
    else unchanged.file++;
  }
  for (const key of [...snapshot.files.keys()].sort(cmp)) {
    if (desiredFiles.has(key)) continue;
    orphans.push({ resource: 'file', id: key });
    if (prune)
      deletes.push({
        resource: 'file',
        id: key,
        action: 'delete',
        reason: 'file removed from the repo (--prune)',
        drift: false,
      });
  }

  // Deletes run after every create/update, in the reverse of the write order: files first (nothing
  // triggers on them any more), then items, then the connections nothing refers to.
  const order: Record<Resource, number> = { file: 0, item: 1, connection: 2 };
  deletes.sort((a, b) => order[a.resource] - order[b.resource] || cmp(a.id, b.id));
  changes.push(...deletes);

  let manifestReason: string | undefined;
  if (interrupted) manifestReason = `complete the interrupted sync (generation ${state.generation})`;
  else if (!manifest)
    manifestReason = snapshot.issues.some((i) => i.kind === 'manifest')
      ? 'replace the unreadable manifest'
      : 'first sync: record what was written';
  else if (manifest.desiredHash !== desired.hash || drift.length) manifestReason = 'bring the record up to date';

  let lock: LockInfo | undefined;
  if (interrupted) {
    // An expiry that is missing or unreadable counts as unexpired: only --break-lock takes that over.
    const expiry = state.lockExpiresAt ? Date.parse(state.lockExpiresAt) : Number.NaN;
    const fresh = !state.lockReleasedAt && (Number.isNaN(expiry) || expiry > input.now.getTime());
    const same = state.lockDesiredHash === desired.hash;
    lock = {
      generation: state.generation,
      commit: state.lockCommit,
      startedAt: state.startedAt,
      expiresAt: state.lockExpiresAt,
      sameDesiredState: same,
      expired: !fresh,
      ...(state.lockReleasedAt ? { releasedAt: state.lockReleasedAt } : {}),
      blocking: fresh && !same && !input.breakLock,
    };
  }

  return {
    target: input.target,
    commit: desired.commit,
    desiredHash: desired.hash,
    baseGeneration: state.generation,
    baseGenerationRaw: state.rawGeneration,
    stateExists: state.exists,
    prune,
    changes,
    drift,
    orphans,
    issues: snapshot.issues,
    manifestReason,
    lock,
    unchanged,
  };
}

/** True when apply has nothing to write. */
export function isNoop(plan: Plan): boolean {
  return plan.changes.length === 0 && !plan.manifestReason;
}

function diffConnection(
  a: { type: string; description?: string; properties: Record<string, string>; physical?: unknown },
  b: typeof a,
): string {
  const parts: string[] = [];
  const keys = new Set([...Object.keys(a.properties), ...Object.keys(b.properties)]);
  for (const k of [...keys].sort(cmp)) if (a.properties[k] !== b.properties[k]) parts.push(k);
  if (JSON.stringify(a.physical ?? null) !== JSON.stringify(b.physical ?? null)) parts.push('network');
  if ((a.description ?? '') !== (b.description ?? '')) parts.push('description');
  if (a.type !== b.type) parts.push('type');
  return parts.length ? `changed: ${parts.join(', ')}` : 'changed';
}
