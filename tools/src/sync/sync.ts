/**
 * `offload sync` core: validate, compute the desired state, read the target, plan, and (with
 * apply) carry the plan out. Returns data; the command renders it.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { loadRepo, type LoadedRepo } from '../config/load.js';
import { fsSource, type ConfigSource } from '../config/source.js';
import { UserError } from '../errors.js';
import type { OffloadSettings } from '../generated/settings.js';
import { applyPlan, type ApplyOptions, type ApplyResult } from './apply.js';
import type { AwsTargetOptions } from './aws-target.js';
import { md5Hex } from './canonical.js';
import { desiredState } from './desired.js';
import { createLocalTarget, DEFAULT_LOCAL_DIR } from './local-target.js';
import { computePlan, fileShaNeeded, type Plan } from './plan.js';
import type { Target } from './target.js';

const run = promisify(execFile);

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
  /** Git commit recorded with every write; default GITHUB_SHA, else `git rev-parse HEAD` (+ `-dirty`). */
  commit?: string;
  aws?: Omit<AwsTargetOptions, 'settings'>;
  /** Counts requests by kind for the local target too. */
  onRequest?: (service: string, command: string) => void;
  applyOptions?: ApplyOptions;
  /** Target override (tests). */
  targetImpl?: Target;
  now?: () => Date;
  /** Called with the plan before apply starts (progress output, timing). */
  afterPlan?: (plan: Plan) => void;
}

export type SyncOutcome =
  | { status: 'invalid'; repo: LoadedRepo }
  | { status: 'planned'; plan: Plan }
  | { status: 'applied'; plan: Plan; result: ApplyResult };

export async function gitCommit(root: string): Promise<string> {
  if (process.env.GITHUB_SHA) return process.env.GITHUB_SHA;
  try {
    const head = (await run('git', ['-C', root, 'rev-parse', 'HEAD'])).stdout.trim();
    const dirty = (
      await run('git', ['-C', root, 'status', '--porcelain', '--', 'offload.settings.yaml', 'databases', 'policies'])
    ).stdout.trim();
    return dirty ? `${head}-dirty` : head;
  } catch {
    return 'unknown';
  }
}

export async function runSync(opts: SyncOptions): Promise<SyncOutcome> {
  const source = opts.source ?? fsSource(opts.root);
  const repo = await loadRepo(source);
  if (repo.errors > 0 || !repo.settings) return { status: 'invalid', repo };
  const settings = repo.settings.config as OffloadSettings;
  const commit = opts.commit ?? (await gitCommit(opts.root));
  const desired = await desiredState(repo, source, commit);
  const target =
    opts.targetImpl ??
    (opts.target.kind === 'aws'
      ? // The AWS SDK is loaded only for the AWS target.
        await (await import('./aws-target.js')).createAwsTarget({
          settings,
          ...opts.aws,
          onRequest: opts.aws?.onRequest ?? opts.onRequest,
        })
      : createLocalTarget({ dir: opts.target.dir, settings, onRequest: opts.onRequest }));
  const now = opts.now ?? (() => new Date());
  const snapshot = await target.read();
  const need = fileShaNeeded(desired, snapshot, md5Hex);
  const fileSha = need.length ? await target.fileSha256(need) : undefined;
  const plan = computePlan(
    { target: target.label, desired, snapshot, fileSha, prune: opts.prune, now: now(), breakLock: opts.breakLock },
    md5Hex,
  );
  opts.afterPlan?.(plan);
  if (!opts.apply) return { status: 'planned', plan };
  const result = await applyPlan(plan, desired, snapshot, target, { now, ...opts.applyOptions });
  return { status: 'applied', plan, result };
}
