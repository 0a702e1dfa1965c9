/**
 * The grants, administrators and locations the configs declare: a pure function of the database
 * configs and the settings, with the names sync and the pipeline use (resolveDatabase).
 */
import { resolveDatabase } from '../config/model.js';
import type { DatabaseConfig } from '../generated/database.js';
import type { OffloadSettings } from '../generated/settings.js';
import { sortGrants, type DesiredGovernance, type GovernanceState, type Grant } from './model.js';

/** `s3://bucket/a/b/` → `arn:aws:s3:::bucket/a/b` (the form RegisterResource and ListResources use). */
function s3Arn(location: string): string {
  return `arn:aws:s3:::${location.replace(/^s3a?:\/\//, '').replace(/\/+$/, '')}`;
}

/** True when `covering` is `arn` or a folder above it. */
export function covers(covering: string, arn: string): boolean {
  return covering === arn || arn.startsWith(covering.endsWith('/') ? covering : `${covering}/`);
}

/**
 * Every consumer gets its permissions on all tables of the archive database (TableWildcard), and
 * DESCRIBE on the database itself when it asks for DESCRIBE (SELECT does not exist on a database).
 * The warehouse root (`archive.bucket`/`archive.prefix`) is registered; a database archived outside
 * it has its own location registered.
 */
export function desiredGovernance(databases: readonly DatabaseConfig[], settings: OffloadSettings): DesiredGovernance {
  const admins = new Set<string>();
  const grants: (Grant & { source: string })[] = [];
  const seen = new Set<string>();
  const warehouse = s3Arn(`s3://${settings.archive.bucket}/${settings.archive.prefix}`);
  const locations = new Map<string, string[]>();
  const dbs: DesiredGovernance['databases'] = [];
  for (const db of [...databases].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const { glueDatabase, s3Location } = resolveDatabase(db, settings);
    dbs.push({ name: db.name, glueDatabase });
    const loc = s3Arn(s3Location);
    const arn = covers(warehouse, loc) ? warehouse : loc;
    locations.set(arn, [...(locations.get(arn) ?? []), db.name]);
    for (const a of db.governance?.data_lake_admins ?? []) admins.add(a);
    for (const c of db.governance?.consumers ?? []) {
      const add = (g: Grant) => {
        const k = `${g.principal}|${g.database}|${g.table ?? ''}|${g.permission}`;
        if (seen.has(k)) return;
        seen.add(k);
        grants.push({ ...g, source: db.name });
      };
      for (const permission of c.permissions) {
        if (permission === 'DESCRIBE') add({ principal: c.principal, database: glueDatabase, permission });
        add({ principal: c.principal, database: glueDatabase, table: '*', permission });
      }
    }
  }
  return {
    admins: [...admins].sort(),
    grants: sortGrants(grants),
    locations: [...locations]
      .map(([arn, names]) => ({ arn, databases: names }))
      .sort((a, b) => (a.arn < b.arn ? -1 : 1)),
    databases: dbs,
    managedPrefix: settings.archive.glue_database_prefix ?? 'archive_',
  };
}

/** The state a target would hold after applying `desired` to an empty account (used by the preview). */
export function stateOf(desired: DesiredGovernance): GovernanceState {
  return {
    admins: [...desired.admins],
    grants: desired.grants.map(({ source: _s, ...g }) => g),
    locations: desired.locations.map((l) => l.arn),
  };
}
