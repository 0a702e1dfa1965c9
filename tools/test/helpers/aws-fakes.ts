/**
 * Local HTTP servers on 127.0.0.1 for what the AWS emulator cannot do:
 *
 * - `startGlueContractServer`: a narrow contract stand-in for the Glue connection API (moto 5.1
 *   implements CreateConnection/GetConnection/GetConnections but not UpdateConnection or
 *   DeleteConnection). It answers like the Glue JSON 1.1 API and records every request body, so a
 *   test asserts the exact requests the SDK client sends. Point a client at it with
 *   AWS_ENDPOINT_URL_GLUE.
 * - `startThrottleProxy`: forwards to an upstream (moto) but answers the first N matching requests
 *   with the service's throttling error (S3 503 SlowDown, DynamoDB/Glue ThrottlingException), to
 *   test that throttling is retried with backoff.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

interface RecordedRequest {
  action: string;
  body: Record<string, any>;
}

interface FakeServer {
  endpoint: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export interface GlueContractServer extends FakeServer {
  connections: Map<
    string,
    { input: Record<string, any>; tags: Record<string, string>; created: string; updated: string }
  >;
  /** Answer the next n requests with ThrottlingException. */
  throttleNext(n: number): void;
}

function listen(server: http.Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const close = (server: http.Server) => () =>
  new Promise<void>((r) => {
    server.closeAllConnections?.();
    server.close(() => r());
  });

/** Glue connection API as documented (JSON 1.1, X-Amz-Target: AWSGlue.<Action>), in memory. */
export async function startGlueContractServer(opts: { pageSize?: number } = {}): Promise<GlueContractServer> {
  const connections: GlueContractServer['connections'] = new Map();
  const requests: RecordedRequest[] = [];
  let throttle = 0;
  const server = http.createServer(async (req, res) => {
    const raw = await readBody(req);
    const action = String(req.headers['x-amz-target'] ?? '').replace(/^AWSGlue\./, '');
    let body: Record<string, any> = {};
    try {
      body = raw.length ? JSON.parse(raw.toString('utf8')) : {};
    } catch {
      /* recorded as empty */
    }
    requests.push({ action, body });
    const send = (status: number, payload: unknown) => {
      res.writeHead(status, {
        'content-type': 'application/x-amz-json-1.1',
        'x-amzn-requestid': `req-${requests.length}`,
      });
      res.end(JSON.stringify(payload));
    };
    const fail = (type: string, message: string, status = 400) => send(status, { __type: type, Message: message });
    if (throttle > 0) {
      throttle--;
      return fail('ThrottlingException', 'Rate exceeded');
    }
    const now = new Date().toISOString();
    const view = (name: string) => {
      const c = connections.get(name)!;
      return {
        ...c.input,
        CreationTime: Date.parse(c.created) / 1000,
        LastUpdatedTime: Date.parse(c.updated) / 1000,
        Status: 'READY',
      };
    };
    switch (action) {
      case 'CreateConnection': {
        const input = body.ConnectionInput;
        if (!input?.Name || !input?.ConnectionType)
          return fail('InvalidInputException', 'ConnectionInput.Name and ConnectionType are required');
        if (connections.has(input.Name))
          return fail('AlreadyExistsException', `Connection ${input.Name} already exists`);
        connections.set(input.Name, { input, tags: body.Tags ?? {}, created: now, updated: now });
        return send(200, { CreateConnectionStatus: 'READY' });
      }
      case 'UpdateConnection': {
        const c = connections.get(body.Name);
        if (!c) return fail('EntityNotFoundException', `Connection ${body.Name} not found`);
        if (!body.ConnectionInput?.Name) return fail('InvalidInputException', 'ConnectionInput is required');
        connections.delete(body.Name);
        connections.set(body.ConnectionInput.Name, { ...c, input: body.ConnectionInput, updated: now });
        return send(200, {});
      }
      case 'DeleteConnection': {
        if (!connections.delete(body.ConnectionName))
          return fail('EntityNotFoundException', `Connection ${body.ConnectionName} not found`);
        return send(200, {});
      }
      case 'GetConnection': {
        if (!connections.has(body.Name)) return fail('EntityNotFoundException', `Connection ${body.Name} not found`);
        return send(200, { Connection: view(body.Name) });
      }
      case 'GetConnections': {
        const names = [...connections.keys()].sort();
        const start = body.NextToken ? Number(body.NextToken) : 0;
        const size = Math.min(body.MaxResults ?? 100, opts.pageSize ?? 1000);
        const page = names.slice(start, start + size);
        const next = start + size < names.length ? String(start + size) : undefined;
        return send(200, { ConnectionList: page.map(view), ...(next ? { NextToken: next } : {}) });
      }
      default:
        return fail('UnknownOperationException', `not part of this contract: ${action}`);
    }
  });
  const endpoint = await listen(server);
  return {
    endpoint,
    requests,
    connections,
    throttleNext: (n) => {
      throttle += n;
    },
    close: close(server),
  };
}

export interface ThrottleProxy extends FakeServer {
  /** Requests answered with a throttling error, by service. */
  throttled: Record<string, number>;
  /** Throttle the next n requests of a service ('s3' | 'dynamodb' | 'glue'). */
  throttleNext(service: string, n: number): void;
}

function serviceOf(req: http.IncomingMessage): { service: string; action: string } {
  const t = String(req.headers['x-amz-target'] ?? '');
  if (t.startsWith('DynamoDB_')) return { service: 'dynamodb', action: t.split('.')[1] ?? '' };
  if (t.startsWith('AWSGlue.')) return { service: 'glue', action: t.split('.')[1] ?? '' };
  return { service: 's3', action: req.method ?? '' };
}

/**
 * Forwards everything to `upstream`, except the requests it has been told to throttle. With
 * `serialize`, one request at a time: moto's server handles requests on parallel threads and its
 * DynamoDB conditional writes are not atomic under that concurrency (two UpdateItem calls
 * conditional on the same value can both succeed); DynamoDB makes each request atomic, which
 * one-at-a-time forwarding restores for race tests.
 */
export async function startThrottleProxy(upstream: string, opts: { serialize?: boolean } = {}): Promise<ThrottleProxy> {
  let queue: Promise<unknown> = Promise.resolve();
  const requests: RecordedRequest[] = [];
  const pending: Record<string, number> = {};
  const throttled: Record<string, number> = {};
  const up = new URL(upstream);
  const server = http.createServer(async (req, res) => {
    const body = await readBody(req);
    const { service, action } = serviceOf(req);
    requests.push({ action: `${service}:${action}`, body: {} });
    if ((pending[service] ?? 0) > 0) {
      pending[service]!--;
      throttled[service] = (throttled[service] ?? 0) + 1;
      if (service === 's3') {
        res.writeHead(503, { 'content-type': 'application/xml' });
        return res.end(
          '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>' +
            '<Message>Please reduce your request rate.</Message><RequestId>proxy</RequestId></Error>',
        );
      }
      res.writeHead(400, {
        'content-type': service === 'glue' ? 'application/x-amz-json-1.1' : 'application/x-amz-json-1.0',
      });
      return res.end(
        JSON.stringify(
          service === 'glue'
            ? { __type: 'ThrottlingException', Message: 'Rate exceeded' }
            : {
                __type: 'com.amazonaws.dynamodb.v20120810#ThrottlingException',
                message: 'Rate of requests exceeds the allowed throughput.',
              },
        ),
      );
    }
    const forward = () =>
      new Promise<void>((done) => {
        const fwd = http.request(
          { hostname: up.hostname, port: up.port, path: req.url, method: req.method, headers: req.headers },
          (r) => {
            res.writeHead(r.statusCode ?? 502, r.headers);
            r.pipe(res);
            r.on('end', () => done());
            r.on('error', () => done());
          },
        );
        fwd.on('error', (e) => {
          res.writeHead(502);
          res.end(String(e));
          done();
        });
        fwd.end(body);
      });
    if (opts.serialize) queue = queue.then(forward);
    else void forward();
  });
  const endpoint = await listen(server);
  return {
    endpoint,
    requests,
    throttled,
    throttleNext: (s, n) => {
      pending[s] = (pending[s] ?? 0) + n;
    },
    close: close(server),
  };
}
