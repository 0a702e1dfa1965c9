/**
 * discover: reads the synced configs from S3, reads each database's catalog (read-only, the secret
 * its config names), writes the inventory snapshots under `pipeline/inventory/`, and returns the
 * tables the policy engine makes eligible — the same `discoverDatabase` and `evaluate` as
 * `offload discover` and `offload preview`, so what the PR showed is what runs.
 */
import './drivers.js';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { discoverDatabase } from '../../tools/src/catalog/discover.js';
import { loadRepo } from '../../tools/src/config/load.js';
import { evaluate, type Decision } from '../../tools/src/core/index.js';
import { inventoryText, type Inventory } from '../../tools/src/inventory/inventory.js';
import { s3Source } from './s3-source.js';

export interface DiscoverEvent {
  /** Databases to discover. @default all */
  databases?: string[];
  /** As-of date of the decisions. @default now */
  as_of?: string;
}

export interface DiscoverConfig {
  bucket: string;
  prefix: string;
  /** Key prefix of the inventory snapshots. @default 'pipeline/inventory' */
  inventoryPrefix?: string;
}

export interface DiscoverOutput {
  as_of: string;
  databases: { database: string; tables: number; partial: boolean; inventory: string; errors: Inventory['errors'] }[];
  eligible: Pick<Decision, 'database' | 'schema' | 'table' | 'policy' | 'action' | 'reason' | 'rows' | 'bytes'>[];
}

export async function discover(event: DiscoverEvent, config: DiscoverConfig, s3: S3Client): Promise<DiscoverOutput> {
  const repo = await loadRepo(s3Source(s3, config.bucket, config.prefix));
  if (repo.errors > 0)
    throw new Error(
      `the synced configs at s3://${config.bucket}/${config.prefix} have ${repo.errors} validation error(s): ` +
        repo.findings
          .filter((f) => f.severity === 'error')
          .slice(0, 5)
          .map((f) => `${f.file}:${f.line} ${f.code}`)
          .join('; '),
    );
  const wanted = event.databases?.length ? new Set(event.databases) : undefined;
  const unknown = [...(wanted ?? [])].filter((n) => !repo.databases.some((d) => d.config.name === n));
  if (unknown.length) throw new Error(`no synced database named ${unknown.join(', ')}`);
  const chosen = repo.databases.map((d) => d.config).filter((d) => !wanted || wanted.has(d.name));
  const policies = repo.policies.map((p) => p.config);
  const asOf = event.as_of ?? new Date().toISOString();
  const inventories = new Map<string, Inventory>();
  const databases: DiscoverOutput['databases'] = [];
  for (const database of chosen) {
    const { inventory } = await discoverDatabase({
      database,
      policies,
      credentials: { env: {}, aws: true, ...(process.env.AWS_REGION ? { region: process.env.AWS_REGION } : {}) },
    });
    const key = `${config.inventoryPrefix ?? 'pipeline/inventory'}/${database.name}.json`;
    await s3.send(
      new PutObjectCommand({
        Bucket: config.bucket,
        Key: key,
        Body: inventoryText(inventory),
        ContentType: 'application/json',
      }),
    );
    inventories.set(database.name, inventory);
    databases.push({
      database: database.name,
      tables: inventory.tables.length,
      partial: inventory.partial,
      inventory: `s3://${config.bucket}/${key}`,
      errors: inventory.errors,
    });
  }
  const evaluation = evaluate({ databases: chosen, policies, inventories, asOf });
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
  return { as_of: evaluation.as_of, databases, eligible };
}

let client: S3Client | undefined;

/** The Lambda entry point (invoked synchronously by the archival DAG). */
export async function handler(event: DiscoverEvent = {}): Promise<DiscoverOutput> {
  client ??= new S3Client({});
  return discover(
    event ?? {},
    { bucket: process.env.OFFLOAD_CONFIG_BUCKET!, prefix: process.env.OFFLOAD_CONFIG_PREFIX! },
    client,
  );
}
