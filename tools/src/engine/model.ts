/** The engine's data: what it is given (configs, inventories, archive records) and what it returns (decisions). */
import type { DatabaseConfig } from '../generated/database.js';
import type { PolicyConfig } from '../generated/policy.js';
import type { Inventory, InventoryTable } from '../inventory/inventory.js';

export type Action = 'none' | 'archive' | 'purge' | 'cleanup_source';

/** What the pipeline recorded about one archived table. */
export interface ArchiveRecord {
  database: string;
  schema: string;
  table: string;
  archived_at: string;
  /** Whether the archive passed validation (only validated archives are purged or let the source go). */
  validated: boolean;
  /** The table's date (its age origin) when it was archived: ages archives whose source is gone. */
  table_date?: string;
  rows?: number | null;
  bytes?: number | null;
  /** The archive was purged: nothing left to do. */
  purged?: boolean;
  /** The source cleanup so far (policy `source.action: drop`): renamed to its quarantine name, maybe dropped. */
  source_cleanup?: { quarantine_table: string; renamed_at: string; dropped: boolean };
}

export interface Problem {
  /** Stable code, e.g. `engine/name-bad-date`, `engine/conflict`, `inventory/missing`. */
  code: string;
  message: string;
}

export interface Age {
  from: 'table_name' | 'column' | 'last_modified' | 'archive_record';
  /** The table's date (ISO-8601 UTC) its age counts from. */
  date: string;
  /** Whole days from that date to the as-of date (negative: after it). */
  days: number;
  /** How the date was found, for people. */
  detail: string;
}

/** What comes after the decision: an action that is not one of today's (`validate`) or none at all. */
export type NextAction = 'archive' | 'validate' | 'cleanup_source' | 'purge';

/**
 * The table's dates, machine-readable (ISO-8601 UTC date-times), so no caller parses `reason`:
 * derived from the table's date and the deciding policy in the same step that decides the action.
 */
export interface Schedule {
  /** The table's date + `archive_after`: from then on the table is archived. */
  archive_due: string;
  /** The table's date + `purge_after`: from then on its validated archive may be purged; null: kept with no end. */
  purge_due: string | null;
  /** The deciding policy holds the archive under legal hold (never purged while it does). */
  legal_hold: boolean;
  /** What happens to the table next; null when nothing will (purge blocked by a legal hold, no purge_after). */
  next_action: NextAction | null;
  /** When the next action is or was due (at or before the as-of date: due now); null with no next action. */
  next_action_at: string | null;
}

export interface Decision {
  database: string;
  schema: string;
  table: string;
  kind: InventoryTable['kind'];
  /** Index of the scope entry that matched (in the database file), null when none decided. */
  scope: number | null;
  policy: string | null;
  age: Age | null;
  action: Action;
  reason: string;
  rows: number | null;
  bytes: number | null;
  /** Whether the source table still exists (false: only its archive is left). */
  in_source: boolean;
  /** The action leads to dropping the source table (policy `source.action: drop`): its bytes are freed. */
  frees_source: boolean;
  /** The table's dates and what happens next; null when it has no date (a problem, a partition, an empty table). */
  schedule: Schedule | null;
  /** Set when the table could not be evaluated (its action is then `none`). */
  problem?: Problem;
  /** Other policies that claim the table and agree or lose on priority. */
  also?: string[];
}

export interface DatabaseEvaluation {
  database: string;
  engine: string | null;
  /** ok; partial: evaluated from an incomplete inventory (not to be trusted); failed: not evaluated. */
  status: 'ok' | 'partial' | 'failed';
  problems: Problem[];
  decisions: Decision[];
  /** Tables of the inventory no scope entry claims. */
  unclaimed: number;
  inventory_discovered_at: string | null;
}

export interface Evaluation {
  as_of: string;
  databases: DatabaseEvaluation[];
}

export type InventoryInput = Inventory | { error: Problem };

export interface EngineInput {
  databases: readonly DatabaseConfig[];
  policies: readonly PolicyConfig[];
  /** By database name. A missing entry fails that database. */
  inventories: ReadonlyMap<string, InventoryInput>;
  /** ISO-8601 date (start of that day, UTC) or date-time. */
  asOf: string;
  archive?: readonly ArchiveRecord[];
}

/** One policy's verdict on one table (before several claiming policies are combined). */
export interface Outcome {
  policy: PolicyConfig;
  scope: number;
  action: Action;
  reason: string;
  age: Age | null;
  problem?: Problem;
  /** The policy drops the source once archived. */
  frees: boolean;
  /** The dates behind the outcome; null when the table has no date. */
  schedule: Schedule | null;
}

/** What is evaluated: a table of the inventory, an archive whose source is gone, or both. */
export interface Subject {
  schema: string;
  name: string;
  kind: InventoryTable['kind'];
  table?: InventoryTable;
  record?: ArchiveRecord;
}

/** The verdict for a table that could not be evaluated. */
export function failed(policy: PolicyConfig, scope: number, p: Problem): Outcome {
  return {
    policy,
    scope,
    frees: false,
    schedule: null,
    action: 'none',
    age: null,
    reason: `cannot evaluate: ${p.message}`,
    problem: p,
  };
}
