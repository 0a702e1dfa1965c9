/**
 * A local stand-in for the few GitHub REST endpoints the preview comment uses (list, create, update
 * issue comments), recording every request. Contract test only: it answers like api.github.com for
 * these routes, with Link-header pagination.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

interface Recorded {
  method: string;
  path: string;
  body: unknown;
  auth: string | undefined;
}
export interface FakeGithub {
  url: string;
  requests: Recorded[];
  comments: { id: number; body: string; html_url: string; user: { login: string } }[];
  close(): Promise<void>;
}

export async function startFakeGithub(owner: string, repo: string, issue: number): Promise<FakeGithub> {
  const requests: Recorded[] = [];
  const comments: FakeGithub['comments'] = [];
  let nextId = 1000;
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x');
      const body = raw ? JSON.parse(raw) : undefined;
      requests.push({ method: req.method ?? '', path: u.pathname, body, auth: req.headers.authorization });
      const send = (status: number, data: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(data));
      };
      const list = `/repos/${owner}/${repo}/issues/${issue}/comments`;
      if (req.method === 'GET' && u.pathname === list) {
        const per = Number(u.searchParams.get('per_page') ?? 30),
          page = Number(u.searchParams.get('page') ?? 1);
        const slice = comments.slice((page - 1) * per, page * per);
        const more = page * per < comments.length;
        return send(
          200,
          slice,
          more ? { link: `<${addr()}${list}?per_page=${per}&page=${page + 1}>; rel="next"` } : {},
        );
      }
      if (req.method === 'POST' && u.pathname === list) {
        const c = {
          id: nextId++,
          body: body.body,
          html_url: `https://github.example/${owner}/${repo}/pull/${issue}#issuecomment-${nextId}`,
          user: { login: 'github-actions[bot]' },
        };
        comments.push(c);
        return send(201, c);
      }
      const m = /^\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/.exec(u.pathname);
      if (req.method === 'PATCH' && m && m[1] === owner && m[2] === repo) {
        const c = comments.find((x) => x.id === Number(m[3]));
        if (!c) return send(404, { message: 'Not Found' });
        c.body = body.body;
        return send(200, c);
      }
      send(404, { message: 'Not Found' });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = () => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url: addr(), requests, comments, close: () => new Promise((r) => server.close(() => r())) };
}
