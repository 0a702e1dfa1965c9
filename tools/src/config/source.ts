/**
 * Where configs are read from: the working tree, or a git revision (for `offload preview --base`).
 * Both list the same files: `offload.settings.yaml`, `databases/*.yaml`, `policies/*.yaml`.
 */
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { UserError } from '../errors.js';

const run = promisify(execFile);

export const SETTINGS_FILE = 'offload.settings.yaml';
export const CONFIG_DIRS = ['databases', 'policies'] as const;

export interface ConfigSource {
  /** For messages: the directory or `git:<ref>`. */
  readonly label: string;
  /** Repo-relative paths (forward slashes) of the settings file and every `*.yaml`/`*.yml` config. */
  listFiles(): Promise<string[]>;
  /** The file's bytes, or undefined when it does not exist. */
  readFile(rel: string): Promise<Uint8Array | undefined>;
}

const isConfig = (name: string) => /\.ya?ml$/.test(name);

export function fsSource(root: string): ConfigSource {
  return {
    label: root,
    async listFiles() {
      const out: string[] = [];
      if (existsSync(path.join(root, SETTINGS_FILE))) out.push(SETTINGS_FILE);
      for (const dir of CONFIG_DIRS) {
        let names: string[] = [];
        try {
          names = readdirSync(path.join(root, dir));
        } catch { /* a missing folder is an empty one */ }
        out.push(...names.filter(isConfig).sort().map((n) => `${dir}/${n}`));
      }
      return out;
    },
    async readFile(rel) {
      // Synchronous reads: for many small files they beat the thread pool by a wide margin.
      try {
        return readFileSync(path.join(root, rel));
      } catch {
        return undefined;
      }
    },
  };
}

/** Reads configs at a git revision of the repository at `root`, without touching the working tree. */
export function gitSource(root: string, ref: string): ConfigSource {
  const git = async (args: string[], encoding: 'utf8' | 'buffer' = 'utf8') => {
    try {
      return (await run('git', ['-C', root, ...args], { encoding, maxBuffer: 512 * 1024 * 1024 })).stdout;
    } catch (e) {
      const msg = String((e as { stderr?: unknown }).stderr ?? (e as Error).message).trim().split('\n')[0];
      throw new UserError(`cannot read git revision "${ref}" in ${root}: ${msg}`);
    }
  };
  let files: Promise<string[]> | undefined;
  return {
    label: `git:${ref}`,
    listFiles() {
      files ??= (async () => {
        await git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
        const out = String(await git(['ls-tree', '-r', '--name-only', ref, '--', SETTINGS_FILE, ...CONFIG_DIRS]));
        return out.split('\n').filter((f) => f === SETTINGS_FILE || (CONFIG_DIRS.some((d) => f.startsWith(d + '/') && !f.slice(d.length + 1).includes('/')) && isConfig(f))).sort();
      })();
      return files;
    },
    async readFile(rel) {
      if (!(await this.listFiles()).includes(rel)) return undefined;
      return new Uint8Array(await git(['show', `${ref}:${rel}`], 'buffer') as Buffer);
    },
  };
}
