/** Derived values of a database config: what the pipeline actually uses once settings are applied. */
import type { DatabaseConfig } from '../generated/database.js';
import type { OffloadSettings } from '../generated/settings.js';
import { parseJdbcUrl, type JdbcTarget } from './jdbc.js';

const DEFAULT_SCHEDULE = 'cron(0 2 * * ? *)';

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

export interface ResolvedDatabase {
  config: DatabaseConfig;
  glueDatabase: string;
  s3Location: string;
  schedule: string;
  /** Undefined only when the URL is invalid (validation reports it). */
  jdbc: JdbcTarget | undefined;
  tags: Record<string, string>;
}

export function resolveDatabase(db: DatabaseConfig, settings: OffloadSettings): ResolvedDatabase {
  const j = parseJdbcUrl(db.engine, db.jdbc_url);
  return {
    config: db,
    glueDatabase: glueDatabaseOf(db, settings),
    s3Location: s3LocationOf(db, settings),
    schedule: db.discovery?.schedule ?? settings.defaults?.discovery_schedule ?? DEFAULT_SCHEDULE,
    jdbc: j.ok ? j.target : undefined,
    tags: { ...(settings.defaults?.tags ?? {}), ...(db.tags ?? {}) } as Record<string, string>,
  };
}
