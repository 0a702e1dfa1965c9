/**
 * The retention rules, once a table's date is known (rule 1, age.ts). Each rule reads on its own:
 * archive due, legal hold, source cleanup, purge due. `decide` applies them in order. Pure: the same
 * input always gives the same outcome, so it is shared by every table with the same date (speed.ts).
 */
import type { PolicyConfig } from '../generated/policy.js';
import { addCalendar, calendarOf, isoDay, isoTime, wholeDays } from './dates.js';
import { type Age, type ArchiveRecord, failed, type NextAction, type Outcome, type Schedule } from './model.js';

export interface DecideInput {
  policy: PolicyConfig;
  /** Index of the claiming scope entry. */
  scope: number;
  from: Age['from'];
  /** The table's date (UTC epoch ms) and how it was found. */
  date: number;
  detail: string;
  asOf: number;
  /** The source table still exists. */
  inSource: boolean;
  /** What the pipeline recorded about the table's archive, if anything. */
  record: ArchiveRecord | undefined;
}

/** A table's retention timeline under one policy. */
interface Timeline {
  policy: PolicyConfig;
  scope: number;
  asOf: number;
  age: Age;
  /** `N days old (how the date was found)`. */
  ageText: string;
  archiveAt: number;
  /** Undefined: the archive is kept with no end (no `purge_after`). */
  purgeAt: number | undefined;
  /** The legal hold, described, when one is on. */
  hold: string | undefined;
}

/** Legal hold: a hold that is on keeps the archive whatever its age; described as `legal hold REF (reason)`. */
function legalHold(policy: PolicyConfig): string | undefined {
  const h = policy.legal_hold;
  if (h?.enabled !== true) return undefined;
  return `legal hold${h.reference ? ` ${h.reference}` : ''}${h.reason ? ` (${h.reason})` : ''}`;
}

/** Source cleanup: does the policy drop the source table once its archive is validated? */
function dropsSource(policy: PolicyConfig): boolean {
  return policy.source?.action === 'drop';
}

/** The timeline's dates and what comes next (at: epoch ms, or a recorded ISO time). */
function schedule(t: Timeline, next: NextAction | null, at: number | string | null = null): Schedule {
  return {
    archive_due: isoTime(t.archiveAt),
    purge_due: t.purgeAt === undefined ? null : isoTime(t.purgeAt),
    legal_hold: t.hold !== undefined,
    next_action: next,
    next_action_at: next === null || at === null ? null : typeof at === 'number' ? isoTime(at) : at,
  };
}

const outcome = (t: Timeline, action: Outcome['action'], reason: string, next: Schedule, frees = false): Outcome => ({
  policy: t.policy,
  scope: t.scope,
  frees,
  schedule: next,
  action,
  age: t.age,
  reason,
});

/** After a validated archive: the purge, unless a legal hold or no `purge_after` keeps it. */
const purgeNext = (t: Timeline) =>
  t.purgeAt !== undefined && !t.hold ? schedule(t, 'purge', t.purgeAt) : schedule(t, null);

/** What happens to the archive at the end, in words. */
function purgeText(t: Timeline): string {
  if (!t.purgeAt) return 'archive kept with no end (no purge_after)';
  return t.hold ? `purge blocked by ${t.hold}` : `purge due ${isoDay(t.purgeAt)}`;
}

/** Archive due: a table not archived yet is archived once its date + `archive_after` is reached. */
function archiveRule(t: Timeline): Outcome {
  const { policy, asOf, archiveAt, purgeAt, hold } = t;
  if (asOf < archiveAt)
    return outcome(
      t,
      'none',
      `${t.ageText}; archive due ${isoDay(archiveAt)} (archive_after ${policy.archive_after})`,
      schedule(t, 'archive', archiveAt),
    );
  const after =
    purgeAt && asOf >= purgeAt
      ? hold
        ? `; past purge_after ${policy.purge_after} too, but ${hold} keeps the archive`
        : `; past purge_after ${policy.purge_after} too (${isoDay(purgeAt)}): the archive is purged once validated`
      : `; ${purgeText(t)}`;
  const drops = dropsSource(policy);
  const src = drops
    ? `; then the source is renamed and dropped after ${policy.source?.grace_period ?? 'its grace period'}`
    : '; the source is kept';
  return outcome(
    t,
    'archive',
    `${t.ageText}; archive due since ${isoDay(archiveAt)} (archive_after ${policy.archive_after})${after}${src}`,
    schedule(t, 'archive', archiveAt),
    drops,
  );
}

/** Source cleanup: a validated archive whose source is still there lets the source go, if the policy drops it. */
function sourceCleanupRule(t: Timeline, record: ArchiveRecord, inSource: boolean): Outcome | undefined {
  if (!inSource || !dropsSource(t.policy)) return undefined;
  return outcome(
    t,
    'cleanup_source',
    `archived ${record.archived_at.slice(0, 10)} and validated; source.action drop: ` +
      `rename now, drop after ${t.policy.source?.grace_period ?? 'the grace period'}`,
    schedule(t, 'cleanup_source', record.archived_at),
    true,
  );
}

/** Purge due: a validated archive is purged once its date + `purge_after` is reached — never under a legal hold. */
function purgeRule(t: Timeline): Outcome | undefined {
  const { purgeAt, hold, policy } = t;
  if (!purgeAt || t.asOf < purgeAt) return undefined;
  if (hold)
    return outcome(
      t,
      'none',
      `${t.ageText}; purge due since ${isoDay(purgeAt)} but ${hold}: archive kept`,
      schedule(t, null),
    );
  return outcome(
    t,
    'purge',
    `${t.ageText}; archive purge due since ${isoDay(purgeAt)} (purge_after ${policy.purge_after})`,
    schedule(t, 'purge', purgeAt),
  );
}

/** The outcome once the table's date is known: the rules above, in order. */
export function decide(input: DecideInput): Outcome {
  const { policy, scope, from, date, detail, asOf, inSource, record } = input;
  const archiveAfter = calendarOf(policy.archive_after);
  if (!archiveAfter)
    return failed(policy, scope, {
      code: 'engine/policy-invalid',
      message: `policy ${policy.name}: archive_after "${policy.archive_after}" is not an ISO-8601 duration`,
    });
  const purgeAfter = policy.purge_after === undefined ? undefined : calendarOf(policy.purge_after);
  if (policy.purge_after !== undefined && !purgeAfter)
    return failed(policy, scope, {
      code: 'engine/policy-invalid',
      message: `policy ${policy.name}: purge_after "${policy.purge_after}" is not an ISO-8601 duration`,
    });
  const age: Age = { from, date: isoTime(date), days: wholeDays(date, asOf), detail };
  const t: Timeline = {
    policy,
    scope,
    asOf,
    age,
    ageText: `${age.days} days old (${detail})`,
    archiveAt: addCalendar(date, archiveAfter),
    purgeAt: purgeAfter ? addCalendar(date, purgeAfter) : undefined,
    hold: legalHold(policy),
  };
  if (record?.purged) return outcome(t, 'none', 'archive purged; nothing left to do', schedule(t, null));
  if (!record) return archiveRule(t);
  if (!record.validated)
    return outcome(
      t,
      'none',
      `archived ${record.archived_at.slice(0, 10)} but not validated: nothing more happens until validation passes`,
      schedule(t, 'validate', record.archived_at),
    );
  return (
    sourceCleanupRule(t, record, inSource) ??
    purgeRule(t) ??
    outcome(t, 'none', `archived ${record.archived_at.slice(0, 10)}; ${purgeText(t)}`, purgeNext(t))
  );
}
