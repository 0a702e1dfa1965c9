/**
 * A short-lived mutex in the local file system: a lock file created with O_EXCL that names its holder
 * (pid, host, start time). A lock whose holder is a dead process on this host, or one older than
 * `staleMs`, is broken — moved aside first, so only one of several waiting processes breaks it. The
 * sync's local target, the local run ledger and the local governance state each hold their own file
 * with it, so a sync never waits on a run.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { UserError } from './errors.js';

export interface FileLockOptions {
  /** A lock older than this belongs to a dead process. */
  staleMs: number;
  /** The longest pause between two attempts; pauses start short and double up to it. */
  maxPauseMs: number;
  /** The advice when the lock is held too long, e.g. `if no sync is running, delete it`. */
  ifStuck: string;
}

/**
 * Runs fn holding `lock` (its folder is created). Waits while another live process holds it, at most
 * `staleMs` + 10 s, then fails with a message naming the file (exit code 2).
 */
export async function withFileLock<T>(lock: string, opts: FileLockOptions, fn: () => Promise<T>): Promise<T> {
  await mkdir(path.dirname(lock), { recursive: true });
  const deadline = Date.now() + opts.staleMs + 10_000;
  const firstPause = Math.max(1, opts.maxPauseMs / 40);
  for (let attempt = 0; ; attempt++) {
    try {
      const fh = await open(lock, 'wx');
      try {
        await fh.writeFile(JSON.stringify({ pid: process.pid, host: hostname(), at: new Date().toISOString() }));
      } finally {
        await fh.close();
      }
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      // A folder (or anything but a file) there is no lock any process holds: waiting would only time out.
      if ((await stat(lock).catch(() => undefined))?.isFile() === false)
        throw new UserError(`${lock} is not a lock file (a folder or other special file): remove it`, 2);
      if (await isStale(lock, opts.staleMs)) {
        // Move it aside first so that only one of several waiting processes breaks it.
        const aside = `${lock}.stale-${randomBytes(6).toString('hex')}`;
        try {
          await rename(lock, aside);
          await rm(aside, { force: true });
        } catch {
          /* someone else broke it */
        }
        continue;
      }
      if (Date.now() > deadline)
        throw new UserError(`${lock} is held by another process for too long; ${opts.ifStuck}`, 2);
      const pause = Math.min(opts.maxPauseMs, firstPause * 2 ** Math.min(attempt, 10));
      await new Promise((r) => setTimeout(r, pause * (0.5 + Math.random())));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lock, { force: true });
  }
}

async function isStale(lock: string, staleMs: number): Promise<boolean> {
  try {
    const [text, st] = await Promise.all([readFile(lock, 'utf8'), stat(lock)]);
    if (Date.now() - st.mtimeMs > staleMs) return true;
    const info = JSON.parse(text) as { pid?: number; host?: string };
    return info.host === hostname() && typeof info.pid === 'number' && info.pid !== process.pid && !alive(info.pid);
  } catch {
    return false; // vanished, or being written right now
  }
}

/** False only when no process with this pid runs on this host. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}
