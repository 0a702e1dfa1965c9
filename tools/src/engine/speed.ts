/**
 * The engine's speed-ups, kept apart from the rules they serve (a preview evaluates 100,000s of tables).
 * None changes a decision: each only avoids repeating work whose answer is already known.
 */
import type { PolicyConfig } from '../generated/policy.js';
import { parseUtc } from './dates.js';
import type { InventoryTable } from '../inventory/inventory.js';
import type { Outcome, Subject } from './model.js';

/** Memos of one database's evaluation. */
export interface Memo {
  /** Outcome by `outcomeKey`. */
  outcomes: Map<string, Outcome>;
  /** Outcome of date-in-name tables by policy, then `nameKey`. */
  byName: Map<PolicyConfig, Map<number, Outcome>>;
}

export const newMemo = (): Memo => ({ outcomes: new Map(), byName: new Map() });

// Buys: tables of one policy share few dates (a month, a year), so each (policy, scope, date) is decided once.
export const outcomeKey = (policy: PolicyConfig, scope: number, date: number, detail: string, inSource: boolean) =>
  `${policy.name}\u0000${scope}\u0000${date}\u0000${detail}\u0000${inSource}`;

/** Scope indexes a `nameKey` can hold. */
export const NAME_KEY_SCOPES = 1024;
// Buys: the commonest case (date in the name, no archive record) keyed by one number, no string built per table.
export const nameKey = (date: number, scope: number, unit: number) => (date / 86_400_000) * 4096 + scope * 4 + unit;

const measuredAt = new Map<string, number>();
// Buys: one `measured_at` repeats over a whole inventory: each distinct value is parsed once (bounded cache).
export function parseUtcCached(s: string): number {
  let t = measuredAt.get(s);
  if (t === undefined) {
    if (measuredAt.size > 10_000) measuredAt.clear();
    measuredAt.set(s, (t = parseUtc(s)));
  }
  return t;
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
export const bySubject = (a: { schema: string; name: string }, b: { schema: string; name: string }) =>
  cmp(a.schema, b.schema) || cmp(a.name, b.name);
// Buys: inventories are written sorted, and checking is one pass where sorting copies 100,000 references.
export function isSorted(xs: readonly { schema: string; name: string }[]): boolean {
  for (let i = 1; i < xs.length; i++) if (bySubject(xs[i - 1]!, xs[i]!) > 0) return false;
  return true;
}

// Buys: one shared empty list for the common single-claim decision instead of an array per table.
export const NO_ALSO: string[] = [];

// Buys: without archive records, one Subject reused over every table: no allocation per table (none is kept).
export function reusedView(): (t: InventoryTable) => Subject {
  const view: Subject = { schema: '', name: '', kind: 'table' };
  return (t) => {
    view.schema = t.schema;
    view.name = t.name;
    view.kind = t.kind;
    view.table = t;
    return view;
  };
}
