/**
 * Inventory snapshots (`schema/inventory.schema.json`): one versioned JSON file per database,
 * `<dir>/<database>.json`. Reading validates against the schema and refuses unknown format versions.
 */
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { Inventory } from '../generated/inventory.js';
import type { DiscoveryFailure } from '../generated/inventory-error.js';
import { readSchema } from '../config/schemas.js';
import { ensureDir } from '../dirs.js';
import { INVENTORY_FORMAT_VERSION, inventoryText } from './format.js';

export type { Inventory, DiscoveryFailure };
export type InventoryTable = Inventory['tables'][number];
export type InventoryError = Inventory['errors'][number];

export { INVENTORY_FORMAT_VERSION, inventoryText } from './format.js';
/** Default folder of inventory snapshots, relative to the repository root. */
export const DEFAULT_INVENTORY_DIR = 'inventory';

type AddFormats = (ajv: Ajv2020, formats: string[]) => unknown;
const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ??
  addFormatsModule) as unknown as AddFormats;
const validators = new Map<string, ValidateFunction>();

function problemsAgainst(schemaFile: string, doc: unknown): string[] {
  let validator = validators.get(schemaFile);
  if (!validator) {
    const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, allowUnionTypes: true });
    addFormats(ajv, ['date-time']);
    validators.set(schemaFile, (validator = ajv.compile(readSchema(schemaFile))));
  }
  if (validator(doc)) return [];
  return (validator.errors ?? [])
    .slice(0, 5)
    .map((e) => `${e.instancePath || '(top level)'} ${e.message ?? e.keyword}`);
}

/** Schema problems of a parsed inventory (empty when valid). */
export function inventoryProblems(doc: unknown): string[] {
  return problemsAgainst('inventory.schema.json', doc);
}

const inventoryPath = (dir: string, database: string) => path.join(dir, `${database}.json`);
/** The record of a failed discovery, beside the last good snapshot (`schema/inventory-error.schema.json`). */
const failurePath = (dir: string, database: string) => path.join(dir, `${database}.error.json`);

export type ReadResult =
  | { ok: true; inventory: Inventory }
  | { ok: false; code: 'inventory/missing' | 'inventory/invalid' | 'inventory/version'; message: string };

/** Reads `<dir>/<database>.json`; says plainly when it is missing, unreadable or of another version. */
export async function readInventory(dir: string, database: string): Promise<ReadResult> {
  const file = inventoryPath(dir, database);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return {
      ok: false,
      code: 'inventory/missing',
      message: `no inventory for database ${database} (${file}); run \`offload discover --database ${database}\``,
    };
  }
  return parseInventory(text, database, file);
}

/**
 * Parses an inventory's text (from a file, an S3 object…) and checks it: JSON, format version, schema and
 * that it is the inventory of `database`. `label` names it in messages.
 */
export function parseInventory(text: string, database: string, label: string): ReadResult {
  const file = label;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return { ok: false, code: 'inventory/invalid', message: `inventory ${file} is not JSON: ${(e as Error).message}` };
  }
  const v = (doc as { format_version?: unknown })?.format_version;
  if (v !== INVENTORY_FORMAT_VERSION)
    return {
      ok: false,
      code: 'inventory/version',
      message:
        `inventory ${file} has format_version ${JSON.stringify(v)}; ` +
        `this offload reads version ${INVENTORY_FORMAT_VERSION} (rerun discover)`,
    };
  const problems = inventoryProblems(doc);
  if (problems.length)
    return {
      ok: false,
      code: 'inventory/invalid',
      message: `inventory ${file} does not match schema/inventory.schema.json: ${problems.join('; ')}`,
    };
  const inv = doc as Inventory;
  if (inv.database !== database)
    return {
      ok: false,
      code: 'inventory/invalid',
      message: `inventory ${file} is for database ${inv.database}, not ${database}`,
    };
  return { ok: true, inventory: inv };
}

/** Writes atomically (temp file + rename). */
export async function writeInventory(dir: string, inv: Inventory): Promise<string> {
  await ensureDir(dir, 'inventory folder');
  const file = inventoryPath(dir, inv.database);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, inventoryText(inv));
  await rename(tmp, file);
  return file;
}

export type WriteOutcome =
  | { written: true; file: string }
  /** The discovery failed and a good snapshot existed: it was kept, the failure recorded beside it. */
  | { written: false; file: string; failureFile: string; kept: Inventory };

/**
 * Stores a discovery's result. A complete inventory replaces the snapshot (and removes any failure
 * record). A partial one (unreachable database, unreadable schema or table) never replaces a complete
 * snapshot: that is kept, and the failure is recorded beside it in `<database>.error.json`. With no
 * complete snapshot to keep, the partial inventory is written (a preview refuses to evaluate it).
 */
export async function storeDiscovery(dir: string, inv: Inventory): Promise<WriteOutcome> {
  const failureFile = failurePath(dir, inv.database);
  if (inv.partial) {
    const previous = await readInventory(dir, inv.database);
    if (previous.ok && !previous.inventory.partial) {
      await ensureDir(dir, 'inventory folder');
      const record: DiscoveryFailure = {
        format_version: INVENTORY_FORMAT_VERSION,
        tool: inv.tool,
        database: inv.database,
        failed_at: inv.discovered_at,
        snapshot_discovered_at: previous.inventory.discovered_at,
        errors: (inv.errors.length
          ? inv.errors
          : [{ code: 'discover/partial', message: 'the discovery was incomplete' }]) as DiscoveryFailure['errors'],
      };
      await atomicWrite(failureFile, `${JSON.stringify(record, null, 2)}\n`);
      return { written: false, file: inventoryPath(dir, inv.database), failureFile, kept: previous.inventory };
    }
  }
  const file = await writeInventory(dir, inv);
  await rm(failureFile, { force: true });
  return { written: true, file };
}

/**
 * The failure recorded after the snapshot `inv` was taken, or undefined. A record for another
 * snapshot (left behind by hand) does not apply; an unreadable one is reported as a failure of its own.
 */
export async function readDiscoveryFailure(dir: string, inv: Inventory): Promise<DiscoveryFailure | undefined> {
  const file = failurePath(dir, inv.database);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    doc = undefined;
  }
  const problems = doc === undefined ? ['not JSON'] : problemsAgainst('inventory-error.schema.json', doc);
  if (problems.length)
    return {
      format_version: INVENTORY_FORMAT_VERSION,
      tool: inv.tool,
      database: inv.database,
      failed_at: inv.discovered_at,
      snapshot_discovered_at: inv.discovered_at,
      errors: [
        { code: 'inventory/invalid', message: `${file} is unreadable (${problems.join('; ')}): rerun discover` },
      ],
    };
  const rec = doc as DiscoveryFailure;
  return rec.snapshot_discovered_at === inv.discovered_at && rec.database === inv.database ? rec : undefined;
}

async function atomicWrite(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, file);
}
