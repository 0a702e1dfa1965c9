/**
 * Fault injection for the kill tests (tools/test/run/cleanup.test.ts): `OFFLOAD_TEST_KILL_AT=<point>` makes
 * the runner (points `runner:…`) or the data-plane worker (points `worker:…`, `cleanup:…`, in
 * glue/offload_glue/testhooks.py) SIGKILL itself on reaching that point, as a crash or an OOM kill would.
 * Off unless the variable is set; a value naming no point is refused before anything runs, and `offload run`
 * warns on stderr whenever it is set — so the hook is never reached by accident. Production never sets it.
 */
import { UserError } from '../errors.js';

export const KILL_ENV = 'OFFLOAD_TEST_KILL_AT';

const RUNNER_POINTS = [
  'runner:archiving:after-ledger',
  'runner:archived:before-ledger',
  'runner:archived:after-ledger',
  'runner:validated:before-ledger',
  'runner:validated:after-ledger',
  'runner:renamed:before-ledger',
  'runner:renamed:after-ledger',
  'runner:dropped:before-ledger',
  'runner:dropped:after-ledger',
] as const;
const WORKER_POINTS = [
  ...['archive', 'validate', 'cleanup_source'].flatMap((a) => [`worker:${a}:before`, `worker:${a}:after`]),
  'cleanup:before-rename',
  'cleanup:after-rename',
  'cleanup:before-drop',
  'cleanup:after-drop',
];
const KILL_POINTS: readonly string[] = [...RUNNER_POINTS, ...WORKER_POINTS];
export type RunnerKillPoint = (typeof RUNNER_POINTS)[number];

/** The armed point, if any; throws a UserError when the variable names no point. */
export function armedKillPoint(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const v = env[KILL_ENV];
  if (v === undefined || v === '') return undefined;
  if (!KILL_POINTS.includes(v))
    throw new UserError(
      `${KILL_ENV}=${v} names no kill point (a test hook; unset it). Points: ${KILL_POINTS.join(', ')}`,
    );
  return v;
}

/** SIGKILLs this process when the hook names this point. */
export function killPoint(point: RunnerKillPoint): void {
  if (process.env[KILL_ENV] === point) process.kill(process.pid, 'SIGKILL');
}
