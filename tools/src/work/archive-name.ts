/**
 * The archive table name of a source `schema.table` — computed here once for every work unit; the
 * data plane's `glue/offload_glue/names.py` keeps the same rule for jobs run by hand, and a shared
 * vector file (tools/test/fixtures/archive-name-vectors.json) holds the two to the same answers.
 *
 *  - both parts match `[a-z0-9]+(_[a-z0-9]+)*`: `<schema>__<table>` (neither part can hold `__`);
 *  - otherwise each run of characters outside `[a-z0-9]` (after lower-casing) becomes one `_`, the
 *    parts are joined by `__`, and `_h` + 8 hex digits of sha256(schema NUL table) are appended, so
 *    names differing only in case or punctuation stay distinct;
 *  - the result is cut to 128 characters, keeping the hash suffix.
 */
import { createHash } from 'node:crypto';

export const MAX_ARCHIVE_NAME_LENGTH = 128;
const SAFE_PART = /^[a-z0-9]+(_[a-z0-9]+)*$/;

/** Python's str.lower() for the characters that matter here; JS lower-cases the same Unicode ranges. */
function sanitize(part: string): string {
  const s = part
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return s || 'x';
}

export function archiveTableName(schema: string, table: string): string {
  if (SAFE_PART.test(schema) && SAFE_PART.test(table)) {
    const name = `${schema}__${table}`;
    if (name.length <= MAX_ARCHIVE_NAME_LENGTH) return name;
  }
  const digest = createHash('sha256').update(`${schema}\u0000${table}`, 'utf8').digest('hex').slice(0, 8);
  const suffix = `_h${digest}`;
  const base = [schema, table].map(sanitize).join('__');
  return base.slice(0, MAX_ARCHIVE_NAME_LENGTH - suffix.length) + suffix;
}
