/**
 * A database's connection target, apart from discovery so that a connection check (the test_connection
 * Lambda) needs neither the policy engine nor the inventory format.
 */
import type { DatabaseConfig } from '../generated/database.js';
import { parseJdbcUrl, type JdbcTarget } from '../config/jdbc.js';
import { CatalogError } from './errors.js';

/** The connection target: the config's JDBC URL, or the credentials' URL / host override. */
export function targetOf(db: DatabaseConfig, creds: { url?: string; host?: string; port?: number }): JdbcTarget {
  const url = creds.url ?? db.jdbc_url;
  const parsed = parseJdbcUrl(db.engine, url);
  if (!parsed.ok)
    throw new CatalogError(
      'discover/query-failed',
      `JDBC URL ${creds.url ? '(from credentials) ' : ''}of database ${db.name} is invalid: ` +
        `${parsed.problem} (expected ${parsed.form})`,
    );
  return { ...parsed.target, ...(creds.host ? { host: creds.host } : {}), ...(creds.port ? { port: creds.port } : {}) };
}
