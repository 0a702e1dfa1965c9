/**
 * The governance plan: desired grants against a target's current state. Pure. Only grants on
 * managed Glue databases are compared — those the configs name and those with the archive prefix
 * (a database removed from the repo keeps its grants, listed as drift, until --prune).
 */
import { grantKey, sortGrants, type DesiredGovernance, type GovernancePlan, type GovernanceState } from './model.js';
import { covers } from './desired.js';

export interface PlanOptions {
  target: string;
  prune: boolean;
  /** More Glue databases to treat as managed (the preview passes the base revision's). */
  alsoManaged?: readonly string[];
}

export function planGovernance(
  desired: DesiredGovernance,
  current: GovernanceState,
  opts: PlanOptions,
): GovernancePlan {
  const declared = new Set(desired.databases.map((d) => d.glueDatabase));
  const extra = new Set(opts.alsoManaged ?? []);
  const managed = (db: string) =>
    declared.has(db) || extra.has(db) || (desired.managedPrefix !== '' && db.startsWith(desired.managedPrefix));
  const have = new Map(current.grants.filter((g) => managed(g.database)).map((g) => [grantKey(g), g]));
  const want = new Set(desired.grants.map(({ source: _s, ...g }) => grantKey(g)));
  const add = desired.grants.filter((g) => !have.has(grantKey(g))).map(({ source: _s, ...g }) => g);
  const revoke = [...have]
    .filter(([k]) => !want.has(k))
    .map(([, g]) => ({
      ...g,
      reason: declared.has(g.database) ? ('not-declared' as const) : ('database-removed' as const),
    }));
  // Administrators are managed once any config declares one (an account's admins are never emptied by a repo
  // that declares none).
  const adminsManaged = desired.admins.length > 0;
  const curAdmins = new Set(current.admins);
  const wantAdmins = new Set(desired.admins);
  const register = desired.locations.map((l) => l.arn).filter((arn) => !current.locations.some((c) => covers(c, arn)));
  return {
    target: opts.target,
    prune: opts.prune,
    grants: { add: sortGrants(add), revoke: sortGrants(revoke), unchanged: have.size - revoke.length },
    admins: {
      managed: adminsManaged,
      add: adminsManaged ? desired.admins.filter((a) => !curAdmins.has(a)) : [],
      remove: adminsManaged ? current.admins.filter((a) => !wantAdmins.has(a)).sort() : [],
      unchanged: adminsManaged ? desired.admins.filter((a) => curAdmins.has(a)).length : 0,
    },
    locations: { register, unchanged: desired.locations.length - register.length },
  };
}

/** True when the target holds exactly what the configs declare (verify's test; drift otherwise). */
export function inSync(plan: GovernancePlan): boolean {
  return (
    !plan.grants.add.length &&
    !plan.grants.revoke.length &&
    !plan.admins.add.length &&
    !plan.admins.remove.length &&
    !plan.locations.register.length
  );
}
