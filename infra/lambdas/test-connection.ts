/**
 * test_connection: for one synced database — reachable, authenticated, read-only session, catalog
 * readable, and (PostgreSQL, MySQL/MariaDB) SELECT granted on every table in its scoped schemas.
 * Returns a structured result; never the password, never a stack trace.
 */
import './drivers.js';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { openSession } from '../../tools/src/catalog/connect.js';
import { resolveCredentials, type CredentialOptions } from '../../tools/src/catalog/credentials.js';
import { targetOf } from '../../tools/src/catalog/target.js';
import { classify } from '../../tools/src/catalog/errors.js';
import type { CatalogSession } from '../../tools/src/catalog/port.js';
import type { DatabaseConfig } from '../../tools/src/generated/database.js';

export interface Check {
  name: 'config' | 'credentials' | 'connect' | 'read_only' | 'catalog' | 'select_privilege';
  ok: boolean;
  detail: string;
  code?: string;
}

export interface ConnectionReport {
  database: string;
  engine?: string;
  ok: boolean;
  checks: Check[];
}

/** SQL per engine: schemas in scope → [tables, tables without SELECT, read-only flag]. */
const PROBES: Partial<Record<DatabaseConfig['engine'], { catalog: string; readOnly: string }>> = {
  postgres: {
    catalog:
      'SELECT count(*)::int AS tables, ' +
      "count(*) FILTER (WHERE NOT has_table_privilege(c.oid, 'SELECT'))::int AS denied " +
      'FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace ' +
      "WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY($1)",
    readOnly: "SELECT current_setting('transaction_read_only') AS read_only",
  },
  mysql: {
    catalog:
      'SELECT COUNT(*) AS tables, 0 AS denied FROM information_schema.tables ' +
      "WHERE table_type = 'BASE TABLE' AND FIND_IN_SET(table_schema, ?) > 0",
    readOnly: 'SELECT @@session.transaction_read_only AS read_only',
  },
};
PROBES.mariadb = {
  catalog: PROBES.mysql!.catalog,
  readOnly: 'SELECT @@session.tx_read_only AS read_only',
};

const yes = (v: unknown) => v === true || v === 1 || v === '1' || v === 'on' || v === 'ON';

/** Runs every check it can; later checks are skipped once one fails. */
export async function testConnection(
  db: DatabaseConfig,
  credentialOptions: CredentialOptions,
): Promise<ConnectionReport> {
  const checks: Check[] = [];
  const report = (): ConnectionReport => ({
    database: db.name,
    engine: db.engine,
    ok: checks.every((c) => c.ok),
    checks,
  });
  let creds: Awaited<ReturnType<typeof resolveCredentials>>;
  try {
    creds = await resolveCredentials(db, credentialOptions);
    checks.push({ name: 'credentials', ok: true, detail: `from ${creds.origin}` });
  } catch (e) {
    checks.push({ name: 'credentials', ok: false, detail: (e as Error).message });
    return report();
  }
  let session: CatalogSession;
  try {
    session = await openSession({
      engine: db.engine,
      target: targetOf(db, creds),
      user: creds.user,
      password: creds.password,
      concurrency: 1,
      connectTimeoutMs: 8000,
      statementTimeoutMs: 10000,
    });
    checks.push({ name: 'connect', ok: true, detail: `connected as ${creds.user}` });
  } catch (e) {
    const c = classify(e);
    checks.push({ name: 'connect', ok: false, detail: c.message.replaceAll(creds.password, '***'), code: c.code });
    return report();
  }
  try {
    const probe = PROBES[db.engine];
    if (!probe) {
      checks.push({ name: 'catalog', ok: true, detail: `connected; no further probe for ${db.engine}` });
      return report();
    }
    const [ro] = await session.query(probe.readOnly);
    checks.push({
      name: 'read_only',
      ok: yes(ro?.read_only),
      detail: yes(ro?.read_only) ? 'the session is read-only' : 'the session is NOT read-only',
    });
    const schemas = [...new Set(db.scope.map((s) => s.schema))];
    const [row] = await session.query(probe.catalog, [db.engine === 'postgres' ? schemas : schemas.join(',')]);
    const tables = Number(row?.tables ?? 0);
    const denied = Number(row?.denied ?? 0);
    checks.push({ name: 'catalog', ok: true, detail: `${tables} tables in ${schemas.join(', ')}` });
    if (db.engine === 'postgres')
      checks.push({
        name: 'select_privilege',
        ok: denied === 0,
        detail: denied === 0 ? 'SELECT granted on every table in scope' : `no SELECT on ${denied} of ${tables} tables`,
        ...(denied ? { code: 'discover/privilege' } : {}),
      });
  } catch (e) {
    const c = classify(e);
    checks.push({ name: 'catalog', ok: false, detail: c.message, code: c.code });
  } finally {
    await session.close();
  }
  return report();
}

/** Reads a synced database config from the config table (pk `DATABASE#<name>`). */
export async function databaseFromTable(ddb: DynamoDBDocumentClient, table: string, name: string) {
  const out = await ddb.send(
    new GetCommand({ TableName: table, Key: { pk: `DATABASE#${name}` }, ConsistentRead: true }),
  );
  return out.Item?.config as DatabaseConfig | undefined;
}

let ddb: DynamoDBDocumentClient | undefined;

/** The Lambda entry point: `{ "database": "<name>" }`. */
export async function handler(event: { database?: unknown }): Promise<ConnectionReport> {
  const name = event?.database;
  if (typeof name !== 'string' || !name)
    return {
      database: String(name ?? ''),
      ok: false,
      checks: [{ name: 'config', ok: false, detail: '`database` is required' }],
    };
  ddb ??= DynamoDBDocumentClient.from(new DynamoDBClient({}));
  const db = await databaseFromTable(ddb, process.env.OFFLOAD_CONFIG_TABLE!, name);
  if (!db)
    return { database: name, ok: false, checks: [{ name: 'config', ok: false, detail: `no synced database ${name}` }] };
  return testConnection(db, {
    env: {},
    aws: true,
    ...(process.env.AWS_REGION ? { region: process.env.AWS_REGION } : {}),
  });
}
