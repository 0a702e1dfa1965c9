/** Finds the repository root: the nearest folder, from the working directory up, holding the settings file. */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { SETTINGS_FILE } from '../config/source.js';
import { UserError } from '../errors.js';

export function findRoot(start: string, explicit?: string): string {
  if (explicit) {
    const dir = path.resolve(start, explicit);
    const st = statSync(dir, { throwIfNoEntry: false });
    if (!st) throw new UserError(`--root ${explicit}: no such folder`);
    if (!st.isDirectory()) throw new UserError(`--root ${explicit}: not a folder`);
    return dir;
  }
  let dir = path.resolve(start);
  for (;;) {
    if (existsSync(path.join(dir, SETTINGS_FILE))) return dir;
    const up = path.dirname(dir);
    if (up === dir) return path.resolve(start);
    dir = up;
  }
}
