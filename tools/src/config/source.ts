/**
 * Where configs are read from: the working tree, or a git revision (for `offload preview --base`).
 * Both list the same files: `offload.settings.yaml`, `databases/*.yaml`, `policies/*.yaml`.
 */
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { UserError } from '../errors.js';

export const SETTINGS_FILE = 'offload.settings.yaml';
const CONFIG_DIRS = ['databases', 'policies'] as const;

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
        } catch {
          /* a missing folder is an empty one */
        }
        out.push(
          ...names
            .filter(isConfig)
            .sort()
            .map((n) => `${dir}/${n}`),
        );
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

/**
 * Configs held in memory, keyed by repo-relative path (forward slashes): for runtimes that fetched them
 * elsewhere (a Lambda reading the config bucket). Lists the same files `fsSource` would for that tree.
 */
export function memorySource(files: ReadonlyMap<string, string | Uint8Array>, label = 'memory'): ConfigSource {
  const bytes = new Map<string, Uint8Array>();
  for (const [rel, body] of files) bytes.set(rel, typeof body === 'string' ? new TextEncoder().encode(body) : body);
  const listed = [...bytes.keys()].filter(
    (f) =>
      f === SETTINGS_FILE || CONFIG_DIRS.some((d) => f.startsWith(`${d}/`) && !f.slice(d.length + 1).includes('/')),
  );
  return {
    label,
    async listFiles() {
      const settings = listed.filter((f) => f === SETTINGS_FILE);
      const byDir = CONFIG_DIRS.flatMap((d) =>
        listed
          .filter((f) => f.startsWith(`${d}/`) && isConfig(f))
          .map((f) => f.slice(d.length + 1))
          .sort()
          .map((n) => `${d}/${n}`),
      );
      return [...settings, ...byDir];
    },
    async readFile(rel) {
      return bytes.get(rel);
    },
  };
}

/**
 * Reads configs at a git revision of the repository at `root`, without touching the working tree:
 * one `git ls-tree` lists the files and their blob ids, and one `git cat-file --batch` reads them all.
 */
export function gitSource(root: string, ref: string): ConfigSource {
  const git = async (args: string[], input?: string): Promise<Buffer> => {
    try {
      const child = execFile('git', ['-C', root, ...args], { encoding: 'buffer', maxBuffer: 1024 * 1024 * 1024 });
      if (input !== undefined) child.stdin!.end(input);
      return await new Promise<Buffer>((resolve, reject) => {
        const chunks: Buffer[] = [];
        const errs: Buffer[] = [];
        child.stdout!.on('data', (c: Buffer) => chunks.push(c));
        child.stderr!.on('data', (c: Buffer) => errs.push(c));
        child.on('error', reject);
        child.on('close', (code) =>
          code === 0
            ? resolve(Buffer.concat(chunks))
            : reject(new Error(Buffer.concat(errs).toString().trim() || `git exited with ${code}`)),
        );
      });
    } catch (e) {
      const msg = (e as Error).message.split('\n')[0];
      throw new UserError(`cannot read git revision "${ref}" in ${root}: ${msg}`);
    }
  };
  let tree: Promise<Map<string, string>> | undefined;
  let blobs: Promise<Map<string, Uint8Array>> | undefined;
  const listTree = () =>
    (tree ??= (async () => {
      const out = (await git(['ls-tree', '-r', '-z', ref, '--', SETTINGS_FILE, ...CONFIG_DIRS])).toString('utf8');
      const files = new Map<string, string>();
      for (const entry of out.split('\0')) {
        const m = /^\d+ blob ([0-9a-f]+)\t(.*)$/s.exec(entry);
        if (!m) continue;
        const f = m[2]!;
        const inDir = CONFIG_DIRS.some((d) => f.startsWith(`${d}/`) && !f.slice(d.length + 1).includes('/'));
        if (f === SETTINGS_FILE || (inDir && isConfig(f))) files.set(f, m[1]!);
      }
      return files;
    })());
  const readAll = () =>
    (blobs ??= (async () => {
      const files = await listTree();
      const ids = [...files.values()];
      const out = new Map<string, Uint8Array>();
      if (!ids.length) return out;
      const buf = await git(['cat-file', '--batch'], `${ids.join('\n')}\n`);
      let at = 0;
      for (const id of ids) {
        const nl = buf.indexOf(0x0a, at);
        const header = buf.subarray(at, nl).toString('utf8').split(' ');
        const size = Number(header[2]);
        out.set(id, new Uint8Array(buf.subarray(nl + 1, nl + 1 + size)));
        at = nl + 1 + size + 1;
      }
      return out;
    })());
  return {
    label: `git:${ref}`,
    async listFiles() {
      try {
        await git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
      } catch {
        throw new UserError(
          `cannot read git revision "${ref}" in ${root}: no such commit ` +
            `(fetch it first, e.g. git fetch origin ${ref.replace(/^origin\//, '')})`,
        );
      }
      return [...(await listTree()).keys()].sort();
    },
    async readFile(rel) {
      const id = (await listTree()).get(rel);
      return id === undefined ? undefined : (await readAll()).get(id);
    },
  };
}
