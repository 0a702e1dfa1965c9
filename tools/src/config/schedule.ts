/**
 * Schedules as EventBridge and Airflow accept them:
 *   - EventBridge `cron(min hour day-of-month month day-of-week year)` — six fields, one of the two
 *     day fields must be `?`; `L`, `W` and `#` allowed where EventBridge allows them;
 *   - EventBridge `rate(N unit)` — unit singular for 1, plural otherwise;
 *   - a five-field cron line (Airflow `schedule`), checked by cron-parser;
 *   - an Airflow preset: @once, @hourly, @daily, @weekly, @monthly, @quarterly, @yearly, @annually.
 */
import { CronExpressionParser } from 'cron-parser';

const PRESETS = new Set(['@once', '@hourly', '@daily', '@weekly', '@monthly', '@quarterly', '@yearly', '@annually']);
const MONTHS = 'JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC';
const DAYS = 'SUN|MON|TUE|WED|THU|FRI|SAT';

function fieldRe(value: string, extra = ''): RegExp {
  const item = `(?:\\*|${value})(?:-(?:${value}))?(?:/\\d+)?`;
  return new RegExp(`^(?:${extra ? `${extra}|` : ''}${item}(?:,${item})*)$`, 'i');
}
const n = (lo: number, hi: number) => {
  const alts: string[] = [];
  for (let i = lo; i <= hi; i++) alts.push(String(i), i < 10 ? `0${i}` : '');
  return alts
    .filter(Boolean)
    .sort((a, b) => b.length - a.length)
    .join('|');
};
const EB_FIELDS: { name: string; re: RegExp }[] = [
  { name: 'minutes', re: fieldRe(n(0, 59)) },
  { name: 'hours', re: fieldRe(n(0, 23)) },
  { name: 'day-of-month', re: fieldRe(n(1, 31), `\\?|L|LW|(?:${n(1, 31)})W`) },
  { name: 'month', re: fieldRe(`${n(1, 12)}|${MONTHS}`) },
  { name: 'day-of-week', re: fieldRe(`[1-7]|${DAYS}`, `\\?|(?:[1-7]|${DAYS})L|(?:[1-7]|${DAYS})#[1-5]`) },
  { name: 'year', re: fieldRe('19[7-9]\\d|2[01]\\d\\d') },
];

/** Returns undefined when the schedule is valid, otherwise what is wrong with it. */
export function scheduleProblem(text: string): string | undefined {
  const s = text.trim();
  if (PRESETS.has(s)) return undefined;
  if (s.startsWith('@')) return `unknown preset "${s}" (use one of ${[...PRESETS].join(', ')})`;
  const rate = /^rate\((.*)\)$/.exec(s);
  if (rate) {
    const m = /^(\d+) (minute|minutes|hour|hours|day|days)$/.exec(rate[1]!.trim());
    if (!m) return 'a rate expression is `rate(<positive number> <minute(s)|hour(s)|day(s)>)`';
    const value = Number(m[1]);
    if (value < 1) return 'the rate value must be positive';
    if ((value === 1) !== !m[2]!.endsWith('s'))
      return (
        `write "${value} ${value === 1 ? m[2]!.replace(/s$/, '') : m[2] + (m[2]!.endsWith('s') ? '' : 's')}" ` +
        '(EventBridge wants the singular unit for 1 and the plural otherwise)'
      );
    return undefined;
  }
  const cron = /^cron\((.*)\)$/.exec(s);
  if (cron) {
    const fields = cron[1]!.trim().split(/\s+/);
    if (fields.length !== 6)
      return (
        'an EventBridge cron expression has 6 fields (minutes hours day-of-month month day-of-week year), ' +
        `found ${fields.length}`
      );
    for (let i = 0; i < 6; i++)
      if (!EB_FIELDS[i]!.re.test(fields[i]!))
        return `field ${i + 1} (${EB_FIELDS[i]!.name}) "${fields[i]}" is not valid`;
    const dom = fields[2]!,
      dow = fields[4]!;
    if ((dom === '?') === (dow === '?')) return 'exactly one of day-of-month and day-of-week must be "?"';
    return undefined;
  }
  const parts = s.split(/\s+/);
  if (parts.length !== 5)
    return (
      'expected an EventBridge cron(...) or rate(...) expression, a five-field cron line or an Airflow preset; ' +
      `"${s}" has ${parts.length} fields`
    );
  if (parts.includes('?'))
    return '"?" is EventBridge syntax; wrap the expression in cron(...) with six fields, or use "*"';
  try {
    CronExpressionParser.parse(s, { strict: false });
    // cron-parser accepts some out-of-range forms leniently; check the plain ranges ourselves too.
    const ranges: [number, number][] = [
      [0, 59],
      [0, 23],
      [1, 31],
      [1, 12],
      [0, 7],
    ];
    for (let i = 0; i < 5; i++) {
      for (const num of parts[i]!.match(/\d+/g) ?? []) {
        const [lo, hi] = ranges[i]!;
        if (!/\/\d+$/.test(parts[i]!) || !parts[i]!.endsWith(`/${num}`)) {
          if (Number(num) < lo || Number(num) > hi) return `field ${i + 1} value ${num} is outside ${lo}–${hi}`;
        }
      }
    }
    return undefined;
  } catch (e) {
    return `not a valid cron line: ${(e as Error).message}`;
  }
}
