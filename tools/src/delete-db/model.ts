/**
 * `offload delete-archive-database`: what it reads and decides, shared by both stores. The decision is
 * one pure function per table (`decideTable`), so each refusal is tested without any store.
 *
 * A table may be deleted only when every source agrees:
 *  - legal hold: held when the recorded `offload.legal_hold` is anything but exactly `false` (missing
 *    and `unknown` count as held, as in glue/offload_glue/purge.py), or when a current config holds it:
 *    the policy the archive records (`offload.policy`), the policy the run ledger records for it, or any
 *    policy the database config's scopes name. Stricter wins; nothing overrides a hold.
 *  - retention end: the later of the recorded `offload.retention_until` and the configs' (ledger's
 *    table date + the policy's `purge_after`); before it, or when no end is known, only a forced reason
 *    lets it go, and the audit record keeps the reason.
 *  - a table whose metadata cannot be read has an unknown recorded hold: held, unless an earlier run
 *    of this utility decided it (its `deleting` journal record) and then failed midway.
 */
import type { DatabaseConfig } from '../generated/database.js';
import type { PolicyConfig } from '../generated/policy.js';
import { addCalendar, calendarOf, isoDay, parseUtc } from '../engine/dates.js';
import type { LedgerEntry } from '../ledger/model.js';

export const LINEAGE = 'offload.';
export const AUDIT_SUFFIX = '.delete-database-audit.json';

/** One archive table as its store lists it. */
export interface ArchiveTable {
  name: string;
  /** Where its files live: a directory (local) or an `s3://bucket/prefix/` URI. */
  location: string;
  /** The `offload.*` properties of its current metadata; undefined when the metadata cannot be read. */
  properties: Record<string, string> | undefined;
  /** Why the metadata could not be read. */
  problem?: string;
  files: number;
  bytes: number;
}

/** An object version that S3 Object Lock keeps (retention in the future, or a legal hold on). */
export interface LockedObject {
  uri: string;
  versionId?: string;
  mode?: string;
  retainUntil?: string;
  legalHold?: boolean;
}

type Reason = 'legal_hold' | 'metadata_unreadable' | 'retention_not_reached' | 'retention_end_unknown' | 'object_lock';

/** Reasons no flag overrides. */
const ABSOLUTE: ReadonlySet<Reason> = new Set(['legal_hold', 'metadata_unreadable', 'object_lock']);

export interface TableDecision {
  table: string;
  location: string;
  files: number;
  bytes: number;
  policies: string[];
  legal_hold: boolean;
  /** Where each hold comes from, e.g. `recorded offload.legal_hold=unknown`, `config policy audit-trail`. */
  hold_sources: string[];
  retention_until: string | null;
  reasons: Reason[];
  /** A retention refusal let go by the forced reason. */
  forced: boolean;
  locked_objects: LockedObject[];
  /** Decided from an earlier run's journal (its metadata was already partly deleted). */
  from_journal?: boolean;
}

export interface ConfigView {
  policies: ReadonlyMap<string, PolicyConfig>;
  /** The database config whose archives live in this Glue database, when the configs still name one. */
  database?: DatabaseConfig;
}

/** The policies a database config's scopes name. */
function scopePolicies(db: DatabaseConfig | undefined): string[] {
  return [...new Set((db?.scope ?? []).flatMap((s) => s.policies))].sort();
}

const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;

/** Decides one table. `today` is the real UTC date (`YYYY-MM-DD`); retention ends are compared as days. */
export function decideTable(input: {
  table: ArchiveTable;
  config: ConfigView;
  ledger: readonly LedgerEntry[];
  /** An earlier, interrupted run's journaled decision for this table (it was cleared then). */
  journaled: TableDecision | undefined;
  today: string;
  forceReason?: string;
  locked: LockedObject[];
}): TableDecision {
  const { table, config } = input;
  const props = input.table.properties;
  // Metadata already deleted by an interrupted run: that run's journal holds what it read and decided.
  const journal = props ? undefined : input.journaled;
  const holdSources: string[] = [];
  const reasons: Reason[] = [];
  const policies = new Set<string>();
  if (props?.[`${LINEAGE}policy`]) policies.add(props[`${LINEAGE}policy`]!);
  for (const p of journal?.policies ?? []) policies.add(p);
  for (const e of input.ledger) if (e.policy) policies.add(e.policy);
  if (props) {
    const recorded = props[`${LINEAGE}legal_hold`];
    if (recorded !== 'false') holdSources.push(`recorded ${LINEAGE}legal_hold=${recorded ?? '(missing)'}`);
  } else if (!journal) reasons.push('metadata_unreadable');
  for (const name of [...new Set([...policies, ...scopePolicies(config.database)])].sort()) {
    const p = config.policies.get(name);
    if (p?.legal_hold?.enabled === true)
      holdSources.push(`config policy ${name}${p.legal_hold.reference ? ` (${p.legal_hold.reference})` : ''}`);
  }
  if (holdSources.length) reasons.push('legal_hold');

  // Retention end: the later of what the archive records and what the configs give.
  const ends: string[] = [];
  let unknown = false;
  const recordedEnd = props?.[`${LINEAGE}retention_until`];
  if (recordedEnd !== undefined && recordedEnd !== '') {
    if (DAY_RE.test(recordedEnd.slice(0, 10))) ends.push(recordedEnd.slice(0, 10));
    else unknown = true; // unreadable: counts as unknown, never as ended
  }
  for (const name of policies) {
    const after = config.policies.get(name)?.purge_after;
    const cal = after ? calendarOf(after) : undefined;
    for (const e of input.ledger)
      if (cal && e.table_date && (!e.policy || e.policy === name)) {
        const start = parseUtc(e.table_date);
        if (Number.isFinite(start)) ends.push(isoDay(addCalendar(start, cal)));
      }
  }
  if (journal?.retention_until) ends.push(journal.retention_until);
  const retention = unknown || ends.length === 0 ? null : ends.sort().at(-1)!;
  // A journaled table's retention was judged (or forced, with the reason recorded) by the run that began it.
  if (journal) {
    /* decided */
  } else if (retention === null) reasons.push('retention_end_unknown');
  else if (input.today < retention) reasons.push('retention_not_reached');
  if (input.locked.length) reasons.push('object_lock');
  const overridable = reasons.filter((r) => !ABSOLUTE.has(r));
  const forced =
    overridable.length > 0 &&
    reasons.every((r) => !ABSOLUTE.has(r)) &&
    typeof input.forceReason === 'string' &&
    input.forceReason.trim() !== '';
  return {
    table: table.name,
    location: table.location,
    files: table.files,
    bytes: table.bytes,
    policies: [...policies].sort(),
    legal_hold: holdSources.length > 0,
    hold_sources: holdSources,
    retention_until: retention,
    reasons,
    forced,
    locked_objects: input.locked,
    ...(journal ? { from_journal: true } : {}),
  };
}

/** The table may go: nothing refuses it, or only retention reasons a forced reason lets go. */
export const cleared = (d: TableDecision) => d.reasons.length === 0 || d.forced;

/** One line per refusal reason, for people. */
export function refusalText(db: string, d: TableDecision): string[] {
  const t = `${db}.${d.table}`;
  return d.reasons
    .filter(() => !cleared(d))
    .map((r) => {
      switch (r) {
        case 'legal_hold':
          return (
            `${t} is under legal hold (${d.hold_sources.join('; ')}): no flag overrides a hold; ` +
            'only a reviewed config change and hold_table.py lift it'
          );
        case 'metadata_unreadable':
          return `${t}: its metadata cannot be read, so its recorded legal hold is unknown and counts as held`;
        case 'retention_not_reached':
          return `${t} is kept until ${d.retention_until}: deleting it earlier needs --force-reason "<why>"`;
        case 'retention_end_unknown':
          return (
            `${t} has no known retention end (none recorded, no purge_after with a table date): ` +
            'deleting it needs --force-reason "<why>"'
          );
        case 'object_lock':
          return (
            `${t}: ${d.locked_objects.length} object version(s) under S3 Object Lock ` +
            `(e.g. ${describeLock(d.locked_objects[0]!)}); S3 refuses to delete them until the lock ends, ` +
            'so nothing is deleted'
          );
      }
      return `${t}: ${r}`;
    });
}

function describeLock(l: LockedObject): string {
  const what = [
    l.retainUntil ? `${l.mode ?? 'retention'} until ${l.retainUntil}` : '',
    l.legalHold ? 'legal hold ON' : '',
  ]
    .filter(Boolean)
    .join(', ');
  return `${l.uri}${l.versionId ? ` version ${l.versionId}` : ''}: ${what}`;
}
