/**
 * What a config change changes: the engine's decisions under the base configs and under the working
 * tree, over the same inventories, compared table by table. Pure.
 */
import type { Action, Decision, Evaluation } from '../engine/evaluate.js';

export type ChangeKind = 'added' | 'removed' | 'changed';

/** One line of the preview's JSON contract (see `PreviewResult`). */
export interface Change {
  database: string;
  schema: string;
  table: string;
  /** The policy deciding the table after the change (before it, for `removed`). */
  policy: string | null;
  /** The action after the change (`none` for `removed`). */
  action: Action;
  change: ChangeKind;
  rows: number | null;
  bytes: number | null;
  /** Why, after the change (for `removed`: why the table is no longer affected). */
  reason: string;
  previous_action: Action;
  previous_policy: string | null;
  /** Source bytes this change frees (negative: no longer freed). */
  source_freed_bytes: number;
}

export interface Totals {
  tables: number;
  rows: number;
  bytes: number;
  source_freed_bytes: number;
}

export const emptyTotals = (): Totals => ({ tables: 0, rows: 0, bytes: 0, source_freed_bytes: 0 });

const key = (d: { database: string; schema: string; table: string }) => `${d.database}\u0000${d.schema}\u0000${d.table}`;
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
/** A decision that makes the pipeline act (a table that could not be evaluated does not). */
const acting = (d: Decision | undefined) => (d && !d.problem && d.action !== 'none' ? d : undefined);

export function diffEvaluations(base: Evaluation, head: Evaluation): Change[] {
  const before = new Map<string, Decision>();
  const after = new Map<string, Decision>();
  for (const db of base.databases) for (const d of db.decisions) before.set(key(d), d);
  for (const db of head.databases) for (const d of db.decisions) after.set(key(d), d);
  const changes: Change[] = [];
  for (const k of new Set([...before.keys(), ...after.keys()])) {
    const b = acting(before.get(k)), h = acting(after.get(k));
    if (!b && !h) continue;
    if (b && h && b.action === h.action && b.policy === h.policy) continue;
    const any = (h ?? after.get(k) ?? b)!;
    const freed = (d: Decision | undefined) => (d?.frees_source ? d.bytes ?? 0 : 0);
    changes.push({
      database: any.database,
      schema: any.schema,
      table: any.table,
      policy: h ? h.policy : b!.policy,
      action: h ? h.action : 'none',
      change: !b ? 'added' : !h ? 'removed' : 'changed',
      rows: any.rows,
      bytes: any.bytes,
      // For `removed`: why the working tree no longer acts (not claimed any more, or its new reason).
      reason: h ? h.reason : after.get(k)?.reason ?? 'no longer claimed by any scope entry',
      previous_action: b ? b.action : 'none',
      previous_policy: b ? b.policy : null,
      source_freed_bytes: freed(h) - freed(b),
    });
  }
  return changes.sort((a, b) => cmp(a.database, b.database) || cmp(a.schema, b.schema) || cmp(a.table, b.table));
}

export function addTo(t: Totals, c: Change): void {
  t.tables++;
  t.rows += c.rows ?? 0;
  t.bytes += c.bytes ?? 0;
  t.source_freed_bytes += c.source_freed_bytes;
}
