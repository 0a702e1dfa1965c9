/**
 * `offload onboard --pr`: the new database file (and its first inventory) on a new branch, one commit,
 * and a pull request whose body is the preview, through @octokit/rest (git data API: no local clone
 * is touched). A failure after the branch exists deletes the branch again. GITHUB_TOKEN and
 * GITHUB_REPOSITORY (`owner/repo`) name where; GITHUB_API_URL points at GitHub Enterprise or a test server.
 */
import { Octokit } from '@octokit/rest';
import { UserError } from '../errors.js';

export interface PullRequestTarget {
  token: string;
  owner: string;
  repo: string;
  apiUrl: string;
  /** Base branch; default the repository's default branch. */
  base?: string;
}

export function pullRequestTargetFromEnv(env: NodeJS.ProcessEnv, base?: string): PullRequestTarget {
  const token = env.GITHUB_TOKEN;
  if (!token) throw new UserError('--pr needs GITHUB_TOKEN (a token that may push branches and open pull requests)', 2);
  const [owner, repo, ...rest] = (env.GITHUB_REPOSITORY ?? '').split('/');
  if (!owner || !repo || rest.length)
    throw new UserError(`--pr needs GITHUB_REPOSITORY as "owner/repo", got "${env.GITHUB_REPOSITORY ?? ''}"`, 2);
  return {
    token,
    owner,
    repo,
    apiUrl: (env.GITHUB_API_URL || 'https://api.github.com').replace(/\/+$/, ''),
    ...(base ? { base } : {}),
  };
}

export interface OpenedPullRequest {
  branch: string;
  number: number;
  url: string;
}

export async function openPullRequest(
  t: PullRequestTarget,
  pr: { branch: string; title: string; body: string; files: { path: string; content: string }[] },
): Promise<OpenedPullRequest> {
  const quiet = () => {};
  const octokit = new Octokit({
    auth: t.token,
    baseUrl: t.apiUrl,
    userAgent: 'offload-onboard',
    request: { retries: 0 },
    // Failures are reported once, as the UserError below, not also by Octokit's logger.
    log: { debug: quiet, info: quiet, warn: quiet, error: quiet },
  });
  const { owner, repo } = t;
  let created = false;
  try {
    const base = t.base ?? (await octokit.rest.repos.get({ owner, repo })).data.default_branch;
    const head = (await octokit.rest.git.getRef({ owner, repo, ref: `heads/${base}` })).data.object.sha;
    const baseTree = (await octokit.rest.git.getCommit({ owner, repo, commit_sha: head })).data.tree.sha;
    const tree = await octokit.rest.git.createTree({
      owner,
      repo,
      base_tree: baseTree,
      tree: pr.files.map((f) => ({ path: f.path, mode: '100644' as const, type: 'blob' as const, content: f.content })),
    });
    const commit = await octokit.rest.git.createCommit({
      owner,
      repo,
      message: pr.title,
      tree: tree.data.sha,
      parents: [head],
    });
    await octokit.rest.git.createRef({ owner, repo, ref: `refs/heads/${pr.branch}`, sha: commit.data.sha });
    created = true;
    const opened = await octokit.rest.pulls.create({
      owner,
      repo,
      title: pr.title,
      head: pr.branch,
      base,
      body: pr.body,
    });
    return { branch: pr.branch, number: opened.data.number, url: opened.data.html_url };
  } catch (e) {
    if (created) await octokit.rest.git.deleteRef({ owner, repo, ref: `heads/${pr.branch}` }).catch(() => {});
    const err = e as { status?: number; message?: string };
    throw new UserError(
      `opening the pull request on ${owner}/${repo} failed${err.status ? ` (HTTP ${err.status})` : ''}: ${err.message}`,
      err.status === 401 || err.status === 403 ? 2 : 1,
    );
  }
}
