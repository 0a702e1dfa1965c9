/**
 * `offload sync` core: validate, compute the desired state, read the target, plan, and (with
 * apply) carry the plan out. Returns data; the command renders it.
 */
import path from 'node:path';
import { loadRepo, type LoadedRepo } from '../config/load.js';
import { fsSource, type ConfigSource } from '../config/source.js';
import { UserError } from '../errors.js';
import { checkDir, ensureDir } from '../dirs.js';
import type { OffloadSettings } from '../generated/settings.js';
import { applyPlan, type ApplyOptions, type ApplyResult } from './apply.js';
import type { AwsTargetOptions } from './aws-target.js';
import { md5Hex } from './canonical.js';
import { desiredState } from './desired.js';
import { createLocalTarget, DEFAULT_LOCAL_DIR } from './local-target.js';
import { computePlan, fileShaNeeded, isNoop, type Plan } from './plan.js';
import {
  ancestryRefusal,
  checkAncestry,
  overrideReason,
  readProvenance,
  uncommittedRefusal,
  type Provenance,
} from './provenance.js';
import type { Target } from './target.js';
import type { Snapshot } from './model.js';

export type TargetSpec = { kind: 'aws' } | { kind: 'local'; dir: string };

/** Parses `aws`, `local` or `local:DIR` (DIR relative to the repo root). */
export function parseTarget(text: string, root: string): TargetSpec {
  if (text === 'aws') return { kind: 'aws' };
  if (text === 'local') return { kind: 'local', dir: path.resolve(root, DEFAULT_LOCAL_DIR) };
  if (text.startsWith('local:') && text.length > 'local:'.length)
    return { kind: 'local', dir: path.resolve(root, text.slice('local:'.length)) };
  throw new UserError(`unknown target "${text}": use aws, local or local:DIR`, 2);
}

export interface SyncOptions {
  /** Repository root. */
  root: string;
  source?: ConfigSource;
  target: TargetSpec;
  apply: boolean;
  prune: boolean;
  /** Take over an unfinished sync's lock even when it wants another state. */
  breakLock?: boolean;
  /**
   * Git commit recorded with every write. Default: the checked-out commit (`-dirty` with uncommitted
   * configs). In a git work tree it must name that commit; outside one it is recorded as given.
   */
  commit?: string;
  /** Apply configs that differ from the checked-out commit (or are outside git); recorded with this reason. */
  allowUncommitted?: string;
  /** Apply a commit that is not (provably) a descendant of the last synced one; recorded with this reason. */
  allowNonDescendant?: string;
  aws?: Omit<AwsTargetOptions, 'settings'>;
  /** Counts requests by kind for the local target too. */
  onRequest?: (service: string, command: string) => void;
  applyOptions?: ApplyOptions;
  /** Target override (tests). */
  targetImpl?: Target;
  now?: () => Date;
  /** Fault injection for the crash tests: the local target calls it after each item file it writes. */
  afterWrite?: (what: string) => void;
  /** Called with the plan before apply starts (progress output, timing). */
  afterPlan?: (plan: Plan) => void;
}

export type SyncOutcome =
  | { status: 'invalid'; repo: LoadedRepo }
  | { status: 'planned'; plan: Plan }
  | { status: 'applied'; plan: Plan; result: ApplyResult };

/** Without a manifest (lost or deleted), the commit of the item the newest sync wrote stands in for it. */
function newestItemCommit(snapshot: Snapshot): string | undefined {
  let newest: { generation: number; commit?: string } | undefined;
  for (const it of snapshot.items.values())
    if (it.gitCommit && !it.malformed && (it.generation ?? 0) >= (newest?.generation ?? 0))
      newest = { generation: it.generation ?? 0, commit: it.gitCommit };
  return newest?.commit;
}

/** The commit the configs at `root` come from: HEAD (`-dirty` with local changes), else GITHUB_SHA or `unknown`. */
export async function gitCommit(root: string): Promise<string> {
  return (await readProvenance(root)).commit;
}

export async function runSync(opts: SyncOptions): Promise<SyncOutcome> {
  const source = opts.source ?? fsSource(opts.root);
  const repo = await loadRepo(source);
  if (repo.errors > 0 || !repo.settings) return { status: 'invalid', repo };
  const settings = repo.settings.config as OffloadSettings;
  if (opts.target.kind === 'local' && !opts.targetImpl)
    await (opts.apply ? ensureDir : checkDir)(opts.target.dir, '--target local:');
  const allowUncommitted = overrideReason('--allow-uncommitted', opts.allowUncommitted);
  const allowNonDescendant = overrideReason('--allow-non-descendant', opts.allowNonDescendant);
  const origin = await readProvenance(opts.root, opts.commit);
  const overrides: Provenance['overrides'] = [];
  // Only committed, reviewed configs reach a target: refused before anything is read or written.
  const dirty = uncommittedRefusal(origin);
  if (dirty && opts.apply) {
    if (!allowUncommitted) throw dirty;
    overrides.push({
      kind: 'uncommitted',
      reason: allowUncommitted,
      detail: origin.noGit ?? origin.uncommitted.join(', '),
    });
  }
  const desired = await desiredState(repo, source, origin.commit);
  const target =
    opts.targetImpl ??
    (opts.target.kind === 'aws'
      ? // The AWS SDK is loaded only for the AWS target.
        await (await import('./aws-target.js')).createAwsTarget({
          settings,
          ...opts.aws,
          onRequest: opts.aws?.onRequest ?? opts.onRequest,
        })
      : createLocalTarget({
          dir: opts.target.dir,
          settings,
          onRequest: opts.onRequest,
          afterWrite: opts.afterWrite,
        }));
  const now = opts.now ?? (() => new Date());
  const snapshot = await target.read();
  const need = fileShaNeeded(desired, snapshot, md5Hex);
  const fileSha = need.length ? await target.fileSha256(need) : undefined;
  const plan = computePlan(
    { target: target.label, desired, snapshot, fileSha, prune: opts.prune, now: now(), breakLock: opts.breakLock },
    md5Hex,
  );
  // An older commit never silently replaces a newer one: the commit must descend from the last
  // completed sync's and from an unfinished sync's.
  const ancestry = await checkAncestry(opts.root, origin, [
    snapshot.manifest?.commit ?? newestItemCommit(snapshot),
    plan.lock ? snapshot.state.lockCommit : undefined,
  ]);
  plan.provenance = { ...origin, ancestry, overrides };
  opts.afterPlan?.(plan);
  if (!opts.apply) return { status: 'planned', plan };
  const older = isNoop(plan) ? undefined : ancestryRefusal(plan.provenance);
  if (older) {
    if (!allowNonDescendant) throw older;
    overrides.push({ kind: 'non-descendant', reason: allowNonDescendant, detail: `last synced ${ancestry.previous}` });
  }
  const result = await applyPlan(plan, desired, snapshot, target, { now, ...opts.applyOptions });
  return { status: 'applied', plan, result };
}
