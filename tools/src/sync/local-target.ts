/**
 * The local target: the same state as the AWS target in a directory, for the local runtime.
 *
 *   <dir>/bucket/<key>               the config files under the same keys as in the config bucket
 *   <dir>/table/<pk, URI-encoded>.json one JSON document per config-table item (same attributes)
 *   <dir>/glue/connections/<name>.json one Glue ConnectionInput per connection
 *   <dir>/.lock                      a short-lived mutex (O_EXCL) around every conditional write
 *   <dir>/journal.json               the item batch being written: a batch is all or nothing
 *
 * Conditional writes check the same conditions as DynamoDB under the mutex, so two concurrent runs
 * behave as they do against AWS: one claims the generation, the other fails cleanly. Files are
 * written to a temporary name and renamed, so a reader never sees half a file.
 */
import type { Dirent } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { alive, withFileLock } from '../lockfile.js';
import type { OffloadSettings } from '../generated/settings.js';
import { md5Hex, sha256Hex } from './canonical.js';
import { inputOfSpec, specOfConnection } from './connection.js';
import { LOCAL_JOURNAL, readLocalJournal, type JournalEntry } from './published.js';
import { hashConnection } from './desired.js';
import { classifyItem, classifyKey } from './layout.js';
import {
  MANIFEST_NAME,
  STATE_PK,
  parseManifest,
  type DesiredConnection,
  type DesiredFile,
  type RemoteConnection,
  type RemoteFile,
  type RemoteIssue,
  type RemoteItem,
  type Snapshot,
  type SyncState,
} from './model.js';
import { LostClaimError, LostRaceError, type Claim, type Fence, type ItemOp, type Target } from './target.js';

export interface LocalTargetOptions {
  dir: string;
  settings: OffloadSettings;
  /** A mutex older than this is taken to belong to a dead process. Default 30 s. */
  staleLockMs?: number;
  /** Counts operations by kind, like request counting on AWS. */
  onRequest?: (service: string, command: string) => void;
  /**
   * Fault injection for the crash tests: called after each item file a batch writes (`item-file#N`,
   * N counting from 1 within the batch), e.g. to SIGKILL the process in the middle of a batch.
   */
  afterWrite?: (what: string) => void;
  /** Temporary files of a run that died are removed once older than this. Default 15 min (the lease). */
  staleTempMs?: number;
}

export const DEFAULT_LOCAL_DIR = '.offload/state';

export function createLocalTarget(opts: LocalTargetOptions): Target {
  return new LocalTarget(opts);
}

const enc = (pk: string) => `${encodeURIComponent(pk)}.json`;
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

class LocalTarget implements Target {
  readonly maxItemsPerBatch = 99;
  readonly label: string;
  private readonly dir: string;
  private readonly prefix: string;

  constructor(private readonly opts: LocalTargetOptions) {
    this.dir = path.resolve(opts.dir);
    this.prefix = opts.settings.config.prefix.replace(/^\/+|\/+$/g, '');
    this.label = `local:${this.dir}`;
  }

  private p(...parts: string[]) {
    return path.join(this.dir, ...parts);
  }
  private count(cmd: string) {
    this.opts.onRequest?.('local', cmd);
  }

  async read(): Promise<Snapshot> {
    this.count('Read');
    const issues: RemoteIssue[] = [];
    // The sync state first (as on AWS): a completed sync's writes are then all visible below.
    let state: SyncState = { exists: false, generation: 0 };
    const rawState = await this.readItem(STATE_PK);
    if (rawState) {
      const c = classifyItem(rawState);
      state = c.kind === 'state' ? c.state : { exists: true, generation: 0, malformed: 'unreadable sync state' };
    }
    const files = new Map<string, RemoteFile>();
    let manifestText: string | undefined;
    for (const rel of (await walkAll(this.p('bucket'))).sort()) {
      const key = rel.split(path.sep).join('/');
      if (/\.tmp-(\d+-)?[0-9a-f]+$/.test(key)) continue; // an interrupted atomic write
      const kind = classifyKey(this.prefix, key);
      const body = await readFile(this.p('bucket', rel));
      if (kind === 'manifest') manifestText = body.toString('utf8');
      else if (kind === 'config') files.set(key, { key, etag: `"${md5Hex(body)}"`, sha256: sha256Hex(body) });
      else
        issues.push({
          kind: 'file',
          id: key,
          problem: 'foreign',
          message: 'not a config file sync manages; left alone',
        });
    }
    const items = new Map<string, RemoteItem>();
    for (const name of await list(this.p('table'))) {
      if (!name.endsWith('.json')) continue;
      let raw: unknown;
      try {
        raw = JSON.parse(await readFile(this.p('table', name), 'utf8'));
      } catch (e) {
        issues.push({
          kind: 'item',
          id: name,
          problem: 'malformed',
          message: `unreadable item file (${(e as Error).message}); left alone`,
        });
        continue;
      }
      if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
        issues.push({
          kind: 'item',
          id: name,
          problem: 'malformed',
          message: 'item file is not a JSON object; left alone',
        });
        continue;
      }
      const c = classifyItem(raw as Record<string, unknown>);
      if (c.kind === 'state') continue;
      if (c.kind === 'item') {
        if (enc(c.item.pk) !== name)
          issues.push({
            kind: 'item',
            id: name,
            problem: 'malformed',
            message: `file name does not match its pk ${c.item.pk}; left alone`,
          });
        else items.set(c.item.pk, c.item);
      } else issues.push(c.issue);
    }
    // A batch committed to the journal counts as written (the next write completes it): all or nothing.
    for (const e of await readLocalJournal(this.dir)) {
      const c = e.put ? classifyItem(e.put) : undefined;
      if (c?.kind === 'state') state = c.state;
      else if (c?.kind === 'item') items.set(c.item.pk, c.item);
      else if (!e.put) items.delete(e.pk);
    }
    if (state.malformed) issues.push({ kind: 'state', id: STATE_PK, problem: 'malformed', message: state.malformed });
    const connections = new Map<string, RemoteConnection>();
    for (const name of await list(this.p('glue', 'connections'))) {
      if (!name.endsWith('.json')) continue;
      try {
        const c = JSON.parse(await readFile(this.p('glue', 'connections', name), 'utf8'));
        const spec = specOfConnection(c);
        connections.set(c.Name ?? name.slice(0, -5), {
          name: c.Name ?? name.slice(0, -5),
          spec,
          sha256: hashConnection(spec),
        });
      } catch (e) {
        issues.push({
          kind: 'connection',
          id: name,
          problem: 'malformed',
          message: `unreadable connection file (${(e as Error).message}); left alone`,
        });
      }
    }
    const snapshot: Snapshot = { files, items, connections, state, issues };
    if (manifestText !== undefined) {
      const m = parseManifest(manifestText);
      if (typeof m === 'string')
        issues.push({
          kind: 'manifest',
          id: `${this.prefix}/${MANIFEST_NAME}`,
          problem: 'malformed',
          message: `manifest unreadable (${m}); it is treated as absent and rewritten on apply`,
        });
      else snapshot.manifest = m;
    }
    return snapshot;
  }

  async fileSha256(keys: string[]): Promise<Map<string, string | undefined>> {
    const out = new Map<string, string | undefined>();
    for (const k of keys) {
      try {
        out.set(k, sha256Hex(await readFile(this.p('bucket', ...k.split('/')))));
      } catch {
        out.set(k, undefined);
      }
    }
    return out;
  }

  async claim(claim: Claim): Promise<void> {
    this.count('Claim');
    await this.withMutex(async () => {
      await this.checkClaim(claim);
      await this.writeClaim(claim);
      await this.removeDeadTemps();
    });
  }

  async fenced<T>(fence: Fence, fn: () => Promise<T>): Promise<T> {
    // Check and writes under one mutex hold: no other sync can take the claim in between.
    return this.withMutex(async () => {
      await this.checkFence(fence);
      return fn();
    });
  }

  async release(fence: Fence, at: string): Promise<boolean> {
    return this.withMutex(async () => {
      const s = await this.readItem(STATE_PK);
      if (!s || s.generation !== fence.generation || s.lock_owner !== fence.runId) return false;
      await this.atomicWrite(
        this.p('table', enc(STATE_PK)),
        JSON.stringify({ ...s, lock_expires_at: at, lock_released_at: at }, null, 1),
      );
      return true;
    });
  }

  private async checkFence(fence: Fence) {
    const s = await this.readItem(STATE_PK);
    if (!s || s.generation !== fence.generation || s.lock_owner !== fence.runId)
      throw new LostClaimError(this.label, fence, {
        generation: s?.generation,
        owner: s?.lock_owner,
        commit: s?.lock_commit,
      });
  }

  /**
   * Removes temporary files (`<file>.tmp-<pid>-<hex>`) that a killed run left: those of a process that
   * no longer runs on this host, or older than the lease. Runs when a sync takes its claim.
   */
  private async removeDeadTemps() {
    const staleMs = this.opts.staleTempMs ?? 15 * 60_000;
    for (const rel of await walkAll(this.dir)) {
      const m = /\.tmp-(?:(\d+)-)?[0-9a-f]+$/.exec(rel);
      if (!m) continue;
      const file = path.join(this.dir, rel);
      const pid = m[1] ? Number(m[1]) : undefined;
      let dead = pid !== undefined && pid !== process.pid && !alive(pid);
      if (!dead) {
        try {
          dead = Date.now() - (await stat(file)).mtimeMs > staleMs;
        } catch {
          continue;
        }
      }
      if (dead) await rm(file, { force: true });
    }
  }

  private async readItem(pk: string): Promise<Record<string, unknown> | undefined> {
    try {
      return JSON.parse(await readFile(this.p('table', enc(pk)), 'utf8'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      return { pk, version: { unreadable: true } }; // fails every version condition, like a foreign write
    }
  }

  private async checkClaim(claim: Claim) {
    const s = await this.readItem(STATE_PK);
    const ok = !claim.stateExists ? s === undefined : s !== undefined && same(s.generation, claim.fromRaw);
    if (!ok)
      throw new LostRaceError(
        `another sync moved the sync generation in ${this.label} since this one read it ` +
          `(expected ${claim.stateExists ? claim.fromGeneration : 'no sync state yet'}).`,
      );
  }

  private async writeClaim(claim: Claim) {
    await this.atomicWrite(this.p('table', enc(STATE_PK)), JSON.stringify(await this.claimDoc(claim), null, 1));
  }

  private async claimDoc(claim: Claim): Promise<Record<string, unknown>> {
    const { lock_released_at, ...s } = (await this.readItem(STATE_PK)) ?? { pk: STATE_PK };
    return {
      ...s,
      pk: STATE_PK,
      kind: 'sync-state',
      generation: claim.toGeneration,
      lock_owner: claim.runId,
      lock_desired_hash: claim.desiredHash,
      lock_commit: claim.commit,
      lock_expires_at: claim.expiresAt,
      started_at: claim.startedAt,
    };
  }

  async writeItemBatch(ops: ItemOp[], fence: Fence, claim?: Claim): Promise<void> {
    this.count('WriteItems');
    await this.withMutex(async () => {
      if (claim) await this.checkClaim(claim);
      else await this.checkFence(fence);
      for (const op of ops) {
        const cur = await this.readItem(op.pk);
        const ok = op.expect.exists ? cur !== undefined && same(cur.version, op.expect.rawVersion) : cur === undefined;
        if (!ok)
          throw new LostRaceError(
            `the table item ${op.pk} changed since this sync read it (another sync or a hand edit wrote it).`,
          );
      }
      // All or nothing: the whole batch goes to a journal first (its rename is the commit point), then
      // to the item files; a run killed in between is completed by the next one (rollForward).
      const entries: JournalEntry[] = [
        ...(claim ? [{ pk: STATE_PK, put: await this.claimDoc(claim) }] : []),
        ...ops.map((op) => ({ pk: op.pk, ...(op.put ? { put: op.put } : {}) })),
      ];
      await this.atomicWrite(this.journal, JSON.stringify({ entries }));
      await this.applyEntries(entries);
      await rm(this.journal, { force: true });
      if (claim) await this.removeDeadTemps();
    });
  }

  private get journal() {
    return this.p(LOCAL_JOURNAL);
  }

  private async applyEntries(entries: JournalEntry[]) {
    let n = 0;
    for (const e of entries) {
      if (e.put) await this.atomicWrite(this.p('table', enc(e.pk)), JSON.stringify(e.put, null, 1));
      else await rm(this.p('table', enc(e.pk)), { force: true });
      if (e.pk !== STATE_PK) this.opts.afterWrite?.(`item-file#${++n}`);
    }
  }

  /** Completes a batch whose journal a killed run left (call holding the mutex). */
  private async rollForward() {
    let text: string;
    try {
      text = await readFile(this.journal, 'utf8');
    } catch {
      return;
    }
    await this.applyEntries((JSON.parse(text) as { entries: JournalEntry[] }).entries);
    await rm(this.journal, { force: true });
  }

  async putConnection(c: DesiredConnection, exists: boolean): Promise<void> {
    this.count(exists ? 'UpdateConnection' : 'CreateConnection');
    const file = this.p('glue', 'connections', `${c.name}.json`);
    let tags = c.tags;
    if (exists) {
      // Like UpdateConnection, an update replaces the connection input and keeps the tags.
      try {
        tags = JSON.parse(await readFile(file, 'utf8')).Tags ?? tags;
      } catch {
        /* recreated */
      }
    }
    await this.atomicWrite(file, JSON.stringify({ ...inputOfSpec(c.name, c.spec), Tags: tags }, null, 1));
  }

  async deleteConnection(name: string): Promise<void> {
    this.count('DeleteConnection');
    await rm(this.p('glue', 'connections', `${name}.json`), { force: true });
  }

  async putFile(f: DesiredFile): Promise<string> {
    this.count('PutObject');
    await this.atomicWrite(this.p('bucket', ...f.key.split('/')), f.body);
    return `"${md5Hex(f.body)}"`;
  }

  async deleteFile(key: string): Promise<void> {
    this.count('DeleteObject');
    await rm(this.p('bucket', ...key.split('/')), { force: true });
  }

  async putManifest(body: string): Promise<void> {
    this.count('PutObject');
    await this.atomicWrite(this.p('bucket', ...`${this.prefix}/${MANIFEST_NAME}`.split('/')), body);
  }

  private async atomicWrite(file: string, data: string | Uint8Array) {
    await mkdir(path.dirname(file), { recursive: true });
    // The pid lets the next run tell a dead run's leftover from a live run's file in progress.
    const tmp = `${file}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
    await writeFile(tmp, data);
    await rename(tmp, file);
  }

  /**
   * Runs fn holding <dir>/.lock (lockfile.ts: O_EXCL; a lock of a dead process or an old one is broken),
   * after rolling forward what a killed sync left half-done.
   */
  private withMutex<T>(fn: () => Promise<T>): Promise<T> {
    const opts = {
      staleMs: this.opts.staleLockMs ?? 30_000,
      maxPauseMs: 200,
      ifStuck: 'if no sync is running, delete it',
    };
    return withFileLock(this.p('.lock'), opts, async () => {
      await this.rollForward();
      return fn();
    });
  }
}

/** Every file under root (relative paths), hidden ones included. */
async function walkAll(root: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  let entries: Dirent[];
  try {
    entries = await readdir(path.join(root, rel), { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const r = rel ? path.join(rel, e.name) : e.name;
    if (e.isDirectory()) out.push(...(await walkAll(root, r)));
    else if (e.isFile()) out.push(r);
  }
  return out;
}

async function list(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch {
    return [];
  }
}
