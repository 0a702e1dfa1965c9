/**
 * `offload init`'s core: starts a user's own config repository as a clone of the toolkit (so it has
 * the design card's top-level layout: `databases/`, `policies/`, `offload.settings.yaml` next to
 * `schema/`, `tools/`, `glue/`, `.github/`), with the user's settings and no database or policy yet.
 * The toolkit stays a git remote named `toolkit`: `git pull toolkit main` brings its updates, and
 * since the toolkit itself never keeps configs in `databases/` or `policies/`, those merges never
 * touch the user's files. Returns data; never prints. Nothing is left behind when it fails.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, renameSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadRepo } from '../config/load.js';
import { SETTINGS_FILE, type ConfigSource } from '../config/source.js';

/** The folders of a repository's own configs (the toolkit keeps them empty). */
const CONFIG_DIRS = ['databases', 'policies'] as const;
import { UserError } from '../errors.js';

/** The toolkit checkout this code runs from (the default clone source). */
const TOOLKIT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export interface SettingsInput {
  prefix: string;
  region: string;
  account?: string;
  configBucket?: string;
  archiveBucket?: string;
  table?: string;
  timezone?: string;
}

export interface InitOptions {
  /** The new repository's folder: must not exist, or be empty. */
  dir: string;
  settings: SettingsInput;
  /** Git URL or path of the toolkit to start from (default: the checkout this command runs from). */
  toolkit?: string;
  /** Commit the settings (default true); false leaves them staged. */
  commit?: boolean;
}

export interface InitResult {
  dir: string;
  toolkit: string;
  branch: string;
  commit: string | null;
  settings: string;
  /** Config files of the toolkit's root that were left out of the new repository. */
  removed: string[];
}

/** Which option sets which settings field, so a finding names what the user typed. */
const FLAG_OF: Record<string, string> = {
  resource_prefix: '--prefix',
  region: '--region',
  account_id: '--account',
  'config.bucket': '--config-bucket',
  'config.dynamodb_table': '--table',
  'archive.bucket': '--archive-bucket',
  'defaults.timezone': '--timezone',
};

const q = (s: string) => JSON.stringify(s);

/** The settings file for these inputs; every other name derives from the prefix (seed-style names). */
function renderSettings(s: SettingsInput): string {
  const p = s.prefix;
  const u = p.replace(/-/g, '_');
  return `# yaml-language-server: $schema=./schema/settings.schema.json
# Repository-wide settings: every AWS resource name derives from this file (written by \`offload init\`).
resource_prefix: ${q(p)}
region: ${q(s.region)}
${s.account ? `account_id: ${q(s.account)}\n` : ''}config:
  bucket: ${q(s.configBucket ?? `${p}-archival-configs`)}
  prefix: configs
  dynamodb_table: ${q(s.table ?? `${p}-archival-configs`)}
archive:
  bucket: ${q(s.archiveBucket ?? `${p}-data-archive-vault`)}
  prefix: iceberg
  glue_database_prefix: archive_
dags:
  archival: ${u}_data_archival_to_iceberg
  purge: ${u}_data_purge_from_iceberg
glue_jobs:
  archive: ${p}-data-archive-table-to-iceberg
  validate: ${p}-archive-data-validation
  purge: ${p}-data-purge-from-iceberg
lambdas:
  discover: ${u}_discover_tables
  presigned_urls: ${u}_presigned_urls
  test_connection: ${u}_test_connection
  validation_report: ${u}_validation_report
  s3_trigger: ${u}_s3_yaml_to_mwaa
defaults:
  discovery_schedule: cron(0 2 * * ? *)
  timezone: ${q(s.timezone ?? 'UTC')}
  tags:
    managed-by: data-retention-offloader
`;
}

/** Validation findings of the settings alone (schema and rules), each naming the option behind it. */
async function settingsProblems(text: string): Promise<string[]> {
  const source: ConfigSource = {
    label: 'offload init',
    listFiles: async () => [SETTINGS_FILE],
    readFile: async (rel) => (rel === SETTINGS_FILE ? new TextEncoder().encode(text) : undefined),
  };
  const repo = await loadRepo(source);
  return repo.findings
    .filter((f) => f.severity === 'error')
    .map((f) => {
      const field = f.pointer.slice(1).replace(/\//g, '.');
      const flag = FLAG_OF[field] ?? Object.entries(FLAG_OF).find(([k]) => field.startsWith(`${k}.`))?.[1];
      const derived = !flag && field ? ` (derived from --prefix: choose a shorter prefix)` : '';
      return `${flag ? `${flag}: ` : field ? `${field}: ` : ''}${f.message}${derived}`;
    });
}

function git(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  }).trim();
}

/** The URL of a remote of a checkout, or undefined. */
export function remoteUrl(cwd: string, remote: string): string | undefined {
  try {
    return git(cwd, ['remote', 'get-url', remote]) || undefined;
  } catch {
    return undefined;
  }
}

function gitIdentity(cwd: string): NodeJS.ProcessEnv {
  const has = (k: string) => {
    try {
      return git(cwd, ['config', k]) !== '';
    } catch {
      return false;
    }
  };
  // A first commit must not fail on a machine with no git identity: fall back to a named tool identity.
  return has('user.email') && has('user.name')
    ? {}
    : {
        GIT_AUTHOR_NAME: 'offload init',
        GIT_AUTHOR_EMAIL: 'offload-init@localhost',
        GIT_COMMITTER_NAME: 'offload init',
        GIT_COMMITTER_EMAIL: 'offload-init@localhost',
      };
}

export async function initRepo(opts: InitOptions): Promise<InitResult> {
  const dir = path.resolve(opts.dir);
  const toolkit = opts.toolkit ?? TOOLKIT_ROOT;
  const settings = renderSettings(opts.settings);
  const problems = await settingsProblems(settings);
  if (problems.length)
    throw new UserError(`the settings would not validate:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  if (existsSync(dir) && readdirSync(dir).length > 0)
    throw new UserError(`${dir} is not empty: \`offload init\` starts a new repository in a new or empty folder`);
  // Clone next to the target and move it in place at the end: a failure leaves nothing behind.
  const parent = path.dirname(dir);
  if (!existsSync(parent)) throw new UserError(`${parent} does not exist`);
  const work = mkdtempSync(path.join(parent, `.${path.basename(dir)}.init-`));
  const repo = path.join(work, 'repo');
  try {
    try {
      git(parent, ['clone', '-q', '--single-branch', '-o', 'toolkit', toolkit, repo]);
    } catch (e) {
      const msg = String((e as { stderr?: string }).stderr ?? (e as Error).message)
        .trim()
        .split('\n')
        .pop();
      throw new UserError(`cannot clone the toolkit from ${toolkit}: ${msg}`);
    }
    // Cloned from a local checkout that came from somewhere: updates should come from there too.
    if (!opts.toolkit) {
      const origin = remoteUrl(TOOLKIT_ROOT, 'origin');
      if (origin) git(repo, ['remote', 'set-url', 'toolkit', origin]);
    }
    const upstream = git(repo, ['rev-parse', '--abbrev-ref', 'HEAD']);
    // The user's own history is `main`, tracking nothing: pushes go to their remote, never the toolkit.
    if (upstream !== 'main') git(repo, ['branch', '-q', '-m', upstream, 'main']);
    git(repo, ['branch', '-q', '--unset-upstream']);
    // A toolkit root that holds configs (a clone of someone's config repo) must not seed this one.
    const removed: string[] = [];
    for (const d of CONFIG_DIRS) {
      if (!existsSync(path.join(repo, d))) continue;
      for (const f of readdirSync(path.join(repo, d), { withFileTypes: true }))
        if (f.isFile() && /\.ya?ml$/.test(f.name)) removed.push(`${d}/${f.name}`);
    }
    if (existsSync(path.join(repo, 'inventory'))) removed.push('inventory');
    if (removed.length) git(repo, ['rm', '-q', '-r', '--', ...removed]);
    writeFileSync(path.join(repo, SETTINGS_FILE), settings);
    git(repo, ['add', '--', SETTINGS_FILE]);
    let commit: string | null = null;
    if (opts.commit !== false) {
      git(repo, ['commit', '-q', '-m', `offload init: settings for ${opts.settings.prefix}`], gitIdentity(repo));
      commit = git(repo, ['rev-parse', 'HEAD']);
    }
    if (existsSync(dir)) rmSync(dir, { recursive: true });
    renameSync(repo, dir);
    return {
      dir,
      toolkit: remoteUrl(dir, 'toolkit') ?? toolkit,
      branch: 'main',
      commit,
      settings: SETTINGS_FILE,
      removed,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
