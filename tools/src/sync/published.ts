/**
 * Reads the configs a sync published, for the pipeline side (the local runtime, the discovery
 * Lambda): the config table's items, from the local state directory or from DynamoDB. Foreign,
 * malformed and hand-edited items (config no longer matching its config_sha256) are skipped and
 * counted. Sync writes the table before the config files whose upload triggers the pipeline, so a
 * triggered run reads a complete table.
 */
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { canonicalJson, sha256Hex } from './canonical.js';
import type { ConfigItem } from '../generated/config-item.js';
import { STATE_PK } from './model.js';

/** A config item (schema/config-item.schema.json) as the pipeline uses it. */
interface PublishedConfig {
  kind: ConfigItem['kind'];
  name: string;
  config: Record<string, unknown>;
  resolved?: ConfigItem['resolved'];
  version: number;
  gitCommit?: string;
  updatedAt?: string;
}

export interface PublishedConfigs {
  settings?: PublishedConfig;
  databases: PublishedConfig[];
  policies: PublishedConfig[];
  /** Sync generation of the table state (0 when nothing was ever synced). */
  generation: number;
  /** Items skipped because they are not well-formed managed items. */
  skipped: number;
}

/** Sorts raw items (plain JS values) into published configs. */
function publishedFromItems(items: Record<string, unknown>[]): PublishedConfigs {
  const out: PublishedConfigs = { databases: [], policies: [], generation: 0, skipped: 0 };
  for (const it of items) {
    if (it.pk === STATE_PK) {
      out.generation = typeof it.generation === 'number' ? it.generation : 0;
      continue;
    }
    const kind = it.kind;
    const ok =
      (kind === 'settings' || kind === 'database' || kind === 'policy') &&
      typeof it.name === 'string' &&
      !!it.config &&
      typeof it.config === 'object' &&
      typeof it.version === 'number' &&
      // A config edited by hand no longer matches its hash: the pipeline must not run on it.
      it.config_sha256 === sha256Hex(canonicalJson({ config: it.config, resolved: it.resolved ?? null }));
    if (!ok) {
      out.skipped++;
      continue;
    }
    const c: PublishedConfig = {
      kind,
      name: it.name as string,
      config: it.config as Record<string, unknown>,
      version: it.version as number,
    };
    if (it.resolved) c.resolved = it.resolved as ConfigItem['resolved'];
    if (typeof it.git_commit === 'string') c.gitCommit = it.git_commit;
    if (typeof it.updated_at === 'string') c.updatedAt = it.updated_at;
    if (kind === 'settings') out.settings = c;
    else (kind === 'database' ? out.databases : out.policies).push(c);
  }
  out.databases.sort((a, b) => (a.name < b.name ? -1 : 1));
  out.policies.sort((a, b) => (a.name < b.name ? -1 : 1));
  return out;
}

/** A local sync's journal, relative to the state directory: the item batch it is writing. */
export const LOCAL_JOURNAL = 'journal.json';

export interface JournalEntry {
  pk: string;
  /** The whole item; absent for a delete. */
  put?: Record<string, unknown>;
}

/**
 * The item batch a local sync committed to its journal and has not finished writing (it is writing
 * it, or died): readers lay it over the item files, so a batch is seen whole or not at all.
 */
export async function readLocalJournal(dir: string): Promise<JournalEntry[]> {
  try {
    return (JSON.parse(await readFile(path.join(dir, LOCAL_JOURNAL), 'utf8')) as { entries: JournalEntry[] }).entries;
  } catch {
    return [];
  }
}

/** The configs published to a local state directory (`offload sync --target local[:DIR]`). */
export async function readPublishedLocal(dir: string): Promise<PublishedConfigs> {
  const table = path.join(dir, 'table');
  let names: string[] = [];
  try {
    names = (await readdir(table)).filter((n) => n.endsWith('.json'));
  } catch {
    /* nothing synced yet */
  }
  const items: Record<string, unknown>[] = [];
  let unreadable = 0;
  for (const n of names) {
    try {
      items.push(JSON.parse(await readFile(path.join(table, n), 'utf8')));
    } catch {
      unreadable++;
    }
  }
  const journal = await readLocalJournal(dir);
  const replaced = new Set(journal.map((e) => e.pk));
  const whole = [
    ...items.filter((it) => !replaced.has(it.pk as string)),
    ...journal.flatMap((e) => (e.put ? [e.put] : [])),
  ];
  const out = publishedFromItems(whole);
  out.skipped += unreadable;
  return out;
}

/** The configs published to the DynamoDB config table (AWS SDK chain for credentials and region). */
export async function readPublishedDynamo(table: string, region?: string): Promise<PublishedConfigs> {
  const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  const { DynamoDBDocumentClient, ScanCommand } = await import('@aws-sdk/lib-dynamodb');
  const ddb = DynamoDBDocumentClient.from(new DynamoDBClient(region ? { region } : {}));
  const items: Record<string, unknown>[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await ddb.send(new ScanCommand({ TableName: table, ConsistentRead: true, ExclusiveStartKey }));
    items.push(...(page.Items ?? []));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return publishedFromItems(items);
}
