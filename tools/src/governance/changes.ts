/**
 * What a config change does to Lake Formation, for the PR preview: the working tree's declarations
 * planned against the state the base revision's declarations would leave, through planGovernance
 * (the same function `offload governance plan` runs against a target). Pure.
 */
import type { LoadedRepo } from '../config/loaded.js';
import type { PreviewResult } from '../generated/preview.js';
import type { OffloadSettings } from '../generated/settings.js';
import { desiredGovernance, stateOf } from './desired.js';
import type { DesiredGovernance, Grant } from './model.js';
import { planGovernance } from './plan.js';

type GovernanceChanges = PreviewResult['governance'];

export const NO_GOVERNANCE_CHANGES: GovernanceChanges = Object.freeze({
  grants_added: [],
  grants_revoked: [],
  admins_added: [],
  admins_removed: [],
  locations_registered: [],
});

function declared(repo: LoadedRepo): DesiredGovernance | undefined {
  if (!repo.settings) return undefined;
  return desiredGovernance(
    repo.databases.map((d) => d.config),
    repo.settings.config as OffloadSettings,
  );
}

const out = (g: Grant) => ({
  principal: g.principal,
  glue_database: g.database,
  ...(g.table !== undefined ? { table: g.table } : {}),
  permission: g.permission,
});

export function governanceChanges(base: LoadedRepo, head: LoadedRepo, baseLabel: string): GovernanceChanges {
  const after = declared(head);
  const before = declared(base);
  if (!after) return NO_GOVERNANCE_CHANGES;
  const plan = planGovernance(
    after,
    before ? stateOf(before) : { admins: [], grants: [], locations: [] },
    // Every database the base declared counts as managed, whatever its name.
    { target: baseLabel, prune: true, alsoManaged: before?.databases.map((d) => d.glueDatabase) ?? [] },
  );
  // Administrators the base declared and the head no longer does (the plan manages them only while the
  // head declares some).
  const removedAdmins = plan.admins.managed
    ? plan.admins.remove
    : (before?.admins ?? []).filter((a) => !after.admins.includes(a));
  return {
    grants_added: plan.grants.add.map(out),
    grants_revoked: plan.grants.revoke.map(out),
    admins_added: plan.admins.add,
    admins_removed: removedAdmins,
    locations_registered: plan.locations.register,
  };
}
