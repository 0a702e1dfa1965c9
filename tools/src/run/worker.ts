/**
 * The TypeScript side of the data-plane worker (glue/offload_glue/worker.py): one Python process
 * holding one Spark session for a whole run, fed work units as JSON lines on stdin and answering one
 * JSON line per unit on stdout. Its stderr (Spark's and the jobs' logs) goes to a log file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.js';
import type { WorkUnit } from '../generated/work-unit.js';

const REPO_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export interface WorkerResult {
  id: string;
  /** The job's exit code: 0 ok, 1 validation mismatch, 2 user error or refusal, 3 bug; 4 the worker died. */
  exit_code: number;
  summary: Record<string, unknown> | null;
  error: { code: string; message: string } | null;
}

export interface WorkerOptions {
  warehouse: string;
  /** Units run at the same time in the worker's session. */
  parallel: number;
  catalog?: string;
  catalogType?: 'hadoop' | 'glue';
  python?: string;
  /** Spark's and the jobs' output. */
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cores?: number;
  /** How long Spark may take to start. @default 180000 */
  startTimeoutMs?: number;
}

export interface Worker {
  /** Runs one unit; `args` are runtime arguments of its job (e.g. `--result_path DIR`). */
  run(unit: WorkUnit, args?: string[]): Promise<WorkerResult>;
  /** Closes stdin and waits for the process to exit. */
  close(): Promise<void>;
  /** Stops it at once (Ctrl-C): in-flight archives commit atomically or leave nothing. */
  kill(): void;
  readonly pid: number | undefined;
}

export async function startWorker(opts: WorkerOptions): Promise<Worker> {
  const python = opts.python ?? path.join(REPO_DIR, '.venv/bin/python');
  if (!existsSync(python))
    throw new UserError(`${python} is missing: run \`bash scripts/setup.sh\` (it builds the Python environment)`);
  mkdirSync(path.dirname(opts.logFile), { recursive: true });
  const log = createWriteStream(opts.logFile, { flags: 'a' });
  const args = [
    '-m',
    'offload_glue.worker',
    '--warehouse',
    opts.warehouse,
    '--parallel',
    String(opts.parallel),
    '--catalog',
    opts.catalog ?? 'offload',
    '--catalog_type',
    opts.catalogType ?? 'hadoop',
    '--cores',
    String(opts.cores ?? 2),
  ];
  const child: ChildProcess = spawn(python, args, {
    cwd: path.join(REPO_DIR, 'glue'),
    env: { ...process.env, ...opts.env, PYTHONUNBUFFERED: '1', TZ: 'UTC' },
    stdio: ['pipe', 'pipe', 'pipe'],
    // Its own process group: a Ctrl-C in the terminal reaches the runner only, which lets running units
    // finish their ledger writes. The worker still ends with the runner: its stdin closes.
    detached: true,
  });
  child.stderr!.pipe(log);
  const pending = new Map<string, { resolve: (r: WorkerResult) => void }>();
  let ready: (() => void) | undefined;
  let failedStart: ((e: Error) => void) | undefined;
  const started = new Promise<void>((res, rej) => {
    ready = res;
    failedStart = rej;
  });
  let exited = false;
  const lines = createInterface({ input: child.stdout! });
  lines.on('line', (line) => {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line);
    } catch {
      log.write(`[runner] not a protocol line on the worker's stdout: ${line}\n`);
      return;
    }
    if (msg.ready) return ready?.();
    const p = pending.get(String(msg.id));
    if (p) {
      pending.delete(String(msg.id));
      p.resolve(msg as unknown as WorkerResult);
    }
  });
  child.on('exit', (code, signal) => {
    exited = true;
    failedStart?.(
      new UserError(`the data-plane worker exited during start-up (${signal ?? `exit ${code}`}); see ${opts.logFile}`),
    );
    for (const [id, p] of pending)
      p.resolve({
        id,
        exit_code: 4,
        summary: null,
        error: { code: 'worker_died', message: `the worker exited (${signal ?? `exit ${code}`}); see ${opts.logFile}` },
      });
    pending.clear();
  });
  const timer = setTimeout(
    () =>
      failedStart?.(
        new UserError(`Spark did not start within ${(opts.startTimeoutMs ?? 180_000) / 1000} s; see ${opts.logFile}`),
      ),
    opts.startTimeoutMs ?? 180_000,
  );
  try {
    await started;
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  } finally {
    clearTimeout(timer);
  }
  failedStart = undefined;
  return {
    pid: child.pid,
    run(unit, extra = []) {
      if (exited)
        return Promise.resolve({
          id: unit.id,
          exit_code: 4,
          summary: null,
          error: { code: 'worker_died', message: `the worker is gone; see ${opts.logFile}` },
        });
      return new Promise((resolve) => {
        pending.set(unit.id, { resolve });
        child.stdin!.write(`${JSON.stringify({ id: unit.id, unit, args: extra })}\n`);
      });
    },
    async close() {
      if (exited) return;
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.stdin!.end();
        setTimeout(() => child.kill('SIGKILL'), 30_000).unref();
      });
      log.end();
    },
    kill() {
      if (!exited) child.kill('SIGKILL');
    },
  };
}
