/**
 * Lake Formation governance as data: grants, data-lake administrators and registered locations.
 * One shape for what the YAML declares, what a target holds and what a plan changes, so the AWS
 * target, the local target and the PR preview all go through the same pure functions.
 */

/**
 * One permission of one principal on one resource: the unit grants are compared in.
 * `table` absent: the Glue database itself; `*`: all its tables (TableWildcard); otherwise one table.
 */
export interface Grant {
  principal: string;
  database: string;
  table?: string;
  permission: string;
  /** Held WITH GRANT OPTION (never declared by the YAML, so always drift). */
  grantable?: boolean;
  /** Shape the YAML cannot declare (e.g. a column list or a data cells filter), part of the identity. */
  detail?: string;
  /** The resource exactly as the target listed it (revoked with it); not part of the identity. */
  raw?: unknown;
}

export interface GovernanceState {
  /** Lake Formation data-lake administrators (principal ARNs). */
  admins: string[];
  grants: Grant[];
  /** Registered data locations (S3 ARNs, `arn:aws:s3:::bucket/path`). */
  locations: string[];
}

/** What the configs declare, with the names the declarations came from. */
export interface DesiredGovernance {
  /** Union of every database's `data_lake_admins`; empty means administrators are not managed. */
  admins: string[];
  grants: (Grant & { source: string })[];
  /** S3 ARN to register → the config databases that need it. */
  locations: { arn: string; databases: string[] }[];
  /** Config database name → its archive Glue database. */
  databases: { name: string; glueDatabase: string }[];
  /** Glue databases with this prefix are managed even when no config names them (removed databases). */
  managedPrefix: string;
}

export type RevokeReason = 'not-declared' | 'database-removed';

export interface GovernancePlan {
  target: string;
  /** True: the revokes are carried out by apply; false: they are drift, listed and kept. */
  prune: boolean;
  grants: { add: Grant[]; revoke: (Grant & { reason: RevokeReason })[]; unchanged: number };
  admins: { managed: boolean; add: string[]; remove: string[]; unchanged: number };
  locations: { register: string[]; unchanged: number };
}

export const grantKey = (g: Grant): string =>
  [g.principal, g.database, g.table ?? '', g.detail ?? '', g.permission, g.grantable ? 'grant-option' : ''].join('|');

/** Sorts grants for stable output: by database, table, principal, permission. */
export function sortGrants<T extends Grant>(grants: T[]): T[] {
  const k = (g: Grant) => [g.database, g.table ?? '', g.detail ?? '', g.principal, g.permission, g.grantable ? 1 : 0];
  return [...grants].sort((a, b) => {
    const x = k(a),
      y = k(b);
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
    return 0;
  });
}

/** `archive_db1` (database), `archive_db1.*` (all tables), `archive_db1.t` (one table), with a detail. */
export function resourceLabel(g: Grant): string {
  const base = g.table === undefined ? g.database : `${g.database}.${g.table}`;
  return g.detail ? `${base} (${g.detail})` : base;
}
