/**
 * Catalog failures, classified so a message says what went wrong in the user's terms (unreachable,
 * bad credentials, timeout, missing privileges, a table dropped while we read) with a stable code.
 */
export type CatalogErrorCode =
  | 'discover/unreachable'
  | 'discover/auth-failed'
  | 'discover/timeout'
  | 'discover/privilege'
  | 'discover/database-missing'
  | 'discover/table-missing'
  | 'discover/column-missing'
  | 'discover/query-failed'
  | 'discover/driver-missing';

export class CatalogError extends Error {
  constructor(
    readonly code: CatalogErrorCode,
    message: string,
    cause?: unknown,
  ) {
    super(message, { cause });
    this.name = 'CatalogError';
  }
}

const HINT: Record<CatalogErrorCode, string> = {
  'discover/unreachable': 'cannot reach the database server',
  'discover/auth-failed': 'the server refused the credentials',
  'discover/timeout': 'the statement or connection timed out',
  'discover/privilege': 'the user lacks a catalog or read privilege',
  'discover/database-missing': 'the database does not exist on the server',
  'discover/table-missing': 'the table no longer exists (dropped or renamed while discovery ran?)',
  'discover/column-missing': 'the column does not exist in the table',
  'discover/query-failed': 'a catalog query failed',
  'discover/driver-missing': 'the database driver is not installed',
};

/** Maps a driver error (pg, mysql2, oracledb, mssql) to a code and a one-line message. */
export function classify(e: unknown): CatalogError {
  if (e instanceof CatalogError) return e;
  const err = e as {
    code?: unknown;
    errno?: unknown;
    number?: unknown;
    errorNum?: unknown;
    message?: unknown;
    originalError?: { info?: { number?: unknown } };
  };
  const code = String(err?.code ?? '');
  const num = Number(err?.errno ?? err?.number ?? err?.errorNum ?? err?.originalError?.info?.number ?? NaN);
  const raw = String(err?.message ?? e)
    .split('\n')[0]!
    .trim();
  const make = (c: CatalogErrorCode) => new CatalogError(c, `${HINT[c]}: ${raw || code}`, e);
  if (
    [
      'ECONNREFUSED',
      'ENOTFOUND',
      'EHOSTUNREACH',
      'ENETUNREACH',
      'ECONNRESET',
      'EAI_AGAIN',
      'ESOCKET',
      'EINSTLOOKUP',
    ].includes(code)
  )
    return make('discover/unreachable');
  if (
    ['ETIMEDOUT', 'ETIMEOUT', 'PROTOCOL_SEQUENCE_TIMEOUT', 'EREQUEST_TIMEOUT', '57014'].includes(code) ||
    /timeout|timed out|statement_timeout|max_statement_time/i.test(raw)
  )
    return make('discover/timeout');
  if (
    code === 'ELOGIN' ||
    ['28P01', '28000', 'ER_ACCESS_DENIED_ERROR'].includes(code) ||
    [1045, 1017, 18456].includes(num)
  )
    return make('discover/auth-failed');
  if (['3D000', 'ER_BAD_DB_ERROR'].includes(code) || [1049, 12514, 4060].includes(num))
    return make('discover/database-missing');
  if (['42P01', 'ER_NO_SUCH_TABLE'].includes(code) || [1146, 942, 208].includes(num))
    return make('discover/table-missing');
  if (['42703', 'ER_BAD_FIELD_ERROR'].includes(code) || [1054, 904, 207].includes(num))
    return make('discover/column-missing');
  if (
    ['42501', 'ER_TABLEACCESS_DENIED_ERROR', 'ER_DBACCESS_DENIED_ERROR', 'ER_SPECIFIC_ACCESS_DENIED_ERROR'].includes(
      code,
    ) ||
    [1142, 1044, 1227, 1031, 229, 297, 300].includes(num)
  )
    return make('discover/privilege');
  if (code === 'ERR_MODULE_NOT_FOUND') return make('discover/driver-missing');
  if (/ECONNREFUSED|getaddrinfo|connect ETIMEDOUT|NJS-50[03]|NJS-511|Failed to connect/.test(raw))
    return make(/ETIMEDOUT/.test(raw) ? 'discover/timeout' : 'discover/unreachable');
  return make('discover/query-failed');
}
