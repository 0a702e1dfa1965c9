/**
 * The remote layout both targets share, and how what is found there is classified: managed,
 * the manifest, or foreign/malformed (reported, never touched and never crashed on).
 *
 * Object keys:  <prefix>/offload.settings.yaml
 *               <prefix>/databases/<name>.yaml
 *               <prefix>/policies/<name>.yaml
 *               <prefix>/_offload/manifest.json        (written last by every sync)
 * Table items:  pk = SETTINGS | DATABASE#<name> | POLICY#<name> | SYNC#STATE
 */
import { hashItem } from './desired.js';
import { MANIFEST_NAME, STATE_PK, type RemoteIssue, type RemoteItem, type SyncState } from './model.js';

export function classifyKey(prefix: string, key: string): 'config' | 'manifest' | 'foreign' {
  if (!key.startsWith(`${prefix}/`)) return 'foreign';
  const rel = key.slice(prefix.length + 1);
  if (rel === MANIFEST_NAME) return 'manifest';
  if (rel === 'offload.settings.yaml') return 'config';
  if (/^(databases|policies)\/[^/]+\.ya?ml$/.test(rel)) return 'config';
  return 'foreign';
}

const MANAGED_PK = /^(SETTINGS|DATABASE#[^#]+|POLICY#[^#]+)$/;

export type Classified =
  | { kind: 'state'; state: SyncState }
  | { kind: 'item'; item: RemoteItem }
  | { kind: 'issue'; issue: RemoteIssue };

const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** Classifies one table item as read (plain JS values, as the document client unmarshals them). */
export function classifyItem(raw: Record<string, unknown>): Classified {
  const pk = raw.pk;
  if (typeof pk !== 'string')
    return {
      kind: 'issue',
      issue: { kind: 'item', id: JSON.stringify(pk), problem: 'malformed', message: 'item without a string pk' },
    };
  if (pk === STATE_PK) {
    const g = raw.generation;
    const state: SyncState = {
      exists: true,
      generation: typeof g === 'number' && Number.isInteger(g) && g >= 0 ? g : 0,
    };
    if (state.generation === 0 && g !== 0)
      state.malformed = `sync state has a non-integer generation ${JSON.stringify(g)}; the next apply resets it`;
    for (const [k, a] of [
      ['lockOwner', 'lock_owner'],
      ['lockDesiredHash', 'lock_desired_hash'],
      ['lockCommit', 'lock_commit'],
      ['lockExpiresAt', 'lock_expires_at'],
      ['lockReleasedAt', 'lock_released_at'],
      ['startedAt', 'started_at'],
    ] as const) {
      if (typeof raw[a] === 'string') state[k] = raw[a] as string;
    }
    state.rawGeneration = g;
    return { kind: 'state', state };
  }
  if (!MANAGED_PK.test(pk))
    return {
      kind: 'issue',
      issue: { kind: 'item', id: pk, problem: 'foreign', message: 'not an item sync manages; left alone' },
    };
  const item: RemoteItem = { pk, rawVersion: raw.version };
  const problems: string[] = [];
  if (typeof raw.version === 'number' && Number.isInteger(raw.version)) item.version = raw.version;
  else
    problems.push(
      raw.version === undefined ? 'no version' : `version ${JSON.stringify(raw.version)} is not an integer`,
    );
  if (!isObj(raw.config)) problems.push('no config map');
  else item.configSha256 = hashItem(raw.config, raw.resolved);
  if (typeof raw.config_sha256 === 'string') item.storedConfigSha256 = raw.config_sha256;
  else problems.push('no config_sha256');
  if (typeof raw.content_sha256 === 'string') item.contentSha256 = raw.content_sha256;
  else problems.push('no content_sha256');
  if (typeof raw.s3_key === 'string') item.s3Key = raw.s3_key;
  if (typeof raw.created_at === 'string') item.createdAt = raw.created_at;
  if (typeof raw.sync_generation === 'number') item.generation = raw.sync_generation;
  if (typeof raw.git_commit === 'string') item.gitCommit = raw.git_commit;
  if (problems.length) item.malformed = problems.join(', ');
  return { kind: 'item', item };
}
