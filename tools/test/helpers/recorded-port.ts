/** A test double of the catalog's query port: replays recorded catalog rows instead of a server. */
import { countingPort, type RecordingPort, type Row } from '../../src/catalog/port.js';

/** Replays recorded rows: the first matcher whose test accepts the SQL answers it. */
export function recordedPort(
  answers: { match: RegExp; rows: Row[] | ((params: readonly unknown[]) => Row[]) }[],
): RecordingPort {
  return countingPort({
    async query<T extends Row>(sql: string, params: readonly unknown[] = []) {
      const a = answers.find((x) => x.match.test(sql));
      if (!a) throw new Error(`recorded port: no recorded answer for SQL:\n${sql}`);
      return (typeof a.rows === 'function' ? a.rows(params) : a.rows) as T[];
    },
  });
}
