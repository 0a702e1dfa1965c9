/** What the `offload run` benchmarks share: a config repo for one PostgreSQL schema, and timed processes. */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { SETTINGS } from '../test/helpers/repo.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'tools/bin/offload.mjs');
export const PYTHON = path.join(ROOT, '.venv/bin/python');

const pgEnv = () => {
  const e = (k: string) => {
    const v = process.env[k];
    if (!v) throw new Error(`${k} is not set: bash scripts/services.sh && source scripts/services.env`);
    return v;
  };
  return {
    host: e('OFFLOAD_TEST_PG_HOST'),
    port: Number(e('OFFLOAD_TEST_PG_PORT')),
    user: e('OFFLOAD_TEST_USER'),
    password: e('OFFLOAD_TEST_PASSWORD'),
    database: e('OFFLOAD_TEST_DB'),
  };
};

export async function pgQuery<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client(pgEnv());
  await c.connect();
  try {
    return (await c.query(sql, params)).rows as T[];
  } finally {
    await c.end();
  }
}

/** A config repo (git) with one PostgreSQL database `bench` whose `schema` tables matching `pattern` are archived. */
export function benchRepo(
  schema: string,
  include: string,
  agePattern: string,
): { dir: string; env: Record<string, string> } {
  const c = pgEnv();
  const dir = mkdtempSync(path.join(tmpdir(), 'offload-run-bench-'));
  const files: Record<string, string> = {
    'offload.settings.yaml': SETTINGS,
    'policies/bench.yaml': `name: bench
age: { from: table_name, pattern: "${agePattern}" }
archive_after: P1Y
`,
    'databases/bench.yaml': `name: bench
engine: postgres
jdbc_url: jdbc:postgresql://${c.host}:${c.port}/${c.database}
credentials: { secret: bench/pg }
owner: { team: T, contact: t@example.com }
scope:
  - schema: ${schema}
    include: ["${include}"]
    policies: [bench]
`,
  };
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
  const git = (...a: string[]) => execFileSync('git', ['-C', dir, ...a], { stdio: 'pipe' });
  git('init', '-q');
  git('add', '.');
  git('-c', 'user.name=b', '-c', 'user.email=b@x.example', 'commit', '-qm', 'bench');
  return {
    dir,
    env: { OFFLOAD_DB_BENCH_USER: c.user, OFFLOAD_DB_BENCH_PASSWORD: c.password, HOME: dir },
  };
}

/** Runs a process to its end; returns seconds and output; throws when it fails. */
export function timed(cmd: string, args: string[], opts: { cwd: string; env?: Record<string, string> }) {
  return new Promise<{ seconds: number; stdout: string }>((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, TZ: 'UTC', ...opts.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) =>
      code === 0
        ? resolve({ seconds: (performance.now() - t0) / 1000, stdout })
        : reject(
            new Error(
              `${path.basename(args[0] ?? cmd)} exited ${code}:\n${stderr.slice(-3000)}\n${stdout.slice(-2000)}`,
            ),
          ),
    );
  });
}

/** `offload run` of the bench repo (worktree configs, fresh state and warehouse). */
export async function offloadRun(dir: string, env: Record<string, string>, extra: string[] = []) {
  const r = await timed(
    process.execPath,
    [BIN, 'run', '--configs', 'worktree', '--as-of', '2026-12-02', '--no-aws', '--quiet', '--format', 'json', ...extra],
    { cwd: dir, env },
  );
  return { seconds: r.seconds, summary: JSON.parse(r.stdout) as { totals: Record<string, number>; units: unknown[] } };
}

/** today's entry points, one process each: glue/archive_table.py, then glue/validate_table.py. */
export async function jobsDirect(schema: string, table: string, warehouse: string, runId: string) {
  const c = pgEnv();
  const source = [
    '--source_engine',
    'postgresql',
    '--source_host',
    c.host,
    '--source_port',
    String(c.port),
    '--source_database',
    c.database,
    '--source_user',
    c.user,
    '--source_password_env',
    'OFFLOAD_BENCH_PASSWORD',
    '--source_schema',
    schema,
    '--source_table',
    table,
    '--warehouse',
    warehouse,
    '--catalog_type',
    'hadoop',
    '--archive_database',
    'archive_bench',
  ];
  const env = { OFFLOAD_BENCH_PASSWORD: c.password };
  const cwd = path.join(ROOT, 'glue');
  const a = await timed(
    PYTHON,
    [path.join(cwd, 'archive_table.py'), ...source, '--run_id', runId, '--legal_hold', 'false'],
    { cwd, env },
  );
  const v = await timed(PYTHON, [path.join(cwd, 'validate_table.py'), ...source, '--run_id', runId], { cwd, env });
  const status = (JSON.parse(v.stdout.slice(v.stdout.indexOf('{'))) as { status: string }).status;
  if (status !== 'passed') throw new Error(`validation of ${schema}.${table} ${status}`);
  return { archive: a.seconds, validate: v.seconds };
}
