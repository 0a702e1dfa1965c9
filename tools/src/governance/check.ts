/**
 * The local runtime's read check: a principal may read an archive table only with SELECT on it or on
 * all tables of its Glue database, as Lake Formation decides for Athena or Spark on AWS. Pure.
 * Administrators are not exempt: on AWS they can grant themselves access, but do not read without it.
 */
import type { GovernanceState } from './model.js';

export interface ReadDecision {
  allowed: boolean;
  reason: string;
}

export function checkRead(state: GovernanceState, principal: string, database: string, table?: string): ReadDecision {
  const mine = state.grants.filter((g) => g.principal === principal && g.database === database && !g.detail);
  const what = table === undefined ? `all tables of ${database}` : `${database}.${table}`;
  const select = mine.find(
    (g) => g.permission === 'SELECT' && (g.table === '*' || (table !== undefined && g.table === table)),
  );
  if (select)
    return { allowed: true, reason: `${principal} holds SELECT on ${select.table === '*' ? `${database}.*` : what}` };
  if (mine.length)
    return {
      allowed: false,
      reason:
        `${principal} holds ${[...new Set(mine.map((g) => g.permission))].sort().join(', ')} on ${database} ` +
        `but not SELECT on ${what}`,
    };
  return { allowed: false, reason: `${principal} holds no Lake Formation permission on ${database}` };
}
