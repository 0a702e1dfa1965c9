/**
 * Test harness for `offload sync`: a config repo fixture written by hand, and for each target a way
 * to create the remote resources, read the whole remote state back *without* the code under test
 * (plain SDK calls or plain file reads) and tamper with it like a person with console access would.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { readFile, readdir, writeFile, rm, mkdir } from 'node:fs/promises';
import path from 'node:path';
import {
  S3Client,
  CreateBucketCommand,
  ListObjectsV2Command,
  GetObjectCommand,
  PutObjectCommand,
  DeleteObjectCommand,
} from '@aws-sdk/client-s3';
import { DynamoDBClient, CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand, PutCommand, DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { GlueClient, GetConnectionsCommand, CreateConnectionCommand } from '@aws-sdk/client-glue';
import { parse } from 'yaml';
import type { Tree } from './fixtures.js';
import { SETTINGS as BASE_SETTINGS } from './repo.js';

export const BUCKET = 'acme-archival-configs';
export const TABLE = 'acme-archival-configs';
export const PREFIX = 'configs';
const REGION = 'eu-west-1';

/** The shared fixture's settings (same bucket, table, prefix and region), with tags as defaults. */
export const SETTINGS = BASE_SETTINGS.replace(
  /^defaults:[\s\S]*$/m,
  'defaults:\n  tags:\n    managed-by: offload-test\n',
);

export function database(
  name: string,
  opts: {
    url?: string;
    secret?: string;
    subnet?: string;
    sg?: string;
    az?: string;
    network?: boolean;
    comment?: string;
  } = {},
): string {
  const net =
    opts.network === false
      ? ''
      : `network:
  subnet_ids: [${opts.subnet ?? 'subnet-0a1b2c3d4e5f60718'}]
  security_group_ids: [${opts.sg ?? 'sg-0123456789abcdef0'}]
  availability_zone: ${opts.az ?? 'eu-west-1a'}
`;
  return `${opts.comment ? `# ${opts.comment}\n` : ''}name: ${name}
description: Test database ${name}
engine: postgres
jdbc_url: ${opts.url ?? `jdbc:postgresql://${name}.example.internal:5432/${name}`}
credentials:
  secret: ${opts.secret ?? `acme/${name}`}
${net}owner:
  team: Ledger
  contact: ledger@acme.example
scope:
  - schema: payments
    include: ["^txn_[0-9]{6}$"]
    policies: [monthly]
`;
}

export function policy(name: string, archiveAfter = 'P2Y'): string {
  return `name: ${name}
age:
  from: table_name
  pattern: "*_YYYYMM"
archive_after: ${archiveAfter}
purge_after: P7Y
source:
  action: keep
`;
}

/** Settings, two databases (one with a VPC placement, one without) and one policy. */
export function syncRepo(): Tree {
  return {
    'offload.settings.yaml': SETTINGS,
    'databases/db1.yaml': database('db1'),
    'databases/db2.yaml': database('db2', { network: false }),
    'policies/monthly.yaml': policy('monthly'),
  };
}

/** Everything a target holds, read independently of the sync code. */
export interface RemoteState {
  files: Record<string, { body: string; sha256?: string }>;
  items: Record<string, Record<string, any>>;
  connections: Record<
    string,
    {
      type?: string;
      url?: string;
      secret?: string;
      subnet?: string;
      sgs?: string[];
      az?: string;
      description?: string;
      properties: Record<string, string>;
    }
  >;
}

/** The remote state without what legitimately differs between two runs (times, run ids, generations). */
export function stable(s: RemoteState): RemoteState {
  const items: RemoteState['items'] = {};
  for (const [pk, it] of Object.entries(s.items)) {
    const {
      created_at,
      updated_at,
      sync_run_id,
      sync_generation,
      lock_owner,
      lock_expires_at,
      started_at,
      generation,
      ...rest
    } = it;
    items[pk] = rest;
  }
  const files: RemoteState['files'] = {};
  for (const [k, f] of Object.entries(s.files)) {
    if (k.endsWith('_offload/manifest.json')) {
      const { generation, runId, completedAt, ...m } = JSON.parse(f.body);
      files[k] = { body: JSON.stringify(m) };
    } else files[k] = { body: f.body, ...(f.sha256 ? { sha256: f.sha256 } : {}) };
  }
  return { files, items, connections: s.connections };
}

export interface Harness {
  name: string;
  /** `--target` value. */
  target: string;
  setup(): Promise<void>;
  state(): Promise<RemoteState>;
  putFile(key: string, body: string): Promise<void>;
  deleteFile(key: string): Promise<void>;
  putItem(item: Record<string, any>): Promise<void>;
  deleteItem(pk: string): Promise<void>;
  /** Writes a connection as someone would by hand (replacing any there). */
  putConnection(name: string, props: Record<string, string>): Promise<void>;
}

function connView(
  props: Record<string, string>,
  phys: { SubnetId?: string; SecurityGroupIdList?: string[]; AvailabilityZone?: string } | undefined,
  type?: string,
  description?: string,
): RemoteState['connections'][string] {
  return {
    type,
    url: props.JDBC_CONNECTION_URL,
    secret: props.SECRET_ID,
    subnet: phys?.SubnetId,
    sgs: phys?.SecurityGroupIdList,
    az: phys?.AvailabilityZone,
    description,
    properties: props,
  };
}

export function localHarness(dir: string): Harness {
  const p = (...parts: string[]) => path.join(dir, ...parts);
  const enc = (pk: string) => `${encodeURIComponent(pk)}.json`;
  async function walk(root: string, rel = ''): Promise<string[]> {
    let entries;
    try {
      entries = await readdir(path.join(root, rel), { withFileTypes: true });
    } catch {
      return [];
    }
    const out: string[] = [];
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) out.push(...(await walk(root, r)));
      else out.push(r);
    }
    return out;
  }
  return {
    name: 'local',
    target: `local:${dir}`,
    async setup() {
      await rm(dir, { recursive: true, force: true });
    },
    async state() {
      const s: RemoteState = { files: {}, items: {}, connections: {} };
      for (const key of await walk(p('bucket'))) s.files[key] = { body: await readFile(p('bucket', key), 'utf8') };
      for (const f of await walk(p('table'))) {
        const it = JSON.parse(await readFile(p('table', f), 'utf8'));
        s.items[it.pk] = it;
      }
      for (const f of await walk(p('glue', 'connections'))) {
        const c = JSON.parse(await readFile(p('glue', 'connections', f), 'utf8'));
        s.connections[c.Name] = connView(
          c.ConnectionProperties ?? {},
          c.PhysicalConnectionRequirements,
          c.ConnectionType,
          c.Description,
        );
      }
      return s;
    },
    async putFile(key, body) {
      await mkdir(path.dirname(p('bucket', key)), { recursive: true });
      await writeFile(p('bucket', key), body);
    },
    async deleteFile(key) {
      await rm(p('bucket', key));
    },
    async putItem(item) {
      await mkdir(p('table'), { recursive: true });
      await writeFile(p('table', enc(item.pk)), JSON.stringify(item));
    },
    async deleteItem(pk) {
      await rm(p('table', enc(pk)));
    },
    async putConnection(name, props) {
      await mkdir(p('glue', 'connections'), { recursive: true });
      await writeFile(
        p('glue', 'connections', `${name}.json`),
        JSON.stringify({ Name: name, ConnectionType: 'JDBC', ConnectionProperties: props }),
      );
    },
  };
}

/** AWS harness: whatever endpoints process.env points at (moto, and optionally a Glue contract server). */
export function awsHarness(name = 'aws'): Harness {
  const s3 = () => new S3Client({ region: REGION });
  const ddb = () => DynamoDBDocumentClient.from(new DynamoDBClient({ region: REGION }));
  const glue = () => new GlueClient({ region: REGION });
  return {
    name,
    target: 'aws',
    async setup() {
      await s3().send(
        new CreateBucketCommand({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: REGION } }),
      );
      await new DynamoDBClient({ region: REGION }).send(
        new CreateTableCommand({
          TableName: TABLE,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        }),
      );
    },
    async state() {
      const s: RemoteState = { files: {}, items: {}, connections: {} };
      const c = s3();
      let token: string | undefined;
      do {
        const page = await c.send(new ListObjectsV2Command({ Bucket: BUCKET, ContinuationToken: token }));
        for (const o of page.Contents ?? []) {
          const obj = await c.send(new GetObjectCommand({ Bucket: BUCKET, Key: o.Key }));
          s.files[o.Key!] = {
            body: await obj.Body!.transformToString('utf8'),
            ...(obj.Metadata?.['content-sha256'] ? { sha256: obj.Metadata['content-sha256'] } : {}),
          };
        }
        token = page.NextContinuationToken;
      } while (token);
      let start: Record<string, any> | undefined;
      do {
        const page = await ddb().send(
          new ScanCommand({ TableName: TABLE, ExclusiveStartKey: start, ConsistentRead: true }),
        );
        for (const it of page.Items ?? []) s.items[String(it.pk)] = it;
        start = page.LastEvaluatedKey;
      } while (start);
      let next: string | undefined;
      do {
        const page = await glue().send(new GetConnectionsCommand({ NextToken: next }));
        for (const x of page.ConnectionList ?? [])
          s.connections[x.Name!] = connView(
            (x.ConnectionProperties ?? {}) as Record<string, string>,
            x.PhysicalConnectionRequirements,
            x.ConnectionType,
            x.Description,
          );
        next = page.NextToken || undefined;
      } while (next);
      return s;
    },
    async putFile(key, body) {
      await s3().send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
    },
    async deleteFile(key) {
      await s3().send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
    },
    async putItem(item) {
      await ddb().send(new PutCommand({ TableName: TABLE, Item: item }));
    },
    async deleteItem(pk) {
      await ddb().send(new DeleteCommand({ TableName: TABLE, Key: { pk } }));
    },
    async putConnection(n, props) {
      // Only used against the Glue contract server (moto cannot update); it replaces by delete+create.
      const g = glue();
      await g
        .send(new (await import('@aws-sdk/client-glue')).DeleteConnectionCommand({ ConnectionName: n }))
        .catch(() => undefined);
      await g.send(
        new CreateConnectionCommand({
          ConnectionInput: { Name: n, ConnectionType: 'JDBC', ConnectionProperties: props },
        }),
      );
    },
  };
}

/** True when the remote holds exactly this repo's configs: bodies, normalized items, connections. */
export function holdsRepo(s: RemoteState, root: string): boolean {
  const rels = [
    'offload.settings.yaml',
    ...['databases', 'policies'].flatMap((d) => readdirSync(path.join(root, d)).map((f) => `${d}/${f}`)),
  ];
  const keys = Object.keys(s.files)
    .filter((k) => !k.endsWith('_offload/manifest.json'))
    .sort();
  if (JSON.stringify(keys) !== JSON.stringify(rels.map((r) => `${PREFIX}/${r}`).sort())) return false;
  for (const rel of rels) {
    const text = readFileSync(path.join(root, rel), 'utf8');
    if (s.files[`${PREFIX}/${rel}`]!.body !== text) return false;
    const pk = rel.startsWith('databases/')
      ? `DATABASE#${path.basename(rel, '.yaml')}`
      : rel.startsWith('policies/')
        ? `POLICY#${path.basename(rel, '.yaml')}`
        : 'SETTINGS';
    if (JSON.stringify(s.items[pk]?.config) !== JSON.stringify(parse(text))) return false;
    if (rel.startsWith('databases/') && s.connections[parse(text).name]?.url !== parse(text).jdbc_url) return false;
  }
  const dbs = rels
    .filter((r) => r.startsWith('databases/'))
    .map((r) => path.basename(r, '.yaml'))
    .sort();
  return JSON.stringify(Object.keys(s.connections).sort()) === JSON.stringify(dbs);
}

/**
 * What is wrong with the manifest as a record of the remote (empty when it agrees): its generation
 * is the sync state's, and every file's sha256 and every item's version are the ones stored.
 */
export function manifestDisagreements(s: RemoteState): string[] {
  const key = `${PREFIX}/_offload/manifest.json`;
  if (!s.files[key]) return ['no manifest'];
  const m = JSON.parse(s.files[key]!.body);
  const out: string[] = [];
  const state = s.items['SYNC#STATE'];
  if (m.generation !== state?.generation)
    out.push(`manifest generation ${m.generation}, sync state ${state?.generation}`);
  const files = Object.keys(s.files).filter((k) => k !== key);
  if (JSON.stringify(Object.keys(m.files).sort()) !== JSON.stringify(files.sort()))
    out.push(`manifest files ${Object.keys(m.files)} vs stored ${files}`);
  for (const k of files) {
    const sha = createHash('sha256').update(s.files[k]!.body).digest('hex');
    if (m.files[k]?.sha256 !== sha) out.push(`file ${k}: manifest sha256 differs from the stored body`);
  }
  const items = Object.keys(s.items).filter((k) => k !== 'SYNC#STATE');
  if (JSON.stringify(Object.keys(m.items).sort()) !== JSON.stringify(items.sort()))
    out.push(`manifest items ${Object.keys(m.items)} vs stored ${items}`);
  for (const k of items)
    if (m.items[k]?.version !== s.items[k]!.version)
      out.push(`item ${k}: manifest version differs from the stored one`);
  return out;
}
