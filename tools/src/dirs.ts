/**
 * Folders the commands read from or write to, checked before use so that a path that is a file, lies
 * under a file or cannot be created gives one clear UserError (exit 2) instead of a stack trace — or a
 * hang: Node's recursive mkdir loops forever when the kernel answers ENOENT for a folder whose parent
 * exists (`/proc/x/y`), so folders are created here one level at a time.
 */
import { constants } from 'node:fs';
import { access, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from './errors.js';

const WHY: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  ENOENT: 'the system refuses to create it there',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'too many symbolic links',
};
const why = (e: unknown) => {
  const code = (e as NodeJS.ErrnoException)?.code ?? '';
  return WHY[code] ?? (code || String((e as Error)?.message ?? e));
};

/** The nearest existing ancestor (or the folder itself) and the missing levels below it, outermost first. */
async function existing(dir: string, what: string): Promise<{ missing: string[] }> {
  const missing: string[] = [];
  let cur = path.resolve(dir);
  for (;;) {
    try {
      const st = await stat(cur);
      if (!st.isDirectory())
        throw new UserError(`${what} ${dir}: ${cur === path.resolve(dir) ? 'it' : cur} is a file, not a folder`);
      return { missing };
    } catch (e) {
      if (e instanceof UserError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new UserError(`${what} ${dir}: cannot use ${cur}: ${why(e)}`);
      const up = path.dirname(cur);
      if (up === cur) throw new UserError(`${what} ${dir}: no part of the path exists`);
      missing.unshift(cur);
      cur = up;
    }
  }
}

/** Refuses a folder option that names a file or lies under one; a folder that does not exist yet is fine. */
export async function checkDir(dir: string, what: string): Promise<void> {
  await existing(dir, what);
}

/** Makes sure `dir` is a folder this process can write to, creating missing levels one at a time. */
export async function ensureDir(dir: string, what: string): Promise<void> {
  const { missing } = await existing(dir, what);
  for (const level of missing) {
    try {
      await mkdir(level);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
        const st = await stat(level).catch(() => undefined);
        if (st?.isDirectory()) continue; // made by another run meanwhile
        throw new UserError(`${what} ${dir}: ${level} is a file, not a folder`);
      }
      throw new UserError(`${what} ${dir}: cannot create ${level}: ${why(e)}`);
    }
  }
  try {
    await access(dir, constants.W_OK);
  } catch (e) {
    throw new UserError(`${what} ${dir}: cannot write there: ${why(e)}`);
  }
}
