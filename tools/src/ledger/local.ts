/**
 * The run ledger in the local state directory (the one `offload sync --target local` writes,
 * `.offload/state` by default):
 *
 *   <dir>/ledger/<sha256(database NUL schema NUL table), 32 hex>.json   one entry per table
 *   <dir>/ledger/.lock                                                   mutex (O_EXCL) around each transition
 *
 * Each transition reads the entry, checks it (model.ts) and replaces it under the mutex, through a
 * temporary file and a rename — all or nothing: a reader sees the old entry or the new one, and a
 * process killed mid-write leaves at most a stray temporary file, which readers skip. Hashed file names
 * keep any table name (slashes, dots, 128 characters of Unicode) a safe, short file name; the exact
 * names are inside. The mutex is the sync's local target's (lockfile.ts: a lock of a dead process, or
 * an old one, is broken) on its own file, so a sync never waits on a run.
 */
import { createHash, randomBytes } from 'node:crypto';
import { open, readFile, readdir, rename } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../errors.js';
import { withFileLock } from '../lockfile.js';
import { applyTransition, type Ledger, type LedgerEntry, type TableRef, type Transition } from './model.js';

export interface LocalLedgerOptions {
  /** The state directory (e.g. `.offload/state`). */
  dir: string;
  /** A mutex older than this belongs to a dead process. @default 30000 */
  staleLockMs?: number;
}

const entryFile = (r: TableRef) =>
  `${createHash('sha256')
    .update(`${r.database}\u0000${r.schema}\u0000${r.table}`, 'utf8')
    .digest('hex')
    .slice(0, 32)}.json`;

export function createLocalLedger(opts: LocalLedgerOptions): Ledger {
  return new LocalLedger(opts);
}

class LocalLedger implements Ledger {
  readonly label: string;
  private readonly dir: string;
  constructor(private readonly opts: LocalLedgerOptions) {
    this.dir = path.join(path.resolve(opts.dir), 'ledger');
    this.label = `local:${path.resolve(opts.dir)}`;
  }

  private async read(file: string): Promise<LedgerEntry | undefined> {
    let text: string;
    try {
      text = await readFile(path.join(this.dir, file), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    try {
      return JSON.parse(text) as LedgerEntry;
    } catch (e) {
      throw new UserError(
        `ledger entry ${path.join(this.dir, file)} is not JSON (${(e as Error).message}): restore or delete it`,
      );
    }
  }

  async get(ref: TableRef): Promise<LedgerEntry | undefined> {
    return this.read(entryFile(ref));
  }

  async list(database?: string): Promise<LedgerEntry[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const out: LedgerEntry[] = [];
    for (const n of names.sort()) {
      if (!/^[0-9a-f]{32}\.json$/.test(n)) continue; // the lock and interrupted temporary files
      const e = await this.read(n);
      if (e && (database === undefined || e.database === database)) out.push(e);
    }
    return out.sort((a, b) =>
      a.database !== b.database
        ? a.database < b.database
          ? -1
          : 1
        : a.schema !== b.schema
          ? a.schema < b.schema
            ? -1
            : 1
          : a.table < b.table
            ? -1
            : a.table > b.table
              ? 1
              : 0,
    );
  }

  async transition(ref: TableRef, t: Transition): Promise<LedgerEntry> {
    return this.withMutex(async () => {
      const file = entryFile(ref);
      const next = applyTransition(ref, await this.read(file), t);
      const target = path.join(this.dir, file);
      const tmp = `${target}.tmp-${randomBytes(6).toString('hex')}`;
      const fh = await open(tmp, 'w');
      try {
        await fh.writeFile(`${JSON.stringify(next, null, 1)}\n`);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, target);
      return next;
    });
  }

  private withMutex<T>(fn: () => Promise<T>): Promise<T> {
    return withFileLock(
      path.join(this.dir, '.lock'),
      { staleMs: this.opts.staleLockMs ?? 30_000, maxPauseMs: 50, ifStuck: 'if no run is active, delete it' },
      fn,
    );
  }
}
