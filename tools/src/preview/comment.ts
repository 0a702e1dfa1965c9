/**
 * The pull-request comment: ONE comment per pull request, found again by its hidden marker and
 * edited in place on every run (never a second one). Uses GITHUB_TOKEN, GITHUB_REPOSITORY
 * (`owner/repo`), GITHUB_EVENT_PATH (the event payload: `pull_request.number`, or `issue.number`
 * for issue_comment events) and GITHUB_API_URL (GitHub Enterprise, or a local test server).
 */
import { readFile } from 'node:fs/promises';
import { Octokit } from '@octokit/rest';
import { UserError } from '../errors.js';
import { COMMENT_MARKER } from './render.js';

export interface CommentTarget {
  token: string;
  owner: string;
  repo: string;
  issueNumber: number;
  apiUrl: string;
}

/** Reads the target from the GitHub Actions environment; a UserError says which variable is missing. */
export async function commentTargetFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<CommentTarget> {
  const need = (k: string) => {
    const v = env[k];
    if (!v) throw new UserError(`--comment needs ${k} (set by GitHub Actions; the token needs "pull-requests: write")`);
    return v;
  };
  const token = need('GITHUB_TOKEN');
  const [owner, repo, ...rest] = need('GITHUB_REPOSITORY').split('/');
  if (!owner || !repo || rest.length)
    throw new UserError(`GITHUB_REPOSITORY must be "owner/repo", got "${env.GITHUB_REPOSITORY}"`);
  const eventPath = need('GITHUB_EVENT_PATH');
  let event: {
    pull_request?: { number?: unknown };
    issue?: { number?: unknown; pull_request?: unknown };
    number?: unknown;
  };
  try {
    event = JSON.parse(await readFile(eventPath, 'utf8'));
  } catch (e) {
    throw new UserError(`cannot read the event payload GITHUB_EVENT_PATH=${eventPath}: ${(e as Error).message}`);
  }
  const n = Number(event.pull_request?.number ?? (event.issue?.pull_request ? event.issue.number : undefined) ?? NaN);
  if (!Number.isInteger(n) || n <= 0)
    throw new UserError(
      `the event in ${eventPath} is not a pull request event (no pull_request.number): ` +
        'run --comment on pull_request workflows',
    );
  return {
    token,
    owner,
    repo,
    issueNumber: n,
    apiUrl: (env.GITHUB_API_URL || 'https://api.github.com').replace(/\/+$/, ''),
  };
}

export interface CommentResult {
  action: 'created' | 'updated' | 'unchanged';
  id: number;
  url: string;
}

/** Creates the marked comment, or edits the existing one (the first found with the marker). */
export async function upsertComment(
  target: CommentTarget,
  body: string,
  marker = COMMENT_MARKER,
): Promise<CommentResult> {
  if (!body.includes(marker)) throw new Error('comment body lacks its marker');
  const octokit = new Octokit({
    auth: target.token,
    baseUrl: target.apiUrl,
    userAgent: 'offload-preview',
    request: { retries: 0 },
  });
  const where = `${target.owner}/${target.repo}#${target.issueNumber}`;
  try {
    const comments = await octokit.paginate(octokit.rest.issues.listComments, {
      owner: target.owner,
      repo: target.repo,
      issue_number: target.issueNumber,
      per_page: 100,
    });
    const mine = comments.find((c) => typeof c.body === 'string' && c.body.includes(marker));
    if (mine) {
      if (mine.body === body) return { action: 'unchanged', id: mine.id, url: mine.html_url };
      const r = await octokit.rest.issues.updateComment({
        owner: target.owner,
        repo: target.repo,
        comment_id: mine.id,
        body,
      });
      return { action: 'updated', id: r.data.id, url: r.data.html_url };
    }
    const r = await octokit.rest.issues.createComment({
      owner: target.owner,
      repo: target.repo,
      issue_number: target.issueNumber,
      body,
    });
    return { action: 'created', id: r.data.id, url: r.data.html_url };
  } catch (e) {
    const status = (e as { status?: number }).status;
    const msg = (e as Error).message;
    const hint =
      status === 401
        ? 'GITHUB_TOKEN is invalid'
        : (status === 403 || status === 429) && /rate limit/i.test(msg)
          ? 'GitHub API rate limit exceeded (retry later)'
          : status === 403
            ? 'the token lacks "pull-requests: write" (or "issues: write")'
            : status === 404
              ? 'repository or pull request not found (or not visible to the token)'
              : 'request failed';
    throw new UserError(
      `cannot comment on ${where}: ${hint}${status ? ` (HTTP ${status})` : ''}: ${msg.split('\n')[0]}`,
    );
  }
}
