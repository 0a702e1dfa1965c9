/**
 * The JSON Schemas in `schema/` — the single source of truth of the formats — imported as data, so the
 * core reads no file relative to its own location at run time and bundles into a single file.
 */
import database from '../../../schema/database.schema.json' with { type: 'json' };
import inventory from '../../../schema/inventory.schema.json' with { type: 'json' };
import policy from '../../../schema/policy.schema.json' with { type: 'json' };
import settings from '../../../schema/settings.schema.json' with { type: 'json' };
import workUnit from '../../../schema/work-unit.schema.json' with { type: 'json' };

export type ConfigKind = 'database' | 'policy' | 'settings';

/** Schema file of each config kind, relative to `schema/`. */
export const SCHEMA_FILES: Record<ConfigKind, string> = {
  database: 'database.schema.json',
  policy: 'policy.schema.json',
  settings: 'settings.schema.json',
};

/** The schemas the core validates with at run time, by file name. */
const SCHEMAS: Record<string, object> = {
  'database.schema.json': database,
  'inventory.schema.json': inventory,
  'policy.schema.json': policy,
  'settings.schema.json': settings,
  'work-unit.schema.json': workUnit,
};

/** A schema of `schema/` by file name (one shared, never-mutated object per schema). */
export function readSchema(file: string): Record<string, unknown> {
  const s = SCHEMAS[file];
  if (!s) throw new Error(`schema/${file} is not one the core validates with (add it to config/schemas.ts)`);
  return s as Record<string, unknown>;
}
