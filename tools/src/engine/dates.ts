/**
 * The engine's date arithmetic on UTC epoch milliseconds — luxon's calendar semantics for adding an
 * ISO-8601 duration (years and months first with the day clamped to the month's end, so 2024-02-29 +
 * P1Y = 2025-02-28; then weeks and days; then clock time), at a fraction of its cost: the preview
 * adds durations to 100,000s of dates.
 */
import { parseDuration } from '../config/duration.js';

export interface Calendar {
  months: number;
  days: number;
  millis: number;
}

const DAY = 86_400_000;
const parsed = new Map<string, Calendar | undefined>();

/** A duration as calendar months, days and milliseconds (cached); undefined when invalid. */
export function calendarOf(iso: string): Calendar | undefined {
  if (parsed.has(iso)) return parsed.get(iso);
  const d = parseDuration(iso);
  let c: Calendar | undefined;
  if (d) {
    const o = d.duration.toObject();
    c = {
      months: (o.years ?? 0) * 12 + (o.quarters ?? 0) * 3 + (o.months ?? 0),
      days: (o.weeks ?? 0) * 7 + (o.days ?? 0),
      millis: (o.hours ?? 0) * 3_600_000 + (o.minutes ?? 0) * 60_000 + (o.seconds ?? 0) * 1000 + (o.milliseconds ?? 0),
    };
  }
  parsed.set(iso, c);
  return c;
}

/** Date.UTC without its two-digit-year rule (years 0–99 would become 1900–1999). */
export function utc(y: number, m0: number, d: number): number {
  if (y >= 100) return Date.UTC(y, m0, d);
  const t = new Date(Date.UTC(2000, m0, d));
  t.setUTCFullYear(t.getUTCFullYear() - 2000 + y);
  return t.getTime();
}

const daysInMonth = (y: number, m0: number) => new Date(utc(y, m0 + 1, 0)).getUTCDate();

export function addCalendar(ms: number, c: Calendar): number {
  const d = new Date(ms);
  const total = d.getUTCFullYear() * 12 + d.getUTCMonth() + c.months;
  const y = Math.floor(total / 12),
    m0 = total - y * 12;
  const day = Math.min(d.getUTCDate(), daysInMonth(y, m0));
  const timeOfDay = ms - utc(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  return utc(y, m0, day) + c.days * DAY + timeOfDay + c.millis;
}

// Formatting dates is the engine's hottest step; tables share few distinct dates, so cache them.
const dayCache = new Map<number, string>();
const timeCache = new Map<number, string>();
export function isoDay(ms: number): string {
  let s = dayCache.get(ms);
  if (s === undefined) {
    if (dayCache.size > 100_000) dayCache.clear();
    dayCache.set(ms, (s = new Date(ms).toISOString().slice(0, 10)));
  }
  return s;
}
export function isoTime(ms: number): string {
  let s = timeCache.get(ms);
  if (s === undefined) {
    if (timeCache.size > 100_000) timeCache.clear();
    timeCache.set(ms, (s = new Date(ms).toISOString()));
  }
  return s;
}
export const wholeDays = (from: number, to: number) => Math.floor((to - from) / DAY);

/** Epoch ms of an ISO-8601 date or date-time (UTC when no zone is given); NaN when invalid. */
export function parseUtc(s: string): number {
  if (s.length >= 20 && s.charCodeAt(s.length - 1) === 90 /* Z */) return Date.parse(s);
  const t = /^\d{4}-\d{2}-\d{2}$/.test(s)
    ? Date.parse(`${s}T00:00:00Z`)
    : /[zZ]|[+-]\d\d:?\d\d$/.test(s)
      ? Date.parse(s)
      : Date.parse(`${s}Z`);
  return t;
}

/**
 * Why an ISO-8601 date or date-time (`YYYY-MM-DD[Thh:mm[:ss]]…`) names no real moment — 2026-02-30,
 * 2026-02-29, month 13, hour 24 — or undefined. `Date.parse` rolls such values over silently.
 */
export function calendarProblem(text: string): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?/.exec(text);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (mo < 1 || mo > 12 || d < 1 || d > new Date(utc(y, mo, 0)).getUTCDate()) return `"${text}" is not a calendar date`;
  if (m[4] !== undefined && (Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6] ?? 0) > 59))
    return `"${text}" is not a calendar date and time of day`;
  return undefined;
}
