/**
 * What a config change changes: the engine's decisions under the base configs and under the working
 * tree, over the same inventories, compared table by table. Pure.
 */
import type { Decision, Evaluation } from '../engine/evaluate.js';
import type { PreviewResult } from '../generated/preview.js';

/** One line of the preview's JSON contract (`schema/preview.schema.json`, `changes[]`). */
export type Change = PreviewResult['changes'][number];

export type Totals = Pick<PreviewResult['summary'], 'tables' | 'rows' | 'bytes' | 'source_freed_bytes'>;

export const emptyTotals = (): Totals => ({ tables: 0, rows: 0, bytes: 0, source_freed_bytes: 0 });

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
/** A decision that makes the pipeline act (a table that could not be evaluated does not). */
const acting = (d: Decision | undefined) => (d && !d.problem && d.action !== 'none' ? d : undefined);

/**
 * Compares the two evaluations table by table. Both list databases by name and each database's
 * decisions by schema and table (the engine's order), so this is a merge of sorted lists.
 */
export function diffEvaluations(base: Evaluation, head: Evaluation): Change[] {
  const changes: Change[] = [];
  const heads = new Map(head.databases.map((d) => [d.database, d.decisions]));
  const bases = new Map(base.databases.map((d) => [d.database, d.decisions]));
  for (const name of [...new Set([...bases.keys(), ...heads.keys()])].sort(cmp)) {
    const before = bases.get(name) ?? [],
      after = heads.get(name) ?? [];
    let i = 0,
      j = 0;
    while (i < before.length || j < after.length) {
      const b = before[i],
        h = after[j];
      const order = !b ? 1 : !h ? -1 : cmp(b.schema, h.schema) || cmp(b.table, h.table);
      if (order < 0) {
        push(changes, b, undefined);
        i++;
      } else if (order > 0) {
        push(changes, undefined, h);
        j++;
      } else {
        push(changes, b, h);
        i++;
        j++;
      }
    }
  }
  return changes;
}

const freed = (d: Decision | undefined) => (d?.frees_source ? (d.bytes ?? 0) : 0);

function push(changes: Change[], before: Decision | undefined, after: Decision | undefined): void {
  const b = acting(before),
    h = acting(after);
  if (!b && !h) return;
  if (b && h && b.action === h.action && b.policy === h.policy) return;
  const any = (h ?? after ?? b)!;
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
    reason: h ? h.reason : (after?.reason ?? 'no longer claimed by any scope entry'),
    previous_action: b ? b.action : 'none',
    previous_policy: b ? b.policy : null,
    source_freed_bytes: freed(h) - freed(b),
    schedule: scheduleOf(after),
  });
}

/** The decision's dates as the JSON contracts carry them (`$defs/schedule` of the preview and status schemas). */
export function scheduleOf(d: Decision | undefined): Change['schedule'] {
  if (!d?.schedule || !d.age) return null;
  return { age_from: d.age.from, table_date: d.age.date, ...d.schedule };
}

export function addTo(t: Totals, c: Change): void {
  t.tables++;
  t.rows += c.rows ?? 0;
  t.bytes += c.bytes ?? 0;
  t.source_freed_bytes += c.source_freed_bytes;
}
