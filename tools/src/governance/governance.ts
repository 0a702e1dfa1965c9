/**
 * `offload governance` core: validate the configs, compute the declared grants, read the target,
 * plan, and apply or verify. Returns data; the command renders it and picks the exit code.
 */
import { loadRepo, type LoadedRepo } from '../config/load.js';
import { fsSource } from '../config/source.js';
import { UserError } from '../errors.js';
import type { OffloadSettings } from '../generated/settings.js';
import { overrideReason, readProvenance } from '../sync/provenance.js';
import type { TargetSpec } from '../sync/sync.js';
import { checkRead, type ReadDecision } from './check.js';
import { desiredGovernance } from './desired.js';
import { createLocalGovernanceTarget } from './local-target.js';
import type { GovernancePlan } from './model.js';
import { inSync, planGovernance } from './plan.js';
import type { GovernanceTarget } from './target.js';

export type GovernanceMode = 'plan' | 'apply' | 'verify';

export interface GovernanceOptions {
  root: string;
  target: TargetSpec;
  mode: GovernanceMode;
  prune: boolean;
  /** Apply configs that are not committed; recorded nowhere but required to be given with a reason. */
  allowUncommitted?: string;
  /** Target override (tests). */
  targetImpl?: GovernanceTarget;
}

export type GovernanceOutcome =
  | { status: 'invalid'; repo: LoadedRepo }
  | { status: 'planned' | 'verified'; plan: GovernancePlan; inSync: boolean }
  | { status: 'applied'; plan: GovernancePlan; after: GovernancePlan };

async function openTarget(spec: TargetSpec, settings: OffloadSettings): Promise<GovernanceTarget> {
  if (spec.kind === 'local') return createLocalGovernanceTarget(spec.dir);
  // The AWS SDK is loaded only for the AWS target.
  const { resolveRegion } = await import('../sync/aws-target.js');
  const { createAwsGovernanceTarget } = await import('./aws-target.js');
  return createAwsGovernanceTarget({ region: await resolveRegion(settings.region) });
}

export async function runGovernance(opts: GovernanceOptions): Promise<GovernanceOutcome> {
  const repo = await loadRepo(fsSource(opts.root));
  if (repo.errors > 0 || !repo.settings) return { status: 'invalid', repo };
  const settings = repo.settings.config as OffloadSettings;
  if (opts.mode === 'apply') {
    // Only committed, reviewed configs reach a target (the same rule as sync --apply).
    const allow = overrideReason('--allow-uncommitted', opts.allowUncommitted);
    const origin = await readProvenance(opts.root);
    const why = origin.noGit ?? (origin.uncommitted.length ? `config files differ from commit ${origin.head}` : '');
    if (why && !allow)
      throw new UserError(
        [
          `governance apply refused: ${why}`,
          ...origin.uncommitted.map((u) => `  ${u}`),
          'Only committed, reviewed configs reach a target: commit them, or pass --allow-uncommitted "<reason>".',
        ].join('\n'),
        1,
      );
  }
  const desired = desiredGovernance(
    repo.databases.map((d) => d.config),
    settings,
  );
  const target = opts.targetImpl ?? (await openTarget(opts.target, settings));
  const current = await target.read();
  const plan = planGovernance(desired, current, { target: target.label, prune: opts.prune });
  if (opts.mode !== 'apply')
    return { status: opts.mode === 'plan' ? 'planned' : 'verified', plan, inSync: inSync(plan) };
  await target.apply(
    {
      grant: plan.grants.add,
      revoke: plan.prune ? plan.grants.revoke : [],
      ...(plan.admins.add.length || (plan.prune && plan.admins.remove.length)
        ? {
            admins: [
              ...current.admins.filter((a) => !(plan.prune && plan.admins.remove.includes(a))),
              ...plan.admins.add,
            ].sort(),
          }
        : {}),
      register: plan.locations.register,
    },
    current,
  );
  // Read back: what is left is drift kept without --prune (or a target that did not take a write).
  const after = planGovernance(desired, await target.read(), { target: target.label, prune: opts.prune });
  return { status: 'applied', plan, after };
}

/** `offload governance check`: may this principal read this archive (local state)? */
export async function checkLocalRead(
  dir: string,
  principal: string,
  database: string,
  table?: string,
): Promise<ReadDecision> {
  return checkRead(await createLocalGovernanceTarget(dir).read(), principal, database, table);
}
