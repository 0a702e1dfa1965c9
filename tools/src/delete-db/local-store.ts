/**
 * The local runtime's archives: a Hadoop-catalog warehouse (`<warehouse>/<database>/<table>/` holding
 * `metadata/` and `data/`; the catalog entry is the directory itself) and audit records in a directory.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LINEAGE, type ArchiveTable } from './model.js';
import type { ArchiveStore } from './store.js';

async function walk(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return { files, bytes };
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      const sub = await walk(p);
      files += sub.files;
      bytes += sub.bytes;
    } else {
      files++;
      bytes += (await stat(p)).size;
    }
  }
  return { files, bytes };
}

/** The current metadata file: `version-hint.text`'s version, else the highest `v<N>.metadata.json`. */
async function currentMetadata(dir: string): Promise<string | undefined> {
  const meta = path.join(dir, 'metadata');
  const hint = path.join(meta, 'version-hint.text');
  if (existsSync(hint)) {
    const f = path.join(meta, `v${(await readFile(hint, 'utf8')).trim()}.metadata.json`);
    if (existsSync(f)) return f;
  }
  let names: string[];
  try {
    names = await readdir(meta);
  } catch {
    return undefined;
  }
  const best = names
    .map((f) => /^v(\d+)\.metadata\.json$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .sort((a, b) => Number(b[1]) - Number(a[1]))[0];
  return best ? path.join(meta, best[0]) : undefined;
}

/** The `offload.*` properties of an Iceberg metadata JSON text. */
export function lineageOf(text: string): Record<string, string> {
  const doc = JSON.parse(text) as { properties?: Record<string, unknown> };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(doc.properties ?? {}))
    if (k.startsWith(LINEAGE) && typeof v === 'string') out[k] = v;
  return out;
}

export function createLocalArchiveStore(opts: { warehouse: string; auditDir: string }): ArchiveStore {
  const warehouse = path.resolve(opts.warehouse);
  const auditDir = path.resolve(opts.auditDir);
  return {
    label: `local:${warehouse}`,
    async databaseExists(db) {
      return existsSync(path.join(warehouse, db));
    },
    async listTables(db) {
      const dir = path.join(warehouse, db);
      let entries: import('node:fs').Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        return [];
      }
      const out: ArchiveTable[] = [];
      for (const e of entries.filter((x) => x.isDirectory()).sort((a, b) => (a.name < b.name ? -1 : 1))) {
        const location = path.join(dir, e.name);
        const { files, bytes } = await walk(location);
        const file = await currentMetadata(location);
        let properties: Record<string, string> | undefined;
        let problem: string | undefined;
        try {
          if (!file) problem = 'no metadata file';
          else properties = lineageOf(await readFile(file, 'utf8'));
        } catch (err) {
          problem = `${path.relative(warehouse, file!)}: ${(err as Error).message}`;
        }
        out.push({ name: e.name, location, properties, ...(problem ? { problem } : {}), files, bytes });
      }
      return out;
    },
    async lockedObjects() {
      return [];
    },
    async countFiles(location) {
      return (await walk(location)).files;
    },
    async deleteFiles(location) {
      await rm(location, { recursive: true, force: true });
    },
    async dropTableEntry() {
      /* the directory was the entry */
    },
    async dropDatabase(db) {
      await rm(path.join(warehouse, db), { recursive: true, force: true });
    },
    async writeAudit(name, record) {
      await mkdir(auditDir, { recursive: true });
      const file = path.join(auditDir, name);
      await writeFile(file, `${JSON.stringify(record, null, 2)}\n`, { flag: 'wx' });
      return file;
    },
    async readAudits(prefix) {
      let names: string[];
      try {
        names = await readdir(auditDir);
      } catch {
        return [];
      }
      const out: Record<string, unknown>[] = [];
      for (const n of names.filter((x) => x.startsWith(prefix)).sort())
        out.push(JSON.parse(await readFile(path.join(auditDir, n), 'utf8')) as Record<string, unknown>);
      return out;
    },
  };
}
