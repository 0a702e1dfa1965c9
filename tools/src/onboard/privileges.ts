/**
 * Is a login fit for the pipeline? It must read every table in scope (discovery and archive) and must
 * not be able to write there: sources are only read. Asked of the database's own privilege catalog
 * through the read-only catalog session (SELECTs only).
 */
import type { QueryPort } from '../catalog/port.js';

export interface PrivilegeReport {
  /** What this login could change: superuser, writable tables, schemas it may create in. */
  writes: string[];
  /** Tables in scope it cannot SELECT. */
  unreadable: number;
}

const n = (v: unknown) => Number(v ?? 0);

export async function checkPrivileges(engine: string, port: QueryPort, schemas: string[]): Promise<PrivilegeReport> {
  const writes: string[] = [];
  let unreadable = 0;
  if (engine === 'postgres') {
    const [r] = await port.query(
      `SELECT r.rolsuper AS superuser,
         (SELECT count(*) FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
           WHERE s.nspname = ANY($1) AND c.relkind IN ('r', 'p')
             AND has_table_privilege(c.oid, 'INSERT,UPDATE,DELETE,TRUNCATE')) AS writable,
         (SELECT count(*) FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
           WHERE s.nspname = ANY($1) AND c.relkind IN ('r', 'p')
             AND NOT has_table_privilege(c.oid, 'SELECT')) AS unreadable,
         (SELECT count(*) FROM pg_namespace s WHERE s.nspname = ANY($1)
             AND has_schema_privilege(s.oid, 'CREATE')) AS creatable
       FROM pg_roles r WHERE r.rolname = current_user`,
      [schemas],
    );
    if (r?.superuser === true) writes.push('is a superuser');
    if (n(r?.writable)) writes.push(`may write ${n(r?.writable)} table(s) in scope`);
    if (n(r?.creatable)) writes.push(`may create objects in ${n(r?.creatable)} schema(s) in scope`);
    unreadable = n(r?.unreadable);
  } else if (engine === 'mysql' || engine === 'mariadb') {
    const WRITE = `('INSERT','UPDATE','DELETE','DROP','ALTER','CREATE','SUPER','ALL PRIVILEGES')`;
    const me =
      "CONCAT('''', SUBSTRING_INDEX(CURRENT_USER(), '@', 1), '''@''', SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''')";
    const [g] = await port.query(
      'SELECT COUNT(*) AS n FROM information_schema.USER_PRIVILEGES ' +
        `WHERE GRANTEE = ${me} AND PRIVILEGE_TYPE IN ${WRITE}`,
      [],
    );
    if (n(g?.n)) writes.push('holds global write privileges');
    for (const schema of schemas) {
      const [s] = await port.query(
        `SELECT (SELECT COUNT(*) FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = ${me}
                   AND TABLE_SCHEMA = ? AND PRIVILEGE_TYPE IN ${WRITE})
              + (SELECT COUNT(*) FROM information_schema.TABLE_PRIVILEGES WHERE GRANTEE = ${me}
                   AND TABLE_SCHEMA = ? AND PRIVILEGE_TYPE IN ${WRITE}) AS n`,
        [schema, schema],
      );
      if (n(s?.n)) writes.push(`may write in schema ${schema}`);
    }
  }
  // Oracle and SQL Server: not checked here (their sessions rely on a read-only login; see the README).
  return { writes, unreadable };
}
