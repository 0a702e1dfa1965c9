/**
 * The one file that knows database drivers. Opens a read-only catalog session per engine, drivers
 * loaded lazily (a repo with only PostgreSQL never loads oracledb):
 *  - PostgreSQL (pg): `SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY`, statement_timeout, UTC.
 *  - MySQL/MariaDB (mysql2): `SET SESSION TRANSACTION READ ONLY`, max_statement_time (MariaDB) or
 *    max_execution_time (MySQL), UTC.
 *  - Oracle (oracledb thin mode, no Instant Client): `SET TRANSACTION READ ONLY` on each connection
 *    (never committed), callTimeout, session time zone UTC.
 *  - SQL Server (mssql): ApplicationIntent=ReadOnly and a request timeout; SQL Server has no
 *    read-only session, so use a login with only db_datareader and VIEW DATABASE STATE.
 * Every statement also passes `assertSelect`, so nothing but a SELECT ever reaches a driver.
 */
import type { Engine, JdbcTarget } from '../config/jdbc.js';
import { assertSelect, type CatalogSession, type Row } from './port.js';
import { CatalogError, classify } from './errors.js';

export interface ConnectOptions {
  engine: Engine;
  target: JdbcTarget;
  user: string;
  password: string;
  /** Per-statement timeout. @default 30000 */
  statementTimeoutMs?: number;
  /** Connection timeout. @default 10000 */
  connectTimeoutMs?: number;
  /** Connections opened at most (parallel `max(column)` queries). @default 4 */
  concurrency?: number;
}

/** A minimal pool: connections set up (awaited) before first use, handed out one query at a time. */
class SimplePool<C> {
  private idle: C[] = [];
  private all: C[] = [];
  private waiting: ((c: C) => void)[] = [];
  private opening = 0;
  constructor(
    private size: number,
    private open: () => Promise<C>,
    private shut: (c: C) => Promise<void>,
  ) {}
  async use<T>(fn: (c: C) => Promise<T>): Promise<T> {
    const c = await this.acquire();
    try {
      return await fn(c);
    } finally {
      const next = this.waiting.shift();
      if (next) next(c);
      else this.idle.push(c);
    }
  }
  private async acquire(): Promise<C> {
    const c = this.idle.pop();
    if (c) return c;
    if (this.all.length + this.opening < this.size) {
      this.opening++;
      try {
        const fresh = await this.open();
        this.all.push(fresh);
        return fresh;
      } finally {
        this.opening--;
      }
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }
  async close(): Promise<void> {
    await Promise.allSettled(this.all.map((c) => this.shut(c)));
    this.all = [];
    this.idle = [];
  }
}

/** Drivers handed in by a bundle that cannot resolve `import(name)` at run time (the Lambdas). */
const provided = new Map<string, unknown>();

/** Makes a statically imported driver module available to `openSession` (e.g. `provideDriver('pg', pg)`). */
export function provideDriver(name: 'pg' | 'mysql2/promise' | 'oracledb' | 'mssql', module: unknown): void {
  provided.set(name, module);
}

async function load<T>(name: string): Promise<T> {
  if (provided.has(name)) {
    const m = provided.get(name) as { default?: T };
    return (m.default ?? m) as T;
  }
  try {
    const m = (await import(name)) as { default?: T };
    return (m.default ?? m) as T;
  } catch (e) {
    throw new CatalogError(
      'discover/driver-missing',
      `the ${name} driver cannot be loaded (npm install ${name}): ${(e as Error).message}`,
      e,
    );
  }
}

function session(
  engine: string,
  run: (sql: string, params: readonly unknown[]) => Promise<Row[]>,
  close: () => Promise<void>,
): CatalogSession {
  let issued = 0;
  return {
    engine,
    get issued() {
      return issued;
    },
    async query<T extends Row>(sql: string, params: readonly unknown[] = []) {
      assertSelect(sql);
      issued++;
      try {
        return (await run(sql, params)) as T[];
      } catch (e) {
        throw classify(e);
      }
    },
    close,
  };
}

async function connectPostgres(o: Required<ConnectOptions>): Promise<CatalogSession> {
  const pg = await load<typeof import('pg')>('pg');
  const raw = (oid: number, format?: unknown) =>
    (pg.types.getTypeParser as (o: number, f?: unknown) => (v: string) => unknown)(oid, format);
  // date and timestamp-without-zone stay strings (read as UTC later); pg would parse them as local time.
  const types = {
    getTypeParser: (oid: number, format?: unknown) =>
      oid === 1082 || oid === 1114 ? (v: string) => v : raw(oid, format),
  };
  const pool = new SimplePool(
    o.concurrency,
    async () => {
      const c = new pg.Client({
        host: o.target.host,
        port: o.target.port,
        database: o.target.database,
        user: o.user,
        password: o.password,
        connectionTimeoutMillis: o.connectTimeoutMs,
        types: types as never,
        application_name: 'offload-discover',
      });
      c.on('error', () => {}); // a dropped connection surfaces on the next query
      try {
        await c.connect();
        await c.query('SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY');
        await c.query(`SELECT set_config('statement_timeout', $1, false), set_config('TimeZone', 'UTC', false)`, [
          String(o.statementTimeoutMs),
        ]);
      } catch (e) {
        await c.end().catch(() => {});
        throw classify(e);
      }
      return c;
    },
    (c) => c.end(),
  );
  return session(
    'postgres',
    (sql, params) => pool.use(async (c) => (await c.query(sql, params as unknown[])).rows),
    () => pool.close(),
  );
}

async function connectMysql(o: Required<ConnectOptions>): Promise<CatalogSession> {
  const mysql = await load<typeof import('mysql2/promise')>('mysql2/promise');
  const pool = new SimplePool(
    o.concurrency,
    async () => {
      let c: import('mysql2/promise').Connection | undefined;
      try {
        c = await mysql.createConnection({
          host: o.target.host,
          port: o.target.port,
          database: o.target.database,
          user: o.user,
          password: o.password,
          connectTimeout: o.connectTimeoutMs,
          dateStrings: true,
          timezone: 'Z',
          charset: 'utf8mb4',
          multipleStatements: false,
          supportBigNumbers: true,
          bigNumberStrings: true,
        });
        await c.query('SET SESSION TRANSACTION READ ONLY');
        await c.query(`SET time_zone = '+00:00'`);
        const [rows] = await c.query('SELECT VERSION() AS v');
        const mariadb = /mariadb/i.test(String((rows as { v: string }[])[0]?.v));
        if (mariadb) await c.query('SET SESSION max_statement_time = ?', [o.statementTimeoutMs / 1000]);
        else {
          await c.query('SET SESSION max_execution_time = ?', [o.statementTimeoutMs]);
          // MySQL 8 caches TABLE_ROWS, DATA_LENGTH and UPDATE_TIME for a day by default: read them fresh.
          await c.query('SET SESSION information_schema_stats_expiry = 0').catch(() => {
            /* MySQL 5.7: no cache, no variable */
          });
        }
      } catch (e) {
        await c?.end().catch(() => {});
        throw classify(e);
      }
      return c;
    },
    (c) => c.end(),
  );
  return session(
    o.engine,
    (sql, params) => pool.use(async (c) => (await c.query(sql, params as unknown[]))[0] as Row[]),
    () => pool.close(),
  );
}

async function connectOracle(o: Required<ConnectOptions>): Promise<CatalogSession> {
  const oracledb = await load<any>('oracledb'); // eslint-disable-line @typescript-eslint/no-explicit-any
  const pool = new SimplePool(
    o.concurrency,
    async () => {
      let c: any; // eslint-disable-line @typescript-eslint/no-explicit-any
      try {
        c = await oracledb.getConnection({
          user: o.user,
          password: o.password,
          connectString: `${o.target.host}:${o.target.port}/${o.target.database}`,
          connectTimeout: Math.ceil(o.connectTimeoutMs / 1000),
        });
        c.callTimeout = o.statementTimeoutMs;
        await c.execute(`ALTER SESSION SET TIME_ZONE = 'UTC'`);
        await c.execute('SET TRANSACTION READ ONLY');
      } catch (e) {
        await c?.close().catch(() => {});
        throw classify(e);
      }
      return c;
    },
    async (c) => {
      await c.rollback().catch(() => {});
      await c.close();
    },
  );
  return session(
    'oracle',
    (sql, params) =>
      pool.use(async (c) => (await c.execute(sql, [...params], { outFormat: oracledb.OUT_FORMAT_OBJECT })).rows ?? []),
    () => pool.close(),
  );
}

async function connectSqlServer(o: Required<ConnectOptions>): Promise<CatalogSession> {
  const mssql = await load<any>('mssql'); // eslint-disable-line @typescript-eslint/no-explicit-any
  const pool = new mssql.ConnectionPool({
    user: o.user,
    password: o.password,
    server: o.target.host,
    port: o.target.port,
    database: o.target.database,
    requestTimeout: o.statementTimeoutMs,
    connectionTimeout: o.connectTimeoutMs,
    pool: { max: o.concurrency, min: 0 },
    options: {
      encrypt: o.target.params.encrypt !== 'false',
      trustServerCertificate: o.target.params.trustservercertificate === 'true',
      readOnlyIntent: true,
      useUTC: true,
    },
  });
  try {
    await pool.connect();
  } catch (e) {
    throw classify(e);
  }
  return session(
    'sqlserver',
    async (sql, params) => {
      const req = pool.request();
      params.forEach((v, i) => req.input(`p${i + 1}`, v));
      return (await req.query(sql)).recordset ?? [];
    },
    () => pool.close(),
  );
}

/** Opens a read-only catalog session; failures are CatalogErrors (unreachable, auth-failed, …). */
export async function openSession(opts: ConnectOptions): Promise<CatalogSession> {
  const o: Required<ConnectOptions> = { statementTimeoutMs: 30_000, connectTimeoutMs: 10_000, concurrency: 4, ...opts };
  const s =
    o.engine === 'postgres'
      ? await connectPostgres(o)
      : o.engine === 'oracle'
        ? await connectOracle(o)
        : o.engine === 'sqlserver'
          ? await connectSqlServer(o)
          : await connectMysql(o);
  // Open one connection now so that an unreachable server or bad credentials fail here, not later.
  try {
    await s.query(`SELECT 1 AS ok${o.engine === 'oracle' ? ' FROM DUAL' : ''}`);
  } catch (e) {
    await s.close().catch(() => {});
    throw e;
  }
  return s;
}
