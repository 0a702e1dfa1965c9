/**
 * Every name the pipeline derives from a config, computed once here (ARCHITECTURE.md: names are never
 * computed again in Python): the archive's Glue database and S3 location, the archive table of a source
 * table, and the Glue connection of a database.
 */
import { createHash } from 'node:crypto';
import type { DatabaseConfig } from '../generated/database.js';
import type { OffloadSettings } from '../generated/settings.js';

/** Glue database of a source database's archives. */
export function glueDatabaseOf(db: DatabaseConfig, settings: OffloadSettings): string {
  return db.archive?.glue_database ?? `${settings.archive.glue_database_prefix ?? 'archive_'}${db.name}`;
}

/** S3 location of a source database's archives (always ends with `/`). */
export function s3LocationOf(db: DatabaseConfig, settings: OffloadSettings): string {
  const given = db.archive?.s3_location;
  if (given) return given.endsWith('/') ? given : `${given}/`;
  return `s3://${settings.archive.bucket}/${settings.archive.prefix}/${glueDatabaseOf(db, settings)}/`;
}

/** The Glue connection a database's archive jobs use: named after the database. */
export function connectionNameOf(db: Pick<DatabaseConfig, 'name'>): string {
  return db.name;
}

/**
 * Prefix of the environment variables holding a database's credentials locally:
 * `OFFLOAD_DB_<NAME>_` + `USER`, `PASSWORD`.
 */
export const envPrefix = (name: string) => `OFFLOAD_DB_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_`;

/** Longest archive table name (Glue allows 255; Athena and people prefer far less). */
export const MAX_ARCHIVE_TABLE_NAME = 128;
const SAFE_PART = /^[a-z0-9]+(_[a-z0-9]+)*$/;
const UNSAFE_RUN = /[^a-z0-9]+/g;

/**
 * The archive (Iceberg/Glue) table of source table `schema.table`, the same rule as glue/offload_glue/names.py:
 * `<schema>__<table>` when both parts are lower-case words joined by single `_` (neither can contain `__`,
 * so it is unambiguous); otherwise each part lower-cased with every run outside `[a-z0-9]` made one `_`, and
 * `_h` + 8 hex digits of sha256(`schema` NUL `table`) appended, so names differing only in case or
 * punctuation stay distinct; cut to MAX_ARCHIVE_TABLE_NAME characters, keeping the hash suffix.
 */
export function archiveTableName(schema: string, table: string): string {
  if (SAFE_PART.test(schema) && SAFE_PART.test(table)) {
    const name = `${schema}__${table}`;
    if (name.length <= MAX_ARCHIVE_TABLE_NAME) return name;
  }
  const suffix = `_h${createHash('sha256').update(`${schema}\0${table}`, 'utf8').digest('hex').slice(0, 8)}`;
  const part = (p: string) =>
    p
      .toLowerCase()
      .replace(UNSAFE_RUN, '_')
      .replace(/^_+|_+$/g, '') || 'x';
  return `${part(schema)}__${part(table)}`.slice(0, MAX_ARCHIVE_TABLE_NAME - suffix.length) + suffix;
}
