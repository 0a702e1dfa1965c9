/** ISO-8601 durations (luxon), compared on a fixed calendar so that `P1Y` and `P12M` agree. */
import { Duration, DateTime } from 'luxon';

export interface ParsedDuration {
  iso: string;
  duration: Duration;
}

/** Parses an ISO-8601 duration such as `P2Y`, `P30D`, `PT12H`; undefined when invalid or not positive. */
export function parseDuration(text: string): ParsedDuration | undefined {
  const d = Duration.fromISO(text);
  if (!d.isValid) return undefined;
  if (Object.values(d.toObject()).some((v) => v !== undefined && v < 0)) return undefined;
  if (d.toMillis() <= 0 && !Object.values(d.toObject()).some((v) => v)) return undefined;
  return { iso: text, duration: d };
}

const REFERENCE = DateTime.fromISO('2000-01-01T00:00:00Z', { zone: 'utc' });

/** Length in milliseconds counted from a fixed reference date (for ordering durations). */
export function durationMillis(d: Duration): number {
  return REFERENCE.plus(d).toMillis() - REFERENCE.toMillis();
}

/** `date` minus `d`, in UTC. */
function minus(date: DateTime, d: Duration): DateTime {
  return date.minus(d);
}
