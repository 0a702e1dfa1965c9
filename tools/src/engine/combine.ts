/**
 * Several policies claiming one table: one decision out of every (scope entry, policy) claim —
 * agreement, else the explicit priority, else a reported conflict.
 */
import type { Outcome, Problem } from './model.js';
import { NO_ALSO } from './speed.js';

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const prio = (o: Outcome) => o.policy.priority ?? Number.NEGATIVE_INFINITY;
const prioText = (o: Outcome) => (o.policy.priority === undefined ? 'no priority' : `priority ${o.policy.priority}`);

export function combine(outcomes: Outcome[]): { winner?: Outcome; also: string[]; problem?: Problem; reason?: string } {
  if (outcomes.length === 1) return { winner: outcomes[0]!, also: NO_ALSO };
  const sorted = [...outcomes].sort(
    (a, b) => prio(b) - prio(a) || cmp(a.policy.name, b.policy.name) || a.scope - b.scope,
  );
  const distinct = new Set(sorted.map((o) => o.policy.name));
  const names = (os: Outcome[]) => [...new Set(os.map((o) => o.policy.name))];
  const agree = (os: Outcome[]) => !os.some((o) => o.problem) && new Set(os.map((o) => o.action)).size === 1;
  const top = sorted[0]!;
  if (distinct.size === 1 || agree(sorted))
    return { winner: top, also: names(sorted).filter((n) => n !== top.policy.name) };
  const tied = sorted.filter((o) => prio(o) === prio(top));
  if (tied.length === 1 || agree(tied))
    return { winner: top, also: names(sorted).filter((n) => n !== top.policy.name) };
  const list = names(tied)
    .map((n) => {
      const o = tied.find((x) => x.policy.name === n)!;
      return `${n} (${o.problem ? 'cannot evaluate' : o.action}, ${prioText(o)})`;
    })
    .join(', ');
  const message =
    `policies ${list} claim the table with different outcomes and no priority decides: ` +
    'give them distinct priorities or narrow the scopes';
  return { also: names(sorted), problem: { code: 'engine/conflict', message }, reason: `conflict: ${message}` };
}
