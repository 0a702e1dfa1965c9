/**
 * A local stand-in for the GitHub REST endpoints `offload onboard --pr` uses (repository, git refs,
 * commits, trees, pull requests), recording every request. Contract test only: it answers like
 * api.github.com for these routes; `failPulls` makes pull-request creation fail with 422.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

interface Recorded {
  method: string;
  path: string;
  // biome-ignore lint/suspicious/noExplicitAny: request bodies are whatever the client sent
  body: any;
  auth: string | undefined;
}
export interface FakeGitHub {
  url: string;
  requests: Recorded[];
  refs: Map<string, string>;
  close(): Promise<void>;
}

export async function startFakeGitHub(
  owner: string,
  repo: string,
  opts: { failPulls?: boolean } = {},
): Promise<FakeGitHub> {
  const requests: Recorded[] = [];
  const refs = new Map([['heads/main', 'base-commit-sha']]);
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const p = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      const body = raw ? JSON.parse(raw) : undefined;
      requests.push({ method: req.method ?? '', path: p, body, auth: req.headers.authorization });
      const send = (status: number, data: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(data));
      };
      const r = `/repos/${owner}/${repo}`;
      const m = req.method;
      if (m === 'GET' && p === r) return send(200, { name: repo, default_branch: 'main' });
      const ref = new RegExp(`^${r}/git/(?:ref|refs)/(heads/.+)$`).exec(p);
      if (m === 'GET' && ref) {
        const sha = refs.get(ref[1]!);
        return sha
          ? send(200, { ref: `refs/${ref[1]}`, object: { sha, type: 'commit' } })
          : send(404, { message: 'Not Found' });
      }
      if (m === 'DELETE' && ref)
        return refs.delete(ref[1]!) ? send(204, {}) : send(422, { message: 'Reference does not exist' });
      if (m === 'GET' && p === `${r}/git/commits/base-commit-sha`)
        return send(200, { sha: 'base-commit-sha', tree: { sha: 'base-tree-sha' } });
      if (m === 'POST' && p === `${r}/git/trees`) return send(201, { sha: 'new-tree-sha' });
      if (m === 'POST' && p === `${r}/git/commits`) return send(201, { sha: 'new-commit-sha' });
      if (m === 'POST' && p === `${r}/git/refs`) {
        const name = String(body.ref).replace(/^refs\//, '');
        if (refs.has(name)) return send(422, { message: 'Reference already exists' });
        refs.set(name, body.sha);
        return send(201, { ref: body.ref, object: { sha: body.sha } });
      }
      if (m === 'POST' && p === `${r}/pulls`) {
        if (opts.failPulls) return send(422, { message: 'Validation Failed' });
        return send(201, { number: 7, html_url: `https://github.example/${owner}/${repo}/pull/7` });
      }
      send(404, { message: 'Not Found' });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, requests, refs, close: () => new Promise((r) => server.close(() => r())) };
}
