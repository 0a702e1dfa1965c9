/** `offload validate`: the core. Loads the repo, keeps the findings of the files asked for. */
import path from 'node:path';
import { statSync } from 'node:fs';
import { loadRepo, kindOf } from '../config/load.js';
import { fsSource, SETTINGS_FILE } from '../config/source.js';
import type { ValidateOutput } from '../generated/validate-output.js';
import { UserError } from '../errors.js';

export interface ValidateOptions {
  /** Repository root (holds offload.settings.yaml, databases/, policies/). */
  root: string;
  /** Files or folders to report on; empty means the whole repository. */
  paths: string[];
  /** Working directory the paths are relative to. */
  cwd: string;
}

/** The result is exactly the documented JSON output (`schema/validate-output.schema.json`). */
export type ValidateResult = ValidateOutput;

/** Maps the user's paths to repo-relative config files; a path that is no config file is a usage error. */
function selectFiles(opts: ValidateOptions, all: string[]): string[] | undefined {
  if (opts.paths.length === 0) return undefined;
  const chosen = new Set<string>();
  for (const p of opts.paths) {
    const abs = path.resolve(opts.cwd, p);
    const rel = path.relative(opts.root, abs).split(path.sep).join('/');
    if (rel.startsWith('..') || path.isAbsolute(rel))
      throw new UserError(`${p}: is outside the repository ${opts.root} (use --root)`);
    let isDir = false;
    try {
      isDir = statSync(abs).isDirectory();
    } catch {
      throw new UserError(`${p}: no such file or directory`);
    }
    if (isDir) {
      const inside = all.filter((f) => rel === '' || f.startsWith(`${rel}/`));
      inside.forEach((f) => chosen.add(f));
      continue;
    }
    if (!kindOf(rel))
      throw new UserError(`${p}: not a config file (expected ${SETTINGS_FILE}, databases/*.yaml or policies/*.yaml)`);
    chosen.add(rel);
  }
  return [...chosen];
}

export async function validate(opts: ValidateOptions): Promise<ValidateResult> {
  const source = fsSource(opts.root);
  const all = await source.listFiles();
  const only = selectFiles(opts, all);
  const repo = await loadRepo(source, only ? { only } : {});
  const files = only ?? [...new Set([...all, ...repo.findings.map((f) => f.file)])];
  return {
    version: 1,
    ok: repo.errors === 0,
    summary: { files: files.length, errors: repo.errors, warnings: repo.warnings },
    files,
    findings: repo.findings,
  };
}
