/** The JSON Schemas in `schema/` — the single source of truth of the config formats. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** `schema/` of the repository; a bundle that ships the schemas elsewhere (the Lambdas) sets OFFLOAD_SCHEMA_DIR. */
export const SCHEMA_DIR =
  process.env.OFFLOAD_SCHEMA_DIR ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../schema');

export type ConfigKind = 'database' | 'policy' | 'settings';

/** Schema file of each config kind, relative to `schema/`. */
export const SCHEMA_FILES: Record<ConfigKind, string> = {
  database: 'database.schema.json',
  policy: 'policy.schema.json',
  settings: 'settings.schema.json',
};

const cache = new Map<string, object>();

/** Reads a schema from `schema/` (cached for the life of the process). */
export function readSchema(file: string): Record<string, unknown> {
  let s = cache.get(file);
  if (!s) {
    s = JSON.parse(readFileSync(path.join(SCHEMA_DIR, file), 'utf8')) as object;
    cache.set(file, s);
  }
  return s as Record<string, unknown>;
}
