/**
 * A real AWS API emulator for tests: moto in server mode (`.venv/bin/moto_server`, installed by
 * scripts/pyenv.sh from requirements.txt), on a free loopback port. Sets AWS_ENDPOINT_URL, dummy
 * credentials and the region in process.env, so code under test uses the standard SDK chain
 * unchanged. Reset state between tests with `reset()`; stop it at the end with `stop()`.
 *
 *   const moto = await startMoto();
 *   test.before.each(() => moto.reset());
 *   test.after(() => moto.stop());
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const MOTO_SERVER = path.join(ROOT, '.venv/bin/moto_server');

export interface MotoServer {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  port: number;
  /** The variables set in process.env (also useful for child processes). */
  env: Record<string, string>;
  /** Forgets every resource (POST /moto-api/reset). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

function motoAvailable(): boolean {
  return existsSync(MOTO_SERVER);
}

/** A port that was free a moment ago on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function waitReady(endpoint: string, child: ChildProcess, log: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}:\n${log()}`);
    try {
      const r = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) });
      if (r.status < 500) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`moto_server did not answer on ${endpoint} within ${timeoutMs} ms:\n${log()}`);
}

export interface StartMotoOptions {
  region?: string;
  /** Set AWS_* variables in process.env (default true). */
  setEnv?: boolean;
  timeoutMs?: number;
}

export async function startMoto(opts: StartMotoOptions = {}): Promise<MotoServer> {
  if (!motoAvailable())
    throw new Error(`${MOTO_SERVER} is missing: run bash scripts/setup.sh (it installs requirements.txt into .venv)`);
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    let output = '';
    const child = spawn(MOTO_SERVER, ['-H', '127.0.0.1', '-p', String(port)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PYTHONUNBUFFERED: '1' },
    });
    child.stdout!.on('data', (d) => {
      output = (output + d).slice(-4000);
    });
    child.stderr!.on('data', (d) => {
      output = (output + d).slice(-4000);
    });
    try {
      await waitReady(endpoint, child, () => output, opts.timeoutMs ?? 30_000);
    } catch (e) {
      lastError = e;
      child.kill('SIGKILL');
      continue; // the port was taken in between: try another
    }
    const env: Record<string, string> = {
      AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_REGION: opts.region ?? 'eu-west-1',
      AWS_DEFAULT_REGION: opts.region ?? 'eu-west-1',
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    if (opts.setEnv !== false) {
      Object.assign(process.env, env);
      for (const k of ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_SECURITY_TOKEN']) delete process.env[k];
    }
    // Never leave a server behind, even when a test file crashes.
    const onExit = () => {
      try {
        child.kill('SIGKILL');
      } catch {
        /* gone */
      }
    };
    process.once('exit', onExit);
    return {
      endpoint,
      port,
      env,
      async reset() {
        const r = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
        if (!r.ok) throw new Error(`moto reset failed: ${r.status}`);
      },
      async stop() {
        process.removeListener('exit', onExit);
        if (child.exitCode !== null) return;
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => {
            child.kill('SIGKILL');
          }, 3000);
          child.once('exit', () => {
            clearTimeout(t);
            resolve();
          });
          child.kill('SIGTERM');
        });
      },
    };
  }
  throw lastError;
}
