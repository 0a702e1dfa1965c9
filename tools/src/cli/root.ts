/** Finds the repository root: the nearest folder, from the working directory up, holding the settings file. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { SETTINGS_FILE } from '../config/source.js';

export function findRoot(start: string, explicit?: string): string {
  if (explicit) return path.resolve(start, explicit);
  let dir = path.resolve(start);
  for (;;) {
    if (existsSync(path.join(dir, SETTINGS_FILE))) return dir;
    const up = path.dirname(dir);
    if (up === dir) return path.resolve(start);
    dir = up;
  }
}
