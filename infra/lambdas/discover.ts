/**
 * discover: reads the synced configs from the config table (the values `offload sync` validated and
 * published; reused by a warm Lambda while the sync manifest is unchanged), reads each database's catalog
 * (read-only, the secret its config names), writes the inventory snapshots under `pipeline/inventory/`, and returns the
 * tables the policy engine makes eligible — the same `discoverDatabase` and `evaluate` as
 * `offload discover` and `offload preview`, so what the PR showed is what runs — and one work unit per
 * table and action (the same `planWorkUnits` as `offload plan-work`) under `pipeline/work-units/<run>/`,
 * stamped with the synced commit from the sync manifest. With a ledger table (OFFLOAD_LEDGER_TABLE) it
 * reads the run ledger first, as `offload run` does: archived tables count as archived for the engine
 * and an `archived` table gets only its validate unit.
 */
import './drivers.js';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { randomUUID } from 'node:crypto';
import pLimit from 'p-limit';
import { discoverDatabase } from '../../tools/src/catalog/discover.js';
import { evaluate, type Decision } from '../../tools/src/engine/evaluate.js';
import type { DatabaseConfig } from '../../tools/src/generated/database.js';
import type { PolicyConfig } from '../../tools/src/generated/policy.js';
import type { OffloadSettings } from '../../tools/src/generated/settings.js';
import { inventoryText } from '../../tools/src/inventory/format.js';
import type { Inventory } from '../../tools/src/inventory/inventory.js';
import { planWorkUnits } from '../../tools/src/work/units.js';
import { archiveRecordsOf, progressOf, type LedgerEntry } from '../../tools/src/ledger/index.js';
import { createDynamoLedger } from '../../tools/src/ledger/dynamodb.js';

export interface DiscoverEvent {
  /** Databases to discover. @default all */
  databases?: string[];
  /** As-of date of the decisions. @default now */
  as_of?: string;
  /** Run id stamped on the work units (the DAG passes its own). @default a new id */
  run_id?: string;
}

export interface DiscoverConfig {
  /** The config bucket: the sync manifest (commit) under `prefix`, inventories and work units written here. */
  bucket: string;
  prefix: string;
  /** The DynamoDB config table `offload sync` publishes the validated configs to. */
  configTable: string;
  /** Its client. @default one made for the call */
  ddb?: DynamoDBDocumentClient;
  /** Key prefix of the inventory snapshots. @default 'pipeline/inventory' */
  inventoryPrefix?: string;
  /** The run ledger's DynamoDB table. @default none: nothing counts as archived */
  ledgerTable?: string;
  /**
   * Keep the loaded configs for the next invocation of a warm Lambda, reused while the sync manifest's ETag is
   * unchanged (every sync that changes a config writes a new manifest, last). @default false: read every time
   */
  reuseConfigs?: boolean;
  /** Secrets Manager client reused across invocations. @default one per secret read */
  secretsManager?: SecretsManagerClient;
}

export interface DiscoverOutput {
  as_of: string;
  databases: { database: string; tables: number; partial: boolean; inventory: string; errors: Inventory['errors'] }[];
  eligible: Pick<Decision, 'database' | 'schema' | 'table' | 'policy' | 'action' | 'reason' | 'rows' | 'bytes'>[];
  run_id: string;
  /** S3 URIs of the work units written, in the engine's order. */
  work_units: string[];
  /** Decisions that could not become a work unit, with the reason. */
  problems: { database: string; schema: string; table: string; code: string; message: string }[];
}

export async function discover(event: DiscoverEvent, config: DiscoverConfig, s3: S3Client): Promise<DiscoverOutput> {
  const { configs, manifest } = await syncedConfigs(s3, config);
  const wanted = event.databases?.length ? new Set(event.databases) : undefined;
  const unknown = [...(wanted ?? [])].filter((n) => !configs.databases.some((d) => d.name === n));
  if (unknown.length) throw new Error(`no synced database named ${unknown.join(', ')}`);
  const chosen = configs.databases.filter((d) => !wanted || wanted.has(d.name));
  const policies = configs.policies;
  const asOf = event.as_of ?? new Date().toISOString();
  // Both reads overlap the catalog queries (awaited after them; a failure is not lost, only deferred).
  const pendingEntries = ledgerEntries(config.ledgerTable, wanted);
  const pendingCommit = manifest.then((m) => m.commit);
  pendingEntries.catch(() => undefined);
  pendingCommit.catch(() => undefined);
  const inventories = new Map<string, Inventory>();
  const databases: DiscoverOutput['databases'] = [];
  const snapshots: Promise<unknown>[] = [];
  for (const database of chosen) {
    const { inventory } = await discoverDatabase({
      database,
      policies,
      credentials: {
        env: {},
        aws: true,
        ...(process.env.AWS_REGION ? { region: process.env.AWS_REGION } : {}),
        ...(config.secretsManager ? { secretsManager: config.secretsManager } : {}),
      },
    });
    const key = `${config.inventoryPrefix ?? 'pipeline/inventory'}/${database.name}.json`;
    // Written while the next database is discovered and the engine runs; all written before any work unit.
    const put = s3.send(
      new PutObjectCommand({
        Bucket: config.bucket,
        Key: key,
        Body: inventoryText(inventory),
        ContentType: 'application/json',
      }),
    );
    put.catch(() => undefined); // awaited below
    snapshots.push(put);
    inventories.set(database.name, inventory);
    databases.push({
      database: database.name,
      tables: inventory.tables.length,
      partial: inventory.partial,
      inventory: `s3://${config.bucket}/${key}`,
      errors: inventory.errors,
    });
  }
  const entries = await pendingEntries;
  const evaluation = evaluate({ databases: chosen, policies, inventories, asOf, archive: archiveRecordsOf(entries) });
  const eligible = evaluation.databases
    .filter((d) => d.status === 'ok')
    .flatMap((d) => d.decisions.filter((x) => x.action !== 'none'))
    .map(({ database, schema, table, policy, action, reason, rows, bytes }) => ({
      database,
      schema,
      table,
      policy,
      action,
      reason,
      rows,
      bytes,
    }));
  const runId = event.run_id ?? `aws-${evaluation.as_of.slice(0, 10)}-${randomUUID().slice(0, 8)}`;
  if (!/^[A-Za-z0-9._:+-]{1,200}$/.test(runId))
    throw new Error(`run_id ${JSON.stringify(runId)} cannot name an S3 folder`);
  const planned = planWorkUnits(
    evaluation,
    {
      settings: configs.settings,
      databases: chosen,
      policies,
      runId,
      configCommit: await pendingCommit,
      runtime: 'aws',
    },
    { progress: progressOf(entries) },
  );
  await Promise.all(snapshots);
  // One PUT per work unit, a few at a time; the list keeps the engine's order.
  const limit = pLimit(8);
  const work_units = await Promise.all(
    planned.units.map((unit, i) =>
      limit(async () => {
        const key = `pipeline/work-units/${runId}/${String(i).padStart(5, '0')}-${unit.action}.json`;
        await s3.send(
          new PutObjectCommand({
            Bucket: config.bucket,
            Key: key,
            Body: `${JSON.stringify(unit, null, 2)}\n`,
            ContentType: 'application/json',
          }),
        );
        return `s3://${config.bucket}/${key}`;
      }),
    ),
  );
  return { as_of: evaluation.as_of, databases, eligible, run_id: runId, work_units, problems: planned.problems };
}

async function ledgerEntries(table: string | undefined, wanted: Set<string> | undefined): Promise<LedgerEntry[]> {
  if (!table) return [];
  const ledger = createDynamoLedger({ table });
  try {
    const all = await ledger.list();
    return wanted ? all.filter((e) => wanted.has(e.database)) : all;
  } finally {
    ledger.close();
  }
}

/** The last sync's manifest: its ETag (the cache key of the loaded configs) and commit (stamped on every unit). */
async function readManifest(s3: S3Client, config: DiscoverConfig): Promise<{ etag: string; commit: string }> {
  const key = `${config.prefix}/_offload/manifest.json`;
  try {
    const o = await s3.send(new GetObjectCommand({ Bucket: config.bucket, Key: key }));
    const commit = (JSON.parse(await o.Body!.transformToString('utf8')) as { commit?: unknown }).commit;
    if (typeof commit === 'string' && commit) return { etag: o.ETag ?? '', commit };
  } catch (e) {
    if ((e as { name?: string }).name !== 'NoSuchKey') throw e;
  }
  throw new Error(`s3://${config.bucket}/${key} has no commit: run offload sync --target aws --apply first`);
}

/** The configs as `offload sync` published them to the config table: the values its validation accepted. */
export interface SyncedConfigs {
  settings: OffloadSettings;
  databases: DatabaseConfig[];
  policies: PolicyConfig[];
}

/**
 * Reads the config table (a consistent Scan): the SETTINGS item and one DATABASE#… / POLICY#… item per file,
 * each holding the parsed config that `offload sync` validated (the whole repo, as `offload validate` does)
 * before publishing it, in file order as a checkout lists them.
 */
export async function tableConfigs(ddb: DynamoDBDocumentClient, table: string): Promise<SyncedConfigs> {
  const items: { pk?: unknown; kind?: unknown; source_file?: unknown; config?: unknown }[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await ddb.send(
      new ScanCommand({ TableName: table, ConsistentRead: true, ...(ExclusiveStartKey ? { ExclusiveStartKey } : {}) }),
    );
    items.push(...((page.Items ?? []) as typeof items));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  const settings = items.find((i) => i.pk === 'SETTINGS' && i.kind === 'settings')?.config;
  if (!settings || typeof settings !== 'object')
    throw new Error(`the config table ${table} has no SETTINGS item: run offload sync --target aws --apply first`);
  const of = <T>(kind: string) =>
    items
      .filter((i) => i.kind === kind && typeof i.pk === 'string' && i.pk.startsWith(`${kind.toUpperCase()}#`))
      .sort((a, b) =>
        String(a.source_file) < String(b.source_file) ? -1 : String(a.source_file) > String(b.source_file) ? 1 : 0,
      )
      .map((i) => i.config as T);
  return {
    settings: settings as OffloadSettings,
    databases: of<DatabaseConfig>('database'),
    policies: of<PolicyConfig>('policy'),
  };
}

/** The configs read by the last invocation (reuseConfigs), with the manifest ETag they were read under. */
let synced: { source: string; etag: string; configs: SyncedConfigs } | undefined;

/**
 * The synced configs and the manifest, read side by side; with reuseConfigs, the previous invocation's configs
 * while the manifest's ETag is the one they were read under (a sync writes its manifest last).
 */
async function syncedConfigs(
  s3: S3Client,
  config: DiscoverConfig,
): Promise<{ configs: SyncedConfigs; manifest: Promise<{ etag: string; commit: string }> }> {
  const source = `${config.configTable}|s3://${config.bucket}/${config.prefix}`;
  const manifest = readManifest(s3, config);
  manifest.catch(() => undefined); // awaited later, with the work units
  if (config.reuseConfigs && synced?.source === source) {
    const m = await manifest.catch(() => undefined);
    if (m?.etag && m.etag === synced.etag) return { configs: synced.configs, manifest };
  }
  const configs = await tableConfigs(
    config.ddb ?? DynamoDBDocumentClient.from(new DynamoDBClient({})),
    config.configTable,
  );
  if (config.reuseConfigs) {
    const m = await manifest.catch(() => undefined);
    synced = m?.etag ? { source, etag: m.etag, configs } : undefined;
  }
  return { configs, manifest };
}

let client: S3Client | undefined;
let secrets: SecretsManagerClient | undefined;
let table: DynamoDBDocumentClient | undefined;

/** The Lambda entry point (invoked synchronously by the archival DAG). */
export async function handler(event: DiscoverEvent = {}): Promise<DiscoverOutput> {
  client ??= new S3Client({});
  secrets ??= new SecretsManagerClient({ maxAttempts: 2 });
  table ??= DynamoDBDocumentClient.from(new DynamoDBClient({}));
  return discover(
    event ?? {},
    {
      bucket: process.env.OFFLOAD_CONFIG_BUCKET!,
      prefix: process.env.OFFLOAD_CONFIG_PREFIX!,
      configTable: process.env.OFFLOAD_CONFIG_TABLE!,
      ddb: table,
      ...(process.env.OFFLOAD_LEDGER_TABLE ? { ledgerTable: process.env.OFFLOAD_LEDGER_TABLE } : {}),
      reuseConfigs: true,
      secretsManager: secrets,
    },
    client,
  );
}
