/**
 * The runner's side of source cleanup (policies with `source.action: drop`): its guards, the validation
 * record it hands the cleanup job, and what a dry run says would be renamed or dropped. Pure; the job
 * (glue/offload_glue/cleanup.py) checks the same guards again against the archive table itself.
 */
import { createHash } from 'node:crypto';
import type { LedgerEntry } from '../ledger/index.js';
import type { WorkUnit } from '../work/units.js';

/** glue/offload_glue/cleanup.py's QUARANTINE_PREFIX and identifier limits. */
const QUARANTINE_PREFIX = 'zz_offload_q_';
const MAX_IDENT: Record<string, number> = { postgres: 63, mysql: 64, mariadb: 64 };

/** The quarantine name cleanup.py's `quarantine_name` gives on `day` (YYYY-MM-DD). */
function quarantineName(engine: string, table: string, day: string): string {
  const name = `${QUARANTINE_PREFIX}${day.replace(/-/g, '')}_${table}`;
  const limit = MAX_IDENT[engine] ?? 63;
  const bytes = Buffer.from(name, 'utf8');
  if (bytes.length <= limit) return name;
  const digest = createHash('sha256').update(name, 'utf8').digest('hex').slice(0, 8);
  // Cut on a character boundary, as Python's decode(errors="ignore") does.
  const keep = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, limit - 9)).replace(/\uFFFD$/u, '');
  return `${keep}_${digest}`;
}

export interface CleanupRefusal {
  code: 'legal_hold' | 'no_validation' | 'validation_not_passed' | 'validation_stale' | 'not_validated';
  message: string;
}

/**
 * Why the runner will not run this cleanup unit, or undefined when it may: never under a legal hold; the
 * ledger must show `validated` (rename) or `source_renamed` (drop) with a passed validation of the
 * snapshot it records as the archive's current one.
 */
export function cleanupGuard(u: WorkUnit, e: LedgerEntry | undefined): CleanupRefusal | undefined {
  const where = `${u.database}: ${u.source.schema}.${u.source.table}`;
  if (u.policy.legal_hold.enabled)
    return { code: 'legal_hold', message: `${where} is under legal hold (policy ${u.policy.name}): the source stays` };
  if (!e || (e.state !== 'validated' && e.state !== 'source_renamed'))
    return {
      code: 'not_validated',
      message:
        `${where}: the ledger shows ${e?.state ?? 'nothing'}; ` +
        'a source is cleaned up only after a passed validation',
    };
  if (!e.validation) return { code: 'no_validation', message: `${where}: the ledger records no validation` };
  if (e.validation.status !== 'passed')
    return { code: 'validation_not_passed', message: `${where}: the last validation did not pass` };
  if (e.snapshot_id == null || e.validation.snapshot_id !== e.snapshot_id)
    return {
      code: 'validation_stale',
      message:
        `${where}: the validation checked snapshot ${e.validation.snapshot_id ?? 'none'}, ` +
        `the archive's current one is ${e.snapshot_id ?? 'unknown'}`,
    };
  return undefined;
}

/** The validation result record (schema/validation-result.schema.json's fields the job checks) from the ledger. */
export function validationRecordOf(u: WorkUnit, e: LedgerEntry): Record<string, unknown> {
  return {
    job: 'validate',
    status: e.validation?.status,
    archive_table: `${u.archive.namespace}.${u.archive.table}`,
    archive_snapshot_id: e.validation?.snapshot_id ?? null,
    source: { schema: u.source.schema, table: u.source.table },
    mismatches: [],
    validated_at: e.validation?.validated_at ?? null,
    recorded_by: `the run ledger (run ${e.run_id})`,
  };
}

export interface CleanupPreview {
  database: string;
  schema: string;
  table: string;
  /** rename: to its quarantine name (after the validation passes, when the same run archives it); drop. */
  step: 'rename' | 'drop';
  /** The quarantine name: the one a rename today would give, or the one the ledger recorded. */
  quarantine_table: string;
  after?: string;
}

export function cleanupPreview(u: WorkUnit, e: LedgerEntry | undefined, today = new Date()): CleanupPreview {
  const base = { database: u.database, schema: u.source.schema, table: u.source.table };
  if (e?.state === 'source_renamed' && e.source_cleanup)
    return { ...base, step: 'drop', quarantine_table: e.source_cleanup.quarantine_table };
  return {
    ...base,
    step: 'rename',
    quarantine_table: quarantineName(u.source.engine, u.source.table, today.toISOString().slice(0, 10)),
    ...(e?.state === 'validated' ? {} : { after: 'its archive and validation in this run pass' }),
  };
}
