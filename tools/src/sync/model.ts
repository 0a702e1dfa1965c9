/**
 * The data sync works on: the desired state computed from the repo, the remote state read from a
 * target, and the record of what the last completed sync wrote (the manifest). Shared by both
 * targets, so plan and apply have one meaning whatever the target.
 */
import type { ConfigItem } from '../generated/config-item.js';

/** DynamoDB partition key of the item holding the sync generation and lease. */
export const STATE_PK = 'SYNC#STATE';
/** Manifest object, relative to the config prefix: the record of the last completed sync, written last. */
export const MANIFEST_NAME = '_offload/manifest.json';
export const MANIFEST_FORMAT = 1;

export type ItemKind = 'settings' | 'database' | 'policy';

/** A config file as published to the config bucket. */
export interface DesiredFile {
  /** Object key: `<config prefix>/<repo-relative path>`. */
  key: string;
  /** Repo-relative path. */
  file: string;
  body: Uint8Array;
  sha256: string;
}

/** A normalized config, as written to the config table. */
export interface DesiredItem {
  pk: string;
  kind: ItemKind;
  name: string;
  file: string;
  /** The validated config as parsed (comments and formatting gone). */
  config: Record<string, unknown>;
  /** Values derived with the settings (databases only): what the pipeline actually uses. */
  resolved?: ConfigItem['resolved'];
  /** sha256 of the source file bytes: the same as the S3 object's `content-sha256` metadata. */
  contentSha256: string;
  /** sha256 of canonical {config, resolved}: recomputed on read to detect hand edits. */
  configSha256: string;
  /** S3 key of the published file. */
  s3Key: string;
}

/** The managed part of a Glue JDBC connection. */
export interface ConnectionSpec {
  type: string;
  description?: string;
  properties: Record<string, string>;
  physical?: { subnetId?: string; securityGroupIds: string[]; availabilityZone?: string };
}

export interface DesiredConnection {
  name: string;
  spec: ConnectionSpec;
  sha256: string;
  tags: Record<string, string>;
}

export interface DesiredState {
  files: DesiredFile[];
  items: DesiredItem[];
  connections: DesiredConnection[];
  /** Hash of everything above: two runs with the same hash want exactly the same remote state. */
  hash: string;
  commit: string;
}

export interface RemoteFile {
  key: string;
  etag: string;
  /** From the object's metadata, only fetched for keys the manifest does not record. */
  sha256?: string;
}

export interface RemoteItem {
  pk: string;
  /** Numeric version, when the item has one. */
  version?: number;
  /** The version attribute exactly as read (conditions compare against it); undefined when absent. */
  rawVersion?: unknown;
  /** Recomputed from the item's config/resolved attributes. */
  configSha256?: string;
  /** The item's config_sha256 attribute: differs from the recomputed one after a hand edit. */
  storedConfigSha256?: string;
  contentSha256?: string;
  s3Key?: string;
  createdAt?: string;
  generation?: number;
  /** The commit that wrote it (`git_commit`). */
  gitCommit?: string;
  /** Why the item is not a well-formed managed item (it is then replaced, never crashed on). */
  malformed?: string;
}

export interface RemoteConnection {
  name: string;
  spec: ConnectionSpec;
  sha256: string;
}

export interface SyncState {
  exists: boolean;
  generation: number;
  /** The generation attribute exactly as read; conditions compare against it. */
  rawGeneration?: unknown;
  lockOwner?: string;
  lockDesiredHash?: string;
  lockCommit?: string;
  lockExpiresAt?: string;
  /** Set when the claiming sync failed and gave its claim up (its lease ended then). */
  lockReleasedAt?: string;
  startedAt?: string;
  malformed?: string;
}

export interface Manifest {
  format: number;
  generation: number;
  commit: string;
  desiredHash: string;
  runId: string;
  completedAt: string;
  files: Record<string, { sha256: string; etag: string }>;
  items: Record<string, { version: number; configSha256: string; contentSha256: string }>;
  connections: Record<string, { sha256: string }>;
  /** Guards this sync overrode (uncommitted configs, a non-descendant commit), with their reasons. */
  overrides?: { kind: string; reason: string; detail: string }[];
}

/** Something found remotely that sync does not manage or cannot read: reported, never touched. */
export interface RemoteIssue {
  kind: 'file' | 'item' | 'connection' | 'manifest' | 'state';
  id: string;
  problem: 'foreign' | 'malformed';
  message: string;
}

export interface Snapshot {
  files: Map<string, RemoteFile>;
  items: Map<string, RemoteItem>;
  connections: Map<string, RemoteConnection>;
  state: SyncState;
  manifest?: Manifest;
  issues: RemoteIssue[];
}

/** Parses a manifest; returns a reason instead when it is not one. */
export function parseManifest(text: string): Manifest | string {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch (e) {
    return `not JSON (${(e as Error).message})`;
  }
  const o = m as Partial<Manifest>;
  if (!o || typeof o !== 'object') return 'not a JSON object';
  if (o.format !== MANIFEST_FORMAT) return `unknown format ${JSON.stringify(o.format)} (expected ${MANIFEST_FORMAT})`;
  if (typeof o.generation !== 'number' || !Number.isInteger(o.generation)) return 'generation is not an integer';
  for (const k of ['files', 'items', 'connections'] as const) {
    if (!o[k] || typeof o[k] !== 'object' || Array.isArray(o[k])) return `${k} is not an object`;
  }
  return o as Manifest;
}
