/**
 * The local governance target: the same grant state as Lake Formation in one JSON file of the local
 * state directory (`.offload/state/governance.json`), grouped like ListPermissions returns it:
 *
 *   { "version": 1, "data_lake_admins": [...], "locations": ["arn:aws:s3:::bucket/prefix"],
 *     "permissions": [{ "principal": "arn:…", "resource": { "database": "archive_x", "table": "*" },
 *                       "permissions": ["DESCRIBE", "SELECT"], "permissions_with_grant_option": [] }] }
 *
 * Writes go to a temporary file renamed over the old one (a reader never sees half a file), under a
 * lock file, and only when the state is still the one the plan read.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { UserError } from '../errors.js';
import { withFileLock } from '../lockfile.js';
import { grantKey, sortGrants, type GovernanceState, type Grant } from './model.js';
import type { GovernanceTarget } from './target.js';

const GOVERNANCE_FILE = 'governance.json';
/** The write lock (lockfile.ts): a lock older than 30 s is taken to be a dead process's. */
const LOCK = { staleMs: 30_000, maxPauseMs: 100, ifStuck: 'if none runs, delete it' };

interface FilePermission {
  principal: string;
  resource: { database: string; table?: string };
  permissions: string[];
  permissions_with_grant_option?: string[];
}

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** Parses the file's text; throws a UserError naming the file and the entry for anything malformed. */
function parseGovernanceFile(text: string, file: string): GovernanceState {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${file} is not valid JSON (${(e as Error).message}); fix or delete it`, 2);
  }
  const d = doc as Record<string, unknown>;
  const bad = (what: string) => new UserError(`${file}: ${what}; fix or delete the file`, 2);
  if (!d || typeof d !== 'object' || Array.isArray(d) || d.version !== 1)
    throw bad('expected an object with version 1');
  if (!isStrings(d.data_lake_admins ?? [])) throw bad('data_lake_admins must be a list of principal ARNs');
  if (!isStrings(d.locations ?? [])) throw bad('locations must be a list of S3 ARNs');
  const perms = d.permissions ?? [];
  if (!Array.isArray(perms)) throw bad('permissions must be a list');
  const grants: Grant[] = [];
  perms.forEach((p: FilePermission, i) => {
    if (
      !p ||
      typeof p.principal !== 'string' ||
      typeof p.resource?.database !== 'string' ||
      (p.resource.table !== undefined && typeof p.resource.table !== 'string') ||
      !isStrings(p.permissions) ||
      !isStrings(p.permissions_with_grant_option ?? [])
    )
      throw bad(`permissions[${i}] needs principal, resource.database (resource.table optional) and permissions`);
    const base = { principal: p.principal, database: p.resource.database };
    const withTable = p.resource.table === undefined ? base : { ...base, table: p.resource.table };
    for (const permission of p.permissions) grants.push({ ...withTable, permission });
    for (const permission of p.permissions_with_grant_option ?? [])
      grants.push({ ...withTable, permission, grantable: true });
  });
  return {
    admins: [...(d.data_lake_admins as string[])].sort(),
    grants: sortGrants(grants),
    locations: [...(d.locations as string[])].sort(),
  };
}

/** The file's document for a state: one entry per principal and resource, like ListPermissions. */
function governanceFileText(state: GovernanceState): string {
  const byResource = new Map<string, FilePermission>();
  for (const g of sortGrants(state.grants)) {
    const k = `${g.principal}|${g.database}|${g.table ?? ''}`;
    let e = byResource.get(k);
    if (!e) {
      e = {
        principal: g.principal,
        resource: g.table === undefined ? { database: g.database } : { database: g.database, table: g.table },
        permissions: [],
        permissions_with_grant_option: [],
      };
      byResource.set(k, e);
    }
    (g.grantable ? e.permissions_with_grant_option! : e.permissions).push(g.permission);
  }
  const doc = {
    version: 1,
    data_lake_admins: [...state.admins].sort(),
    locations: [...state.locations].sort(),
    permissions: [...byResource.values()],
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

const canonical = (s: GovernanceState) =>
  JSON.stringify([[...s.admins].sort(), s.grants.map(grantKey).sort(), [...s.locations].sort()]);

export function createLocalGovernanceTarget(dir: string): GovernanceTarget {
  const file = path.join(path.resolve(dir), GOVERNANCE_FILE);
  const read = async (): Promise<GovernanceState> => {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { admins: [], grants: [], locations: [] };
      throw new UserError(`cannot read ${file}: ${(e as Error).message}`, 2);
    }
    return parseGovernanceFile(text, file);
  };
  return {
    label: `local:${file}`,
    read,
    async apply(changes, expected) {
      await mkdir(path.dirname(file), { recursive: true });
      await withFileLock(`${file}.lock`, LOCK, async () => {
        const now = await read();
        if (canonical(now) !== canonical(expected))
          throw new UserError(`${file} changed since the plan was made (another apply?): run the command again`, 1);
        const revoked = new Set(changes.revoke.map(grantKey));
        const kept = now.grants.filter((g) => !revoked.has(grantKey(g)));
        const keys = new Set(kept.map(grantKey));
        const next: GovernanceState = {
          admins: changes.admins ?? now.admins,
          grants: [...kept, ...changes.grant.filter((g) => !keys.has(grantKey(g)))].map(({ raw: _r, ...g }) => g),
          locations: [...new Set([...now.locations, ...changes.register])],
        };
        const tmp = `${file}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
        await writeFile(tmp, governanceFileText(next));
        await rename(tmp, file);
      });
    },
  };
}
