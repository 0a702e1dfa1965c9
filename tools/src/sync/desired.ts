/** The desired remote state of a validated repo: files, normalized table items and Glue connections. */
import type { LoadedRepo } from '../config/load.js';
import type { ConfigSource } from '../config/source.js';
import { SETTINGS_FILE } from '../config/source.js';
import { resolveDatabase } from '../config/model.js';
import { connectionNameOf } from '../config/naming.js';
import type { ConfigItem } from '../generated/config-item.js';
import type { DatabaseConfig } from '../generated/database.js';
import type { OffloadSettings } from '../generated/settings.js';
import { hashValue, sha256Hex } from './canonical.js';
import type { ConnectionSpec, DesiredConnection, DesiredFile, DesiredItem, DesiredState, ItemKind } from './model.js';

function itemKey(kind: ItemKind, name: string): string {
  return kind === 'settings' ? 'SETTINGS' : `${kind.toUpperCase()}#${name}`;
}

function fileKey(prefix: string, file: string): string {
  return `${prefix.replace(/^\/+|\/+$/g, '')}/${file}`;
}

/** The Glue connection a database's archive jobs use; named after the database. */
function connectionSpecOf(db: DatabaseConfig): ConnectionSpec {
  const spec: ConnectionSpec = {
    type: 'JDBC',
    properties: { JDBC_CONNECTION_URL: db.jdbc_url, SECRET_ID: db.credentials.secret },
  };
  if (db.description) spec.description = db.description;
  if (db.network) {
    spec.physical = { subnetId: db.network.subnet_ids[0], securityGroupIds: [...db.network.security_group_ids] };
    if (db.network.availability_zone) spec.physical.availabilityZone = db.network.availability_zone;
  }
  return spec;
}

export function hashConnection(spec: ConnectionSpec): string {
  return hashValue(spec);
}

export function hashItem(config: unknown, resolved: unknown): string {
  return hashValue({ config, resolved: resolved ?? null });
}

/** Builds the desired state. The repo must have loaded without errors (sync refuses otherwise). */
export async function desiredState(repo: LoadedRepo, source: ConfigSource, commit: string): Promise<DesiredState> {
  const settings = repo.settings!.config as OffloadSettings;
  const prefix = settings.config.prefix;
  const files: DesiredFile[] = [];
  const items: DesiredItem[] = [];
  const connections: DesiredConnection[] = [];
  const entries: { kind: ItemKind; name: string; file: string; config: unknown }[] = [
    { kind: 'settings', name: 'settings', file: repo.settings!.file ?? SETTINGS_FILE, config: settings },
    ...repo.databases.map((d) => ({ kind: 'database' as const, name: d.config.name, file: d.file, config: d.config })),
    ...repo.policies.map((p) => ({ kind: 'policy' as const, name: p.config.name, file: p.file, config: p.config })),
  ];
  for (const e of entries) {
    const body = await source.readFile(e.file);
    if (!body) throw new Error(`${e.file} disappeared while syncing`);
    const key = fileKey(prefix, e.file);
    const sha = sha256Hex(body);
    files.push({ key, file: e.file, body, sha256: sha });
    const config = JSON.parse(JSON.stringify(e.config)) as Record<string, unknown>;
    let resolved: ConfigItem['resolved'];
    if (e.kind === 'database') {
      const r = resolveDatabase(e.config as DatabaseConfig, settings);
      resolved = JSON.parse(
        JSON.stringify({
          glue_connection: connectionNameOf(e.config as DatabaseConfig),
          glue_database: r.glueDatabase,
          s3_location: r.s3Location,
          schedule: r.schedule,
          jdbc: r.jdbc ?? null,
          tags: r.tags,
        }),
      );
      const spec = connectionSpecOf(e.config as DatabaseConfig);
      connections.push({
        name: connectionNameOf(e.config as DatabaseConfig),
        spec,
        sha256: hashConnection(spec),
        tags: r.tags,
      });
    }
    items.push({
      pk: itemKey(e.kind, e.name),
      kind: e.kind,
      name: e.name,
      file: e.file,
      config,
      resolved,
      contentSha256: sha,
      configSha256: hashItem(config, resolved),
      s3Key: key,
    });
  }
  files.sort((a, b) => cmp(a.key, b.key));
  items.sort((a, b) => cmp(a.pk, b.pk));
  connections.sort((a, b) => cmp(a.name, b.name));
  const hash = hashValue({
    files: files.map((f) => [f.key, f.sha256]),
    items: items.map((i) => [i.pk, i.configSha256, i.contentSha256]),
    connections: connections.map((c) => [c.name, c.sha256]),
  });
  return { files, items, connections, hash, commit };
}

export const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
