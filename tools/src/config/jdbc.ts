/** JDBC URLs per engine: parsed into host, port and database, with the checks Glue connections need. */

export type Engine = 'postgres' | 'mysql' | 'mariadb' | 'oracle' | 'sqlserver';
const ENGINES: readonly Engine[] = ['postgres', 'mysql', 'mariadb', 'oracle', 'sqlserver'];

/**
 * Other spellings accepted for an engine in YAML. The jobs and PostgreSQL itself say `postgresql`;
 * the configs' canonical name stays `postgres`. Loading rewrites an alias to its canonical name
 * before the schema pass, so nothing after loading ever sees an alias.
 */
export const ENGINE_ALIASES: Readonly<Record<string, Engine>> = { postgresql: 'postgres' };

/** The canonical engine of a spelling, or undefined when it is none. */
export function normalizeEngine(name: string): Engine | undefined {
  return (ENGINES as readonly string[]).includes(name) ? (name as Engine) : ENGINE_ALIASES[name];
}

export interface JdbcTarget {
  host: string;
  port: number;
  database: string;
  /** Query or property parameters, lower-cased names. */
  params: Record<string, string>;
}

const DEFAULT_PORT: Record<Engine, number> = {
  postgres: 5432,
  mysql: 3306,
  mariadb: 3306,
  oracle: 1521,
  sqlserver: 1433,
};
const FORMS: Record<Engine, string> = {
  postgres: 'jdbc:postgresql://<host>[:<port>]/<database>',
  mysql: 'jdbc:mysql://<host>[:<port>]/<database>',
  mariadb: 'jdbc:mariadb://<host>[:<port>]/<database> (or jdbc:mysql://…)',
  oracle: 'jdbc:oracle:thin:@//<host>[:<port>]/<service> or jdbc:oracle:thin:@<host>:<port>:<SID>',
  sqlserver: 'jdbc:sqlserver://<host>[:<port>];databaseName=<database>',
};

const HOST = String.raw`(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)`;

function queryParams(q: string | undefined, sep: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (q ?? '').split(sep)) {
    if (!part) continue;
    const i = part.indexOf('=');
    const k = (i < 0 ? part : part.slice(0, i)).toLowerCase();
    out[k] = i < 0 ? '' : decodeURIComponentSafe(part.slice(i + 1));
  }
  return out;
}
function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

const URL_FORMS = {
  postgres: new RegExp(String.raw`^jdbc:(postgresql)://(?:([^@/]*)@)?${HOST}(?::(\d{1,5}))?/([^?;/]+)(?:\?(.*))?$`),
  mysql: new RegExp(String.raw`^jdbc:(mysql)://(?:([^@/]*)@)?${HOST}(?::(\d{1,5}))?/([^?;/]+)(?:\?(.*))?$`),
  mariadb: new RegExp(String.raw`^jdbc:(mariadb|mysql)://(?:([^@/]*)@)?${HOST}(?::(\d{1,5}))?/([^?;/]+)(?:\?(.*))?$`),
  oracle: new RegExp(
    String.raw`^jdbc:oracle:thin:(?:([^@]*))?@(?://)?${HOST}(?::(\d{1,5}))?([:/])([A-Za-z0-9_.$#-]+)(?:\?(.*))?$`,
  ),
  sqlserver: new RegExp(String.raw`^jdbc:sqlserver://${HOST}(?:\\[A-Za-z0-9_$-]+)?(?::(\d{1,5}))?((?:;[^;]*)*)$`),
};

export type JdbcResult = { ok: true; target: JdbcTarget } | { ok: false; problem: string; form: string };

/** Parses a JDBC URL for an engine; says what is wrong and which form is expected otherwise. */
export function parseJdbcUrl(engine: Engine, url: string): JdbcResult {
  const fail = (problem: string): JdbcResult => ({ ok: false, problem, form: FORMS[engine] });
  let m: RegExpExecArray | null;
  let host: string,
    port: string | undefined,
    database: string,
    params: Record<string, string> = {};
  if (/\s/.test(url)) return fail('the URL contains white space');
  switch (engine) {
    case 'postgres':
    case 'mysql':
    case 'mariadb': {
      const schemes = engine === 'postgres' ? ['postgresql'] : engine === 'mysql' ? ['mysql'] : ['mariadb', 'mysql'];
      m = URL_FORMS[engine].exec(url);
      if (!m) {
        if (!new RegExp(`^jdbc:(${schemes.join('|')})://`).test(url))
          return fail(`the URL must start with jdbc:${schemes[0]}:// for engine ${engine}`);
        return fail('host and database are required');
      }
      if (m[2] !== undefined) return fail('the URL holds a user name before "@": credentials belong in the secret');
      [host, port, database] = [m[3]!, m[4], decodeURIComponentSafe(m[5]!)];
      params = queryParams(m[6], '&');
      break;
    }
    case 'oracle': {
      m = URL_FORMS.oracle.exec(url);
      if (!m) {
        if (!url.startsWith('jdbc:oracle:thin:'))
          return fail('the URL must start with jdbc:oracle:thin: (the thin driver; Glue does not ship OCI)');
        return fail('host and service name (or SID) are required');
      }
      if (m[1]) return fail('the URL holds credentials before "@": they belong in the secret');
      [host, port, database] = [m[2]!, m[3], m[5]!];
      params = queryParams(m[6], '&');
      break;
    }
    case 'sqlserver': {
      m = URL_FORMS.sqlserver.exec(url);
      if (!m) {
        if (!url.startsWith('jdbc:sqlserver://')) return fail('the URL must start with jdbc:sqlserver://');
        return fail('the host is missing or malformed');
      }
      host = m[1]!;
      port = m[2];
      params = queryParams(m[3], ';');
      database = params.databasename ?? params.database ?? '';
      if (!database) return fail('databaseName=<database> is required (Glue connections need the database in the URL)');
      break;
    }
  }
  const portNum = port === undefined ? DEFAULT_PORT[engine] : Number(port);
  if (!(portNum >= 1 && portNum <= 65535)) return fail(`port ${port} is outside 1–65535`);
  return { ok: true, target: { host, port: portNum, database, params } };
}
