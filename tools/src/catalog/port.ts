/**
 * The one narrow port every engine adapter talks through: `query(sql, params)`. The introspection
 * modules only build SQL and map rows, so they are tested against recorded catalog rows as easily as
 * against a live server. The port counts what it issues (the benchmark's "catalog queries").
 */
export type Row = Record<string, unknown>;

export interface QueryPort {
  /** Runs one read-only statement with bound parameters; resolves to its rows. */
  query<T extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<T[]>;
}

export interface CatalogSession extends QueryPort {
  readonly engine: string;
  /** Statements issued through `query` since the session opened. */
  readonly issued: number;
  close(): Promise<void>;
}

/** A port that records every statement: wraps a session for counting, or replays recorded rows in tests. */
export interface RecordingPort extends QueryPort {
  readonly calls: { sql: string; params: readonly unknown[] }[];
}

export function countingPort(inner: QueryPort): RecordingPort {
  const calls: { sql: string; params: readonly unknown[] }[] = [];
  return {
    calls,
    query(sql, params = []) {
      calls.push({ sql, params });
      return inner.query(sql, params);
    },
  };
}

/**
 * Defence in depth on top of read-only sessions: the adapters only ever issue single SELECT/WITH
 * statements, so anything else reaching a port is a bug and is refused before it reaches the driver.
 */
export function assertSelect(sql: string): void {
  const body = sql.replace(/--[^\n]*\n/g, '\n').trim();
  if (!/^(select|with)\b/i.test(body))
    throw new Error(`catalog port refuses a non-SELECT statement: ${body.slice(0, 60)}`);
}
