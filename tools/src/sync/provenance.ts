/**
 * Where the configs a sync publishes come from, read from git: the commit, the config files that
 * differ from it (modified, staged, untracked, ignored or deleted), and whether that commit
 * descends from the ones the target last received. Sync refuses to apply uncommitted configs or a
 * non-descendant commit unless an override with a reason is given; the reason goes into the manifest.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { SETTINGS_FILE } from '../config/source.js';
import { UserError } from '../errors.js';

const run = promisify(execFile);

/** An override of a provenance guard, as recorded in the manifest. */
interface Override {
  kind: 'uncommitted' | 'non-descendant';
  reason: string;
  /** What was overridden: the uncommitted files, or the last synced commit. */
  detail: string;
}

export interface Ancestry {
  /** ok: first sync, same commit, or a descendant of every commit the target last received. */
  status: 'ok' | 'not-descendant' | 'unknown';
  /** The last synced commit that the status is about (not-descendant, unknown). */
  previous?: string;
  /** Why it could not be determined (unknown). */
  why?: string;
}

export interface Provenance {
  /** The commit recorded with every write: HEAD (`-dirty` with uncommitted configs), else `--commit`. */
  commit: string;
  /** The checked-out commit, when the root is in a git work tree with a commit. */
  head?: string;
  /** Why git cannot vouch for the configs at all (no repository, no commit yet). */
  noGit?: string;
  shallow: boolean;
  /** Config files that differ from HEAD: `path (state)`, paths relative to the root. */
  uncommitted: string[];
  ancestry: Ancestry;
  /** Overrides this sync uses (and records when it writes). */
  overrides: Override[];
}

async function git(root: string, args: string[]): Promise<{ code: number; out: string }> {
  try {
    const r = await run('git', ['-C', root, ...args], { maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, out: r.stdout };
  } catch (e) {
    const err = e as { code?: number | string; stdout?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, out: err.stdout ?? '' };
  }
}

/** The paths sync reads: the settings file and `databases|policies/<name>.y(a)ml` (not nested). */
const isConfigPath = (rel: string) => rel === SETTINGS_FILE || /^(databases|policies)\/[^/]+\.ya?ml$/.test(rel);

const STATES: Record<string, string> = {
  M: 'modified',
  A: 'added',
  D: 'deleted',
  R: 'renamed',
  C: 'copied',
  T: 'type changed',
  U: 'unmerged',
  '?': 'untracked',
  '!': 'ignored',
};

/**
 * Reads the commit and the uncommitted config files. `commitOption` (`--commit`) must name the
 * checked-out commit inside a git work tree; outside one it is recorded as given.
 */
export async function readProvenance(root: string, commitOption?: string): Promise<Omit<Provenance, 'ancestry'>> {
  const top = await git(root, ['rev-parse', '--show-prefix']);
  if (top.code !== 0) {
    return {
      commit: commitOption ?? process.env.GITHUB_SHA ?? 'unknown',
      noGit: 'the configs are not in a git repository',
      shallow: false,
      uncommitted: [],
      overrides: [],
    };
  }
  const prefix = top.out.trim();
  const headOut = await git(root, ['rev-parse', '--verify', '-q', 'HEAD']);
  const head = headOut.code === 0 ? headOut.out.trim() : undefined;
  if (commitOption !== undefined && head) {
    const given = await git(root, ['rev-parse', '--verify', '-q', `${commitOption}^{commit}`]);
    if (given.code !== 0 || given.out.trim() !== head)
      throw new UserError(
        `--commit ${commitOption} is not the checked-out commit ${head}: sync publishes the working tree, ` +
          `so it records the commit checked out (drop --commit, or check out ${commitOption})`,
        2,
      );
  }
  const shallow = (await git(root, ['rev-parse', '--is-shallow-repository'])).out.trim() === 'true';
  // Ignored files count too: sync publishes every config file it finds, whatever .gitignore says.
  const status = await git(root, [
    'status',
    '--porcelain=v1',
    '-z',
    '--untracked-files=all',
    '--ignored=matching',
    '--',
    SETTINGS_FILE,
    'databases',
    'policies',
  ]);
  const uncommitted: string[] = [];
  const tokens = status.out.split('\0');
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.length < 4) continue;
    const xy = t.slice(0, 2);
    // Porcelain paths are relative to the top of the repository; the root may be below it.
    const rel = t.slice(3).startsWith(prefix) ? t.slice(3 + prefix.length) : t.slice(3);
    if (xy[0] === 'R' || xy[0] === 'C') i++; // followed by the source path
    if (!isConfigPath(rel)) continue;
    const code = xy[0] !== ' ' && xy[0] !== '?' && xy[0] !== '!' ? xy[0]! : xy[1]!;
    const state = STATES[code] ?? 'changed';
    uncommitted.push(`${rel} (${xy[0] !== ' ' && xy[0] !== '?' && xy[0] !== '!' ? `${state}, staged` : state})`);
  }
  if (!head)
    return {
      commit: commitOption ?? 'unknown',
      noGit: 'the git repository has no commit yet',
      shallow,
      uncommitted,
      overrides: [],
    };
  return { commit: uncommitted.length ? `${head}-dirty` : head, head, shallow, uncommitted, overrides: [] };
}

const base = (commit: string) => commit.replace(/-dirty$/, '');

/**
 * Whether the commit being synced descends from each commit the target last received (the last
 * completed sync's, and an unfinished sync's). Ancestry that cannot be determined (no repository,
 * a shallow clone, a commit this clone does not have) is reported as unknown, never as ok.
 */
export async function checkAncestry(
  root: string,
  p: Omit<Provenance, 'ancestry'>,
  previous: (string | undefined)[],
): Promise<Ancestry> {
  const current = base(p.commit);
  for (const prev of [...new Set(previous.filter((c): c is string => !!c))]) {
    if (base(prev) === current) continue;
    if (!p.head) return { status: 'unknown', previous: prev, why: p.noGit };
    if (!/^[0-9a-f]{7,64}$/.test(base(prev)))
      return { status: 'unknown', previous: prev, why: `${prev} is not a git commit id` };
    const r = await git(root, ['merge-base', '--is-ancestor', base(prev), p.head]);
    if (r.code === 0) continue;
    if (r.code === 1 && !p.shallow) return { status: 'not-descendant', previous: prev };
    return {
      status: 'unknown',
      previous: prev,
      why: p.shallow
        ? 'this is a shallow clone, whose history is cut short'
        : `${base(prev)} is not in this clone's history`,
    };
  }
  return { status: 'ok' };
}

/** Checks an override's reason: a non-empty text (it is recorded for auditors). */
export function overrideReason(flag: string, reason: string | undefined): string | undefined {
  if (reason === undefined) return undefined;
  const r = reason.trim();
  if (!r)
    throw new UserError(`${flag} needs a reason (it is recorded in the manifest), e.g. ${flag} "INC-42 hotfix"`, 2);
  return r;
}

const ALLOW_UNCOMMITTED =
  '--allow-uncommitted "<reason>" to apply them anyway (the reason is recorded in the manifest).';

/** The refusal for uncommitted configs, or undefined when there are none or they are allowed. */
export function uncommittedRefusal(p: Omit<Provenance, 'ancestry'>): UserError | undefined {
  if (p.noGit)
    return new UserError(
      `sync --apply refused: ${p.noGit}, so nothing shows these configs were committed and reviewed. ` +
        `Commit them, or pass ${ALLOW_UNCOMMITTED}`,
      1,
    );
  if (!p.uncommitted.length) return undefined;
  return new UserError(
    [
      `sync --apply refused: ${p.uncommitted.length} config file(s) differ from commit ${p.head}:`,
      ...p.uncommitted.map((u) => `  ${u}`),
      'Only committed, reviewed configs reach a target: commit them (and merge them through review), ' +
        `or pass ${ALLOW_UNCOMMITTED}`,
    ].join('\n'),
    1,
  );
}

/** The refusal for a commit that is not (or not provably) a descendant of the last synced one. */
export function ancestryRefusal(p: Provenance): UserError | undefined {
  const a = p.ancestry;
  if (a.status === 'ok') return undefined;
  const cur = p.head ?? p.commit;
  if (a.status === 'not-descendant')
    return new UserError(
      `sync --apply refused: commit ${cur} is not a descendant of commit ${a.previous}, which the target ` +
        `last received; applying it would revert newer configs. Sync a commit that contains ${a.previous} ` +
        '(merge or rebase onto it), or pass --allow-non-descendant "<reason>" (recorded in the manifest).',
      1,
    );
  return new UserError(
    `sync --apply refused: cannot tell whether commit ${cur} descends from commit ${a.previous}, which the ` +
      `target last received (${a.why}). Fetch the full history (git fetch --unshallow; in GitHub Actions, ` +
      'actions/checkout with fetch-depth: 0), or pass --allow-non-descendant "<reason>" (recorded in the manifest).',
    1,
  );
}
