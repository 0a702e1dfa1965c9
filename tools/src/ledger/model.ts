/**
 * The run ledger's rules, shared by every store: which transitions are legal, and how an entry
 * changes with one. Pure; the stores (local.ts, dynamodb.ts) add atomicity and the conditional write
 * (the state and version read must still be there when the write lands).
 *
 *   (none) ──► planned ──► archiving ──► archived ──► validated ──► source_renamed ──► source_dropped ──► purged
 *                 │  ▲          │ ▲          │            │   ▲            │                                 ▲
 *                 ▼  │          ▼ └──────────┘(re-archive)└───│──(rename undone)                            │
 *               failed ◄── any state but purged               └──────────────── purged (source kept) ──────┘
 *
 * `archiving` claims only that a job started: a run killed there leaves `archiving`, and the next run
 * restarts it (archiving → archiving). `archived` is written only after the archive's commit, with its
 * snapshot id; `validated` only with a passed validation of that snapshot.
 */
import type { LedgerEntry, State } from '../generated/ledger-entry.js';

export type { LedgerEntry, State };
export const LEDGER_FORMAT = 1 as const;
const HISTORY_LIMIT = 200;

export const STATES: readonly State[] = [
  'planned',
  'archiving',
  'archived',
  'validated',
  'source_renamed',
  'source_dropped',
  'purged',
  'failed',
];

const NEXT: Record<State | 'none', readonly State[]> = {
  none: ['planned', 'archiving'],
  planned: ['archiving', 'failed'],
  archiving: ['archiving', 'archived', 'failed'],
  archived: ['validated', 'archiving', 'failed'],
  validated: ['source_renamed', 'purged', 'failed'],
  source_renamed: ['source_dropped', 'validated', 'failed'],
  source_dropped: ['purged', 'failed'],
  purged: [],
  failed: ['planned', 'archiving', 'validated'],
};

export function isLegal(from: State | null, to: State): boolean {
  return NEXT[from ?? 'none'].includes(to);
}

export interface TableRef {
  database: string;
  schema: string;
  table: string;
}

const refText = (r: TableRef) => `${r.database}: ${r.schema}.${r.table}`;

/** One requested transition: `expect` is the state the writer read (null: no entry yet). */
export interface Transition {
  expect: State | null;
  to: State;
  runId: string;
  /** ISO-8601 time; default now. */
  at?: string;
  archive?: { namespace: string; table: string };
  policy?: string | null;
  tableDate?: string | null;
  snapshotId?: string | null;
  rows?: number | null;
  validation?: LedgerEntry['validation'];
  error?: { code: string; message: string };
  note?: string;
}

export class LedgerConflictError extends Error {
  readonly code = 'ledger/conflict';
  constructor(
    readonly ref: TableRef,
    readonly expected: State | null,
    readonly found: State | null,
  ) {
    super(
      `${refText(ref)}: the ledger holds ${found ?? 'no entry'}, not ${expected ?? 'no entry'} as this writer read: ` +
        'another run changed it',
    );
    this.name = 'LedgerConflictError';
  }
}

export class IllegalTransitionError extends Error {
  readonly code = 'ledger/illegal-transition';
  constructor(
    readonly ref: TableRef,
    readonly from: State | null,
    readonly to: State,
    why = '',
  ) {
    super(`${refText(ref)}: ${from ?? 'no entry'} → ${to} is not a legal ledger transition${why ? ` (${why})` : ''}`);
    this.name = 'IllegalTransitionError';
  }
}

/** The entry after the transition; throws when it is illegal or does not start from what is stored. */
export function applyTransition(ref: TableRef, current: LedgerEntry | undefined, t: Transition): LedgerEntry {
  const found = current?.state ?? null;
  if (found !== t.expect) throw new LedgerConflictError(ref, t.expect, found);
  if (!isLegal(found, t.to)) throw new IllegalTransitionError(ref, found, t.to);
  // What each state must be written with: the ledger never claims what it cannot show.
  // An empty archive may have no snapshot; any other needs the snapshot id the commit made.
  if (t.to === 'archived' && (t.rows == null || t.snapshotId === undefined || (t.snapshotId === null && t.rows !== 0)))
    throw new IllegalTransitionError(ref, found, t.to, 'an archived table needs the snapshot id and row count');
  if (t.to === 'validated' && found !== 'source_renamed' && t.validation?.status !== 'passed')
    throw new IllegalTransitionError(ref, found, t.to, 'only a passed validation validates');
  if (t.to === 'failed' && !t.error)
    throw new IllegalTransitionError(ref, found, t.to, 'a failure needs an error code');
  const at = t.at ?? new Date().toISOString();
  const prev = current;
  const archivedNow = t.to === 'archived';
  const next: LedgerEntry = {
    format: LEDGER_FORMAT,
    database: ref.database,
    schema: ref.schema,
    table: ref.table,
    ...(t.archive || prev?.archive_namespace
      ? {
          archive_namespace: t.archive?.namespace ?? prev!.archive_namespace!,
          archive_table: t.archive?.table ?? prev!.archive_table!,
        }
      : {}),
    policy: t.policy !== undefined ? t.policy : (prev?.policy ?? null),
    table_date: t.tableDate !== undefined ? t.tableDate : (prev?.table_date ?? null),
    state: t.to,
    version: (prev?.version ?? 0) + 1,
    updated_at: at,
    run_id: t.runId,
    archive_run_id: archivedNow ? t.runId : (prev?.archive_run_id ?? null),
    archived_at: archivedNow ? at : (prev?.archived_at ?? null),
    snapshot_id: t.snapshotId !== undefined ? t.snapshotId : (prev?.snapshot_id ?? null),
    rows: t.rows !== undefined ? t.rows : (prev?.rows ?? null),
    // A new archive invalidates the previous validation; otherwise the last one stands.
    validation: t.validation !== undefined ? t.validation : archivedNow ? null : (prev?.validation ?? null),
    error: t.to === 'failed' ? { ...t.error!, during: found ?? 'planned' } : null,
    history: [
      ...(prev?.history ?? []),
      {
        from: found,
        to: t.to,
        at,
        run_id: t.runId,
        snapshot_id: t.snapshotId ?? null,
        rows: t.rows ?? null,
        validation: t.validation?.status ?? null,
        error_code: t.error?.code ?? null,
        ...(t.note ? { note: t.note } : {}),
      },
    ].slice(-HISTORY_LIMIT),
  };
  return next;
}

/** A store of ledger entries with conditional transitions. */
export interface Ledger {
  readonly label: string;
  get(ref: TableRef): Promise<LedgerEntry | undefined>;
  /** Every entry (of one database when given). */
  list(database?: string): Promise<LedgerEntry[]>;
  /** Applies one transition atomically, only if the stored state is still `t.expect`. */
  transition(ref: TableRef, t: Transition): Promise<LedgerEntry>;
}
