/** Derived values of a database config: what the pipeline actually uses once settings are applied. */
import type { DatabaseConfig } from '../generated/database.js';
import type { OffloadSettings } from '../generated/settings.js';
import { parseJdbcUrl, type JdbcTarget } from './jdbc.js';
import { glueDatabaseOf, s3LocationOf } from './naming.js';

const DEFAULT_SCHEDULE = 'cron(0 2 * * ? *)';

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
